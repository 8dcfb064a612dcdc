"""Backbone solver: near-optimal Steiner trees in weighted undirected graphs.

A fiber backbone over a set of terminals (cities, landings, sites) is a Steiner tree in the
corridor graph: the cheapest tree that connects every terminal, free to pass through any
other node. The problem is NP-hard; this module finds near-optimal trees fast.

How
---
1. Mehlhorn's 2-approximation (one multi-source Dijkstra: Voronoi regions of the
   terminals, an MST of the region-boundary distance network, its paths, an MST of those,
   non-terminal leaves pruned).
2. Local search after Uchoa & Werneck (2010), "Fast local search for Steiner trees in
   graphs": Steiner-vertex insertion, key-path exchange, key-vertex elimination and
   MST-prune, repeated until none improves. Reconnections are grown from the tree with a
   Dijkstra that stops as soon as no cheaper reconnection is possible, so a move costs
   time in proportion to the tree and its neighbourhood, not to the graph.
3. On graphs up to ``multistart_max_nodes`` nodes: more starts from the shortest-path
   heuristic (Takahashi & Matsuyama) grown from random terminals with randomly perturbed
   weights, each improved by the same local search; the best tree wins.

By default the search is bounded by work, not by the clock: a fixed number of starts
(fewer the more terminals there are) and local search to convergence, so the same graph,
terminals and seed give the same tree on a busy machine and an idle one. A
``time_budget_s`` bounds it by the clock instead (the benchmarks use that); the tree may
then depend on how fast the machine was.

On the OR-Library instances steinb10, steind10, steind15, steine4, steine9 and steine10
this lands within 0.1% of the known optima under the default budget (0.03% on average;
networkx's approximation is 2-14% off); on a million-node road-like grid with 200
terminals it takes about 3.5 s and improves on Mehlhorn's tree by about 3%. See
``bench/steiner.py`` and ``bench/steiner_large.py``.

The kernels are compiled with numba and cached on disk: the first call in a process
loads them (about 0.5 s), the first ever on a machine compiles them (15-20 s). They
release the GIL: without a time budget the next random restart is searched in a thread
while the last one is compared, two cores' worth of restarts with the same trees.

The graph is a symmetric scipy sparse matrix with node indices; :func:`steiner_tree` wraps
a networkx graph with arbitrary node labels.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Hashable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from planner.search import _steiner_kernels as _k
from planner.search._bridges import bridges
from planner.search._orlib import read_orlib

__all__ = [
    "SteinerSolution",
    "UnreachableTerminalsError",
    "mehlhorn_tree_csr",
    "read_orlib",
    "steiner_tree",
    "steiner_tree_csr",
    "two_edge_connect",
]

log = logging.getLogger(__name__)

#: Graphs with at most this many nodes get multi-start search by default.
MULTISTART_MAX_NODES = 20_000
#: Multi-start stops after this many starts in a row without a better tree.
STAGNATION_STARTS = 40
#: Default number of starts: this many terminal-starts of work shared out, so a backbone of
#: 230 terminals on the national network gets 8 starts (about as long as the old 10 s
#: budget on an idle machine) and an OR-Library instance of 10-50 terminals up to 200.
START_WORK = 2_000
#: Bounds on the default number of starts.
MIN_STARTS, MAX_STARTS = 1, 200


@dataclass(frozen=True)
class SteinerSolution:
    """A Steiner tree in a graph with integer node indices.

    Attributes
    ----------
    edges
        ``(k, 2)`` int64 array of node index pairs, the tree's edges.
    weights
        ``(k,)`` float64 array, the weight of each edge.
    cost
        Sum of ``weights``.
    nodes
        Sorted int64 array of the tree's nodes (terminals and Steiner nodes).
    terminals
        Sorted unique terminals that were asked for.
    stats
        How the tree was found: ``mehlhorn_cost``, ``starts``, ``seconds``, ...
    """

    edges: np.ndarray
    weights: np.ndarray
    cost: float
    nodes: np.ndarray
    terminals: np.ndarray
    stats: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Graph:
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    n: int


@dataclass
class _Work:
    """Graph-sized workspaces the kernels borrow and leave as they found them."""

    loc: np.ndarray
    dist: np.ndarray
    lab: np.ndarray
    pred: np.ndarray
    done: np.ndarray

    @classmethod
    def for_nodes(cls, n: int) -> _Work:
        return cls(
            loc=np.full(n, -1, np.int64),
            dist=np.full(n, np.inf),
            lab=np.full(n, -1, np.int64),
            pred=np.full(n, -1, np.int64),
            done=np.zeros(n, np.bool_),
        )


_Tree = tuple[np.ndarray, np.ndarray, np.ndarray]


def _as_graph(matrix: Any) -> _Graph:
    if not sp.issparse(matrix):
        raise ValueError(
            "matrix must be a scipy sparse matrix or array of edge weights; "
            "convert a dense array with scipy.sparse.csr_array(a)"
        )
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square, got shape {matrix.shape}")
    a = sp.csr_array(matrix, dtype=np.float64)
    a.sum_duplicates()
    data = a.data
    if data.size and not np.all(np.isfinite(data)):
        raise ValueError("edge weights must be finite; found NaN or infinity in matrix")
    if data.size and data.min() < 0:
        raise ValueError("edge weights must be non-negative; found a negative weight")
    diff = a - a.T
    if diff.nnz and np.abs(diff.data).max() > 0:
        raise ValueError(
            "matrix must be symmetric (an undirected graph); "
            "symmetrize it, e.g. m.maximum(m.T), before solving"
        )
    if a.nnz and a.diagonal().any():
        a.setdiag(0)
        a.eliminate_zeros()
    return _Graph(
        indptr=a.indptr.astype(np.int64),
        indices=a.indices.astype(np.int64),
        weights=np.ascontiguousarray(a.data, dtype=np.float64),
        n=a.shape[0],
    )


def _as_terminals(terminals: Any, n: int) -> np.ndarray:
    t = np.asarray(terminals)
    if t.ndim != 1:
        t = t.ravel()
    if t.size == 0:
        raise ValueError("at least one terminal is needed")
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"terminals must be integer node indices, got dtype {t.dtype}")
    bad = t[(t < 0) | (t >= n)]
    if bad.size:
        raise ValueError(f"terminal indices out of range 0..{n - 1}: {bad[:10].tolist()}")
    return np.unique(t.astype(np.int64))


class UnreachableTerminalsError(ValueError):
    """Some terminals cannot be reached from the others; no tree spans them all.

    Attributes
    ----------
    reference
        The terminal the others were searched from (the first one).
    terminals
        The terminals not reachable from ``reference``.
    """

    def __init__(self, reference: Any, terminals: list[Any]) -> None:
        shown = ", ".join(repr(t) for t in terminals[:10])
        more = f" and {len(terminals) - 10} more" if len(terminals) > 10 else ""
        super().__init__(
            f"terminals not connected to terminal {reference!r}: {shown}{more}; "
            "no tree can span them: add the missing corridors or drop those terminals"
        )
        self.reference = reference
        self.terminals = terminals


_compiled = False


def _ensure_compiled() -> None:
    """Run every kernel once on a tiny graph, so compiling is not charged to a budget.

    The kernels are cached on disk: this costs about half a second per process, and
    15-20 s the very first time on a machine.
    """
    global _compiled
    if _compiled:
        return
    n = 5
    ring = [(i, (i + 1) % n, 1.0 + i) for i in range(n)]
    m = sp.coo_array(
        ([w for *_, w in ring], ([a for a, *_ in ring], [b for _, b, _ in ring])), shape=(n, n)
    ).tocsr()
    g = _as_graph(m + m.T)
    terms = np.array([0, 2, 3], dtype=np.int64)
    is_term = np.zeros(n, np.bool_)
    is_term[terms] = True
    work = _Work.for_nodes(n)
    _k.reach(g.indptr, g.indices, terms[0])
    *start, _ = _k.mehlhorn(g.indptr, g.indices, g.weights, terms, is_term, work.loc)
    _k.sph(g.indptr, g.indices, g.weights, g.weights, terms, is_term, 0, work.loc)
    for large in (False, True):
        _local_search(g, is_term, (start[0], start[1], start[2]), work, np.inf, large=large)
    _compiled = True


def _raise_unreachable(g: _Graph, terms: np.ndarray) -> None:
    seen = _k.reach(g.indptr, g.indices, terms[0])
    lost = terms[~seen[terms]]
    raise UnreachableTerminalsError(int(terms[0]), [int(x) for x in lost])


def _cost(tree: _Tree) -> float:
    return float(tree[2].sum())


def _local_search(
    g: _Graph,
    is_term: np.ndarray,
    tree: _Tree,
    work: _Work,
    deadline: float,
    *,
    large: bool,
) -> tuple[_Tree, int]:
    """Run the moves until none improves or the deadline is near.

    On big graphs the key-path exchange runs in its local form and key-vertex
    elimination is skipped (it rarely pays there); a sweep is started only if the last
    one of its kind would still fit before the deadline, and key-path sweeps on big
    graphs run in slices so the clock is checked every 50 evaluated moves.
    """
    tu, tv, tw = tree
    max_moves = 1_000_000
    max_walk = 5_000 if large else 1_000_000
    max_settle = 20_000 if large else 1 << 62
    evals_per_slice = 50 if large else 1 << 62
    modes = (False,) if large else (False, True)
    took: dict[str, float] = {}
    passes = 0

    def fits(name: str) -> bool:
        return time.perf_counter() + took.get(name, 0.0) < deadline

    while True:
        passes += 1
        improved = 0
        if fits("insert"):
            t = time.perf_counter()
            tu, tv, tw, k = _k.insertion_pass(
                g.indptr, g.indices, g.weights, is_term, tu, tv, tw, work.loc, work.lab,
                max_moves, max_walk,
            )  # fmt: skip
            took["insert"] = time.perf_counter() - t
            improved += k
        for vertex_mode in modes:
            name = f"key{vertex_mode}"
            if not fits(name):
                continue
            t = time.perf_counter()
            at = 1
            while at >= 0 and time.perf_counter() < deadline:
                tu, tv, tw, k, at = _k.key_pass(
                    g.indptr, g.indices, g.weights, is_term, tu, tv, tw, work.loc, work.dist,
                    work.lab, work.pred, work.done, vertex_mode, max_moves, large, max_settle,
                    at, evals_per_slice,
                )  # fmt: skip
                improved += k
            took[name] = time.perf_counter() - t
        before = float(tw.sum())
        nu, nv, nw = _k.mst_induced(g.indptr, g.indices, g.weights, is_term, tu, tv, tw, work.loc)
        if float(nw.sum()) < before - 1e-9 * max(1.0, before):
            tu, tv, tw = nu, nv, nw
            improved += 1
        if improved == 0 or time.perf_counter() >= deadline:
            break
    return (tu, tv, tw), passes


class _restarts:  # noqa: N801 - used as a function that keeps a thread
    """The random restarts of the multi-start search, in order, each improved.

    Restart ``k`` draws its noise and root from ``rng`` in turn, as one loop would. Without
    a deadline the next restart is already searched in a thread while the caller looks at
    this one (the kernels release the GIL): each has its own workspace and its own draws,
    so the trees are those of the loop, and a restart the caller does not ask for is
    dropped unseen. With a deadline they run one at a time, so none outlives it.
    """

    def __init__(
        self,
        g: _Graph,
        is_term: np.ndarray,
        terms: np.ndarray,
        rng: np.random.Generator,
        work: _Work,
        deadline: float,
    ) -> None:
        self.g, self.is_term, self.terms, self.rng = g, is_term, terms, rng
        self.deadline = deadline
        self.works = [work]
        self.pool: ThreadPoolExecutor | None = None
        self.ahead: Future[tuple[_Tree, int]] | None = None
        if math.isinf(deadline):
            self.works.append(_Work.for_nodes(g.n))
            self.pool = ThreadPoolExecutor(max_workers=2)
        self.count = 0

    def _submit(self) -> Future[tuple[_Tree, int]]:
        noise = 0.1 + 0.4 * self.rng.random()
        wsearch = self.g.weights * self.rng.uniform(1.0, 1.0 + noise, self.g.weights.size)
        root = int(self.terms[self.rng.integers(self.terms.size)])
        work = self.works[self.count % len(self.works)]
        self.count += 1
        if self.pool is None:
            done: Future[tuple[_Tree, int]] = Future()
            done.set_result(self._search(wsearch, root, work))
            return done
        return self.pool.submit(self._search, wsearch, root, work)

    def _search(self, wsearch: np.ndarray, root: int, work: _Work) -> tuple[_Tree, int]:
        g = self.g
        tree = _k.sph(
            g.indptr, g.indices, g.weights, wsearch, self.terms, self.is_term, root, work.loc
        )
        return _local_search(g, self.is_term, tree, work, self.deadline, large=False)

    def next(self, *, ahead: bool) -> tuple[_Tree, int]:
        """The next restart's tree and passes; ``ahead``: start searching the one after."""
        current = self.ahead if self.ahead is not None else self._submit()
        self.ahead = self._submit() if ahead and self.pool is not None else None
        return current.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)  # a restart searched ahead still holds a workspace


