"""Last-mile proposals: connect the unserved localities of an area, each by its cheapest means.

How a plan is made (:func:`plan_last_mile`):

1. **Backbone.** The nodes given (e.g. those of a backbone proposal), or else every node on
   existing fiber in the network (leasable fiber, or a ``fiber_routes`` edge not marked
   planned).
2. **Demand.** Localities above ``min_population`` and their people without a connection,
   from the ``connected`` attribute, the 2020 census household internet share or the
   distance to fiber (:func:`planner.demand.estimate_demand`; the notes say which).
3. **Feeders.** The localities with people unserved are attached to the network; one
   multi-source Dijkstra from the backbone over ``cost_usd`` gives each its cheapest feeder.
4. **Technology per locality** (households = people unserved / persons per household,
   rounded up; all prices from the cost model's ``last_mile`` section):

   - *fiber*: feeder + households x ``usd_per_household`` + in-town distribution cable
     (``usd_per_km`` x street km, see :func:`distribution_km`);
   - *fixed wireless*: only within ``max_range_km`` of the backbone or of a fiber-fed
     locality, whose backhaul feeds the site: ceil(people / ``persons_per_site``) sites x
     ``usd_per_site`` + subscribers x ``usd_per_subscriber``;
   - *satellite*: households x (``usd_per_terminal`` + ``usd_per_year`` x horizon years).

   Localities are served cheapest per person first, each by its cheapest technology at
   that moment. Once a locality is fed by fiber, its feeder joins the tree: the next
   locality's feeder is priced from the backbone *or the tree*, so two towns down the same
   road pay for the road once, and the fed town can be the wireless site of the towns in
   range. A locality's standalone costs (feeder from the backbone, not shared) are kept
   in its record for comparison.
5. **Shared trench.** The fiber-fed localities are joined to the backbone by the cheapest
   of three trees: the one grown in step 4, a Steiner tree over them and a virtual
   terminal joined to every backbone node at no cost (the backbone contracted to one
   terminal), and the shortest-path forest of step 3 (an upper bound of the Steiner
   tree's optimum).
6. **Budget** (optional): the same order, skipping localities whose cost no longer fits
   what is left. A locality is charged its feeder from the tree as it was when chosen and
   the final tree is never dearer than that, so the capex never exceeds the budget.

Money appears once: the tree's segments carry the feeder cable (role ``"last-mile"``, with
their corridor's deployment type), and everything per locality is a node cost
(``fiber_households``, ``fiber_distribution``, ``fixed_wireless_sites``,
``fixed_wireless_cpe``, ``satellite_terminals_and_service``). Wireless and satellite
localities have no segment (a radio link or a satellite is not a line to build); they are
listed with every locality in ``proposal.parameters["localities"]``.

Feeders keep the network's flat greenfield estimate (no terrain re-routing), so the choice
of technology, the tree and the budget are all priced by the same numbers. Feeders are
short unamplified spans, so no in-line amplifier sites are added.
"""

from __future__ import annotations

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
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from layers.errors import TrazoError
from planner.assemble import make_proposal
from planner.cost_model import CostModel
from planner.demand import (
    DEFAULT_CONNECTED_WITHIN_KM,
    demand_method_counts,
    estimate_demand,
    households_for,
    load_household_internet,
    require_localities,
)
from planner.engine import CSRGraph, NearestSources, csr_of, nearest_sources
from planner.graph import GRAPH_CRS, to_analysis_crs
from planner.network import PlanningNetwork, attach_places
from planner.places import Place
from planner.proposal import Proposal
from planner.realize import EdgeKey, segments_from_edges
from planner.steiner import steiner_tree_csr

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


