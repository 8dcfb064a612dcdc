"""The CSR snapshot of a networkx graph that the compiled searches run on.

A :class:`CSRGraph` is an undirected networkx graph, for one edge weight, as symmetric
compressed-sparse-row arrays: parallel edges collapse to the cheapest (the map back to its
networkx key is kept), and nodes with ``x``/``y`` get unit-sphere positions and the scale of
the A* potential (see :mod:`planner.search.shortest_paths`). Taking one walks every edge;
:func:`planner.search.shortest_paths.csr_of` keeps it per version of a graph, and
:mod:`planner.search.snapshot_patch` patches it for a changed copy.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import networkx as nx
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from scipy.sparse import csr_array

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

T = TypeVar("T")

# Relative slack taken off ``alpha`` so rounding never makes the potential overestimate.
ALPHA_SLACK = 1e-9


class ArrayView(Sequence[T]):
    """A read-only sequence whose items are made when asked for, from arrays.

    A snapshot's node and edge lists of a million-edge network would cost more than the
    arrays they are read from; views stand in for them. A view gives its length and
    :meth:`_item` for a row in range; negative rows, slices, bounds and equality with any
    sequence of the same items are handled here once.
    """

    def _item(self, row: int) -> T:
        raise NotImplementedError

    def __getitem__(self, row: Any) -> Any:
        n = len(self)
        if isinstance(row, slice):
            return [self._item(r) for r in range(*row.indices(n))]
        if row < 0:
            row += n
        if not 0 <= row < n:
            raise IndexError(row)
        return self._item(int(row))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class CSRGraph:
    """A symmetric CSR snapshot of an undirected networkx graph for one weight.

    Attributes
    ----------
    indptr, indices, data
        The CSR arrays: entries of row ``i`` are ``indices[indptr[i]:indptr[i+1]]`` with
        weights ``data[...]``; every edge appears in both directions.
    nodes
        Node id of each row (a sequence: a snapshot kept with a network's table holds
        its ids as an array).
    index
        Row of each node id.
    entry_edge
        For each CSR entry, the position in ``edges`` of the networkx edge it stands for.
    edges
        The chosen networkx edges ``(u, v, key)`` (``key`` is ``None`` for simple graphs).
    twin
        For each CSR entry, the position of the entry for the opposite direction.
    xyz, alpha
        Unit-sphere position of each node and the scale of the potential (0: none).
    weight
        Name of the edge attribute used as weight.
    """

    indptr: IntArray
    indices: IntArray
    data: FloatArray
    nodes: Sequence[Hashable]
    index: Mapping[Hashable, int]
    entry_edge: IntArray
    edges: Sequence[tuple[Hashable, Hashable, Any]]
    twin: IntArray
    xyz: FloatArray
    alpha: float
    weight: str

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def matrix(self) -> csr_array:
        """The weights as a ``scipy.sparse.csr_array`` (explicit zeros are edges)."""
        # the compiled searches read the arrays; only scipy's own (csgraph) take the matrix
        from scipy.sparse import csr_array

        return csr_array((self.data, self.indices, self.indptr), shape=(self.n, self.n))

    @classmethod
    def from_networkx(cls, graph: nx.Graph, weight: str = "length_km") -> CSRGraph:
        """Snapshot ``graph`` with edge attribute ``weight`` as the weight.

        Parameters
        ----------
        graph
            An undirected ``Graph`` or ``MultiGraph``. Nodes with ``x`` and ``y`` (lon/lat)
            on every node enable the geometric potential.
        weight
            Edge attribute holding a finite, non-negative number.

        Raises
        ------
        ValueError
            If an edge lacks ``weight`` or has a negative or non-finite one.

        Examples
        --------
        >>> import networkx as nx
        >>> g = nx.Graph()
        >>> g.add_edge("a", "b", w=2.0)
        >>> g.add_edge("b", "c", w=1.5)
        >>> csr = CSRGraph.from_networkx(g, "w")
        >>> from planner.search.shortest_paths import shortest_path
        >>> shortest_path(csr, "a", "c")
        (3.5, ['a', 'b', 'c'])
        """
        if graph.is_directed():
            raise ValueError("the corridor graph is undirected; pass an undirected graph")
        nodes = list(graph.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        n = len(nodes)
        multi = graph.is_multigraph()
        triples = graph.edges(keys=True, data=weight) if multi else graph.edges(data=weight)
        us: list[int] = []
        vs: list[int] = []
        ws: list[float] = []
        all_edges: list[tuple[Hashable, Hashable, Any]] = []
        for item in triples:
            if multi:
                u, v, key, w = item
            else:
                (u, v, w), key = item, None
            if w is None:
                raise ValueError(f"edge ({u!r}, {v!r}) has no {weight!r} attribute")
            if u == v:
                continue
            us.append(index[u])
            vs.append(index[v])
            ws.append(float(w))
            all_edges.append((u, v, key))
        u_arr = np.asarray(us, dtype=np.int64)
        v_arr = np.asarray(vs, dtype=np.int64)
        w_arr = np.asarray(ws, dtype=np.float64)
        if w_arr.size and (not np.all(np.isfinite(w_arr)) or w_arr.min() < 0):
            raise ValueError(f"edge attribute {weight!r} must be finite and non-negative")
        lo, hi = np.minimum(u_arr, v_arr), np.maximum(u_arr, v_arr)
        pair = lo * max(n, 1) + hi
        order = np.lexsort((w_arr, pair))
        first = np.ones(order.size, dtype=bool)
        first[1:] = pair[order][1:] != pair[order][:-1]
        chosen = order[first]
        edges = [all_edges[i] for i in chosen]
        xyz = unit_positions(graph, nodes)
        if xyz is None:
            xyz = np.zeros((len(nodes), 3), dtype=np.float64)
        return assemble(nodes, index, lo[chosen], hi[chosen], w_arr[chosen], edges, xyz, weight)

    def row(self, node: Hashable) -> int:
        """Row of ``node``; ``KeyError`` naming it if it is not in the graph."""
        try:
            return self.index[node]
        except KeyError:
            raise KeyError(f"node {node!r} is not in the graph") from None

    def entry(self, i: int, j: int) -> int:
        """Position of the CSR entry ``i -> j`` (``-1`` if there is none)."""
        lo, hi = self.indptr[i], self.indptr[i + 1]
        k = lo + int(np.searchsorted(self.indices[lo:hi], j))
        return int(k) if k < hi and self.indices[k] == j else -1


def assemble(
    nodes: Sequence[Hashable],
    index: Mapping[Hashable, int],
    lo: IntArray,
    hi: IntArray,
    w: FloatArray,
    edges: Sequence[tuple[Hashable, Hashable, Any]],
    xyz: FloatArray,
    weight: str,
) -> CSRGraph:
    """The snapshot of the chosen edges ``lo``-``hi`` (one per node pair, sorted by pair).

    Both ways of taking a snapshot end here (:meth:`CSRGraph.from_networkx` and the patch
    of :mod:`planner.search.snapshot_patch`), so their arrays are equal by construction.
    ``xyz`` are the nodes' unit-sphere positions, all zero where they have none (then the
    potential is off).
    """
    n = len(nodes)
    m = lo.size
    rows = np.concatenate([lo, hi])
    cols = np.concatenate([hi, lo])
    data = np.concatenate([w, w])
    edge_of = np.concatenate([np.arange(m), np.arange(m)])
    perm = np.lexsort((cols, rows))
    position = np.empty(2 * m, dtype=np.int64)
    position[perm] = np.arange(2 * m)
    twin = np.empty(2 * m, dtype=np.int64)
    twin[position] = position[(np.arange(2 * m) + m) % (2 * m)]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return CSRGraph(
        indptr=indptr,
        indices=cols[perm].astype(np.int64),
        data=data[perm],
        nodes=nodes,
        index=index,
        entry_edge=edge_of[perm].astype(np.int64),
        edges=edges,
        twin=twin,
        xyz=xyz,
        alpha=potential_scale(xyz, lo, hi, w),
        weight=weight,
    )


def unit_positions(graph: nx.Graph, nodes: Sequence[Hashable]) -> FloatArray | None:
    """Unit-sphere positions of ``nodes`` from their ``x``/``y`` (lon/lat), one row each;
    None when any of them lacks a finite position (the potential is then off)."""
    attrs = graph.nodes
    try:
        lon = np.radians(np.fromiter((attrs[v]["x"] for v in nodes), float, count=len(nodes)))
        lat = np.radians(np.fromiter((attrs[v]["y"] for v in nodes), float, count=len(nodes)))
    except (KeyError, TypeError, ValueError):
        return None
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        return None
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def potential_scale(xyz: FloatArray, lo: IntArray, hi: IntArray, w: FloatArray) -> float:
    """The largest safe scale of the straight-line potential: no edge is shorter than it."""
    chord = np.linalg.norm(xyz[lo] - xyz[hi], axis=1)
    apart = chord > 0
    if not apart.any():
        return 0.0
    return max(float(np.min(w[apart] / chord[apart])) * (1.0 - ALPHA_SLACK), 0.0)
