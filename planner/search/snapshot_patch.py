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

from collections.abc import Hashable, Iterable
from typing import Any

import networkx as nx
import numpy as np

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
    nodes = list(graph.nodes)
    if len(nodes) < n0 or nodes[:n0] != base.nodes:
        return None
    index = dict(base.index)
    for row, node in enumerate(nodes[n0:], start=n0):
        index[node] = row
    touched = {index[node] for node in changed if node in index}
    touched.update(range(n0, len(nodes)))
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
    base_edges = base.edges
    edges = [base_edges[i] for i in edge[kept].tolist()] + new_edges
    order = np.lexsort((all_hi, all_lo))  # from_networkx numbers edges by pair
    all_lo, all_hi, all_w = all_lo[order], all_hi[order], all_w[order]
    edges = [edges[i] for i in order.tolist()]
    return assemble(nodes, index, all_lo, all_hi, all_w, edges, xyz, weight)


def _positions(base: CSRGraph, graph: nx.MultiGraph, nodes: list[Hashable], rows: set[int]) -> Any:
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
