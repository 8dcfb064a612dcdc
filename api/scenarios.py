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

import dataclasses
import json
import logging
import math
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from api.planning import PlanningContext, measure, planning_context, save_proposal
from layers.errors import LayerValidationError, NotFoundError
from layers.export import export_frame
from layers.kinds import LayerKind
from layers.store_api import LayerStore
from maps.render import manifest_attributions, save_map
from maps.report import (
    ReportStep,
    ReportTable,
    ScenarioReport,
    save_report,
    scenario_map,
)
from planner.network.cost_model import CostModel
from planner.network.land import COASTAL_TOLERANCE_KM
from planner.network.places import Place, resolve_places
from planner.network.planning_network import (
    PlanningNetwork,
    attach_place,
    attach_places,
    build_network,
)
from planner.plans.backbone import plan_backbone
from planner.plans.demand import (
    load_household_internet,
    load_state_coverage,
    localities_in_area,
    select_area,
)
from planner.plans.last_mile import plan_last_mile
from planner.plans.public_sites import plan_public_sites, seat_stand_ins, sites_in_area
from planner.plans.route import plan_route
from planner.plans.scenario import (
    DEFAULT_SCENARIO_DIR,
    BackboneStep,
    CableStep,
    LastMileStep,
    LatencyTable,
    RouteStep,
    Scenario,
)
from planner.plans.subsea import (
    PUBLISHED_LENGTH_SOURCE,
    SubseaLink,
    add_subsea_links,
    cable_proposal,
)
from planner.proposals.metrics import ProposalMetrics, is_built
from planner.proposals.proposal import Proposal, line_length_km, proposal_frame

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
CORRIDOR_KINDS = (LayerKind.RIGHTS_OF_WAY, LayerKind.FIBER_ROUTES)
_NODE_DECIMALS = 7
ANALYSIS_EPSG = 6372
"""Mexico ITRF2008 / LCC: metres, for buffers."""


@dataclass
class StepResult:
    """One step's proposal, its metrics, where it was written and how long it took."""

    name: str
    title: str
    kind: str
    store_name: str
    proposal: Proposal
    metrics: ProposalMetrics
    document: dict[str, Any]
    files: dict[str, Path]
    seconds: float
    budget_usd: float | None = None
    km_off_land: float | None = None
    """Km of land deployments farther than the coastal tolerance from land (should be 0)."""


@dataclass
class TableResult:
    """A table of the summary (latency, inventory, demand)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)


@dataclass
class ScenarioResult:
    """Everything a scenario run produced."""

    spec: Scenario
    steps: list[StepResult]
    tables: list[TableResult]
    files: dict[str, Path]
    seconds: float
    cost_model: CostModel
    layers: tuple[str, ...]
    subsea_links: list[SubseaLink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def step(self, name: str) -> StepResult:
        """The result of the step called ``name``."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


@dataclass
class _Variant:
    context: PlanningContext
    subsea_links: list[SubseaLink]


