"""Run scenarios end to end: proposals, files, a map and a one-page summary per scenario.

:func:`run_scenario` plans every step of a :class:`planner.plans.scenario.Scenario` on the stored
layers and writes, into ``out_dir/<scenario>/``:

- per step ``<step>.gpkg`` (the segments; a last mile also its localities) and
  ``<step>.geojson`` (the proposal document with its metrics);
- ``map.html``: one offline map with every step as a toggleable group;
- ``summary.html``: the one-page summary (facts, assumptions, metrics per step, tables).

Each proposal is also stored as ``<scenario>_<step>``, replacing an earlier run.

The store is read once per :class:`ScenarioWorkspace`; a priced network is built once per
distinct (corridor layers, cost-model overrides, subsea links) combination and shared by
the steps and scenarios that plan on it. That shared network is never changed: every step
plans on its own copy (places are attached to the copy), so a step gives the same proposal
run alone, inside its scenario or after every other scenario.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.errors import NotFoundError
from layers.kinds import LayerKind
from layers.store_api import LayerStore
from maps.report import (
    save_report,
)
from planner.network.places import Place
from planner.network.planning_network import PlanningNetwork, attach_places
from planner.plans.demand import load_state_coverage, select_area
from planner.plans.last_mile import plan_last_mile
from planner.plans.public_sites import plan_public_sites, seat_stand_ins, sites_in_area
from planner.plans.scenario import (
    BackboneStep,
    CableStep,
    LastMileStep,
    RouteStep,
    Scenario,
    find_scenario,
    load_scenario,
)
from planner.plans.subsea import (
    PUBLISHED_LENGTH_SOURCE,
    cable_proposal,
)
from planner.proposals.metrics import is_built
from planner.proposals.proposal import Proposal
from usecases.backbone import propose_backbone, resolve_terminals
from usecases.context import PlanningContext, stored_localities
from usecases.last_mile import area_localities
from usecases.proposals import measure, save_proposal
from usecases.route import propose_route, resolve_ends
from usecases.scenario_outputs import summary_report, write_map, write_step_files
from usecases.scenario_tables import (
    demand_table,
    inventory_table,
    latency_table,
)
from usecases.scenario_workspace import (
    Progress,
    ScenarioResult,
    ScenarioWorkspace,
    StepResult,
    TableResult,
    Variant,
)

logger = logging.getLogger(__name__)

_NODE_DECIMALS = 7


def run_scenario(
    spec: Scenario,
    store: LayerStore,
    out_dir: Path,
    progress: Progress | None = None,
    *,
    workspace: ScenarioWorkspace | None = None,
) -> ScenarioResult:
    """Plan every step of a scenario and write its files.

    Parameters
    ----------
    spec
        A validated scenario (:func:`planner.plans.scenario.load_scenario`).
    store
        The layer store; proposals are saved in it as ``<scenario>_<step>``.
    out_dir
        Folder for the outputs; they go to ``out_dir/<scenario>/``.
    progress
        Called with a short line before each stage.
    workspace
        Reuse the layers and networks of earlier runs.

    Returns
    -------
    ScenarioResult

    Raises
    ------
    layers.errors.TrazoError
        An unknown place, area or layer, or no route; the message names the step.
    """
    started = time.perf_counter()
    say = progress or (lambda _text: None)
    workspace = workspace or ScenarioWorkspace(store)
    variant = workspace.variant(spec, say)
    context = variant.context
    folder = Path(out_dir) / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    results: list[StepResult] = []
    for step in spec.steps:
        say(f"{spec.name}: {step.kind.replace('_', ' ')} {step.name!r}")
        results.append(_run_step(spec, step, context, workspace, results, folder))
    tables: list[TableResult] = []
    for table in spec.latency_tables:
        say(f"{spec.name}: latency table {table.title!r}")
        tables.append(latency_table(table, context, workspace))
    if spec.inventory is not None:
        say(f"{spec.name}: corridor inventory of {spec.inventory.area}")
        tables.append(inventory_table(spec, context, workspace))
    if spec.demand is not None:
        tables.append(demand_table(spec.demand.state, context))
    notes = _scenario_notes(spec, variant, workspace)
    result = ScenarioResult(
        spec=spec,
        steps=results,
        tables=tables,
        files={},
        seconds=0.0,
        cost_model=context.network.cost_model,
        layers=workspace.layers_for(spec),
        subsea_links=variant.subsea_links,
        notes=notes,
    )
    say(f"{spec.name}: map and summary")
    result.files["map"] = write_map(result, workspace, folder)
    result.seconds = time.perf_counter() - started
    result.files["summary"] = save_report(summary_report(result), folder / "summary.html")
    return result


# ---------------------------------------------------------------------------- steps


def _run_step(
    spec: Scenario,
    step: RouteStep | BackboneStep | LastMileStep | CableStep,
    context: PlanningContext,
    workspace: ScenarioWorkspace,
    earlier: list[StepResult],
    folder: Path,
) -> StepResult:
    started = time.perf_counter()
    network = context.network
    budget: float | None = None
    if isinstance(step, RouteStep):
        origin, destination = resolve_ends(context.places, step.origin, step.destination)
        proposal = propose_route(
            context,
            origin,
            destination,
            alternatives=step.alternatives,
            diverse=step.diverse,
            name=step.title,
        )
    elif isinstance(step, BackboneStep):
        terminals = backbone_terminals(step, context, workspace)
        proposal = propose_backbone(
            context, terminals, ring=step.ring, name=step.title, time_budget_s=step.time_budget_s
        )
    elif isinstance(step, CableStep):
        proposal = _cable(step, context, workspace)
    else:
        budget = _budget(spec, step, earlier)
        proposal = _last_mile(step, context, earlier, budget)
    metrics = measure(context, proposal)
    off_land = None
    if network.land is not None:
        off_land = network.land.km_off_land_of(proposal.segments)
        if off_land > 0:
            logger.warning(
                "%s: %s has %.1f km of land deployment at sea", spec.name, step.name, off_land
            )
    store_name = f"{spec.name}_{step.name}"
    document = save_proposal(context.store, proposal, metrics, store_name, replace=True)
    files = write_step_files(proposal, document, store_name, folder / step.name)
    seconds = time.perf_counter() - started
    logger.info("%s: %s in %.1f s", spec.name, step.name, seconds)
    return StepResult(
        name=step.name,
        title=step.title,
        kind=step.kind,
        store_name=store_name,
        proposal=proposal,
        metrics=metrics,
        document=document,
        files=files,
        seconds=seconds,
        budget_usd=budget,
        km_off_land=off_land,
    )


def backbone_terminals(
    step: BackboneStep, context: PlanningContext, workspace: ScenarioWorkspace
) -> list[Place]:
    """Every terminal of a backbone step: named places, a layer's points, towns, seats.

    Terminals found twice (a capital that is also a town of 50,000) count once.
    """
    places: list[Place] = []
    if step.terminals:
        places += resolve_terminals(context.places, list(step.terminals))
    if step.terminals_layer is not None:
        places += layer_places(workspace, step.terminals_layer)
    if step.terminals_min_population is not None:
        places += _locality_places(context, step.terminals_min_population, None)
    if step.terminals_seats_of is not None:
        places += _locality_places(context, None, step.terminals_seats_of)
    unique: dict[tuple[float, float], Place] = {}
    for place in places:
        unique.setdefault((round(place.lon, 5), round(place.lat, 5)), place)
    return list(unique.values())


def layer_places(workspace: ScenarioWorkspace, name: str) -> list[Place]:
    """Every feature of a stored layer as a terminal (polygons and lines by a point on them)."""
    if name not in workspace.kinds:
        known = ", ".join(sorted(workspace.kinds)) or "none"
        raise NotFoundError(f"terminals_layer: no stored layer {name!r}; stored: {known}")
    frame = workspace.frame(name)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    points = shapely.point_on_surface(np.asarray(frame.geometry.values, dtype=object))
    names = (
        frame["name"].astype(str).tolist()
        if "name" in frame.columns
        else [f"{name} {i + 1}" for i in range(len(frame))]
    )
    return [
        Place(str(label), float(shapely.get_x(p)), float(shapely.get_y(p)))
        for label, p in zip(names, points, strict=True)
    ]


def _locality_places(
    context: PlanningContext, min_population: int | None, seats_of: str | None
) -> list[Place]:
    chosen = stored_localities(context.localities)
    if min_population is not None:
        chosen = chosen[chosen["population"] >= min_population]
    if seats_of is not None:
        if context.states is None or context.municipalities is None:
            raise NotFoundError("terminals_seats_of needs the states and municipalities layers")
        area = select_area(seats_of, context.states, context.municipalities)
        codes = chosen["cvegeo"].astype(str).str.zfill(9)
        chosen = chosen[codes.str.startswith(str(area.code)) & codes.str.endswith("0001")]
    chosen = chosen[chosen.geometry.notna() & ~chosen.geometry.is_empty]
    points = shapely.point_on_surface(np.asarray(chosen.geometry.values, dtype=object))
    places = []
    for (_, row), point in zip(chosen.iterrows(), points, strict=True):
        places.append(
            Place(
                name=str(row["name"]),
                lon=float(shapely.get_x(point)),
                lat=float(shapely.get_y(point)),
                kind="locality",
                population=int(row["population"]),
                state=None if pd.isna(row.get("state")) else str(row.get("state")),
                attributes={"cvegeo": str(row.get("cvegeo"))},
            )
        )
    return places


def _budget(spec: Scenario, step: LastMileStep, earlier: list[StepResult]) -> float | None:
    if step.budget_usd is not None:
        return step.budget_usd
    if step.budget_after_steps is None or spec.funding_usd is None:
        return None
    spent = sum(r.metrics.capex_usd_total for r in earlier if r.name in step.budget_after_steps)
    return max(spec.funding_usd - spent, 0.0)


def _cable(step: CableStep, context: PlanningContext, workspace: ScenarioWorkspace) -> Proposal:
    """The submarine cable a scenario proposes, from the stored cables and landings."""
    cables = workspace.frames_of(LayerKind.SUBSEA_CABLES)
    landings = workspace.frames_of(LayerKind.SUBSEA_LANDINGS)
    if not cables or not landings:
        raise NotFoundError(
            "a cable step needs a subsea_cables and a subsea_landings layer", subject="layers"
        )
    return cable_proposal(
        gpd.GeoDataFrame(
            pd.concat([workspace.frame(n) for n in cables], ignore_index=True), crs="EPSG:4326"
        ),
        gpd.GeoDataFrame(
            pd.concat([workspace.frame(n) for n in landings], ignore_index=True), crs="EPSG:4326"
        ),
        step.cable,
        context.network.cost_model,
        cost_usd=step.cost_usd,
        cost_source=step.cost_source,
        name=step.title,
    )


def _last_mile(
    step: LastMileStep,
    context: PlanningContext,
    earlier: list[StepResult],
    budget: float | None,
) -> Proposal:
    area, inside = area_localities(step.area, context)
    network = context.network
    backbone: list[Hashable] | None = None
    if step.backbone_step is not None:
        source = next(r for r in earlier if r.name == step.backbone_step)
        # the backbone was planned on a copy: attach its terminals to a copy again (the
        # same attachments, so the same nodes) to find the nodes its segments pass through
        network = network.copy()
        attach_places(network, list(source.proposal.terminals))
        backbone = proposal_nodes(network, source.proposal)
    if step.public_sites:
        sites = None if context.sites is None else sites_in_area(context.sites, area.geometry)
        stand_ins = sites is None or sites.empty
        return plan_public_sites(
            network,
            seat_stand_ins(inside) if stand_ins else sites,
            area_name=area.name,
            budget_usd=budget,
            backbone_nodes=backbone,
            stand_ins=stand_ins,
            name=step.title,
        )
    return plan_last_mile(
        network,
        inside,
        area_name=area.name,
        min_population=step.min_population,
        budget_usd=budget,
        backbone_nodes=backbone,
        name=step.title,
        coverage=context.coverage,
        state_coverage=load_state_coverage() if step.state_coverage else None,
    )


def proposal_nodes(network: PlanningNetwork, proposal: Proposal) -> list[Hashable]:
    """The network nodes a proposal's built segments pass through (by their vertices)."""
    at: dict[tuple[float, float], Hashable] = {}
    for node, data in network.graph.nodes(data=True):
        at.setdefault(_rounded_xy(data["x"], data["y"]), node)
    nodes: dict[Hashable, None] = {}
    for segment in proposal.segments:
        if not is_built(segment.role):
            continue
        for x, y in segment.geometry.coords:
            node = at.get(_rounded_xy(x, y))
            if node is not None:
                nodes[node] = None
    return list(nodes)