def _solution(tree: _Tree, terms: np.ndarray, stats: dict[str, Any], n: int) -> SteinerSolution:
    tu, tv, tw = tree
    a = np.minimum(tu, tv)
    b = np.maximum(tu, tv)
    order = np.lexsort((b, a))
    edges = np.stack([a[order], b[order]], axis=1).astype(np.int64).reshape(-1, 2)
    weights = tw[order].astype(np.float64)
    nodes = np.unique(np.concatenate([edges.ravel(), terms])) if edges.size else terms.copy()
    return SteinerSolution(
        edges=edges,
        weights=weights,
        cost=float(weights.sum()),
        nodes=nodes,
        terminals=terms,
        stats=stats,
    )


def _empty(terms: np.ndarray, t0: float) -> SteinerSolution:
    empty: _Tree = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    return _solution(empty, terms, {"seconds": time.perf_counter() - t0, "starts": 0}, 0)


def mehlhorn_tree_csr(matrix: Any, terminals: Iterable[int] | np.ndarray) -> SteinerSolution:
    """Mehlhorn's 2-approximate Steiner tree, without improvement.

    The baseline that :func:`steiner_tree_csr` starts from; useful to measure what the
    local search adds.

    Parameters
    ----------
    matrix
        Symmetric scipy sparse matrix of non-negative edge weights (see
        :func:`steiner_tree_csr`).
    terminals
        Node indices to connect.

    Returns
    -------
    SteinerSolution
        The tree; its cost is at most ``2 (1 - 1/t)`` times the optimum.
    """
    _ensure_compiled()
    t0 = time.perf_counter()
    g = _as_graph(matrix)
    terms = _as_terminals(terminals, g.n)
    if terms.size == 1:
        return _empty(terms, t0)
    is_term = np.zeros(g.n, np.bool_)
    is_term[terms] = True
    loc = np.full(g.n, -1, np.int64)
    *tree, joined = _k.mehlhorn(g.indptr, g.indices, g.weights, terms, is_term, loc)
    if not joined:
        _raise_unreachable(g, terms)
    stats = {"seconds": time.perf_counter() - t0, "starts": 1}
    return _solution(tree, terms, stats, g.n)


