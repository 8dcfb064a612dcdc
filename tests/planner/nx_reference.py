"""networkx reference models of the planner's compiled searches, for the tests only.

Each function answers the same question as a search of :mod:`planner.search.shortest_paths`,
:mod:`planner.search.route_search` or :mod:`planner.search.steiner` with networkx's own
algorithms, so a test can check the compiled search against it on random graphs. The
ones the benchmarks time as their baselines too live in ``bench/nx_baselines.py`` (a
benchmark does not import the tests) and are imported from there.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from bench.nx_baselines import (
    networkx_arc_search,
    nx_arc_search,
    nx_diverse_pair,
    nx_nearest_sources,
    nx_shortest_path,
)
from layers.errors import NoRouteError, PlaceNotFoundError
from planner.search.route_search import Route, route_from_nodes
from planner.search.steiner import _as_graph

__all__ = [
    "networkx_arc_search",
    "nx_arc_search",
    "nx_diverse_pair",
    "nx_k_alternatives",
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


def nx_two_edge_connect(
    matrix: Any, tree_edges: np.ndarray | Iterable[tuple[int, int]]
) -> np.ndarray:
    """Reference for :func:`~planner.search.steiner.two_edge_connect`: the same closing
    steps, finding the subgraph's bridges with networkx's chain decomposition each time.

    It was the planner's own code until the bridges were found by a compiled search; the
    scenario benchmark (``bench/ring.py --rnei``) times the two on the national backbone.
    """
    from scipy.sparse.csgraph import dijkstra

    g = _as_graph(matrix)
    rows = np.repeat(np.arange(g.n, dtype=np.int64), np.diff(g.indptr))
    pairs = np.asarray(tree_edges, dtype=np.int64).reshape(-1, 2)

    def arc(x: int, y: int) -> int:
        lo, hi = g.indptr[x], g.indptr[x + 1]
        hit = np.flatnonzero(g.indices[lo:hi] == y)
        if hit.size == 0:
            raise ValueError(f"backbone edge ({x}, {y}) is not an edge of the graph")
        return int(lo + hit[0])

    sub = nx.Graph()
    free = np.zeros(g.weights.size, np.bool_)
    for x, y in pairs.tolist():
        if x != y:
            sub.add_edge(x, y)
            free[arc(x, y)] = free[arc(y, x)] = True
    stuck: set[tuple[int, int]] = set()
    while True:
        bridges = [(min(b), max(b)) for b in nx.bridges(sub)]
        bridges = [b for b in bridges if b not in stuck]
        if not bridges:
            break
        bridges.sort(key=lambda b: (min(sub.degree[b[0]], sub.degree[b[1]]) != 1, b))
        u, v = bridges[0]
        sub.remove_edge(u, v)
        side = nx.node_connected_component(sub, u)
        if 2 * len(side) > sub.number_of_nodes():
            side = nx.node_connected_component(sub, v)
        sub.add_edge(u, v)
        keep = np.ones(g.weights.size, np.bool_)
        keep[[arc(u, v), arc(v, u)]] = False
        weights = np.where(free, 0.0, g.weights)[keep]
        graph = sp.csr_array((weights, (rows[keep], g.indices[keep])), shape=(g.n, g.n))
        sources = np.fromiter(side, dtype=np.int64)
        dist, pred, _ = dijkstra(graph, indices=sources, min_only=True, return_predecessors=True)
        others = np.fromiter((x for x in sub.nodes if x not in side), dtype=np.int64)
        target = int(others[np.argmin(dist[others])])
        if not np.isfinite(dist[target]):
            stuck.add((u, v))
            continue
        x = target
        while x not in side:
            p = int(pred[x])
            if not sub.has_edge(x, p):
                sub.add_edge(x, p)
                free[arc(x, p)] = free[arc(p, x)] = True
            x = p
    out = np.array(sorted((min(e), max(e)) for e in sub.edges), dtype=np.int64)
    return out.reshape(-1, 2)


def nx_longest_shortest_path(graph: nx.Graph, ends: Sequence[Hashable]) -> float | None:
    """Reference for :func:`planner.proposals.metrics._longest_shortest_path`: one networkx
    Dijkstra per terminal (``km`` weights), the longest distance to another terminal."""
    targets = set(ends)
    best: float | None = None
    for source in ends:
        lengths = nx.single_source_dijkstra_path_length(graph, source, weight="km")
        reached = [km for node, km in lengths.items() if node in targets and node != source]
        if reached:
            best = max(reached) if best is None else max(best, max(reached))
    return None if best is None else float(best)