def _rounded_xy(x: float, y: float) -> tuple[float, float]:
    return (round(float(x), _NODE_DECIMALS), round(float(y), _NODE_DECIMALS))


def _scenario_notes(spec: Scenario, variant: Variant, workspace: ScenarioWorkspace) -> list[str]:
    notes = []
    layers = workspace.layers_for(spec)
    notes.append("corridor layers planned on: " + ", ".join(layers))
    if variant.subsea_links:
        parts = [
            f"{link.cable}: {link.landing_a}–{link.landing_b} {link.length_km:,.0f} km "
            f"({link.method})"
            for link in variant.subsea_links
        ]
        notes.append("subsea links added: " + "; ".join(parts))
        lengths = {
            link.cable: (link.cable_drawn_km, link.cable_published_km)
            for link in variant.subsea_links
        }
        notes.append(
            "subsea cable lengths, drawn (the layer's route) / published: "
            + "; ".join(
                f"{cable}: {drawn:,.0f} km / "
                + (f"{published:,.0f} km" if published is not None else "n/a (international)")
                for cable, (drawn, published) in lengths.items()
            )
            + f"; domestic cables are priced on their published length ({PUBLISHED_LENGTH_SOURCE})"
        )
    return notes


def scenario_outputs(store: LayerStore) -> Path:
    """Where a service's scenario runs write their files: one folder of the store's."""
    return store.side_folder("scenarios")


def run_stored_scenario(
    store: LayerStore,
    cost_model: Path | None,
    name: str,
    progress: Callable[[float, str], None],
) -> tuple[str, str]:
    """Run a bundled scenario into :func:`scenario_outputs` (what a scenario job does).

    Returns its first stored proposal's name and a message naming them all.
    """
    spec = load_scenario(find_scenario(name))
    result = run_scenario(
        spec,
        store,
        scenario_outputs(store),
        lambda text: progress(0.5, text),
        workspace=ScenarioWorkspace(store, cost_model),
    )
    names = [step.store_name for step in result.steps]
    return names[0], f"stored proposals {', '.join(names)}"
