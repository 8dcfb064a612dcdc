"""A compiled search engine over a CSR snapshot of a networkx graph.

networkx is the model of the corridor graph; searches that must be fast run here, on a
:class:`CSRGraph` taken from it. Parallel edges collapse to the cheapest one (the map back
to its networkx key is kept), so every answer is an answer on the networkx graph with
networkx's own convention for multigraphs (the cheapest parallel edge counts).

Point-to-point search is a bidirectional Dijkstra with A*-style potentials: when nodes
carry ``x``/``y`` (lon/lat) the potential is ``alpha`` times the straight 3-D chord between
the nodes on a unit sphere, with ``alpha`` the smallest ratio of edge weight to chord over
the graph. That bound holds for any non-negative weight (length, cost), so the search stays
exact; when some edge costs nothing for its length the potential is zero and it is a plain
bidirectional Dijkstra. Multi-source (Voronoi) search runs on scipy's ``csgraph``.

The searches are plain Python functions here, compiled with numba by
:mod:`planner.search.kernels` when first needed. Importing numba and loading the compiled
kernels from its cache costs about half a second per process, a hundred times what one
point-to-point search on a national corridor network takes interpreted (a few
milliseconds at 17,000 CSR entries). So a process's first point-to-point search on a graph
of at most :data:`INTERPRETED_MAX_ENTRIES` entries runs the same code interpreted (a
command that plans one route never loads numba), and later searches load the kernels.
Both run the same operations in the same order on IEEE doubles, so the answer, ties
included, does not depend on which one ran.

The tests check every search against networkx (``tests/planner/nx_reference.py``).
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from planner.search import _plain_searches
from planner.search.csr_graph import BoolArray, CSRGraph, FloatArray, IntArray
from planner.search.snapshot_patch import LayeredSnapshot, layered_snapshot, patched_snapshot

Snapshot = CSRGraph | LayeredSnapshot
"""What a point-to-point search runs on (:func:`search_snapshot`)."""

STABLE_WEIGHTS = frozenset({"cost_usd", "length_km"})
"""Weights set when an edge is priced and never changed in place. Only these have their
snapshot kept between searches: a weight that a search rewrites as it goes (the penalties of
:func:`planner.search.alternatives.distinct_alternatives`) changes no node or edge, so the
graph's version would not tell that its snapshot is stale."""

_SNAPSHOTS: weakref.WeakKeyDictionary[nx.Graph, dict[str, tuple[int, CSRGraph]]] = (
    weakref.WeakKeyDictionary()
)
_SNAPSHOTS_GUARD = threading.Lock()


def csr_of(graph: nx.Graph, weight: str) -> CSRGraph:
    """The CSR snapshot of ``graph`` for ``weight``, taken once per version of the graph.

    A graph that counts its changes (:class:`planner.network.corridor_graph.CorridorGraph`,
    every planning network) keeps its snapshot of a weight in :data:`STABLE_WEIGHTS` until a
    node or edge is added or removed, so repeated searches on it, from any thread, do not
    rebuild it; any other weight is snapshot afresh. A network read from its table
    (:class:`planner.network.edge_table.TableGraph`) has its snapshot kept on disk with it.
    A graph with a ``base`` (a
    planning copy, :class:`planner.network.overlay.OverlayGraph`) has its snapshot patched
    from the base's (:mod:`planner.search.snapshot_patch`). Other graphs are snapshot afresh.
    """
    version = getattr(graph, "version", None)
    if version is None or weight not in STABLE_WEIGHTS:
        return CSRGraph.from_networkx(graph, weight)
    with _SNAPSHOTS_GUARD:
        held = _SNAPSHOTS.get(graph, {}).get(weight)
    if held is not None and held[0] == version:
        return held[1]
    csr = None
    kept = getattr(graph, "snapshot", None)
    if callable(kept):
        # a network read from its table (planner.network.edge_table): kept with it on disk
        csr = kept(weight)
    base = getattr(graph, "base", None)
    if csr is None and base is not None:
        # a planning copy (planner.network.overlay): patch the shared network's snapshot
        csr = patched_snapshot(csr_of(base, weight), graph, graph.changed_nodes(), weight)
    if csr is None:
        csr = CSRGraph.from_networkx(graph, weight)
    with _SNAPSHOTS_GUARD:
        _SNAPSHOTS.setdefault(graph, {})[weight] = (version, csr)
    return csr


_LAYERED: weakref.WeakKeyDictionary[nx.Graph, dict[str, tuple[int, LayeredSnapshot]]] = (
    weakref.WeakKeyDictionary()
)


