"""The CSR snapshot of a changed copy of a graph, from the snapshot of the graph it copies.

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
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from planner.search.csr_graph import CSRGraph, assemble, unit_positions


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
    xyz = _positions(base, graph, nodes, touched)
    if xyz is None:
        return None

    # the base's chosen edges, each once (row < column), less those at a changed node
    rows = np.repeat(np.arange(n0, dtype=np.int64), np.diff(base.indptr))
    forward = rows < base.indices
    lo, hi = rows[forward], base.indices[forward]
    w, edge = base.data[forward], base.entry_edge[forward]
    hit = np.zeros(len(nodes), dtype=bool)
    hit[list(touched)] = True
    keep = ~(hit[lo] | hit[hi])

    # the cheapest edge of each pair at a changed node, as from_networkx chooses it: the
    # first key (in the pair's key order) of least weight
    new_lo: list[int] = []
    new_hi: list[int] = []
    new_w: list[float] = []
    new_edges: list[tuple[Hashable, Hashable, Any]] = []
    seen: set[tuple[int, int]] = set()
    adjacency = graph.adj
    for row in sorted(touched):
        node = nodes[row]
        for other, keys in adjacency[node].items():
            other_row = index[other]
            if other_row == row:
                continue
            pair = (min(row, other_row), max(row, other_row))
            if pair in seen:
                continue
            seen.add(pair)
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
            new_lo.append(pair[0])
            new_hi.append(pair[1])
            new_w.append(best)
            new_edges.append((nodes[pair[0]], nodes[pair[1]], best_key))

    kept = np.flatnonzero(keep)
    all_lo = np.concatenate([lo[kept], np.asarray(new_lo, dtype=np.int64)])
    all_hi = np.concatenate([hi[kept], np.asarray(new_hi, dtype=np.int64)])
    all_w = np.concatenate([w[kept], np.asarray(new_w, dtype=np.float64)])
    order = np.lexsort((all_hi, all_lo))  # from_networkx numbers edges by pair
    all_lo, all_hi, all_w = all_lo[order], all_hi[order], all_w[order]
    edges = _Edges(base.edges, edge[kept], new_edges, order)
    return assemble(nodes, index, all_lo, all_hi, all_w, edges, xyz, weight)


class _Rows(Sequence[Hashable]):
    """The base snapshot's nodes, then ``added``: no list of a million node ids."""

    def __init__(self, base: Sequence[Hashable], added: list[Hashable]) -> None:
        self._base = base
        self._added = added

    def __len__(self) -> int:
        return len(self._base) + len(self._added)

    def __getitem__(self, row: Any) -> Any:
        if isinstance(row, slice):
            return [self[r] for r in range(*row.indices(len(self)))]
        n0 = len(self._base)
        if row < 0:
            row += len(self)
        return self._base[row] if row < n0 else self._added[row - n0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


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


class _Edges(Sequence[tuple[Hashable, Hashable, Any]]):
    """The chosen edges: the base's kept ones (by position) and the new ones, in ``order``."""

    def __init__(
        self,
        base: Sequence[tuple[Hashable, Hashable, Any]],
        kept: npt.NDArray[np.int64],
        new: list[tuple[Hashable, Hashable, Any]],
        order: npt.NDArray[np.int64],
    ) -> None:
        self._base = base
        self._kept = kept
        self._new = new
        self._order = order

    def __len__(self) -> int:
        return int(self._order.size)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        at = int(self._order[i])
        k = self._kept.size
        return self._base[int(self._kept[at])] if at < k else self._new[at - k]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


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