class ScenarioWorkspace:
    """The store's layers read once, and one priced network per distinct planning basis.

    Parameters
    ----------
    store
        The layer store.
    cost_model_path
        Base cost model; default ``data/cost_model.toml``. Scenario overrides apply on top.
    """

    def __init__(self, store: LayerStore, cost_model_path: Path | None = None) -> None:
        self.store = store
        self.base = planning_context(store, cost_model_path)
        infos = store.list_layers()
        self.kinds: dict[str, LayerKind] = {info.name: info.kind for info in infos}
        self.corridor_layers = tuple(info.name for info in infos if info.kind in CORRIDOR_KINDS)
        self._frames: dict[str, gpd.GeoDataFrame] = {}
        self._variants: dict[tuple[Any, ...], _Variant] = {
            (self.corridor_layers, "{}", False): _Variant(self.base, [])
        }

    def frame(self, name: str) -> gpd.GeoDataFrame:
        """A stored vector layer, read once."""
        if name not in self._frames:
            self._frames[name] = self.store.read(name)
        return self._frames[name]

    def frames_of(self, kind: LayerKind) -> list[str]:
        """Names of the stored layers of one kind."""
        return [name for name, k in self.kinds.items() if k is kind]

    def layers_for(self, spec: Scenario) -> tuple[str, ...]:
        """The corridor layers a scenario plans on (checked against the store)."""
        if spec.layers is None:
            return self.corridor_layers
        missing = [name for name in spec.layers if name not in self.corridor_layers]
        if missing:
            raise NotFoundError(
                f"scenario {spec.name!r}: layers {', '.join(missing)} are not stored corridor "
                f"layers; stored: {', '.join(self.corridor_layers) or 'none'}",
                subject="layers",
            )
        return tuple(spec.layers)

    def variant(self, spec: Scenario, progress: Progress | None = None) -> _Variant:
        """The planning context for a scenario's layers, cost model and subsea option."""
        layers = self.layers_for(spec)
        overrides = json.dumps(spec.cost_model, sort_keys=True, default=str)
        key = (layers, overrides, spec.subsea)
        if key not in self._variants:
            base_model = self.base.network.cost_model
            model = base_model.with_overrides(spec.cost_model) if spec.cost_model else base_model
            if progress:
                progress(f"building the priced network for {spec.name} ({len(layers)} layers)")
            network = build_network(
                {name: self.frame(name) for name in layers},
                model,
                elevation=self.base.network.elevation,
                land=self.base.network.land,
                caveats=self.base.network.caveats,
            )
            links: list[SubseaLink] = []
            if spec.subsea:
                links = self._add_subsea(network, model)
            self._variants[key] = _Variant(dataclasses.replace(self.base, network=network), links)
        return self._variants[key]

    def _add_subsea(self, network: PlanningNetwork, model: CostModel) -> list[SubseaLink]:
        cables = self.frames_of(LayerKind.SUBSEA_CABLES)
        landings = self.frames_of(LayerKind.SUBSEA_LANDINGS)
        if not cables or not landings:
            raise NotFoundError(
                "subsea = true needs a subsea_cables and a subsea_landings layer",
                subject="layers",
            )
        links: list[SubseaLink] = []
        landing_frame = pd.concat([self.frame(n) for n in landings], ignore_index=True)
        for name in cables:
            links += add_subsea_links(
                network,
                self.frame(name),
                gpd.GeoDataFrame(landing_frame, crs="EPSG:4326"),
                cost_model=model,
            )
        return links


