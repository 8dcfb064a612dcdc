"""The tables of a scenario's summary: latency between places, corridor inventory, demand.

Each is worked out on the scenario's planning context and workspace (:mod:`usecases.scenario`)
and printed by its one-page summary (:mod:`usecases.scenario_outputs`).
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely

from layers.errors import NotFoundError
from layers.kinds import LayerKind
from planner.network.places import Place, resolve_places
from planner.network.planning_network import attach_place
from planner.plans.demand import load_household_internet, select_area
from planner.plans.scenario import LatencyTable, Scenario
from planner.proposals.proposal import line_length_km
from usecases.context import PlanningContext
from usecases.scenario_workspace import ScenarioWorkspace, TableResult

ANALYSIS_EPSG = 6372
"""Mexico ITRF2008 / LCC: metres, for buffers."""


# ---------------------------------------------------------------------------- tables


def latency_table(
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
        destinations += landing_places(workspace)
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


def landing_places(workspace: ScenarioWorkspace) -> list[Place]:
    places = []
    for name in workspace.frames_of(LayerKind.SUBSEA_LANDINGS):
        frame = workspace.frame(name)
        for _, row in frame.iterrows():
            point = shapely.point_on_surface(row.geometry)
            places.append(Place(str(row["name"]), point.x, point.y, kind="landing"))
    return places


def inventory_table(
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
    landings = landing_places(workspace)
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


def demand_table(state: str, context: PlanningContext) -> TableResult:
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
