"""networkx reference models of the planner's compiled searches, for the tests only.

Each function answers the same question as a search of :mod:`planner.search.shortest_paths`,
:mod:`planner.search.route_search` or :mod:`planner.search.steiner` with networkx's own
algorithms, so a test can check the compiled search against it on random graphs. The
ones the benchmarks time as their baselines too live in ``bench/nx_baselines.py`` (a
benchmark does not import the tests) and are imported from there.
"""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx

from bench.nx_baselines import (
    networkx_arc_search,
    nx_arc_search,
    nx_diverse_pair,
    nx_longest_shortest_path,
    nx_nearest_sources,
    nx_shortest_path,
    nx_two_edge_connect,
)
from layers.errors import NoRouteError, PlaceNotFoundError
from planner.search.route_search import Route, route_from_nodes

__all__ = [
    "networkx_arc_search",
    "nx_arc_search",
    "nx_diverse_pair",
    "nx_k_alternatives",
    "nx_longest_shortest_path",
    "nx_nearest_sources",
    "nx_shortest_path",
    "nx_shortest_route",
    "nx_two_edge_connect",
]


def _simple(graph: nx.Graph, weight: str) -> nx.Graph:
    """A simple graph with the cheapest of each set of parallel edges."""
    if not graph.is_multigraph():
        return graph
    simple = nx.Graph()
    simple.add_nodes_from(graph.nodes)
    for u, v, d in graph.edges(data=True):
        if u == v:
            continue
        w = d[weight]
        if not simple.has_edge(u, v) or w < simple[u][v][weight]:
            simple.add_edge(u, v, **{weight: w})
    return simple


def _require_nodes(graph: nx.Graph, *nodes: Hashable) -> None:
    for node in nodes:
        if node not in graph:
            raise PlaceNotFoundError(f"node {node!r} is not in the graph")


def nx_shortest_route(graph: nx.Graph, source: Hashable, target: Hashable, weight: str) -> Route:
    """Reference for :func:`~planner.search.route_search.shortest_route`."""
    _require_nodes(graph, source, target)
    try:
        _, nodes = nx.bidirectional_dijkstra(graph, source, target, weight=weight)
    except nx.NetworkXNoPath:
        raise NoRouteError(f"no route from {source!r} to {target!r}") from None
    return route_from_nodes(graph, nodes, weight)


def nx_k_alternatives(
    graph: nx.Graph, source: Hashable, target: Hashable, k: int, weight: str
) -> list[Route]:
    """Reference for :func:`~planner.search.route_search.k_alternatives`: networkx's
    ``shortest_simple_paths`` on the graph with parallel edges collapsed to the cheapest."""
    _require_nodes(graph, source, target)
    out: list[Route] = []
    try:
        for nodes in nx.shortest_simple_paths(_simple(graph, weight), source, target, weight):
            out.append(route_from_nodes(graph, nodes, weight))
            if len(out) == k:
                break
    except nx.NetworkXNoPath:
        raise NoRouteError(f"no route from {source!r} to {target!r}") from None
    return out