def search_snapshot(graph: nx.Graph, weight: str) -> Snapshot:
    """What a point-to-point search on ``graph`` runs on: :func:`csr_of`'s snapshot, or
    for a planning copy whose snapshot is not taken yet, the shared network's snapshot
    with the copy's changed rows beside it (:func:`.snapshot_patch.layered_snapshot`),
    made in time proportional to what the copy changed. Kept per version of the copy.
    """
    base = getattr(graph, "base", None)
    version = getattr(graph, "version", None)
    if base is None or version is None or weight not in STABLE_WEIGHTS:
        return csr_of(graph, weight)
    with _SNAPSHOTS_GUARD:
        whole = _SNAPSHOTS.get(graph, {}).get(weight)
        layered = _LAYERED.get(graph, {}).get(weight)
    if whole is not None and whole[0] == version:
        return whole[1]
    if layered is not None and layered[0] == version:
        return layered[1]
    found = layered_snapshot(csr_of(base, weight), graph, graph.changed_nodes(), weight)
    if found is None:
        return csr_of(graph, weight)
    with _SNAPSHOTS_GUARD:
        _LAYERED.setdefault(graph, {})[weight] = (version, found)
    return found


def search_arrays(csr: Snapshot) -> tuple[Any, ...]:
    """The arrays :func:`~planner.search._plain_searches.bidirectional` reads before ``s``
    and ``t`` (``indptr`` to ``over_data``), then after them (``xyz`` to ``alpha``)."""
    if isinstance(csr, LayeredSnapshot):
        base = csr.base
        return (
            base.indptr,
            base.indices,
            base.data,
            csr.over,
            csr.over_ptr,
            csr.over_indices,
            csr.over_data,
        ), (base.xyz, csr.extra_xyz, csr.alpha)
    return (
        csr.indptr,
        csr.indices,
        csr.data,
        _NO_ROWS,
        _NO_ROWS,
        _NO_ROWS,
        _NO_WEIGHTS,
    ), (csr.xyz, _NO_POSITIONS, csr.alpha)


_NO_ROWS = np.empty(0, dtype=np.int64)
_NO_WEIGHTS = np.empty(0, dtype=np.float64)
_NO_POSITIONS = np.empty((0, 3), dtype=np.float64)


def _entries(csr: Snapshot) -> int:
    return csr.entries if isinstance(csr, LayeredSnapshot) else int(csr.indices.size)


# ---------------------------------------------------------------------------- kernels


def astar(
    indptr: IntArray,
    indices: IntArray,
    data: FloatArray,
    s: int,
    t: int,
    h: FloatArray,
    node_blocked: BoolArray,
    entry_blocked: BoolArray,
) -> tuple[FloatArray, IntArray, IntArray]:
    """A* (Dijkstra when ``h`` is zero) over CSR rows from ``s``; stops at ``t`` unless ``t < 0``.

    Compiled :func:`planner.search._plain_searches.astar`: ``h`` is an admissible estimate of
    the distance to ``t`` per row (zeros for Dijkstra); returns distances, predecessor node
    and predecessor entry of every reached node.
    """
    from planner.search.kernels import astar as compiled

    return compiled(indptr, indices, data, s, t, h, node_blocked, entry_blocked)


INTERPRETED_MAX_ENTRIES = 100_000
"""CSR entries up to which a process's first point-to-point search runs interpreted. Worst
case (every entry relaxed) that is about 0.1 s, less than loading the compiled kernels."""

_first_search = [True]
"""Whether no point-to-point search has run in this process yet."""


def _point_to_point(csr: Snapshot) -> Any:
    """The bidirectional search to run on ``csr``: interpreted for a process's first search
    on a small graph, else compiled (see the module doc)."""
    first, _first_search[0] = _first_search[0], False
    if first and _entries(csr) <= INTERPRETED_MAX_ENTRIES:
        return _plain_searches.bidirectional
    from planner.search.kernels import bidirectional

    return bidirectional


# ---------------------------------------------------------------------------- engine API


def shortest_path_rows(
    csr: Snapshot,
    s: int,
    t: int,
    *,
    node_blocked: BoolArray | None = None,
    entry_blocked: BoolArray | None = None,
) -> tuple[float, IntArray]:
    """Least-weight path between rows ``s`` and ``t``; ``(inf, [])`` if none.

    ``node_blocked`` and ``entry_blocked`` (boolean, one per row / entry: a layered
    snapshot numbers its base's entries first, then its own) remove nodes and directed
    entries from the search.
    """
    if node_blocked is None:
        node_blocked = np.zeros(csr.n, dtype=np.bool_)
    if entry_blocked is None:
        entry_blocked = np.zeros(_entries(csr), dtype=np.bool_)
    graph, positions = search_arrays(csr)
    cost, path = _point_to_point(csr)(
        *graph, int(s), int(t), *positions, node_blocked, entry_blocked
    )
    return float(cost), path


def shortest_path(
    csr: Snapshot, source: Hashable, target: Hashable
) -> tuple[float, list[Hashable]]:
    """Least-weight path from ``source`` to ``target`` as ``(cost, node ids)``.

    Raises
    ------
    KeyError
        If an endpoint is not in the graph.
    networkx.NetworkXNoPath
        If no path joins them (the same exception networkx raises).
    """
    cost, path = shortest_path_rows(csr, csr.row(source), csr.row(target))
    if path.size == 0:
        raise nx.NetworkXNoPath(f"no path between {source!r} and {target!r}")
    return cost, [csr.nodes[i] for i in path]


