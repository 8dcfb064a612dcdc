"""A national last mile planned state by state: partitions, one plan each, one merged proposal.

The semantics are those of a serial loop, so that any engine that runs the partitions (one
process, or the workers of a cluster) gives the same proposal:

1. **Partition** (:func:`state_partitions`). The states are taken in the order of their
   INEGI code (``cve_ent``); each locality belongs to the first of them whose polygon holds
   its point (a point on a shared border goes to the lower code). Localities in no stored
   state are left out and counted.
2. **Plan** (:func:`plan_state`). Each state is planned alone with
   :func:`planner.plans.last_mile.plan_last_mile` on the whole national network (its feeders may
   cross a border), exactly as ``--area <state>`` would plan it, with its own localities.
3. **Merge** (:func:`merge_state_plans`) in state-code order: segments, places and node
   costs are concatenated or summed; a network segment that two states' trees both use is
   kept once (in the lower code) so the merged capex pays for it once; the per-state
   figures (each state's own plan, standalone) are listed in ``parameters["states"]``.

The merge depends only on the per-state plans and their order, never on which worker made
them or when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from planner.network.corridor_graph import GRAPH_CRS
from planner.network.planning_network import PlanningNetwork
from planner.plans.last_mile import plan_last_mile
from planner.proposals.proposal import Marker, Proposal

ALL_STATES = "all states"
"""Area name of a national plan (``--area all``: every stored state)."""

ALL_AREAS = frozenset({"all", "all states"})
"""What an area name takes for every stored state (the State of México is ``México``)."""

SUMMED_PARAMETERS = (
    "backbone_nodes",
    "localities_considered",
    "localities_with_demand",
    "localities_served",
    "people_unserved_total",
)
"""Per-state counts whose national figure is their sum."""

SUMMED_TABLES = ("demand_methods", "technology_split")
"""Per-state tables of counts ({key: count} or {key: {key: count}}) summed key by key."""


@dataclass(frozen=True)
class StatePartition:
    """One state's share of a national plan.

    Attributes
    ----------
    cve_ent
        The state's two-digit INEGI code.
    name
        The state's name.
    rows
        Positions (``iloc``) of its localities in the localities frame partitioned.
    """

    cve_ent: str
    name: str
    rows: tuple[int, ...]


def state_partitions(
    localities: gpd.GeoDataFrame, states: gpd.GeoDataFrame
) -> tuple[list[StatePartition], int]:
    """Split the localities by state, in state-code order; return them and how many are left out.

    A locality belongs to the first state (by ``cve_ent``) whose polygon holds its point
    (shapely's point on surface of its geometry). States are merged by code first, so a
    state stored as several rows is one partition.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> states = gpd.GeoDataFrame({"cve_ent": ["2", "01"], "name": ["B", "A"]},
    ...     geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)], crs="EPSG:4326")
    >>> towns = gpd.GeoDataFrame({"name": ["x", "y", "z", "w"]},
    ...     geometry=[Point(1.5, .5), Point(1, .5), Point(.5, .5), Point(5, 5)], crs="EPSG:4326")
    >>> parts, outside = state_partitions(towns, states)
    >>> [(p.cve_ent, p.name, p.rows) for p in parts], outside
    ([('01', 'A', (1, 2)), ('02', 'B', (0,))], 1)
    """
    if localities.crs is not None and not localities.crs.equals(GRAPH_CRS):
        localities = localities.to_crs(GRAPH_CRS)
    if states.crs is not None and not states.crs.equals(GRAPH_CRS):
        states = states.to_crs(GRAPH_CRS)
    codes = [str(code).strip().zfill(2) for code in states["cve_ent"]]
    names = [str(name) for name in states["name"]]
    points = shapely.point_on_surface(np.asarray(localities.geometry.values, dtype=object))
    x, y = shapely.get_x(points), shapely.get_y(points)
    free = np.ones(len(localities), dtype=bool)
    free &= ~shapely.is_missing(points) & ~shapely.is_empty(points)
    partitions = []
    for code in sorted(set(codes)):
        rows = [i for i, c in enumerate(codes) if c == code]
        polygon = shapely.union_all(np.asarray(states.geometry.values, dtype=object)[rows])
        shapely.prepare(polygon)
        inside = free & np.asarray(shapely.intersects_xy(polygon, x, y), dtype=bool)
        free &= ~inside
        positions = tuple(int(i) for i in np.flatnonzero(inside))
        partitions.append(StatePartition(code, names[rows[0]], positions))
    return partitions, int(free.sum())


def plan_state(
    network: PlanningNetwork,
    localities: gpd.GeoDataFrame,
    partition: StatePartition,
    *,
    min_population: int,
) -> Proposal | None:
    """The last mile of one state's localities, or None when none has ``min_population``.

    ``localities`` is the frame the partition was made from; the network is not changed.
    """
    inside = localities.iloc[list(partition.rows)]
    if not len(inside) or not (inside["population"] >= min_population).any():
        return None
    return plan_last_mile(network, inside, area_name=partition.name, min_population=min_population)


def merge_state_plans(
    plans: Sequence[tuple[StatePartition, Proposal | None]],
    *,
    min_population: int,
    outside: int = 0,
    name: str | None = None,
) -> Proposal:
    """One national proposal from the per-state plans, in the order given (state code).

    Parameters
    ----------
    plans
        Each partition with its plan (None: nothing to plan there), in state-code order.
    min_population
        The threshold every state was planned with.
    outside
        Localities in no stored state (left out), for the notes.
    name
        Proposal name; default ``last-mile-all states``.

    Raises
    ------
    ValueError
        When no state had anything to plan.
    """
    planned = [(part, plan) for part, plan in plans if plan is not None]
    if not planned:
        raise ValueError(f"no state holds a locality of at least {min_population:,} people")
    first = planned[0][1]
    seen: set[bytes] = set()
    segments = []
    shared = 0
    for _, plan in planned:
        for segment in plan.segments:
            wkb = shapely.to_wkb(segment.geometry, output_dimension=2)
            if wkb in seen:
                shared += 1
                continue
            seen.add(wkb)
            segments.append(segment)
    node_costs: dict[str, float] = {}
    for _, plan in planned:
        for item, usd in plan.node_costs_usd.items():
            node_costs[item] = node_costs.get(item, 0.0) + float(usd)
    common = [n for n in first.notes if all(n in plan.notes for _, plan in planned)]
    states = [_state_record(part, plan, common) for part, plan in plans]
    parameters = _merged_parameters([plan for _, plan in planned], min_population)
    parameters["by"] = "state"
    parameters["states"] = states
    parameters["localities_outside_states"] = outside
    parameters["segments_shared_by_states"] = shared
    notes = [
        f"planned state by state: {len(planned)} of {len(plans)} states hold a locality of "
        f"at least {min_population:,} people; each is planned alone on the national network "
        "and listed in parameters.states",
        *common,
    ]
    if shared:
        notes.append(f"{shared} segments used by two states' trees are built (and counted) once")
    if outside:
        notes.append(f"{outside} localities lie in no stored state and are left out")
    covered = [plan.people_covered for _, plan in planned]
    return replace(
        first,
        name=name or f"last-mile-{ALL_STATES}",
        segments=tuple(segments),
        terminals=tuple(t for _, plan in planned for t in plan.terminals),
        node_costs_usd=node_costs,
        parameters=parameters,
        people_covered=None if None in covered else sum(int(c or 0) for c in covered),
        notes=tuple(notes),
        markers=tuple(m for part, plan in planned for m in _state_markers(part, plan)),
    )


def _state_markers(part: StatePartition, plan: Proposal) -> list[Marker]:
    """A state's sites, hops and localities, site ids prefixed with the state code so
    they stay unique in the national plan."""
    markers = []
    for marker in plan.markers:
        properties = dict(marker.properties)
        if properties.get("site_id"):
            properties["site_id"] = f"{part.cve_ent}-{properties['site_id']}"
        markers.append(Marker(geometry=marker.geometry, role=marker.role, properties=properties))
    return markers


def _merged_parameters(plans: Sequence[Proposal], min_population: int) -> dict[str, Any]:
    """Counts summed, tables summed, locality records joined, settings kept when all agree."""
    merged: dict[str, Any] = {"area": ALL_STATES, "min_population": min_population}
    keys = [k for k in plans[0].parameters if k not in merged]
    for key in keys:
        values = [plan.parameters.get(key) for plan in plans]
        if key in SUMMED_PARAMETERS:
            merged[key] = sum(int(v or 0) for v in values)
        elif key in SUMMED_TABLES:
            merged[key] = _sum_tables(values)
        elif key == "localities":
            merged[key] = [record for v in values for record in (v or [])]
        elif all(v == values[0] for v in values):
            merged[key] = values[0]
    return merged


def _sum_tables(tables: Sequence[Any]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for table in tables:
        for key, value in (table or {}).items():
            if isinstance(value, dict):
                total[key] = _sum_tables([total.get(key, {}), value])
            else:
                total[key] = total.get(key, 0) + value
    return total


def _state_record(part: StatePartition, plan: Proposal | None, common: list[str]) -> dict[str, Any]:
    """A state's own figures: its plan standalone (shared segments counted in full)."""
    record: dict[str, Any] = {
        "cve_ent": part.cve_ent,
        "name": part.name,
        "localities": len(part.rows),
    }
    if plan is None:
        record.update(planned=False, people_covered=0, capex_usd=0.0, segments_km=0.0)
        return record
    parameters = plan.parameters
    record.update(
        planned=True,
        localities_with_demand=int(parameters.get("localities_with_demand", 0)),
        localities_served=int(parameters.get("localities_served", 0)),
        people_covered=int(plan.people_covered or 0),
        capex_usd=sum(s.cost_usd for s in plan.segments) + sum(plan.node_costs_usd.values()),
        segments_km=sum(s.length_km for s in plan.segments),
        technology_split=parameters.get("technology_split"),
        notes=[n for n in plan.notes if n not in common],
    )
    return record
