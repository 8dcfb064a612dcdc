"""networkx baselines of the planner's compiled searches.

Each function answers the same question as a search of :mod:`planner.search.shortest_paths`,
:mod:`planner.search.route_search`, the ring closing of :mod:`planner.search.steiner` or a
ring's longest path (:mod:`planner.proposals.metrics`) with networkx's own algorithms. The
benchmarks time the compiled searches against them (``bench/routing.py``,
``bench/ring.py --rnei``) and the tests check the compiled searches' answers against them
on random graphs (``tests/planner/nx_reference.py``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import pairwise
from typing import Any
from unittest import mock

import networkx as nx
import numpy as np
import scipy.sparse as sp

from planner.search import route_search
from planner.search.route_search import diverse_pair
from planner.search.shortest_paths import BoolArray, FloatArray, IntArray
from planner.search.steiner import _as_graph


def nx_shortest_path(
    graph: nx.Graph, source: Hashable, target: Hashable, weight: str
) -> tuple[float, list[Hashable]]:
    """Reference for :func:`shortest_path`: networkx bidirectional Dijkstra."""
    cost, path = nx.bidirectional_dijkstra(graph, source, target, weight=weight)
    return float(cost), list(path)


def nx_nearest_sources(
    graph: nx.Graph, sources: Sequence[Hashable], weight: str
) -> dict[Hashable, tuple[float, Hashable, Hashable | None]]:
    """Reference for :func:`nearest_sources`: ``{node: (distance, source, predecessor)}``."""
    dist, paths = nx.multi_source_dijkstra(graph, set(sources), weight=weight)
    return {
        node: (float(d), paths[node][0], paths[node][-2] if len(paths[node]) > 1 else None)
        for node, d in dist.items()
    }


def nx_arc_search(
    n: int,
    tail: IntArray,
    head: IntArray,
    cost: FloatArray,
    source: int,
    target: int = -1,
    *,
    blocked: BoolArray | None = None,
) -> tuple[FloatArray, IntArray]:
    """Reference for :func:`~planner.search.shortest_paths.arc_search`: networkx Dijkstra."""
    blocked = np.zeros(tail.size, dtype=np.bool_) if blocked is None else np.asarray(blocked, bool)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    best: dict[tuple[int, int], int] = {}
    for a in np.flatnonzero(~blocked).tolist():
        pair = (int(tail[a]), int(head[a]))
        if pair not in best or cost[a] < cost[best[pair]]:
            best[pair] = a
    graph.add_edges_from((u, v, {"w": float(cost[a]), "arc": a}) for (u, v), a in best.items())
    dist = np.full(n, np.inf)
    pred_arc = np.full(n, -1, dtype=np.int64)
    if target >= 0:
        try:
            _, path = nx.bidirectional_dijkstra(graph, source, target, weight="w")
        except nx.NetworkXNoPath:
            return dist, pred_arc
        dist[source] = 0.0
        for u, v in pairwise(path):
            dist[v] = dist[u] + graph[u][v]["w"]
            pred_arc[v] = graph[u][v]["arc"]
        return dist, pred_arc
    preds, lengths = nx.dijkstra_predecessor_and_distance(graph, source, weight="w")
    for v, d in lengths.items():
        dist[v] = d
        if preds[v]:
            pred_arc[v] = graph[preds[v][0]][v]["arc"]
    return dist, pred_arc


@contextmanager
def networkx_arc_search() -> Iterator[None]:
    """Within this block, the route searches run their arc searches with :func:`nx_arc_search`."""
    with mock.patch.object(route_search, "arc_search", nx_arc_search):
        yield


def nx_diverse_pair(
    graph: nx.Graph,
    source: Hashable,
    target: Hashable,
    weight: str = "length_km",
    **options: object,
) -> route_search.DiversePair:
    """:func:`~planner.search.route_search.diverse_pair` with networkx's arc searches."""
    with networkx_arc_search():
        return diverse_pair(graph, source, target, **options)


def nx_two_edge_connect(
    matrix: Any, tree_edges: np.ndarray | Iterable[tuple[int, int]]
) -> np.ndarray:
    """Reference for :func:`~planner.search.steiner.two_edge_connect`: the same closing
    steps, finding the subgraph's bridges with networkx's chain decomposition each time.

    It was the planner's own code until the bridges were found by a compiled search; the
    benchmark ``bench/ring.py --rnei`` times the two on the national backbone.
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
