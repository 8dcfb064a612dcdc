"""Alternative routes a planner can compare: cheap, but really different from each other.

Yen's k shortest loopless paths (:func:`planner.search.route_search.k_alternatives`) are, on a real
corridor network, the same route with a detour of a few hundred metres at one junction
(Villahermosa → Cancún: the 30 cheapest share 82-100% of their length). A planner wants
routes along other corridors. This module uses the penalty method: after each route is
found, the cost of its edges is raised by ``penalty`` and the search is repeated; a route
is kept when it shares at most ``max_overlap`` of its length with every route kept before.
Kept routes are priced at their true cost and returned cheapest first.
"""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx

from planner.search.route_search import Route, route_from_edges, shortest_route

PENALTY_WEIGHT = "_alternative_weight"


def distinct_alternatives(
    graph: nx.MultiGraph,
    source: Hashable,
    target: Hashable,
    k: int,
    weight: str,
    *,
    primary: Route | None = None,
    max_overlap: float = 0.6,
    penalty: float = 0.5,
    max_searches: int | None = None,
) -> list[Route]:
    """Up to ``k`` routes other than the cheapest, each sharing at most ``max_overlap``.

    Parameters
    ----------
    graph
        The corridor graph (left unchanged).
    source, target
        Route ends.
    k
        How many alternatives to find.
    weight
        Edge attribute to minimise.
    primary
        The cheapest route, when already known.
    max_overlap
        Largest share of an alternative's length that may lie on a route kept before it.
    penalty
        Each time a route uses an edge, that edge costs ``1 + penalty`` times more in the
        following searches.
    max_searches
        Searches to try before giving up (default ``10 * k``).

    Returns
    -------
    list of Route
        Cheapest first; fewer than ``k`` when the network offers no more distinct routes.
    """
    if not 0 <= max_overlap <= 1:
        raise ValueError("max_overlap must be between 0 and 1")
    best = primary or shortest_route(graph, source, target, weight)
    kept = [best]
    own = getattr(graph, "own_edge_data", None)
    if own is not None:
        own()  # a planning overlay: the penalties go on this request's own attribute dicts
    for _, _, data in graph.edges(data=True):
        data[PENALTY_WEIGHT] = data[weight]
    try:
        _penalise(graph, best, penalty)
        for _ in range(max_searches or 10 * k):
            if len(kept) > k:
                break
            found = shortest_route(graph, source, target, PENALTY_WEIGHT)
            _penalise(graph, found, penalty)
            if all(overlap_share(graph, found, other) <= max_overlap for other in kept):
                kept.append(route_from_edges(graph, found.edges, weight, source))
    finally:
        for _, _, data in graph.edges(data=True):
            data.pop(PENALTY_WEIGHT, None)
    return sorted(kept[1:], key=lambda route: route.cost)


def overlap_share(graph: nx.MultiGraph, route: Route, other: Route) -> float:
    """Share of ``route``'s length on links (node pairs) that ``other`` also uses."""
    links = {frozenset((u, v)) for u, v, _ in other.edges}
    shared = sum(
        graph.edges[u, v, key]["length_km"]
        for u, v, key in route.edges
        if frozenset((u, v)) in links
    )
    return shared / route.length_km if route.length_km > 0 else 1.0


def _penalise(graph: nx.MultiGraph, route: Route, penalty: float) -> None:
    for u, v, key in route.edges:
        graph.edges[u, v, key][PENALTY_WEIGHT] *= 1.0 + penalty
