"""Last-mile proposals: serve the unserved localities of an area at least cost.

How a plan is made (:func:`plan_last_mile`):

1. **Backbone.** The nodes given (e.g. those of a backbone proposal), or else every node on
   existing fiber in the network (leasable fiber, or a ``fiber_routes`` edge not marked
   planned).
2. **Demand.** Localities above ``min_population`` and their people without a connection,
   from the ``connected`` attribute, the 2020 census household internet share or the
   distance to fiber (:func:`planner.plans.demand.estimate_demand`); people inside existing
   coverage polygons, or the state's mobile coverage share, are taken out
   (:func:`planner.plans.demand.apply_coverage`). The records say which method each used.
3. **Feeders.** The localities, and candidate wireless sites on the highest ground within
   ``radio.high_point_radius_km`` of each, are attached to the network; one multi-source
   Dijkstra from the backbone over ``cost_usd`` gives each its cheapest fiber feeder, along
   the network's corridors (roads, rail, pipelines, power lines where loaded).
4. **Technology** (households = people unserved / persons per household, rounded up; all
   prices from the cost model's ``last_mile`` section). A locality's *alternative* is the
   cheaper of

   - *fiber*: its feeder + households x ``usd_per_household`` + in-town distribution
     cable (``usd_per_km`` x street km, see :func:`distribution_km`);
   - *satellite*: households x (``usd_per_terminal`` + ``usd_per_year`` x horizon years);

   and :func:`planner.plans.wireless.plan_wireless` opens the shared *fixed-wireless* sites that
   beat it: a site reaches a locality over a clear radio path on the terrain
   (:mod:`planner.plans.radio`), is fed by fiber or microwave hops, and is chosen exactly with
   HiGHS or by a documented heuristic with its optimality gap
   (:mod:`planner.plans.site_selection`). With a budget, the most people are served within it.
5. **Shared trench.** The fiber localities and fiber-fed sites are joined to the backbone
   by the cheaper of a Steiner tree over them and a virtual terminal joined to every
   backbone node at no cost, and the shortest-path forest of step 3 (never dearer than
   the standalone feeders the choice counted).
6. **Terrain.** Greenfield feeder pieces follow the terrain over the friction surface of
   backbone greenfield links (:func:`planner.proposals.segments.follow_terrain`). With a budget, if
   that makes the plan dearer than the budget, the localities are chosen again within a
   budget smaller by the overrun, so the capex never exceeds it.

Money appears once: the tree's segments carry the feeder cable (role ``"last-mile"``, with
their corridor's deployment type), and everything else is a node cost
(``fiber_households``, ``fiber_distribution``, ``fixed_wireless_sites``,
``fixed_wireless_cpe``, ``microwave_links``, ``microwave_relays``,
``satellite_terminals_and_service``). Wireless sites, microwave hops and served localities
are markers of the proposal (:class:`planner.proposals.proposal.Marker`), with every locality also
listed in ``proposal.parameters["localities"]`` and every site in
``parameters["wireless_sites"]``. Feeders are short unamplified spans, so no in-line
amplifier sites are added.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
import shapely

from layers.errors import NoBackboneError, TrazoError
from planner.network.corridor_graph import GRAPH_CRS, to_analysis_crs
from planner.network.cost_model import CostModel
from planner.network.edge_table import TableGraph
from planner.network.overlay import OverlayGraph
from planner.network.places import Place
from planner.network.planning_memo import PlanningMemo
from planner.network.planning_network import PlanningNetwork, attach_places
from planner.plans.demand import (
    COUNTED_AS_SERVED,
    DEFAULT_CONNECTED_WITHIN_KM,
    anchor_points,
    apply_coverage,
    demand_method_counts,
    estimate_demand,
    households_for,
    load_household_internet,
    require_localities,
)
from planner.plans.radio import ElevationGrid, choose_elevation
from planner.plans.site_selection import DEFAULT_NODE_LIMIT
from planner.plans.wireless import (
    Candidates,
    WirelessPlan,
    WirelessSite,
    candidate_sites,
    plan_wireless,
)
from planner.proposals.make import make_proposal
from planner.proposals.proposal import Marker, Proposal
from planner.proposals.segments import DEFAULT_MIN_TERRAIN_KM, EdgeKey, segments_from_edges
from planner.search.shortest_paths import CSRGraph, NearestSources, csr_of, nearest_sources
from planner.search.steiner import steiner_tree_csr

logger = logging.getLogger(__name__)

WEIGHT = "cost_usd"
ROLE = "last-mile"

TECHNOLOGIES: tuple[str, ...] = ("fiber", "fixed_wireless", "satellite")

TOWN_PEOPLE_PER_KM2 = 2000.0
"""Assumed density of a locality's built-up area (people per km²) for its in-town cable.