def run_scenarios(
    specs: Sequence[Scenario],
    store: LayerStore,
    out_dir: Path,
    progress: Progress | None = None,
    *,
    workspace: ScenarioWorkspace | None = None,
) -> list[ScenarioResult]:
    """Run several scenarios on one workspace (the store read once)."""
    workspace = workspace or ScenarioWorkspace(store)
    return [run_scenario(spec, store, out_dir, progress, workspace=workspace) for spec in specs]


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
        tables.append(_latency_table(table, context, workspace))
    if spec.inventory is not None:
        say(f"{spec.name}: corridor inventory of {spec.inventory.area}")
        tables.append(_inventory(spec, context, workspace))
    if spec.demand is not None:
        tables.append(_demand_table(spec.demand.state, context))
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
    result.files["map"] = _write_map(result, workspace, folder)
    result.seconds = time.perf_counter() - started
    result.files["summary"] = save_report(_report(result), folder / "summary.html")
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
        origin = context.places.resolve(step.origin)
        destination = context.places.resolve(step.destination)
        proposal = plan_route(
            network,
            origin,
            destination,
            alternatives=step.alternatives,
            diverse=step.diverse,
            name=step.title,
        )
    elif isinstance(step, BackboneStep):
        terminals = backbone_terminals(step, context, workspace)
        proposal = plan_backbone(
            network, terminals, ring=step.ring, name=step.title, time_budget_s=step.time_budget_s
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
    files = _write_step_files(proposal, document, store_name, folder / step.name)
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
        places += resolve_places(list(step.terminals), index=context.places)
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
    localities = context.localities
    if localities is None:
        raise NotFoundError("the store holds no localities layer", subject="layers")
    chosen = localities
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
    if context.localities is None or context.states is None or context.municipalities is None:
        raise NotFoundError(
            "a last mile needs the localities, states and municipalities layers",
            subject="layers",
        )
    area = select_area(step.area, context.states, context.municipalities)
    inside = localities_in_area(context.localities, area)
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


def _write_step_files(
    proposal: Proposal, document: dict[str, Any], store_name: str, stem: Path
) -> dict[str, Path]:
    files: dict[str, Path] = {}
    geojson = stem.with_suffix(".geojson")
    geojson.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    files["geojson"] = geojson
    frame = proposal_frame(proposal)
    gpkg = stem.with_suffix(".gpkg")
    gpkg.unlink(missing_ok=True)
    files["gpkg"] = export_frame(frame, "gpkg", gpkg, store_name)
    records = proposal.parameters.get("localities")
    if isinstance(records, list) and records:
        import pyogrio

        table = pd.DataFrame(
            [{k: v for k, v in r.items() if not isinstance(v, dict)} for r in records]
        )
        points = gpd.GeoDataFrame(
            table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs="EPSG:4326"
        )
        pyogrio.write_dataframe(points, gpkg, layer=f"{store_name}_localities", driver="GPKG")
    return files


# ---------------------------------------------------------------------------- tables


def _latency_table(
    table: LatencyTable, context: PlanningContext, workspace: ScenarioWorkspace
) -> TableResult:
    """One-way fiber latency over the shortest path (by km) between places."""
    network = context.network
    model = network.cost_model
    origins = resolve_places(list(table.origins), index=context.places)
    destinations = (
        resolve_places(list(table.destinations), index=context.places)
        if (table.destinations)
        else []
    )
    if table.to_landings:
        destinations += _landing_places(workspace)
    network = network.copy()
    graph = network.graph
    origin_nodes = [attach_place(network, p) for p in origins]
    target_nodes = [attach_place(network, p) for p in destinations]
    km: dict[tuple[int, int], float | None] = {}
    for i, node in enumerate(origin_nodes):
        lengths = nx.single_source_dijkstra_path_length(graph, node, weight="length_km")
        for j, target in enumerate(target_nodes):
            value = lengths.get(target)
            km[i, j] = None if value is None else float(value)

    def cell(value: float | None) -> str:
        if value is None:
            return "no path"
        return f"{model.latency_ms(value):.2f} ms ({value:,.0f} km)"

    notes = [
        f"one-way propagation at {model.latency.us_per_km:g} us/km over the shortest path by "
        "length through the corridor network (subsea links included where the scenario adds "
        "them); no equipment delay"
    ]
    if len(origins) == 1:
        ranked = sorted(
            range(len(destinations)),
            key=lambda j: math.inf if km[0, j] is None else float(km[0, j] or 0.0),
        )
        if table.nearest is not None:
            ranked = ranked[: table.nearest]
        rows = [
            [
                destinations[j].name,
                None if km[0, j] is None else round(float(km[0, j] or 0.0)),
                None if km[0, j] is None else round(model.latency_ms(float(km[0, j] or 0.0)), 2),
            ]
            for j in ranked
        ]
        return TableResult(
            f"{table.title} (from {origins[0].name})", ["to", "km", "one-way ms"], rows, notes
        )
    matrix: list[list[Any]] = [
        [o.name] + [cell(km[i, j]) for j in range(len(destinations))] for i, o in enumerate(origins)
    ]
    for j, destination in enumerate(destinations):
        reached = [(km[i, j], i) for i in range(len(origins)) if km[i, j] is not None]
        if reached:
            best_km, best = min((float(v or 0.0), i) for v, i in reached)
            notes.append(
                f"{destination.name}: lowest latency from {origins[best].name} "
                f"({model.latency_ms(best_km):.2f} ms)"
            )
    return TableResult(table.title, ["from", *[d.name for d in destinations]], matrix, notes)


def _landing_places(workspace: ScenarioWorkspace) -> list[Place]:
    places = []
    for name in workspace.frames_of(LayerKind.SUBSEA_LANDINGS):
        frame = workspace.frame(name)
        for _, row in frame.iterrows():
            point = shapely.point_on_surface(row.geometry)
            places.append(Place(str(row["name"]), point.x, point.y, kind="landing"))
    return places


def _inventory(
    spec: Scenario, context: PlanningContext, workspace: ScenarioWorkspace
) -> TableResult:
    """Corridor km by layer and type inside an area and within a buffer around it."""
    assert spec.inventory is not None
    if context.states is None or context.municipalities is None:
        raise NotFoundError("an inventory needs the states and municipalities layers")
    area = select_area(spec.inventory.area, context.states, context.municipalities)
    buffer_km = spec.inventory.buffer_km
    outline = gpd.GeoSeries([area.geometry], crs="EPSG:4326")
    buffered = outline.to_crs(ANALYSIS_EPSG).buffer(buffer_km * 1000.0).to_crs(4326).iloc[0]
    rows: list[list[Any]] = []
    for name in workspace.layers_for(spec):
        frame = workspace.frame(name)
        near = frame[frame.intersects(buffered)]
        kind = workspace.kinds[name]
        groups = (
            near["row_type"].astype(str)
            if kind is LayerKind.RIGHTS_OF_WAY and "row_type" in near.columns
            else pd.Series(["fiber"] * len(near), index=near.index)
        )
        for group in sorted(set(groups)):
            part = near[groups == group]
            inside = sum(_km(shapely.intersection(g, area.geometry)) for g in part.geometry)
            around = sum(_km(shapely.intersection(g, buffered)) for g in part.geometry)
            rows.append([name, group, round(inside, 1), round(around, 1)])
    landings = _landing_places(workspace)
    within = [p.name for p in landings if shapely.intersects_xy(buffered, p.lon, p.lat)]
    notes = [
        f"geodesic km of each stored corridor layer the scenario plans on, inside {area.name} "
        f"and within {buffer_km:g} km of it",
        "cable landings within the buffer: " + (", ".join(within) if within else "none"),
    ]
    return TableResult(
        f"Corridor inventory: {area.name} and {buffer_km:g} km around it",
        ["layer", "type", f"km in {area.name}", f"km within {buffer_km:g} km"],
        rows,
        notes,
    )


def _km(geometry: Any) -> float:
    total = 0.0
    for part in shapely.get_parts(geometry):
        if part.geom_type == "LineString" and not part.is_empty:
            total += line_length_km(part)
    return total


def _demand_table(state: str, context: PlanningContext) -> TableResult:
    """Population and household internet by municipality of one state."""
    if context.states is None or context.municipalities is None:
        raise NotFoundError("a demand table needs the states and municipalities layers")
    area = select_area(state, context.states, context.municipalities)
    munis = context.municipalities
    codes = munis["cvegeo"].astype(str).str.zfill(5)
    mine = munis[codes.str.startswith(str(area.code))].copy()
    mine["cvegeo"] = mine["cvegeo"].astype(str).str.zfill(5)
    census = load_household_internet()
    census = census.set_index("cvegeo")
    rows = []
    found = 0
    for _, row in mine.sort_values("cvegeo").iterrows():
        share = None
        if row["cvegeo"] in census.index:
            share = round(1.0 - float(census.loc[row["cvegeo"], "share_without_internet"]), 3)
            found += 1
        households = row.get("households")
        rows.append(
            [
                row["name"],
                row["cvegeo"],
                None if pd.isna(row.get("population")) else int(row["population"]),
                None if households is None or pd.isna(households) else int(households),
                share,
            ]
        )
    notes = [
        "population (and households where the layer has them) from the municipalities layer",
        (
            f"household internet share from the bundled 2020 census table for {found} of "
            f"{len(rows)} municipalities"
            if found
            else f"the bundled 2020 census table (13 states) has no rows for {area.name}: "
            "household internet share unknown; load INEGI's table for this state to fill it"
        ),
    ]
    return TableResult(
        f"Demand by municipality: {area.name}",
        ["municipality", "cvegeo", "population", "households", "household internet share"],
        rows,
        notes,
    )


# ---------------------------------------------------------------------------- outputs


def _scenario_notes(spec: Scenario, variant: _Variant, workspace: ScenarioWorkspace) -> list[str]:
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


def _write_map(result: ScenarioResult, workspace: ScenarioWorkspace, folder: Path) -> Path:
    documents = [(step.document, step.title) for step in result.steps]
    frames: dict[str, tuple[LayerKind | str, gpd.GeoDataFrame]] = {}
    for name in workspace.frames_of(LayerKind.STATES):
        frames[name] = (LayerKind.STATES, workspace.frame(name))
    for name in result.layers:
        frames[name] = (workspace.kinds[name], workspace.frame(name))
    for kind in (LayerKind.SUBSEA_CABLES, LayerKind.SUBSEA_LANDINGS):
        for name in workspace.frames_of(kind):
            frames[name] = (kind, workspace.frame(name))
    if result.spec.layers is not None:
        # the map shows what the scenario planned on
        frames = {
            n: f for n, f in frames.items() if f[0] not in CORRIDOR_KINDS or n in result.layers
        }
    credits, labels = _layer_credits()
    m = scenario_map(
        documents, frames, title=result.spec.title, attributions=credits, labels=labels
    )
    return save_map(m, folder / "map.html")


def _layer_credits() -> tuple[dict[str, str], dict[str, str]]:
    """Credits and titles of the bundled layers (the scenarios plan on them), if present."""
    try:
        return manifest_attributions(DEFAULT_SCENARIO_DIR.parent)
    except (LayerValidationError, OSError):
        return {}, {}


def _report(result: ScenarioResult) -> ScenarioReport:
    spec = result.spec
    steps = []
    for step in result.steps:
        extra: list[tuple[str, str]] = []
        parameters = step.proposal.parameters
        if step.budget_usd is not None:
            extra.append(("Budget", f"USD {step.budget_usd:,.0f}"))
        if step.kind == "last_mile":
            split = parameters.get("technology_split") or {}
            for tech, figures in split.items():
                extra.append(
                    (
                        f"{tech.replace('_', ' ')}",
                        f"{figures['localities']:,} localities, {figures['people']:,} people",
                    )
                )
            capex = step.metrics.capex_usd_total
            people = step.metrics.people_covered or 0
            if capex > 0:
                extra.append(("People per USD million", f"{people / capex * 1e6:,.0f}"))
            extra.append(
                (
                    "Localities served",
                    f"{parameters.get('localities_served', 0):,} of "
                    f"{parameters.get('localities_with_demand', 0):,} with people unserved "
                    f"(≥ {parameters.get('min_population')} people)",
                )
            )
        if step.km_off_land is not None:
            extra.append(
                (
                    "Land deployment off land",
                    f"{step.km_off_land:,.1f} km beyond the {COASTAL_TOLERANCE_KM:g} km "
                    "coastal tolerance",
                )
            )
        if step.kind == "backbone":
            extra.append(("Terminals", f"{len(step.proposal.terminals):,}"))
        steps.append(
            ReportStep(
                name=step.name,
                title=step.title,
                kind=step.kind,
                metrics=step.metrics.to_dict(),
                notes=tuple(step.proposal.notes),
                files={k: v.name for k, v in step.files.items()},
                extra=tuple(extra),
                seconds=step.seconds,
            )
        )
    headline = _funding_lines(result)
    overrides = []
    described = result.cost_model.describe()
    for key in _flat_keys(spec.cost_model):
        entry = described.get(key)
        if entry is not None:
            overrides.append((key, str(entry["value"]), str(entry["source"])))
    tables = [
        ReportTable(t.title, tuple(t.columns), tuple(map(tuple, t.rows)), tuple(t.notes))
        for t in result.tables
    ]
    return ScenarioReport(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        facts=tuple((f.text, f.source) for f in spec.facts),
        assumptions=spec.assumptions,
        steps=tuple(steps),
        tables=tuple(tables),
        headline=tuple(headline),
        cost_overrides=tuple(overrides),
        notes=tuple(result.notes),
        cost_model_source=result.cost_model.meta.source,
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=result.seconds,
    )


def _funding_lines(result: ScenarioResult) -> list[str]:
    spec = result.spec
    if spec.funding_usd is None:
        return []
    label = spec.funding_label or "funding"
    lines = []
    for step in result.steps:
        capex = step.metrics.capex_usd_total
        if capex <= 0:
            continue
        share = min(spec.funding_usd / capex, 1.0)
        lines.append(
            f"{label} (USD {spec.funding_usd:,.0f}) covers {share:.0%} of {step.title} "
            f"(capex USD {capex:,.0f})"
        )
    return lines


def _flat_keys(overrides: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in overrides.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            keys += _flat_keys(value, path)
        elif not path.endswith(".source"):
            keys.append(path)
    return keys