def steiner_tree_csr(
    matrix: Any,
    terminals: Iterable[int] | np.ndarray,
    *,
    time_budget_s: float | None = None,
    seed: int = 0,
    multistart_max_nodes: int = MULTISTART_MAX_NODES,
    max_starts: int | None = None,
) -> SteinerSolution:
    """Near-optimal Steiner tree spanning ``terminals`` in a weighted undirected graph.

    Parameters
    ----------
    matrix
        Symmetric scipy sparse matrix (or array) of edge weights, ``matrix[u, v]`` the
        weight of edge ``u``–``v``. Every stored entry is an edge, explicit zeros included
        (weight 0); call ``matrix.eliminate_zeros()`` first if zeros mean "no edge".
        Weights must be finite and non-negative. The diagonal is ignored; duplicate
        entries are summed, as scipy does.
    terminals
        Node indices to connect. Duplicates are tolerated.
    time_budget_s
        Seconds to spend, roughly (a running local-search sweep finishes first), with no
        limit on starts but ``max_starts`` if given. ``None`` (the default) bounds the
        search by work only, so the tree is reproducible: ``max_starts`` starts, each
        improved until no move helps. Either way the search stops when 40 starts in a row
        bring no better tree. The first call in a process also loads the compiled kernels
        (about 0.5 s; 15-20 s once per machine, when they are compiled), which is not
        charged to the budget.
    seed
        Seed of the random restarts; the same seed (and work bound) gives the same tree.
    multistart_max_nodes
        Graphs up to this size get random restarts; larger ones are improved from
        Mehlhorn's tree only.
    max_starts
        Most starts (Mehlhorn's included). Default without a time budget:
        ``START_WORK // terminals`` within ``[MIN_STARTS, MAX_STARTS]``; with one, no limit.

    Returns
    -------
    SteinerSolution
        ``edges`` (pairs ``u < v``), ``weights``, ``cost``, ``nodes``; ``stats`` holds
        ``mehlhorn_cost``, ``starts``, ``seconds``.

    Raises
    ------
    ValueError
        If there is no terminal, a terminal is out of range, the matrix is not a square
        symmetric matrix of non-negative finite weights, or some terminals cannot be
        reached from the others (the message names them).

    Examples
    --------
    A square with a centre hub: joining the four corners through the hub (4 × 1) beats
    any three sides of the square (3 × 1.5).

    >>> import numpy as np, scipy.sparse as sp
    >>> u = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    >>> v = np.array([1, 2, 3, 0, 4, 4, 4, 4])
    >>> w = np.array([1.5, 1.5, 1.5, 1.5, 1.0, 1.0, 1.0, 1.0])
    >>> m = sp.coo_array((w, (u, v)), shape=(5, 5)).tocsr()
    >>> sol = steiner_tree_csr(m + m.T, [0, 1, 2, 3])
    >>> sol.cost, sol.nodes.tolist()
    (4.0, [0, 1, 2, 3, 4])
    """
    _ensure_compiled()
    t0 = time.perf_counter()
    g = _as_graph(matrix)
    terms = _as_terminals(terminals, g.n)
    if terms.size == 1:
        return _empty(terms, t0)
    small = g.n <= multistart_max_nodes
    deadline = math.inf if time_budget_s is None else t0 + time_budget_s
    if max_starts is None:
        max_starts = (
            min(MAX_STARTS, max(MIN_STARTS, START_WORK // terms.size))
            if time_budget_s is None
            else sys.maxsize
        )
    is_term = np.zeros(g.n, np.bool_)
    is_term[terms] = True
    work = _Work.for_nodes(g.n)

    *start, joined = _k.mehlhorn(g.indptr, g.indices, g.weights, terms, is_term, work.loc)
    if not joined:
        _raise_unreachable(g, terms)
    tree: _Tree = (start[0], start[1], start[2])
    mehlhorn_cost = _cost(tree)
    best, passes = _local_search(g, is_term, tree, work, deadline, large=not small)
    best_cost = _cost(best)
    starts = 1
    best_start = 0
    if small and terms.size > 2:
        rng = np.random.default_rng(seed)
        restarts = _restarts(g, is_term, terms, rng, work, deadline)
        try:
            while (
                starts < max_starts
                and time.perf_counter() < deadline
                and starts - best_start <= STAGNATION_STARTS
            ):
                tree, p = restarts.next(ahead=starts + 1 < max_starts)
                passes += p
                cost = _cost(tree)
                if cost < best_cost - 1e-9 * max(1.0, best_cost):
                    best, best_cost, best_start = tree, cost, starts
                starts += 1
        finally:
            restarts.close()
    stats = {
        "mehlhorn_cost": mehlhorn_cost,
        "starts": starts,
        "best_start": best_start,
        "passes": passes,
        "seconds": time.perf_counter() - t0,
    }
    log.debug("steiner: %d terminals, cost %.6g, %s", terms.size, best_cost, stats)
    return _solution(best, terms, stats, g.n)


def _to_csr(
    graph: nx.Graph, weight: str
) -> tuple[sp.csr_array, list[Hashable], dict[Hashable, int]]:
    if graph.is_directed():
        raise ValueError("graph must be undirected; use graph.to_undirected()")
    labels = list(graph.nodes)
    index = {node: i for i, node in enumerate(labels)}
    best: dict[tuple[int, int], float] = {}
    for a, b, data in graph.edges(data=True):
        i, j = index[a], index[b]
        if i == j:
            continue
        key = (i, j) if i < j else (j, i)
        wt = float(data.get(weight, 1.0))
        if key not in best or wt < best[key]:
            best[key] = wt
    n = len(labels)
    if best:
        ij = np.array(list(best.keys()), dtype=np.int64)
        wv = np.array(list(best.values()), dtype=np.float64)
        rows = np.concatenate([ij[:, 0], ij[:, 1]])
        cols = np.concatenate([ij[:, 1], ij[:, 0]])
        m = sp.csr_array((np.concatenate([wv, wv]), (rows, cols)), shape=(n, n))
    else:
        m = sp.csr_array((n, n), dtype=np.float64)
    return m, labels, index


def steiner_tree(
    graph: nx.Graph,
    terminals: Iterable[Hashable],
    weight: str = "weight",
    **kw: Any,
) -> nx.Graph:
    """Near-optimal Steiner tree of a networkx graph; wraps :func:`steiner_tree_csr`.

    Parameters
    ----------
    graph
        Undirected graph (multigraphs use the lightest of parallel edges). Edges without
        the ``weight`` attribute weigh 1.
    terminals
        Node labels to connect.
    weight
        Edge attribute holding the non-negative weight.
    **kw
        Passed to :func:`steiner_tree_csr` (``time_budget_s``, ``seed``, ...).

    Returns
    -------
    networkx.Graph
        The tree: the chosen nodes and edges with their original attributes (for a
        multigraph, those of the lightest parallel edge). ``tree.graph["cost"]`` is its
        total weight.

    Raises
    ------
    ValueError
        If a terminal is not in the graph or cannot be reached, as in
        :func:`steiner_tree_csr`.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.star_graph(3)  # hub 0, leaves 1..3
    >>> sorted(steiner_tree(g, [1, 2, 3]).edges)
    [(0, 1), (0, 2), (0, 3)]
    """
    m, labels, index = _to_csr(graph, weight)
    terms = list(terminals)
    missing = [t for t in terms if t not in index]
    if missing:
        raise ValueError(f"terminals not in the graph: {missing[:10]}")
    try:
        sol = steiner_tree_csr(m, np.array([index[t] for t in terms], dtype=np.int64), **kw)
    except UnreachableTerminalsError as err:
        lost = [labels[i] for i in err.terminals]
        raise UnreachableTerminalsError(labels[err.reference], lost) from None
    tree = nx.Graph()
    tree.graph["cost"] = sol.cost
    for i in sol.nodes:
        tree.add_node(labels[i], **graph.nodes[labels[i]])
    for (i, j), wt in zip(sol.edges, sol.weights, strict=True):
        a, b = labels[i], labels[j]
        data = graph.get_edge_data(a, b)
        if graph.is_multigraph():
            data = min(data.values(), key=lambda d: float(d.get(weight, 1.0)))
        tree.add_edge(a, b, **data)
        if weight not in data:
            tree.edges[a, b][weight] = float(wt)
    return tree


def two_edge_connect(matrix: Any, tree_edges: np.ndarray | Iterable[tuple[int, int]]) -> np.ndarray:
    """Add cheap paths to a backbone until every edge lies on a cycle (a "ring").

    A heuristic for the 2-edge-connected augmentation problem (NP-hard). While the
    subgraph has a bridge, take one (pendant edges first, as covering a leaf's edge tends
    to cover a whole branch), and add the cheapest path between the two sides of that
    bridge that avoids it, where edges already in the subgraph cost nothing. Each added
    path closes a cycle through the bridge and usually through several others. Bridges of
    the graph itself cannot be covered and stay.

    Each step finds the subgraph's bridges with one compiled depth-first search (linear in
    the subgraph, :mod:`planner.search._bridges`) and runs one Dijkstra over the whole
    graph, so this suits backbones of up to a few thousand edges on graphs of up to about
    a million edges. Ties (equal-cost ways round, equal bridges) are broken by the order
    in which nodes and edges joined the subgraph, so the same input gives the same ring.

    Parameters
    ----------
    matrix
        The graph, as for :func:`steiner_tree_csr`.
    tree_edges
        ``(k, 2)`` node index pairs of the backbone, e.g. ``SteinerSolution.edges``; each
        must be an edge of ``matrix``.

    Returns
    -------
    numpy.ndarray
        ``(k', 2)`` int64 node pairs ``u < v``, sorted: the backbone's edges plus the
        added ones. It is 2-edge-connected whenever the graph allows it.

    Raises
    ------
    ValueError
        If a backbone edge is not an edge of the graph.

    Examples
    --------
    A path 0-1-2 on a triangle gets the closing edge 0-2:

    >>> import numpy as np, scipy.sparse as sp
    >>> m = sp.csr_array(np.array([[0, 1, 5], [1, 0, 1], [5, 1, 0]], dtype=float))
    >>> two_edge_connect(m, np.array([[0, 1], [1, 2]])).tolist()
    [[0, 1], [0, 2], [1, 2]]
    """
    from scipy.sparse.csgraph import dijkstra

    g = _as_graph(matrix)
    pairs = np.asarray(tree_edges, dtype=np.int64).reshape(-1, 2)

    def arc(x: int, y: int) -> int:
        lo, hi = g.indptr[x], g.indptr[x + 1]
        hit = np.flatnonzero(g.indices[lo:hi] == y)
        if hit.size == 0:
            raise ValueError(f"backbone edge ({x}, {y}) is not an edge of the graph")
        return int(lo + hit[0])

    # The subgraph twice over: as arrays for the bridge search (its nodes numbered in the
    # order they joined, its edges in the order they were added), and as a networkx graph
    # whose node order and adjacency order decide ties exactly as they always have (which
    # far side node a path ends at, the order of the Dijkstra sources).
    sub = nx.Graph()
    local: dict[int, int] = {}
    node = np.empty(g.n, np.int64)  # node[i]: the graph node numbered i in the subgraph
    capacity = g.indices.size // 2 + len(pairs)
    eu, ev = np.empty(capacity, np.int64), np.empty(capacity, np.int64)
    degree = np.zeros(g.n, np.int64)
    stuck = np.zeros(capacity, np.bool_)
    weights = g.weights.copy()  # edges in the subgraph cost nothing
    size = 0  # edges in the subgraph (networkx would count them by summing degrees)

    def add(x: int, y: int) -> None:
        nonlocal size
        for z in (x, y):
            if z not in local:
                local[z] = len(local)
                node[local[z]] = z
        eu[size], ev[size] = local[x], local[y]
        size += 1
        sub.add_edge(x, y)
        degree[x] += 1
        degree[y] += 1
        weights[arc(x, y)] = weights[arc(y, x)] = 0.0

    for x, y in pairs.tolist():
        if x != y and not sub.has_edge(x, y):
            add(x, y)
    while True:
        k = len(local)
        found, near, far = bridges(k, eu[:size], ev[:size])
        open_ = np.flatnonzero(found & ~stuck[:size])
        if not open_.size:
            break
        a, b = node[eu[open_]], node[ev[open_]]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        # pendant bridges first, then by their ends
        inner = np.minimum(degree[a], degree[b]) != 1
        pick = int(open_[np.lexsort((hi, lo, inner))[0]])
        u, v, u_side = int(node[eu[pick]]), int(node[ev[pick]]), int(near[pick])
        if u > v:
            u, v, u_side = v, u, int(far[pick])
        # the smaller side (u's unless it has more than half the nodes) as a set built by
        # networkx's search, whose order is the order of the Dijkstra sources
        sub.remove_edge(u, v)
        side = nx.node_connected_component(sub, u if 2 * u_side <= k else v)
        sub.add_edge(u, v)
        # the graph without the bridge's two arcs
        cut = sorted((arc(u, v), arc(v, u)))
        indptr = g.indptr - np.searchsorted(cut, g.indptr, side="left")
        graph = sp.csr_array(
            (np.delete(weights, cut), np.delete(g.indices, cut), indptr), shape=(g.n, g.n)
        )
        sources = np.fromiter(side, dtype=np.int64)
        dist, pred, _ = dijkstra(graph, indices=sources, min_only=True, return_predecessors=True)
        in_side = np.zeros(g.n, np.bool_)
        in_side[sources] = True
        others = node[:k][~in_side[node[:k]]]
        target = int(others[np.argmin(dist[others])])
        if not np.isfinite(dist[target]):
            stuck[pick] = True
            continue
        x = target
        while not in_side[x]:
            p = int(pred[x])
            if not sub.has_edge(x, p):
                add(x, p)
            x = p
    a, b = node[eu[:size]], node[ev[:size]]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((hi, lo))
    return np.column_stack([lo[order], hi[order]]).astype(np.int64).reshape(-1, 2)
