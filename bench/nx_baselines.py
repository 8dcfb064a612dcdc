"""networkx baselines of the planner's compiled searches.

Each function answers the same question as a search of :mod:`planner.search.shortest_paths`
or :mod:`planner.search.route_search` with networkx's own algorithms. The benchmarks time
the compiled searches against them (``bench/routing.py``) and the tests check the compiled
searches' answers against them on random graphs (``tests/planner/nx_reference.py``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from itertools import pairwise
from unittest import mock

import networkx as nx
import numpy as np

from planner.search import route_search
from planner.search.route_search import diverse_pair
from planner.search.shortest_paths import BoolArray, FloatArray, IntArray


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