Mexican urban localities run from a few thousand to over ten thousand people per km²; rural
ones are sparser. 2,000 is a deliberately modest middle for the towns a last-mile plan
targets.
"""

STREET_KM_PER_KM2 = 20.0
"""Street length per km² of built-up area: a grid of 100 m blocks (10 streets each way)."""


_SLACK_USD = 1e-6


def distribution_km(population: float) -> float:
    """Street km of in-town distribution cable for a locality of ``population`` people.

    The locality is a disk of :data:`TOWN_PEOPLE_PER_KM2` (radius sqrt(area / pi)), and its
    streets a grid of :data:`STREET_KM_PER_KM2`, so the cable is
    ``population / 2000 x 20`` = 10 m per inhabitant. The whole population sets the town's
    extent, even where only some of it is unserved: the cable must reach every street.

    Examples
    --------
    >>> distribution_km(1000)
    10.0
    """
    return max(float(population), 0.0) / TOWN_PEOPLE_PER_KM2 * STREET_KM_PER_KM2


@dataclass(frozen=True)
class TechnologyCosts:
    """What each technology would cost one locality, in USD (None: not available)."""

    fiber: float | None
    fixed_wireless: float | None
    satellite: float
    feeder_usd: float | None
    households: int
    sites: int


@dataclass
class _Locality:
    row: int
    place: Place
    node: Hashable
    population: int
    people: int
    method: str
    coverage: str | None
    backbone_km: float
    costs: TechnologyCosts
    technology: str | None = None
    added_usd: float = math.nan
    site: int | None = None  # position of its wireless site in the plan
    margin_m: float = math.nan  # clearance of its radio path to the site
    served: bool = False


def plan_last_mile(
    network: PlanningNetwork,
    localities: gpd.GeoDataFrame,
    *,
    area_name: str,
    min_population: int = 250,
    budget_usd: float | None = None,
    backbone_nodes: Sequence[Hashable] | None = None,
    household_internet: pd.DataFrame | None = None,
    connected_within_km: float = DEFAULT_CONNECTED_WITHIN_KM,
    name: str | None = None,
    site_node_limit: int = DEFAULT_NODE_LIMIT,
    coverage: gpd.GeoDataFrame | None = None,
    counted_as_served: Sequence[str] = COUNTED_AS_SERVED,
    state_coverage: pd.DataFrame | None = None,
) -> Proposal:
    """Propose the last mile for the unserved localities of an area.

    See the module documentation for the method.

    Parameters
    ----------
    network
        The priced planning network; the localities are attached to a copy of it (it is
        not changed). ``backbone_nodes`` are nodes of this network.
    localities
        The area's localities (a ``localities`` layer clipped to the area, e.g. with
        :func:`planner.plans.demand.localities_in_area`): points with ``name``, ``population``
        and optionally ``connected``, ``cvegeo``, ``cve_ent``, ``cve_mun``, ``state``.
    area_name
        Name of the area, for the proposal's name and parameters.
    min_population
        Localities with fewer people are left out.
    budget_usd
        When given, connect the most people this amount allows; the capex never exceeds it.
    backbone_nodes
        Network nodes the localities connect to (e.g. the nodes of a backbone proposal).
        Default: every node on existing fiber.
    household_internet
        The census table of :func:`planner.plans.demand.load_household_internet`; default the
        bundled one. Pass an empty frame to use only the other demand methods.
    connected_within_km
        Distance rule of the demand estimate (see :func:`planner.plans.demand.estimate_demand`).
    name
        Proposal name; default ``last-mile-<area_name>``.
    site_node_limit
        Branch-and-bound nodes the exact site selection may explore; past it, the best plan
        found and its optimality gap are reported.
    coverage
        Existing coverage (a ``coverage`` layer: polygons with ``technology``). People in
        localities inside a polygon whose technology is in ``counted_as_served`` are not
        demand.
    counted_as_served
        The coverage technologies the plan counts as serving people.
    state_coverage
        State-level coverage shares (:func:`planner.plans.demand.load_state_coverage`); each
        locality not inside a coverage polygon keeps ``1 - share`` of its unserved people.

    Returns
    -------
    Proposal
        Kind ``"last_mile"``, ``people_covered`` the people unserved in the localities it
        serves, ``parameters["localities"]`` one record per locality with people unserved.

    Raises
    ------
    NoBackboneError
        No backbone node is given and the network has no existing fiber.
    ValueError
        A negative budget or population threshold, or unknown backbone nodes.
    """
    request = _Request(
        area_name=area_name,
        min_population=min_population,
        budget_usd=budget_usd,
        backbone_nodes=backbone_nodes,
        household_internet=household_internet,
        connected_within_km=connected_within_km,
        name=name,
        site_node_limit=site_node_limit,
        coverage=coverage,
        counted_as_served=counted_as_served,
        state_coverage=state_coverage,
    )
    proposal = _plan(network, localities, request)
    if budget_usd is None:
        return proposal
    choice = float(budget_usd)
    for _ in range(TERRAIN_RETRIES):
        over = _capex(proposal) - budget_usd
        if over <= budget_usd * 1e-9 + 1e-6:
            return proposal
        # the feeders cost more over the terrain than the flat estimate the choice used:
        # choose again within a budget smaller by the overrun
        choice = max(choice - over * 1.05, 0.0)
        proposal = _plan(network, localities, request, choice_budget_usd=choice)
        proposal = _with_note(
            proposal,
            f"the terrain made the feeders dearer than the flat estimate the choice used, so "
            f"the localities were chosen again within USD {choice:,.0f} of the budget",
        )
    if _capex(proposal) > budget_usd * (1 + 1e-9) + 1e-6:
        proposal = _plan(network, localities, request, choice_budget_usd=choice, terrain=False)
        proposal = _with_note(
            proposal,
            "greenfield feeders stay straight at the flat rate: over the terrain they did not "
            "fit the budget",
        )
    if _capex(proposal) > budget_usd * (1 + 1e-9) + 1e-6:
        raise AssertionError(f"last-mile capex exceeds the budget {budget_usd:.2f}")
    return proposal


TERRAIN_RETRIES = 3
"""Times a budgeted plan is chosen again when its feeders cost more over the terrain."""


def _capex(proposal: Proposal) -> float:
    return sum(s.cost_usd for s in proposal.segments) + sum(proposal.node_costs_usd.values())


def _with_note(proposal: Proposal, note: str) -> Proposal:
    return dataclasses.replace(proposal, notes=[*proposal.notes, note])


@dataclass(frozen=True)
class _Request:
    """What :func:`plan_last_mile` was asked, beside the network and the localities (its
    parameters of the same names)."""

    area_name: str
    min_population: int
    budget_usd: float | None
    backbone_nodes: Sequence[Hashable] | None
    household_internet: pd.DataFrame | None
    connected_within_km: float
    name: str | None
    site_node_limit: int
    coverage: gpd.GeoDataFrame | None
    counted_as_served: Sequence[str]
    state_coverage: pd.DataFrame | None


def _plan(
    network: PlanningNetwork,
    localities: gpd.GeoDataFrame,
    request: _Request,
    *,
    choice_budget_usd: float | None = None,
    terrain: bool = True,
) -> Proposal:
    """Plan ``request`` once; ``choice_budget_usd`` (default the budget) bounds the choice and
    ``terrain`` routes greenfield feeders over the terrain (see :func:`plan_last_mile`)."""
    started = time.perf_counter()
    if request.budget_usd is not None and not request.budget_usd >= 0:
        raise ValueError("budget_usd must be an amount >= 0")
    if request.min_population < 0:
        raise ValueError("min_population must be 0 or more")
    require_localities(
        localities, area_name=request.area_name, min_population=request.min_population
    )
    network = network.copy()
    graph = network.graph
    model = network.cost_model
    if localities.crs is not None and not localities.crs.equals(GRAPH_CRS):
        localities = localities.to_crs(GRAPH_CRS)
    localities = localities[
        localities.geometry.notna() & ~localities.geometry.is_empty
    ].reset_index(drop=True)

    given = request.backbone_nodes is not None
    backbone = _initial_backbone(graph, request.backbone_nodes)
    lines, points = _backbone_shapes(graph, backbone)
    lon, lat = anchor_points(localities.geometry.values)
    backbone_km = _distance_km(lon, lat, lines + points)

    household_internet = request.household_internet
    if household_internet is None:
        household_internet = load_household_internet()
    demand = estimate_demand(
        localities,
        min_population=request.min_population,
        household_internet=household_internet,
        backbone_distance_km=backbone_km,
        connected_within_km=request.connected_within_km,
    )
    inside = _inside_coverage(demand, request.coverage, request.counted_as_served)
    if inside is not None or request.state_coverage is not None:
        demand = apply_coverage(demand, inside=inside, state_coverage=request.state_coverage)
    method_counts = demand_method_counts(demand)
    positions = demand.index.to_numpy()
    wanted = np.flatnonzero(demand["people_unserved"].to_numpy() > 0)
    notes = [_demand_note(method_counts, request.connected_within_km)]
    if "coverage" in demand.columns:
        notes.append(_coverage_note(demand, request.counted_as_served, request.state_coverage))
    already = len(demand) - wanted.size
    if already:
        notes.append(f"{already} localities have nobody left to connect")

    places = _places(demand, wanted, lon[positions[wanted]], lat[positions[wanted]])
    item_lon = np.array([p.lon for p in places], dtype=float)
    item_lat = np.array([p.lat for p in places], dtype=float)
    grid = elevation_grid(network, item_lon, item_lat)
    radio = model.last_mile.radio
    cand_lon, cand_lat, cand_loc, at_locality = candidate_sites(
        grid, item_lon, item_lat, radio.high_point_radius_km
    )
    high = [
        Place(
            name=f"high point near {places[int(cand_loc[c])].name}",
            lon=float(cand_lon[c]),
            lat=float(cand_lat[c]),
            kind="point",
        )
        for c in range(len(places), cand_lon.size)
    ]
    before = set(graph.nodes)
    nodes = attach_places(network, [*places, *high]) if places else []
    backbone = _backbone_after_attach(graph, backbone, before, given)
    csr = csr_of(graph, WEIGHT)
    backbone_rows = np.array(sorted(csr.row(b) for b in backbone), dtype=np.int64)
    reach = nearest_sources(csr, [csr.nodes[r] for r in backbone_rows])
    cand_rows = np.array([csr.row(n) for n in nodes], dtype=np.int64)

    items: list[_Locality] = []
    unserved = demand["people_unserved"].to_numpy()[wanted]
    populations = demand["population"].to_numpy()[wanted]
    methods = demand["demand_method"].to_numpy()[wanted]
    coverages = _texts(demand, "coverage", wanted)
    for k, i in enumerate(wanted):
        row = int(cand_rows[k])
        feeder = float(reach.distance[row])
        people = int(unserved[k])
        population = int(populations[k])
        items.append(
            _Locality(
                row=row,
                place=places[k],
                node=nodes[k],
                population=population,
                people=people,
                method=str(methods[k]),
                coverage=coverages[k],
                backbone_km=float(backbone_km[positions[i]]),
                costs=technology_costs(
                    model, people, population, feeder if math.isfinite(feeder) else None
                ),
            )
        )
    if choice_budget_usd is None:
        choice_budget_usd = request.budget_usd
    budget = None if choice_budget_usd is None else float(choice_budget_usd)
    wireless = _choose(
        items,
        grid,
        model,
        reach,
        cand_rows,
        cand_lon,
        cand_lat,
        cand_loc,
        at_locality,
        graph,
        backbone,
        budget,
        request.site_node_limit,
        network.memo,
    )
    fiber_rows = [item.row for item in items if item.served and item.technology == "fiber"]
    fiber_rows += [int(cand_rows[s.candidate]) for s in wireless.sites if s.backhaul == "fiber"]
    tree_edges, tree_info = _shared_tree(csr, reach, backbone_rows, fiber_rows)

    ordered = _ordered_edges(csr, tree_edges, backbone)
    segments = segments_from_edges(
        network,
        ordered,
        role=ROLE,
        notes=notes,
        min_terrain_km=DEFAULT_MIN_TERRAIN_KM if terrain else math.inf,
    )
    costs = _node_costs(items, wireless, model)
    capex = sum(s.cost_usd for s in segments) + sum(costs.values())

    served = [item for item in items if item.served]
    people_covered = sum(item.people for item in served)
    split = _split(items)
    notes.append(_backbone_note(given, len(backbone)))
    notes.append(_split_note(split))
    notes.append(_tree_note(tree_info, len(fiber_rows)))
    notes.append(_wireless_note(wireless, model))
    if terrain and any(s.deployment_type == "greenfield" for s in segments):
        notes.append(
            "greenfield feeders follow the terrain over the slope-priced friction surface; "
            "the choice of technology priced them as straight lines at the flat rate"
        )
    demand_people = sum(item.people for item in items)
    if request.budget_usd is not None:
        notes.append(
            f"budget USD {request.budget_usd:,.0f}: {len(served)} of {len(items)} localities, "
            f"{people_covered:,} of {demand_people:,} people unserved, capex USD {capex:,.0f}"
        )
    elapsed = time.perf_counter() - started
    logger.info(
        "last mile %s: %d localities, %d people, capex %.0f USD in %.1f s",
        request.area_name,
        len(served),
        people_covered,
        capex,
        elapsed,
    )
    parameters: dict[str, Any] = {
        "area": request.area_name,
        "min_population": request.min_population,
        "budget_usd": request.budget_usd,
        "backbone": "given nodes" if given else "existing fiber",
        "backbone_nodes": len(backbone),
        "connected_within_km": request.connected_within_km,
        "demand_methods": method_counts,
        "coverage_layer": request.coverage is not None and not request.coverage.empty,
        "counted_as_served": list(request.counted_as_served),
        "state_coverage_share": request.state_coverage is not None,
        "localities_considered": len(demand),
        "localities_with_demand": len(items),
        "localities_served": len(served),
        "people_unserved_total": demand_people,
        "technology_split": split,
        "tree": tree_info,
        "town_people_per_km2": TOWN_PEOPLE_PER_KM2,
        "street_km_per_km2": STREET_KM_PER_KM2,
        "weight": WEIGHT,
        "wireless": _wireless_parameters(wireless, model, request.budget_usd is not None),
        "wireless_sites": [_site_record(site, items) for site in wireless.sites],
        "localities": [_record(item, wireless.sites, model) for item in items],
    }
    return make_proposal(
        network,
        "last_mile",
        request.name or f"last-mile-{request.area_name}",
        segments,
        [_terminal(item) for item in served],
        parameters=parameters,
        node_costs_usd=costs,
        notes=notes,
        people_covered=people_covered,
        markers=_markers(items, wireless),
    )


def technology_costs(
    model: CostModel, people: int, population: int, feeder_usd: float | None
) -> TechnologyCosts:
    """Price fiber, fixed wireless and satellite for one locality.

    Parameters
    ----------
    model
        The cost model (its ``last_mile`` section).
    people
        People to connect (the unserved).
    population
        The locality's whole population (sets the in-town cable, see
        :func:`distribution_km`).
    feeder_usd
        Cheapest feeder from the backbone; None when no corridor reaches it (no fiber).

    Returns
    -------
    TechnologyCosts
        ``fixed_wireless`` is the cost if a site can be fed; whether one can is decided by
        the planner.

    Examples
    --------
    >>> from planner.network.cost_model import load_cost_model
    >>> costs = technology_costs(load_cost_model(), 1000, 1000, 0.0)
    >>> costs.households, costs.fiber, costs.fixed_wireless, costs.satellite
    (278, 217300.0, 101700.0, 1765300.0)
    """
    lm = model.last_mile
    households = households_for(people, lm.households.persons_per_household)
    sites = math.ceil(people / lm.fixed_wireless.persons_per_site) if people > 0 else 0
    fiber = None
    if feeder_usd is not None:
        fiber = (
            feeder_usd
            + households * lm.fiber.usd_per_household
            + distribution_km(population) * lm.fiber.usd_per_km
        )
    wireless = sites * lm.fixed_wireless.usd_per_site + households * (
        lm.fixed_wireless.usd_per_subscriber
    )
    satellite = households * (
        lm.satellite.usd_per_terminal + lm.satellite.usd_per_year * lm.horizon.years
    )
    return TechnologyCosts(
        fiber=fiber,
        fixed_wireless=wireless,
        satellite=satellite,
        feeder_usd=feeder_usd,
        households=households,
        sites=sites,
    )


# ---------------------------------------------------------------------------- backbone


def _is_existing_fiber(data: dict[str, Any]) -> bool:
    if data.get("reuses_fiber"):
        return True
    return data.get("kind") == "fiber_routes" and data.get("status") != "planned"


def _initial_backbone(graph: nx.MultiGraph, given: Sequence[Hashable] | None) -> set[Hashable]:
    if given is not None:
        missing = [n for n in given if n not in graph]
        if missing:
            raise ValueError(f"backbone nodes not in the network: {missing[:10]}")
        if not given:
            raise NoBackboneError(
                "the backbone is empty: pass the nodes of a backbone proposal, or none to "
                "use the existing fiber in the network"
            )
        return set(given)
    nodes = _existing_fiber_nodes(graph)
    if not nodes:
        raise NoBackboneError(
            "the network has no existing fiber to connect localities to: load a fiber_routes "
            "layer, or plan a backbone first and pass its nodes as backbone_nodes"
        )
    return nodes


def _existing_fiber_nodes(graph: nx.MultiGraph) -> set[Hashable]:
    """The ends of every existing-fiber edge (:func:`_is_existing_fiber`).

    A copy of a network read from its table (an overlay) answers from the table's
    columns, and looks at the edges only of the nodes the copy changed: walking every
    edge would make every edge's attribute dict.
    """
    table = graph.base if isinstance(graph, OverlayGraph) else None
    if not isinstance(table, TableGraph) or graph.lost_base_nodes():
        nodes: set[Hashable] = set()
        for u, v, data in graph.edges(data=True):
            if _is_existing_fiber(data):
                nodes.update((u, v))
        return nodes
    reuses = np.fromiter(map(bool, table.edge_values("reuses_fiber")), dtype=bool, count=table.m)
    kind, status = table.edge_values("kind"), table.edge_values("status")
    fiber = reuses | ((kind == "fiber_routes") & (status != "planned"))
    rows = np.unique(np.concatenate([table.edge_u[fiber], table.edge_v[fiber]]))
    nodes = set(np.asarray(table.node_ids)[rows].tolist())
    adjacency = graph.adj
    for node in graph.changed_nodes():
        if any(_is_existing_fiber(d) for keys in adjacency[node].values() for d in keys.values()):
            nodes.add(node)
        else:
            nodes.discard(node)
    return nodes


def _backbone_shapes(graph: nx.MultiGraph, backbone: set[Hashable]) -> tuple[list[Any], list[Any]]:
    """The backbone's lines (edges between backbone nodes that are not drops) and points."""
    table = graph.base if isinstance(graph, OverlayGraph) else None
    if isinstance(table, TableGraph) and not graph.changed_nodes() and not graph.lost_base_nodes():
        # a copy not changed yet: the table's columns, in the same edge order
        inside = np.zeros(table.n, dtype=bool)
        rows = np.array([table.row(n) for n in backbone], dtype=np.int64)
        inside[rows] = True
        keep = inside[table.edge_u] & inside[table.edge_v]
        keep &= table.edge_values("kind") != "connector"
        lines = table.edge_values("geometry")[keep]
        x, y = table.node_records.floats("x"), table.node_records.floats("y")
        assert x is not None and y is not None
        points = np.asarray(shapely.points(x[rows], y[rows]), dtype=object).tolist()
        return [line for line in lines if line is not None], points
    lines = [
        data["geometry"]
        for u, v, data in graph.edges(data=True)
        if u in backbone
        and v in backbone
        and data.get("kind") != "connector"
        and data.get("geometry") is not None
    ]
    points = [shapely.Point(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in backbone]
    return lines, points


def _distance_km(lon: npt.NDArray[Any], lat: npt.NDArray[Any], shapes: list[Any]) -> Any:
    """Distance in km (EPSG:6372) from each point to the nearest shape."""
    if lon.size == 0:
        return np.zeros(0)
    transformer = to_analysis_crs()

    def project(coords: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.column_stack(transformer.transform(coords[:, 0], coords[:, 1]))

    geoms = shapely.transform(np.asarray(shapes, dtype=object), project)
    x, y = transformer.transform(lon, lat)
    points = shapely.points(np.column_stack([x, y]))
    tree = shapely.STRtree(geoms)
    (src, _), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    out = np.full(lon.size, np.inf)
    out[src] = dist / 1000.0
    return out


def _backbone_after_attach(
    graph: nx.MultiGraph, backbone: set[Hashable], before: set[Hashable], given: bool
) -> set[Hashable]:
    """The backbone once places are attached: the nodes where its edges were split join it."""
    if not given:
        return _initial_backbone(graph, None)
    new = set(graph.nodes) - before
    if not new:
        return backbone
    chains = nx.Graph()
    touching: dict[Hashable, set[Hashable]] = {}
    for node in new:
        chains.add_node(node)
        for _, other, data in graph.edges(node, data=True):
            if data.get("kind") == "connector":
                continue
            if other in new:
                chains.add_edge(node, other)
            else:
                touching.setdefault(node, set()).add(other)
    grown = set(backbone)
    for chain in nx.connected_components(chains):
        ends = set().union(*(touching.get(n, set()) for n in chain))
        if ends and ends <= backbone:
            grown.update(chain)
    return grown


# ---------------------------------------------------------------------------- choice


def elevation_grid(
    network: PlanningNetwork, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
) -> ElevationGrid:
    """The terrain around the points: the finest of the network's elevation rasters that
    holds them all (:func:`planner.plans.radio.choose_elevation`); sea-level ground without one."""
    if lon.size == 0:
        bounds = (0.0, 0.0, 0.0, 0.0)
    else:
        bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    rasters = network.elevations or ((network.elevation,) if network.elevation else ())
    chosen = choose_elevation(rasters, lon, lat)
    if chosen is not None:
        try:
            grid = ElevationGrid.from_raster(chosen, bounds)
        except TrazoError as err:
            logger.info("radio paths over sea-level ground: %s", err)
        else:
            # where the chosen raster has no data (a survey of one area), the next one
            # answers: paths that leave a finer survey go on over the coarser grid
            backup = choose_elevation([r for r in rasters if r != chosen], lon, lat)
            if backup is not None:
                try:
                    beyond = ElevationGrid.from_raster(backup, bounds)
                except TrazoError as err:
                    logger.info("no terrain beyond %s: %s", chosen.name, err)
                else:
                    grid = dataclasses.replace(
                        grid, beyond=beyond, source=f"{grid.source} (beyond it {beyond.source})"
                    )
            return grid
    margin = 0.5
    rows = max(int((bounds[3] - bounds[1] + 2 * margin) / 0.01), 1)
    cols = max(int((bounds[2] - bounds[0] + 2 * margin) / 0.01), 1)
    return ElevationGrid(
        values=np.zeros((rows, cols)),
        west=bounds[0] - margin,
        north=bounds[3] + margin,
        dlon=0.01,
        dlat=0.01,
        source="no elevation raster (sea-level ground)",
    )


def _choose(
    items: list[_Locality],
    grid: ElevationGrid,
    model: CostModel,
    reach: NearestSources,
    cand_rows: npt.NDArray[np.int64],
    cand_lon: npt.NDArray[np.float64],
    cand_lat: npt.NDArray[np.float64],
    cand_loc: npt.NDArray[np.int64],
    at_locality: npt.NDArray[np.bool_],
    graph: nx.MultiGraph,
    backbone: set[Hashable],
    budget: float | None,
    site_node_limit: int,
    memo: PlanningMemo | None,
) -> WirelessPlan:
    """Decide every locality's technology: shared wireless sites against fiber or satellite.

    Each locality's alternative is the cheaper of its own fiber (standalone feeder from
    the backbone) and satellite; :func:`planner.plans.wireless.plan_wireless` then opens the
    wireless sites that beat it, with their backhaul, exactly or with a stated gap.
    """
    n = len(items)
    people = np.array([item.people for item in items], dtype=float)
    households = np.array([item.costs.households for item in items], dtype=float)
    fiber = np.array([math.inf if item.costs.fiber is None else item.costs.fiber for item in items])
    satellite = np.array([item.costs.satellite for item in items])
    alternative = np.minimum(fiber, satellite)
    feeder = reach.distance[cand_rows] if cand_rows.size else np.zeros(0)
    backbone_nodes = sorted(backbone, key=str)
    fiber_lon = np.array([graph.nodes[b]["x"] for b in backbone_nodes], dtype=float)
    fiber_lat = np.array([graph.nodes[b]["y"] for b in backbone_nodes], dtype=float)
    plan = plan_wireless(
        grid,
        model,
        loc_lon=np.array([item.place.lon for item in items], dtype=float),
        loc_lat=np.array([item.place.lat for item in items], dtype=float),
        people=people,
        households=households,
        alternative_usd=alternative,
        candidates=Candidates(
            lon=cand_lon,
            lat=cand_lat,
            locality=cand_loc,
            at_locality=at_locality,
            feeder_usd=np.asarray(feeder, dtype=float),
        ),
        fiber_lon=fiber_lon,
        fiber_lat=fiber_lat,
        budget_usd=budget,
        site_node_limit=site_node_limit,
        memo=memo,
    )
    cpe = model.last_mile.fixed_wireless.usd_per_subscriber
    for k in range(n):
        item = items[k]
        if plan.site_of[k] >= 0:
            item.technology = "fixed_wireless"
            item.site = int(plan.site_of[k])
            item.added_usd = float(households[k] * cpe)
            item.margin_m = float(plan.margin_m[k])
        elif plan.alternative[k]:
            item.technology = "fiber" if fiber[k] <= satellite[k] else "satellite"
            item.added_usd = float(alternative[k])
        else:
            continue
        item.served = True
    return plan


# ---------------------------------------------------------------------------- trees


def _edge_weights(csr: CSRGraph) -> npt.NDArray[np.float64]:
    weights = np.zeros(len(csr.edges))
    weights[csr.entry_edge] = csr.data
    return weights


def _forest(csr: CSRGraph, predecessor: npt.NDArray[np.int64], rows: Iterable[int]) -> set[int]:
    """The shortest-path forest edges from the backbone to ``rows``."""
    edges: set[int] = set()
    seen: set[int] = set()
    for row in rows:
        node = int(row)
        while node not in seen and predecessor[node] >= 0:
            seen.add(node)
            previous = int(predecessor[node])
            edges.add(int(csr.entry_edge[csr.entry(previous, node)]))
            node = previous
    return edges


def _steiner(csr: CSRGraph, backbone_rows: npt.NDArray[np.int64], rows: Sequence[int]) -> set[int]:
    """Steiner tree over ``rows`` plus a virtual terminal joined to the backbone at no cost."""
    n = csr.n
    base = csr.matrix.tocoo()
    virtual = np.full(backbone_rows.size, n, dtype=np.int64)
    r = np.concatenate([base.row, virtual, backbone_rows])
    c = np.concatenate([base.col, backbone_rows, virtual])
    w = np.concatenate([base.data, np.zeros(2 * backbone_rows.size)])
    matrix = sp.csr_array((w, (r, c)), shape=(n + 1, n + 1))
    terminals = np.array([*sorted(set(rows)), n], dtype=np.int64)
    # bounded by work, not the clock: the same localities give the same tree on any machine
    solution = steiner_tree_csr(matrix, terminals)
    edges: set[int] = set()
    for i, j in solution.edges.tolist():
        if i == n or j == n:
            continue
        edges.add(int(csr.entry_edge[csr.entry(int(i), int(j))]))
    return edges


def _shared_tree(
    csr: CSRGraph,
    reach: NearestSources,
    backbone_rows: npt.NDArray[np.int64],
    rows: Sequence[int],
) -> tuple[frozenset[int], dict[str, Any]]:
    """The cheaper of two trees joining ``rows`` to the backbone.

    Candidates: the Steiner tree over ``rows`` and a virtual terminal standing for the
    whole backbone, and the shortest-path forest from the backbone, whose cost is at most
    the sum of the standalone feeders the choice and the budget counted.
    """
    if not rows:
        return frozenset(), {"method": "none", "cost_usd": 0.0, "separate_usd": 0.0}
    candidates = {
        "steiner": _steiner(csr, backbone_rows, rows),
        "shortest-path forest": _forest(csr, reach.predecessor, rows),
    }
    weights = _edge_weights(csr)
    costs = {name: float(sum(weights[e] for e in edges)) for name, edges in candidates.items()}
    order = list(candidates)
    best = min(order, key=lambda name: (costs[name], order.index(name)))
    info = {
        "method": best,
        "cost_usd": costs[best],
        "separate_usd": float(sum(reach.distance[r] for r in set(rows))),
        "steiner_usd": costs["steiner"],
        "forest_usd": costs["shortest-path forest"],
    }
    return frozenset(candidates[best]), info


def _ordered_edges(csr: CSRGraph, edges: Iterable[int], backbone: set[Hashable]) -> list[EdgeKey]:
    """Tree edges in depth-first order away from the backbone (runs of a corridor merge)."""
    keys = [csr.edges[e] for e in sorted(edges)]
    if not keys:
        return []
    tree = nx.Graph()
    for u, v, key in keys:
        tree.add_edge(u, v, key=key)
    ordered: list[EdgeKey] = []
    for component in nx.connected_components(tree):
        roots = [n for n in component if n in backbone] or [min(component, key=str)]
        for u, v in nx.dfs_edges(tree.subgraph(component), source=roots[0]):
            ordered.append((u, v, tree.edges[u, v]["key"]))
    return ordered


# ---------------------------------------------------------------------------- reporting


def _node_costs(
    items: Iterable[_Locality], wireless: WirelessPlan, model: CostModel
) -> dict[str, float]:
    """Per-locality and per-site costs, by kind (no feeder cable: that is in the segments)."""
    lm = model.last_mile
    costs = dict.fromkeys(
        (
            "fiber_households",
            "fiber_distribution",
            "fixed_wireless_sites",
            "fixed_wireless_cpe",
            "microwave_links",
            "microwave_relays",
            "satellite_terminals_and_service",
        ),
        0.0,
    )
    for item in items:
        if not item.served:
            continue
        households = item.costs.households
        if item.technology == "fiber":
            costs["fiber_households"] += households * lm.fiber.usd_per_household
            costs["fiber_distribution"] += distribution_km(item.population) * lm.fiber.usd_per_km
        elif item.technology == "fixed_wireless":
            costs["fixed_wireless_cpe"] += households * lm.fixed_wireless.usd_per_subscriber
        else:
            costs["satellite_terminals_and_service"] += households * (
                lm.satellite.usd_per_terminal + lm.satellite.usd_per_year * lm.horizon.years
            )
    for site in wireless.sites:
        costs["fixed_wireless_sites"] += (
            lm.fixed_wireless.usd_per_site + (site.radios - 1) * lm.radio.usd_per_extra_radio
        )
        costs["microwave_links"] += len(site.hops) * lm.microwave.usd_per_link
        costs["microwave_relays"] += len(site.hops) * lm.microwave.usd_per_relay
    return {key: value for key, value in costs.items() if value > 0}


def _split(items: Iterable[_Locality]) -> dict[str, dict[str, int]]:
    split = {t: {"localities": 0, "people": 0} for t in TECHNOLOGIES}
    for item in items:
        if item.served and item.technology is not None:
            split[item.technology]["localities"] += 1
            split[item.technology]["people"] += item.people
    return split


def _wireless_note(plan: WirelessPlan, model: CostModel) -> str:
    radio = model.last_mile.radio
    solution = plan.solution
    served = int((plan.site_of >= 0).sum())
    if not plan.sites:
        return (
            f"no wireless site pays: {plan.pairs} clear site-locality paths among "
            f"{plan.candidates} candidates"
        )
    gap = "proven optimal" if solution.gap == 0 else f"optimality gap {solution.gap:.2%}"
    microwave = sum(1 for s in plan.sites if s.backhaul == "microwave")
    return (
        f"fixed wireless: {len(plan.sites)} shared sites serve {served} localities "
        f"({microwave} fed by microwave, {len(plan.sites) - microwave} by fiber); coverage "
        f"by {radio.method} (k = {radio.k_factor:.3g}, {radio.fresnel_clearance:.0%} of the "
        f"first Fresnel zone at {radio.frequency_ghz:g} GHz, mast {radio.mast_height_m:g} m, "
        f"subscriber antenna {radio.cpe_height_m:g} m, "
        f"{model.last_mile.fixed_wireless.max_range_km:g} km) over {plan.grid_source}; "
        f"sites chosen by {solution.method} ({solution.status}, {gap})"
    )


def _wireless_parameters(plan: WirelessPlan, model: CostModel, budgeted: bool) -> dict[str, Any]:
    lm = model.last_mile
    solution = plan.solution
    return {
        "coverage_method": lm.radio.method,
        "radio": lm.radio.model_dump(),
        "microwave": lm.microwave.model_dump(),
        "max_range_km": lm.fixed_wireless.max_range_km,
        "elevation": plan.grid_source,
        "candidates": plan.candidates,
        "clear_pairs": plan.pairs,
        "sites": len(plan.sites),
        "wireless_localities": int((plan.site_of >= 0).sum()),
        "selection_method": solution.method,
        "selection_status": solution.status,
        "objective": "most people within the budget" if budgeted else "least cost",
        "optimality_gap": None if math.isnan(solution.gap) else round(solution.gap, 6),
        "bound": None if math.isnan(solution.bound) else round(solution.bound, 2),
    }


def _site_record(site: WirelessSite, items: Sequence[_Locality]) -> dict[str, Any]:
    return {
        "site_id": site.site_id,
        "lon": site.lon,
        "lat": site.lat,
        "ground_m": round(site.ground_m, 1),
        "mast_height_m": site.mast_height_m,
        "backhaul": site.backhaul,
        "backhaul_usd": round(site.backhaul_usd, 2),
        "radios": site.radios,
        "people_covered": site.people_covered,
        "cost_usd": round(site.cost_usd, 2),
        "localities": [items[k].place.name for k in site.localities],
        "microwave_hops": len(site.hops),
    }


def _markers(items: Sequence[_Locality], plan: WirelessPlan) -> list[Marker]:
    """One point per wireless site and served locality, one line per microwave hop.

    A site's ``cost_usd`` is its mast, radios and backhaul (fiber feeder or microwave
    hops); a hop's is its link and the mast at its far end.
    """
    markers: list[Marker] = []
    for site in plan.sites:
        markers.append(
            Marker(
                geometry=shapely.Point(site.lon, site.lat),
                role="wireless_site",
                properties={
                    "site_id": site.site_id,
                    "mast_height_m": site.mast_height_m,
                    "backhaul": site.backhaul,
                    "people_covered": site.people_covered,
                    "cost_usd": round(site.cost_usd, 2),
                    "radios": site.radios,
                    "localities": len(site.localities),
                },
            )
        )
        for hop_index, hop in enumerate(site.hops):
            markers.append(
                Marker(
                    geometry=shapely.LineString([hop["from"], hop["to"]]),
                    role="microwave_link",
                    properties={
                        "site_id": site.site_id,
                        "hop": hop_index + 1,
                        "km": round(hop["km"], 3),
                        "cost_usd": round(hop["cost_usd"], 2),
                        "to_backbone": hop["to_backbone"],
                    },
                )
            )
    for item in items:
        if not item.served:
            continue
        markers.append(
            Marker(
                geometry=shapely.Point(item.place.lon, item.place.lat),
                role="locality",
                properties={
                    "cvegeo": item.place.attributes.get("cvegeo"),
                    "name": item.place.name,
                    "technology": item.technology,
                    "site_id": None if item.site is None else plan.sites[item.site].site_id,
                    "people_unserved": item.people,
                    "demand_method": item.method,
                    "coverage": item.coverage,
                    "cost_usd": round(item.added_usd, 2),
                },
            )
        )
    return markers


def _inside_coverage(
    demand: pd.DataFrame, coverage: gpd.GeoDataFrame | None, counted: Sequence[str]
) -> npt.NDArray[np.bool_] | None:
    """Which localities lie inside a coverage polygon of a counted technology."""
    if coverage is None or coverage.empty:
        return None
    wanted = {t.lower() for t in counted}
    technology = coverage["technology"].astype(str).str.lower()
    polygons = coverage[technology.isin(wanted)]
    if coverage.crs is not None and not coverage.crs.equals(GRAPH_CRS):
        polygons = polygons.to_crs(GRAPH_CRS)
    if polygons.empty:
        return np.zeros(len(demand), dtype=bool)
    tree = shapely.STRtree(np.asarray(polygons.geometry.values, dtype=object))
    points = np.asarray(demand.geometry.values, dtype=object)
    hits, _ = tree.query(points, predicate="intersects")
    inside = np.zeros(len(demand), dtype=bool)
    inside[np.unique(hits)] = True
    return inside


def _coverage_note(
    demand: pd.DataFrame, counted: Sequence[str], state_coverage: pd.DataFrame | None
) -> str:
    column = demand["coverage"]
    polygons = int((column == "inside a coverage polygon").sum())
    shared = int(column.astype(str).str.startswith("state mobile").sum())
    parts = [
        f"existing coverage: {polygons} localities inside coverage polygons of "
        f"{', '.join(counted)} count as served"
    ]
    if state_coverage is not None:
        source = (
            str(state_coverage["source"].iloc[0])
            if "source" in state_coverage.columns and len(state_coverage)
            else "state coverage table"
        )
        parts.append(
            f"{shared} localities keep only the people outside their state's mobile coverage "
            f"share ({source})"
        )
    return "; ".join(parts)


def _demand_note(counts: dict[str, int], within_km: float) -> str:
    parts = [f"{n} by {method}" for method, n in counts.items() if n]
    text = "demand: " + (", ".join(parts) if parts else "no locality above the threshold")
    if counts.get("distance to corridor"):
        text += f" (within {within_km:g} km of fiber counts as served)"
    return text


def _backbone_note(given: bool, count: int) -> str:
    if given:
        return f"backbone: the {count} nodes given"
    return f"backbone: existing fiber in the network ({count} nodes)"


def _split_note(split: dict[str, dict[str, int]]) -> str:
    labels = {"fiber": "fiber", "fixed_wireless": "fixed wireless", "satellite": "satellite"}
    parts = [
        f"{labels[t]} {v['localities']} localities ({v['people']:,} people)"
        for t, v in split.items()
    ]
    return "technology: " + "; ".join(parts)


def _tree_note(info: dict[str, Any], count: int) -> str:
    if not count:
        return "no locality is fed by fiber, so there is no feeder tree"
    saved = info["separate_usd"] - info["cost_usd"]
    return (
        f"shared-trench tree ({info['method']}) to {count} fiber localities: USD "
        f"{info['cost_usd']:,.0f} against USD {info['separate_usd']:,.0f} for separate "
        f"feeders (saves USD {saved:,.0f})"
    )


def _texts(frame: pd.DataFrame, column: str, rows: npt.NDArray[np.int64]) -> list[str | None]:
    """``column`` of the frame's ``rows`` as text (None where missing or the frame has no
    such column)."""
    if column not in frame.columns:
        return [None] * len(rows)
    return [
        None if value is None or pd.isna(value) else str(value)
        for value in frame[column].to_numpy()[rows]
    ]


def _places(
    demand: pd.DataFrame,
    rows: npt.NDArray[np.int64],
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
) -> list[Place]:
    """The localities at ``rows`` of ``demand`` as places at (``lon``, ``lat``)."""
    names = _texts(demand, "name", rows)
    states = _texts(demand, "state", rows)
    keys = {
        column: _texts(demand, column, rows) for column in ("cvegeo", "municipality", "cve_mun")
    }
    population = demand["population"].to_numpy()[rows]
    return [
        Place(
            name=names[k] or f"{lon[k]:.5f},{lat[k]:.5f}",
            lon=float(lon[k]),
            lat=float(lat[k]),
            kind="locality",
            population=int(population[k]),
            state=states[k],
            attributes={column: v for column, values in keys.items() if (v := values[k])},
        )
        for k in range(len(rows))
    ]


def _record(item: _Locality, sites: Sequence[WirelessSite], model: CostModel) -> dict[str, Any]:
    chosen = item.added_usd
    feeder = item.costs.feeder_usd
    return {
        "name": item.place.name,
        "cvegeo": item.place.attributes.get("cvegeo"),
        "lon": item.place.lon,
        "lat": item.place.lat,
        "population": item.population,
        "people_unserved": item.people,
        "households": item.costs.households,
        "demand_method": item.method,
        "coverage": item.coverage,
        "served": item.served,
        "technology": item.technology if item.served else None,
        "cost_usd": round(chosen, 2) if item.served else None,
        "usd_per_person": round(chosen / item.people, 2) if item.served else None,
        "site_id": None if item.site is None else sites[item.site].site_id,
        "radio_margin_m": None if math.isnan(item.margin_m) else round(item.margin_m, 1),
        "options_usd": {
            "fiber": None if item.costs.fiber is None else round(item.costs.fiber, 2),
            "fixed_wireless_cpe": round(
                item.costs.households * model.last_mile.fixed_wireless.usd_per_subscriber,
                2,
            ),
            "satellite": round(item.costs.satellite, 2),
        },
        "feeder_usd": None if feeder is None else round(feeder, 2),
        "backbone_km": round(item.backbone_km, 3),
    }


def _terminal(item: _Locality) -> Place:
    attributes = dict(item.place.attributes)
    attributes.update(technology=item.technology, people_unserved=item.people)
    return Place(
        name=item.place.name,
        lon=item.place.lon,
        lat=item.place.lat,
        kind="locality",
        population=item.population,
        state=item.place.state,
        attributes=attributes,
    )