class NoBackboneError(TrazoError):
    """There is no backbone to connect the localities to."""

    code = "no_backbone"


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
    backbone_km: float
    costs: TechnologyCosts
    technology: str | None = None
    added_usd: float = math.nan
    fed_by: int | None = None  # position of the fiber locality feeding a wireless site
    served: bool = False
    wireless_in_range: bool = False


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
        :func:`planner.demand.localities_in_area`): points with ``name``, ``population``
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
        The census table of :func:`planner.demand.load_household_internet`; default the
        bundled one. Pass an empty frame to use only the other demand methods.
    connected_within_km
        Distance rule of the demand estimate (see :func:`planner.demand.estimate_demand`).
    name
        Proposal name; default ``last-mile-<area_name>``.

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
    started = time.perf_counter()
    if budget_usd is not None and not budget_usd >= 0:
        raise ValueError("budget_usd must be an amount >= 0")
    if min_population < 0:
        raise ValueError("min_population must be 0 or more")
    require_localities(localities, area_name=area_name, min_population=min_population)
    network = network.copy()
    graph = network.graph
    model = network.cost_model
    if localities.crs is not None and not localities.crs.equals(GRAPH_CRS):
        localities = localities.to_crs(GRAPH_CRS)
    localities = localities[
        localities.geometry.notna() & ~localities.geometry.is_empty
    ].reset_index(drop=True)

    given = backbone_nodes is not None
    backbone = _initial_backbone(graph, backbone_nodes)
    lines, points = _backbone_shapes(graph, backbone)
    anchor = shapely.point_on_surface(np.asarray(localities.geometry.values, dtype=object))
    lon, lat = shapely.get_x(anchor), shapely.get_y(anchor)
    backbone_km = _distance_km(lon, lat, lines + points)

    if household_internet is None:
        household_internet = load_household_internet()
    demand = estimate_demand(
        localities,
        min_population=min_population,
        household_internet=household_internet,
        backbone_distance_km=backbone_km,
        connected_within_km=connected_within_km,
    )
    method_counts = demand_method_counts(demand)
    positions = demand.index.to_numpy()
    wanted = np.flatnonzero(demand["people_unserved"].to_numpy() > 0)
    notes = [_demand_note(method_counts, connected_within_km)]
    already = len(demand) - wanted.size
    if already:
        notes.append(f"{already} localities have nobody left to connect")

    places = [_place(demand, int(i), lon[positions[i]], lat[positions[i]]) for i in wanted]
    before = set(graph.nodes)
    nodes = attach_places(network, places) if places else []
    backbone = _backbone_after_attach(graph, backbone, before, given)
    csr = csr_of(graph, WEIGHT)
    backbone_rows = np.array(sorted(csr.row(b) for b in backbone), dtype=np.int64)
    reach = nearest_sources(csr, [csr.nodes[r] for r in backbone_rows])

    items: list[_Locality] = []
    for k, i in enumerate(wanted):
        row = csr.row(nodes[k])
        feeder = float(reach.distance[row])
        people = int(demand["people_unserved"].iloc[i])
        population = int(demand["population"].iloc[i])
        items.append(
            _Locality(
                row=row,
                place=places[k],
                node=nodes[k],
                population=population,
                people=people,
                method=str(demand["demand_method"].iloc[i]),
                backbone_km=float(backbone_km[positions[i]]),
                costs=technology_costs(
                    model, people, population, feeder if math.isfinite(feeder) else None
                ),
            )
        )
    neighbours = _neighbours(items, model.last_mile.fixed_wireless.max_range_km)
    budget = math.inf if budget_usd is None else float(budget_usd)
    grown_edges, grown_cost = _select(items, neighbours, csr, reach, model, budget)
    fiber_rows = [item.row for item in items if item.served and item.technology == "fiber"]
    tree_edges, tree_info = _shared_tree(
        csr, reach, backbone_rows, fiber_rows, grown_edges, grown_cost
    )

    ordered = _ordered_edges(csr, tree_edges, backbone)
    segments = segments_from_edges(
        network, ordered, role=ROLE, notes=notes, min_terrain_km=math.inf
    )
    costs = _node_costs(items, model)
    capex = sum(s.cost_usd for s in segments) + sum(costs.values())
    if budget_usd is not None and capex > budget_usd * (1 + 1e-9) + 1e-6:
        raise AssertionError(f"last-mile capex {capex:.2f} exceeds the budget {budget_usd:.2f}")

    served = [item for item in items if item.served]
    people_covered = sum(item.people for item in served)
    split = _split(items)
    notes.append(_backbone_note(given, len(backbone)))
    notes.append(_split_note(split))
    notes.append(_tree_note(tree_info, len(fiber_rows)))
    if any(s.deployment_type == "greenfield" for s in segments):
        notes.append(
            "greenfield feeders are priced at the flat rate as straight lines (no terrain "
            "re-routing), so technology choice, tree and budget use the same prices"
        )
    demand_people = sum(item.people for item in items)
    if budget_usd is not None:
        notes.append(
            f"budget USD {budget_usd:,.0f}: {len(served)} of {len(items)} localities, "
            f"{people_covered:,} of {demand_people:,} people unserved, capex USD {capex:,.0f}"
        )
    elapsed = time.perf_counter() - started
    logger.info(
        "last mile %s: %d localities, %d people, capex %.0f USD in %.1f s",
        area_name,
        len(served),
        people_covered,
        capex,
        elapsed,
    )
    parameters: dict[str, Any] = {
        "area": area_name,
        "min_population": min_population,
        "budget_usd": budget_usd,
        "backbone": "given nodes" if given else "existing fiber",
        "backbone_nodes": len(backbone),
        "connected_within_km": connected_within_km,
        "demand_methods": method_counts,
        "localities_considered": len(demand),
        "localities_with_demand": len(items),
        "localities_served": len(served),
        "people_unserved_total": demand_people,
        "technology_split": split,
        "tree": tree_info,
        "town_people_per_km2": TOWN_PEOPLE_PER_KM2,
        "street_km_per_km2": STREET_KM_PER_KM2,
        "weight": WEIGHT,
        "localities": [_record(item, items) for item in items],
    }
    return make_proposal(
        network,
        "last_mile",
        name or f"last-mile-{area_name}",
        segments,
        [_terminal(item) for item in served],
        parameters=parameters,
        node_costs_usd=costs,
        notes=notes,
        people_covered=people_covered,
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
    >>> from planner.cost_model import load_cost_model
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
    nodes: set[Hashable] = set()
    for u, v, data in graph.edges(data=True):
        if _is_existing_fiber(data):
            nodes.update((u, v))
    if not nodes:
        raise NoBackboneError(
            "the network has no existing fiber to connect localities to: load a fiber_routes "
            "layer, or plan a backbone first and pass its nodes as backbone_nodes"
        )
    return nodes


def _backbone_shapes(graph: nx.MultiGraph, backbone: set[Hashable]) -> tuple[list[Any], list[Any]]:
    """The backbone's lines (edges between backbone nodes that are not drops) and points."""
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


def _neighbours(items: Sequence[_Locality], range_km: float) -> list[list[int]]:
    """For each locality, the others within ``range_km`` (EPSG:6372 distance)."""
    if not items:
        return []
    transformer = to_analysis_crs()
    x, y = transformer.transform(
        np.array([i.place.lon for i in items]), np.array([i.place.lat for i in items])
    )
    tree = cKDTree(np.column_stack([x, y]))
    found = tree.query_ball_point(np.column_stack([x, y]), r=range_km * 1000.0)
    return [[j for j in near if j != k] for k, near in enumerate(found)]


def _select(
    items: list[_Locality],
    neighbours: Sequence[Sequence[int]],
    csr: CSRGraph,
    reach: NearestSources,
    model: CostModel,
    budget: float,
) -> tuple[set[int], float]:
    """Serve localities cheapest per person first, each by its cheapest means at that moment.

    A locality's fiber feeder is priced from the backbone *or the tree built so far*, so a
    town down the road from one already fed pays only for the rest of the way; a fiber-fed
    town becomes a possible wireless site for the towns in range. Localities whose cost no
    longer fits the budget are skipped. Returns the tree's edges (positions in
    ``csr.edges``) and its cost, the sum of the feeders as they were added.
    """
    n = len(items)
    if n == 0:
        return set(), 0.0
    range_km = model.last_mile.fixed_wireless.max_range_km
    rows = np.array([item.row for item in items], dtype=np.int64)
    people = np.array([item.people for item in items], dtype=np.float64)
    access = np.array(
        [
            item.costs.fiber - item.costs.feeder_usd
            if item.costs.fiber is not None and item.costs.feeder_usd is not None
            else math.inf
            for item in items
        ]
    )
    wireless = np.array([item.costs.fixed_wireless or 0.0 for item in items])
    satellite = np.array([item.costs.satellite for item in items])
    in_range = np.array([item.backbone_km <= range_km for item in items])
    fed_by = np.full(n, -1, dtype=np.int64)
    served = np.zeros(n, dtype=bool)
    distance = reach.distance.copy()
    predecessor = reach.predecessor.copy()
    edges: set[int] = set()
    tree_cost = 0.0
    remaining = budget
    while True:
        feeder = distance[rows]
        options = np.column_stack(
            [feeder + access, np.where(in_range, wireless, math.inf), satellite]
        )
        choice = np.argmin(options, axis=1)  # ties go to the first: fiber, wireless, satellite
        cost = options[np.arange(n), choice]
        fits = ~served & (cost <= remaining + _SLACK_USD)
        if not fits.any():
            break
        k = int(np.argmin(np.where(fits, cost / np.maximum(people, 1.0), math.inf)))
        item = items[k]
        item.technology = TECHNOLOGIES[int(choice[k])]
        item.added_usd = float(cost[k])
        item.served = served[k] = True
        remaining -= float(cost[k])
        if item.technology == "fixed_wireless":
            item.fed_by = None if item.backbone_km <= range_km else int(fed_by[k])
        if item.technology != "fiber":
            continue
        path_rows, path_edges = _path_to_tree(csr, predecessor, int(rows[k]))
        edges.update(path_edges)
        tree_cost += float(feeder[k])
        for j in neighbours[k]:
            if not in_range[j]:
                in_range[j] = True
                fed_by[j] = k
        if path_rows and not served.all():
            grown, grown_pred, _ = dijkstra(
                csr.matrix,
                directed=True,
                indices=np.asarray(path_rows, dtype=np.int64),
                min_only=True,
                return_predecessors=True,
            )
            better = grown < distance
            distance[better] = grown[better]
            predecessor[better] = grown_pred[better]
    for k, item in enumerate(items):
        item.wireless_in_range = bool(in_range[k])
    return edges, tree_cost


def _path_to_tree(
    csr: CSRGraph, predecessor: npt.NDArray[np.int64], row: int
) -> tuple[list[int], list[int]]:
    """Rows and edges from ``row`` back to the tree (the first row without a predecessor)."""
    path_rows = [row]
    path_edges: list[int] = []
    node = row
    while predecessor[node] >= 0:
        previous = int(predecessor[node])
        path_edges.append(int(csr.entry_edge[csr.entry(previous, node)]))
        path_rows.append(previous)
        node = previous
    return path_rows, path_edges


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
    grown: set[int],
    grown_cost: float,
) -> tuple[frozenset[int], dict[str, Any]]:
    """The cheapest tree joining ``rows`` to the backbone.

    Candidates: the tree grown while choosing (its cost is what the choice and the budget
    counted, so keeping the cheapest never breaks either), the Steiner tree over ``rows``
    and a virtual terminal standing for the whole backbone, and the shortest-path forest
    from the backbone.
    """
    if not rows:
        return frozenset(), {"method": "none", "cost_usd": 0.0, "separate_usd": 0.0}
    candidates = {
        "steiner": _steiner(csr, backbone_rows, rows),
        "grown": set(grown),
        "shortest-path forest": _forest(csr, reach.predecessor, rows),
    }
    weights = _edge_weights(csr)
    costs = {name: float(sum(weights[e] for e in edges)) for name, edges in candidates.items()}
    order = list(candidates)
    best = min(order, key=lambda name: (costs[name], order.index(name)))
    if costs["grown"] > grown_cost * (1 + 1e-9) + _SLACK_USD:
        raise AssertionError("the grown tree costs more than the feeders counted for it")
    info = {
        "method": best,
        "cost_usd": costs[best],
        "separate_usd": float(sum(reach.distance[r] for r in set(rows))),
        "steiner_usd": costs["steiner"],
        "grown_usd": costs["grown"],
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


def _node_costs(items: Iterable[_Locality], model: CostModel) -> dict[str, float]:
    """Per-locality costs of the served localities, by kind (no feeder cable: that is in
    the segments)."""
    lm = model.last_mile
    costs = dict.fromkeys(
        (
            "fiber_households",
            "fiber_distribution",
            "fixed_wireless_sites",
            "fixed_wireless_cpe",
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
            costs["fixed_wireless_sites"] += item.costs.sites * lm.fixed_wireless.usd_per_site
            costs["fixed_wireless_cpe"] += households * lm.fixed_wireless.usd_per_subscriber
        else:
            costs["satellite_terminals_and_service"] += households * (
                lm.satellite.usd_per_terminal + lm.satellite.usd_per_year * lm.horizon.years
            )
    return {key: value for key, value in costs.items() if value > 0}


def _split(items: Iterable[_Locality]) -> dict[str, dict[str, int]]:
    split = {t: {"localities": 0, "people": 0} for t in TECHNOLOGIES}
    for item in items:
        if item.served and item.technology is not None:
            split[item.technology]["localities"] += 1
            split[item.technology]["people"] += item.people
    return split


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


def _place(demand: pd.DataFrame, i: int, lon: float, lat: float) -> Place:
    row = demand.iloc[i]

    def text(column: str) -> str | None:
        value = row.get(column) if column in demand.columns else None
        return None if value is None or pd.isna(value) else str(value)

    attributes = {k: v for k in ("cvegeo", "municipality", "cve_mun") if (v := text(k))}
    return Place(
        name=text("name") or f"{lon:.5f},{lat:.5f}",
        lon=float(lon),
        lat=float(lat),
        kind="locality",
        population=int(row["population"]),
        state=text("state"),
        attributes=attributes,
    )


def _record(item: _Locality, items: Sequence[_Locality]) -> dict[str, Any]:
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
        "served": item.served,
        "technology": item.technology if item.served else None,
        "cost_usd": round(chosen, 2) if item.served else None,
        "usd_per_person": round(chosen / item.people, 2) if item.served else None,
        "fed_by": (
            None
            if item.technology != "fixed_wireless"
            else ("backbone" if item.fed_by is None else items[item.fed_by].place.name)
        ),
        "options_usd": {
            "fiber": None if item.costs.fiber is None else round(item.costs.fiber, 2),
            "fixed_wireless": (
                round(item.costs.fixed_wireless, 2)
                if item.wireless_in_range and item.costs.fixed_wireless is not None
                else None
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