def distances_from(csr: CSRGraph, source: Hashable) -> FloatArray:
    """Least weight from ``source`` to every row (``inf`` where unreachable)."""
    from scipy.sparse.csgraph import dijkstra

    out = dijkstra(csr.matrix, directed=True, indices=csr.row(source))
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class NearestSources:
    """For every row: distance to, row of, and predecessor toward its nearest source.

    ``source`` and ``predecessor`` are ``-9999`` where no source reaches the row.
    """

    distance: FloatArray
    source: IntArray
    predecessor: IntArray


def nearest_sources(csr: CSRGraph, sources: Iterable[Hashable]) -> NearestSources:
    """Multi-source Dijkstra (Voronoi cells): the nearest source of every node.

    Ties between equidistant sources are broken arbitrarily.
    """
    from scipy.sparse.csgraph import dijkstra

    rows = np.fromiter((csr.row(s) for s in sources), dtype=np.int64)
    if rows.size == 0:
        raise ValueError("nearest_sources needs at least one source")
    dist, pred, src = dijkstra(
        csr.matrix, directed=True, indices=rows, min_only=True, return_predecessors=True
    )
    return NearestSources(
        distance=np.asarray(dist, dtype=np.float64),
        source=np.asarray(src, dtype=np.int64),
        predecessor=np.asarray(pred, dtype=np.int64),
    )


# ---------------------------------------------------------------------------- arc graphs


@dataclass(frozen=True, eq=False)
class ArcGraph:
    """Every edge of an undirected (multi)graph as two arcs, parallel edges kept.

    Arc ``2i`` runs ``edges[i]`` from ``u`` to ``v``, arc ``2i + 1`` back. ``group`` is the
    risk group of each edge (``-1``: exempt, may be shared).
    """

    nodes: list[Hashable]
    index: dict[Hashable, int]
    edges: list[tuple[Hashable, Hashable, Any]]
    weight: FloatArray
    group: IntArray
    groups: list[Hashable]
    tail: IntArray
    head: IntArray

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @classmethod
    def from_networkx(cls, graph: nx.Graph, weight: str, risk: str = "corridor") -> ArcGraph:
        """Arcs of ``graph``; ``risk`` is ``"corridor"`` (group by the ``corridor``
        attribute) or ``"edge"`` (each edge its own group). Edges whose ``corridor`` is
        ``None`` (connectors) are exempt either way. Self-loops are left out."""
        nodes = list(graph.nodes)
        index = {v: i for i, v in enumerate(nodes)}
        edges: list[tuple[Hashable, Hashable, Any]] = []
        weights: list[float] = []
        group: list[int] = []
        group_ids: dict[Hashable, int] = {}
        multi = graph.is_multigraph()
        items = graph.edges(keys=True, data=True) if multi else graph.edges(data=True)
        for item in items:
            if multi:
                u, v, key, data = item
            else:
                (u, v, data), key = item, None
            if u == v:
                continue
            w = data.get(weight)
            if w is None or not math.isfinite(w) or w < 0:
                raise ValueError(f"edge ({u!r}, {v!r}) needs a finite non-negative {weight!r}")
            corridor = data.get("corridor")
            if corridor is None:
                group.append(-1)
            else:
                label = corridor if risk == "corridor" else (u, v, key)
                group.append(group_ids.setdefault(label, len(group_ids)))
            edges.append((u, v, key))
            weights.append(float(w))
        m = len(edges)
        u_idx = np.fromiter((index[e[0]] for e in edges), dtype=np.int64, count=m)
        v_idx = np.fromiter((index[e[1]] for e in edges), dtype=np.int64, count=m)
        tail = np.empty(2 * m, dtype=np.int64)
        head = np.empty(2 * m, dtype=np.int64)
        tail[0::2], tail[1::2] = u_idx, v_idx
        head[0::2], head[1::2] = v_idx, u_idx
        return cls(
            nodes=nodes,
            index=index,
            edges=edges,
            weight=np.asarray(weights, dtype=np.float64),
            group=np.asarray(group, dtype=np.int64),
            groups=list(group_ids),
            tail=tail,
            head=head,
        )


def arc_search(
    n: int,
    tail: IntArray,
    head: IntArray,
    cost: FloatArray,
    source: int,
    target: int = -1,
    *,
    blocked: BoolArray | None = None,
) -> tuple[FloatArray, IntArray]:
    """Dijkstra over arcs from row ``source``; stops at ``target`` unless it is ``-1``.

    Returns the distance to and the arc into every row (``-1``: none). Only rows settled
    before the search stopped are final.
    """
    blocked = (
        np.zeros(tail.size, dtype=np.bool_)
        if blocked is None
        else np.asarray(blocked, dtype=np.bool_)
    )
    order = np.argsort(tail, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    dist, _, pred_entry = astar(
        indptr,
        head[order],
        cost[order],
        int(source),
        int(target),
        np.zeros(n),
        np.zeros(n, dtype=np.bool_),
        blocked[order],
    )
    pred_arc = np.full(n, -1, dtype=np.int64)
    reached = pred_entry >= 0
    pred_arc[reached] = order[pred_entry[reached]]
    return dist, pred_arc
