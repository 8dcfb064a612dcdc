"""The CSR snapshot of a changed copy of a graph, from the snapshot of the graph it copies.

Two forms. :func:`layered_snapshot` leaves the shared network's snapshot as it is and
puts beside it only the rows of the nodes the copy changed or added
(:class:`LayeredSnapshot`): a point-to-point search reads a row from one or the other,
so a request on a million-edge network costs what it changed, not a pass over every
edge. :func:`patched_snapshot` assembles a whole new snapshot, for the searches that
need one set of arrays (scipy's, Yen's, Steiner's). Both give the rows
:meth:`~planner.search.csr_graph.CSRGraph.from_networkx` would, entry for entry, so every
search answers the same on any of the three.

A request attaches its places to an overlay of the shared network
(:mod:`planner.network.overlay`): a few edges split, a few drops added. Taking the overlay's
snapshot with :meth:`planner.search.csr_graph.CSRGraph.from_networkx` walks every edge of the
network in Python (seconds at a million edges) for a handful of changes. Here the shared
network's snapshot, taken once, is patched instead: its edges between unchanged nodes are
kept as arrays, the edges at the changed nodes are read from the overlay, and the arrays
are assembled exactly as ``from_networkx`` assembles them, so the two snapshots are equal
array for array (same rows, same edge numbering, same potential) and every search gives
the same answer on either.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from planner.search.csr_graph import (
    ALPHA_SLACK,
    ArrayView,
    CSRGraph,
    FloatArray,
    IntArray,
    potential_scale,
    unit_positions,
)


def patched_snapshot(
    base: CSRGraph, graph: nx.MultiGraph, changed: Iterable[Hashable], weight: str
) -> CSRGraph | None:
    """``CSRGraph.from_networkx(graph, weight)``, computed from ``base``'s snapshot.

    Parameters
    ----------
    base
        The snapshot of the graph ``graph`` was copied from, for ``weight``.
    graph
        The copy: the base graph's nodes first, in their order, then any new ones.
    changed
        Every node of the copy whose edges may differ from the base graph's.

    Returns
    -------
    CSRGraph or None
        None when the copy lost a node of the base graph or is not a multigraph (the
        caller then takes a snapshot from scratch).
    """
    rows = _changed_rows(base, graph, changed, weight)
    if rows is None:
        return None
    nodes, index, touched = rows
    xyz = _positions(base, graph, nodes, touched)
    if xyz is None:
        return None

    n = len(nodes)
    hit = np.zeros(n, dtype=bool)
    hit[list(touched)] = True
    new_lo, new_hi, new_w, new_edges = _edges_at(graph, nodes, index, sorted(touched), weight)
    return _merge(base, nodes, index, hit, new_lo, new_hi, new_w, new_edges, xyz, weight)


def _changed_rows(
    base: CSRGraph, graph: nx.MultiGraph, changed: Iterable[Hashable], weight: str
) -> tuple[_Rows, _Index, set[int]] | None:
    """The copy's rows (the base's, then added nodes') and the rows that changed; None
    when the copy cannot be taken from ``base`` (see :func:`patched_snapshot`)."""
    if base.weight != weight or not graph.is_multigraph():
        return None
    n0 = base.n
    lost = getattr(graph, "lost_base_nodes", None)
    added_nodes = getattr(graph, "added_nodes", None)
    if lost is not None and added_nodes is not None:
        # a planning copy says what it added and whether it lost a base node (no walk)
        if lost():
            return None
        added = list(added_nodes())
    else:
        every = list(graph.nodes)
        if len(every) < n0 or every[:n0] != list(base.nodes):
            return None
        added = every[n0:]
    nodes = _Rows(base.nodes, added)
    index = _Index(base.index, {node: row for row, node in enumerate(added, start=n0)})
    touched = {index[node] for node in changed if node in index}
    touched.update(range(n0, n0 + len(added)))
    return nodes, index, touched


def _edges_at(
    graph: nx.MultiGraph,
    nodes: Sequence[Hashable],
    index: Mapping[Hashable, int],
    rows: list[int],
    weight: str,
) -> tuple[Any, Any, Any, list[tuple[Hashable, Hashable, Any]]]:
    """The cheapest edge of each node pair at ``rows``, as from_networkx chooses it: the
    first key (in the pair's key order) of least weight; sorted by pair."""
    found: dict[tuple[int, int], tuple[float, tuple[Hashable, Hashable, Any]]] = {}
    adjacency = graph.adj
    for row in rows:
        node = nodes[row]
        for other, keys in adjacency[node].items():
            other_row = index[other]
            if other_row == row:
                continue
            pair = (min(row, other_row), max(row, other_row))
            if pair in found:
                continue
            best_key, best = None, None
            for key, data in keys.items():
                value = data.get(weight)
                if value is None:
                    raise ValueError(f"edge ({node!r}, {other!r}) has no {weight!r} attribute")
                value = float(value)
                if not np.isfinite(value) or value < 0:
                    raise ValueError(f"edge attribute {weight!r} must be finite and non-negative")
                if best is None or value < best:
                    best_key, best = key, value
            assert best is not None
            found[pair] = (best, (nodes[pair[0]], nodes[pair[1]], best_key))
    pairs = sorted(found)
    lo = np.asarray([p[0] for p in pairs], dtype=np.int64)
    hi = np.asarray([p[1] for p in pairs], dtype=np.int64)
    w = np.asarray([found[p][0] for p in pairs], dtype=np.float64)
    return lo, hi, w, [found[p][1] for p in pairs]


def _merge(
    base: CSRGraph,
    nodes: Sequence[Hashable],
    index: Mapping[Hashable, int],
    hit: npt.NDArray[np.bool_],
    new_lo: npt.NDArray[np.int64],
    new_hi: npt.NDArray[np.int64],
    new_w: npt.NDArray[np.float64],
    new_edges: list[tuple[Hashable, Hashable, Any]],
    xyz: npt.NDArray[np.float64],
    weight: str,
) -> CSRGraph:
    """The snapshot :func:`~planner.search.csr_graph.assemble` would make of the base's
    edges away from the changed rows (``hit``) plus the new ones, built in place of the
    base's sorted arrays: only the few new entries are sorted, so a million-edge network
    is patched in a few linear passes."""
    n, n0 = len(nodes), base.n
    indptr0 = np.asarray(base.indptr)
    rows0 = np.repeat(np.arange(n0, dtype=np.int64), np.diff(indptr0))
    cols0 = np.asarray(base.indices)
    keep = ~(hit[rows0] | hit[cols0])
    # the base's edges: kept ones keep their order (by pair); new ones slot in by pair
    m0 = len(base.edges)
    entry_edge0 = np.asarray(base.entry_edge)
    edge_kept = np.zeros(m0, dtype=bool)
    edge_kept[entry_edge0[keep]] = True
    kept_edges = np.flatnonzero(edge_kept)
    forward = keep & (rows0 < cols0)
    # kept edges by pair: the forward entries of kept edges, in edge order
    by_edge = np.empty(m0, dtype=np.int64)
    by_edge[entry_edge0[forward]] = np.flatnonzero(forward)
    first = by_edge[kept_edges]
    kept_lo, kept_hi = rows0[first], cols0[first]
    kept_w = np.asarray(base.data)[first]
    big = np.int64(max(n, 1))
    slot = np.searchsorted(kept_lo * big + kept_hi, new_lo * big + new_hi)
    k, a = kept_edges.size, new_lo.size
    # final edge number of each kept base edge and each new edge
    kept_number = np.arange(k) + np.searchsorted(slot, np.arange(k), side="right")
    new_number = slot + np.arange(a)
    m = k + a
    lo = np.empty(m, dtype=np.int64)
    hi = np.empty(m, dtype=np.int64)
    w = np.empty(m, dtype=np.float64)
    lo[kept_number], hi[kept_number], w[kept_number] = kept_lo, kept_hi, kept_w
    lo[new_number], hi[new_number], w[new_number] = new_lo, new_hi, new_w
    source = np.empty(m, dtype=np.int64)  # base edge number, or -1 - new edge position
    source[kept_number] = kept_edges
    source[new_number] = -1 - np.arange(a)
    renumber = np.full(m0, -1, dtype=np.int64)
    renumber[kept_edges] = kept_number

    # entries: the base's kept ones stay sorted by (row, column); new ones slot in
    new_rows = np.concatenate([new_lo, new_hi])
    new_cols = np.concatenate([new_hi, new_lo])
    new_edge_of = np.concatenate([new_number, new_number])
    order = np.lexsort((new_cols, new_rows))
    new_rows, new_cols, new_edge_of = new_rows[order], new_cols[order], new_edge_of[order]
    kept_entries = np.flatnonzero(keep)
    at = np.searchsorted(rows0[kept_entries] * big + cols0[kept_entries], new_rows * big + new_cols)
    total = kept_entries.size + new_rows.size
    new_place = at + np.arange(new_rows.size)
    old_place = np.arange(kept_entries.size) + np.searchsorted(
        at, np.arange(kept_entries.size), side="right"
    )
    indices = np.empty(total, dtype=np.int64)
    data = np.empty(total, dtype=np.float64)
    entry_edge = np.empty(total, dtype=np.int64)
    rows = np.empty(total, dtype=np.int64)
    indices[old_place], indices[new_place] = cols0[kept_entries], new_cols
    rows[old_place], rows[new_place] = rows0[kept_entries], new_rows
    entry_edge[old_place] = renumber[entry_edge0[kept_entries]]
    entry_edge[new_place] = new_edge_of
    data[:] = w[entry_edge]
    # each entry's twin: the other entry of its edge
    twin = np.empty(total, dtype=np.int64)
    position = np.full(len(base.twin), -1, dtype=np.int64)
    position[kept_entries] = old_place
    twin[old_place] = position[np.asarray(base.twin)[kept_entries]]
    if new_rows.size:
        forward_new = new_place[new_rows < new_cols]
        backward_new = new_place[new_rows > new_cols]
        # entries of one edge: sort both halves by edge number to pair them
        f = forward_new[np.argsort(entry_edge[forward_new], kind="stable")]
        b = backward_new[np.argsort(entry_edge[backward_new], kind="stable")]
        twin[f], twin[b] = b, f
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return CSRGraph(
        indptr=indptr,
        indices=indices,
        data=data,
        nodes=nodes,
        index=index,
        entry_edge=entry_edge,
        edges=_Edges(base.edges, source, new_edges),
        twin=twin,
        xyz=xyz,
        alpha=potential_scale(xyz, lo, hi, w),
        weight=weight,
    )


class _Rows(ArrayView[Hashable]):
    """The base snapshot's nodes, then ``added``: no list of a million node ids."""

    def __init__(self, base: Sequence[Hashable], added: list[Hashable]) -> None:
        self._base = base
        self._added = added

    def __len__(self) -> int:
        return len(self._base) + len(self._added)

    def _item(self, row: int) -> Hashable:
        n0 = len(self._base)
        return self._base[row] if row < n0 else self._added[row - n0]


class _Index(Mapping[Hashable, int]):
    """The base snapshot's rows, then the added nodes'."""

    def __init__(self, base: Mapping[Hashable, int], added: dict[Hashable, int]) -> None:
        self._base = base
        self._added = added

    def __getitem__(self, node: Hashable) -> int:
        found = self._added.get(node)
        return self._base[node] if found is None else found

    def __contains__(self, node: object) -> bool:
        return node in self._added or node in self._base

    def __iter__(self) -> Iterator[Hashable]:
        yield from self._base
        yield from self._added

    def __len__(self) -> int:
        return len(self._base) + len(self._added)


class _Edges(ArrayView[tuple[Hashable, Hashable, Any]]):
    """The chosen edges: each a base edge (by number) or a new one (``-1 - position``)."""

    def __init__(
        self,
        base: Sequence[tuple[Hashable, Hashable, Any]],
        source: npt.NDArray[np.int64],
        new: list[tuple[Hashable, Hashable, Any]],
    ) -> None:
        self._base = base
        self._source = source
        self._new = new

    def __len__(self) -> int:
        return int(self._source.size)

    def _item(self, row: int) -> tuple[Hashable, Hashable, Any]:
        at = int(self._source[row])
        return self._base[at] if at >= 0 else self._new[-1 - at]


def _positions(
    base: CSRGraph, graph: nx.MultiGraph, nodes: Sequence[Hashable], rows: set[int]
) -> Any:
    """Unit-sphere positions: the base's, with ``rows`` read from ``graph``.

    None where from_networkx would find no potential for want of positions (a node
    without a finite ``x``/``y``): the caller then takes the snapshot from scratch.
    """
    if base.n and not base.xyz.any():
        return None  # the base graph's nodes have no positions
    changed = sorted(rows)
    read = unit_positions(graph, [nodes[r] for r in changed])
    if read is None:
        return None
    xyz = np.zeros((len(nodes), 3), dtype=np.float64)
    xyz[: base.n] = base.xyz
    if changed:
        xyz[np.asarray(changed, dtype=np.int64)] = read
    return xyz


# ---------------------------------------------------------------------------- layered


@dataclass(frozen=True, eq=False)
class LayeredSnapshot:
    """A copy's snapshot as the base's plus the copy's own rows, nothing copied.

    Row ``r`` of the copy is the base snapshot's row ``r`` unless ``over[r] >= 0``; then
    its entries are ``over_ptr[over[r]]:over_ptr[over[r] + 1]`` of ``over_indices`` (rows,
    ascending) and ``over_data`` (the cheapest parallel edge's weight), and
    ``over_edges`` names each entry's edge. These are exactly the rows
    :func:`patched_snapshot` (and ``CSRGraph.from_networkx``) would give the copy.

    Attributes
    ----------
    base
        The shared network's snapshot.
    nodes, index
        Node id of each row of the copy and row of each node id.
    over, over_ptr, over_indices, over_data, over_edges
        The replaced rows, as above (``over`` has one item per row of the copy).
    extra_xyz
        Unit-sphere positions of the added nodes (rows ``base.n`` on).
    alpha
        The potential's scale over the copy's edges, as ``from_networkx`` finds it.
    weight
        The edge attribute searched.
    """

    base: CSRGraph
    nodes: Sequence[Hashable]
    index: Mapping[Hashable, int]
    over: IntArray
    over_ptr: IntArray
    over_indices: IntArray
    over_data: FloatArray
    over_edges: list[tuple[Hashable, Hashable, Any]]
    extra_xyz: FloatArray
    alpha: float
    weight: str

    @property
    def n(self) -> int:
        """Number of rows (nodes) of the copy."""
        return len(self.nodes)

    @property
    def entries(self) -> int:
        """Entries a search may number: the base's, then the replacing rows'."""
        return int(self.base.indices.size + self.over_indices.size)

    def row(self, node: Hashable) -> int:
        """Row of ``node``; ``KeyError`` naming it if it is not in the copy."""
        try:
            return self.index[node]
        except KeyError:
            raise KeyError(f"node {node!r} is not in the graph") from None


def layered_snapshot(
    base: CSRGraph, graph: nx.MultiGraph, changed: Iterable[Hashable], weight: str
) -> LayeredSnapshot | None:
    """The snapshot of the copy ``graph`` as ``base``'s plus the rows of ``changed``.

    Parameters are those of :func:`patched_snapshot`; so is None (take the snapshot
    another way). Also None when a changed base node moved (its position differs from
    the base's), which a planning copy never does.
    """
    rows = _changed_rows(base, graph, changed, weight)
    if rows is None:
        return None
    nodes, index, touched = rows
    n0, n = base.n, len(nodes)
    if base.n and not base.xyz.any():
        return None  # the base graph's nodes have no positions
    hit = np.asarray(sorted(touched), dtype=np.int64)
    read = unit_positions(graph, [nodes[r] for r in hit.tolist()])
    if read is None:
        return None
    moved = hit < n0
    if not np.array_equal(read[moved], np.asarray(base.xyz)[hit[moved]]):
        return None
    extra_xyz = np.ascontiguousarray(read[~moved])
    lo, hi, w, edges = _edges_at(graph, nodes, index, hit.tolist(), weight)
    # each edge at a changed row, both ways; the rows replaced are the changed ones
    entry_rows = np.concatenate([lo, hi])
    entry_cols = np.concatenate([hi, lo])
    entry_edge = np.concatenate([np.arange(lo.size), np.arange(lo.size)])
    over = np.full(n, -1, dtype=np.int64)
    over[hit] = np.arange(hit.size)
    mine = over[entry_rows] >= 0
    order = np.lexsort((entry_cols[mine], entry_rows[mine]))
    slot = over[entry_rows[mine]][order]
    over_ptr = np.zeros(hit.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(slot, minlength=hit.size), out=over_ptr[1:])
    kept_edges = entry_edge[mine][order]
    return LayeredSnapshot(
        base=base,
        nodes=nodes,
        index=index,
        over=over,
        over_ptr=over_ptr,
        over_indices=np.ascontiguousarray(entry_cols[mine][order]),
        over_data=np.ascontiguousarray(w[kept_edges]),
        over_edges=[edges[i] for i in kept_edges.tolist()],
        extra_xyz=extra_xyz.reshape(-1, 3),
        alpha=_layered_alpha(base, hit[moved], lo, hi, w, extra_xyz.reshape(-1, 3)),
        weight=weight,
    )


def _layered_alpha(
    base: CSRGraph,
    hit: IntArray,
    lo: IntArray,
    hi: IntArray,
    w: FloatArray,
    extra_xyz: FloatArray,
) -> float:
    """:func:`~planner.search.csr_graph.potential_scale` over the copy's edges: the base's
    edges away from the changed base rows ``hit`` and the new edges ``lo``-``hi``.

    The base's own scale stands for its edges unless an edge at a changed row is as
    steep as the steepest (then the base's kept edges are measured, one pass): the
    rounded product with ``1 - ALPHA_SLACK`` is monotone, so the least of the scales is
    the scale of the least ratio, bit for bit.
    """
    slack = 1.0 - ALPHA_SLACK
    xyz = np.asarray(base.xyz)
    n0 = base.n

    def at(rows: IntArray) -> FloatArray:
        out = np.empty((rows.size, 3))
        inside = rows < n0
        out[inside] = xyz[rows[inside]]
        out[~inside] = extra_xyz[rows[~inside] - n0]
        return out

    found: list[float] = []  # the scale (least ratio times slack) of each part
    new_chord = np.linalg.norm(at(lo) - at(hi), axis=1)
    apart = new_chord > 0
    if apart.any():
        found.append(float(np.min(w[apart] / new_chord[apart])) * slack)
    indptr = np.asarray(base.indptr)
    starts, stops = indptr[hit], indptr[hit + 1]
    count = stops - starts
    at_hit = np.arange(int(count.sum())) + np.repeat(
        starts - np.r_[0, np.cumsum(count)[:-1]], count
    )
    rows_at_hit = np.repeat(hit, count)
    cols_at_hit = np.asarray(base.indices)[at_hit]
    gone_chord = np.linalg.norm(xyz[rows_at_hit] - xyz[cols_at_hit], axis=1)
    gone = gone_chord > 0
    gone_scale = (
        float(np.min(np.asarray(base.data)[at_hit][gone] / gone_chord[gone])) * slack
        if gone.any()
        else np.inf
    )
    if base.alpha > 0 and gone_scale > base.alpha:
        found.append(base.alpha)  # the base's steepest edge is kept
    else:
        kept = _kept_scale(base, hit)
        if kept is not None:
            found.append(kept)
    return max(min(found), 0.0) if found else 0.0


def _kept_scale(base: CSRGraph, hit: IntArray) -> float | None:
    """The scale of the base's edges with neither end in ``hit`` (None: no such edge
    with ends apart)."""
    indptr = np.asarray(base.indptr)
    cols = np.asarray(base.indices)
    rows = np.repeat(np.arange(base.n, dtype=np.int64), np.diff(indptr))
    changed = np.zeros(base.n, dtype=bool)
    changed[hit] = True
    keep = (rows < cols) & ~changed[rows] & ~changed[cols]
    xyz = np.asarray(base.xyz)
    chord = np.linalg.norm(xyz[rows[keep]] - xyz[cols[keep]], axis=1)
    apart = chord > 0
    if not apart.any():
        return None
    return float(np.min(np.asarray(base.data)[keep][apart] / chord[apart])) * (1.0 - ALPHA_SLACK)
