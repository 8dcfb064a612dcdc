"""Rings: the least-cost subgraph in which every two terminals have two edge-disjoint paths.

A ring backbone survives any single cut: it is a *2-edge-connected* subgraph spanning the
terminals (the minimum-cost version is NP-hard; it contains the Steiner tree problem's
difficulty and the travelling salesman's). Where the graph itself leaves a terminal only
one way in (a town at the end of a single road, a bridge of the graph), that pair needs
only one path: the requirement between two terminals is ``min(2, λ)``, with ``λ`` their
edge connectivity in the whole graph.

How :func:`ring_subgraph` finds a near-optimal one (every start is improved by the same
local search, the cheapest result wins):

- starts: the Steiner tree closed by covering each of its bridges with the cheapest path
  around it (:func:`planner.search.steiner.two_edge_connect`); a tour of the terminals (nearest
  neighbour then 2-opt on shortest-path distances) whose legs are routed one after the
  other on edges not yet used; and trees and tours on randomly perturbed weights;
- local search: *pruning* (drop a key path, a chain between terminals or junctions, while
  the rest still meets every requirement) and *key-path exchange* (replace a key path by
  the cheapest path between its ends that avoids the rest, when that is cheaper and keeps
  the requirements), repeated until neither improves.

The search is bounded by work (a fixed number of starts), never by the clock, so the same
input gives the same ring. ``bench/ring.py`` measures the gap to exact optima computed by
integer programming (HiGHS): see its table.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from planner.search._bridges import bridges

Edge = tuple[int, int]

#: Randomised starts after the two deterministic ones (tree, tour), on rings of up to
#: ``MANY_TERMINALS`` terminals; larger ones (a national ring of 230 sites) get the closed
#: tree alone, without the local search, whose work grows with terminals x key paths x
#: bridges.
RANDOM_STARTS = 6
MANY_TERMINALS = 60
#: Weight perturbation of the randomised starts: each weight times U(1, 1 + NOISE).
NOISE = 0.3


@dataclass(frozen=True)
class RingSolution:
    """A subgraph meeting every terminal pair's requirement ``min(2, λ)``.

    Attributes
    ----------
    edges
        ``(k, 2)`` int64 node pairs ``u < v``, sorted.
    cost
        Sum of their weights.
    stats
        ``starts``, the cost each start reached (``start_costs``) and which won.
    """

    edges: np.ndarray
    cost: float
    stats: dict[str, Any] = field(default_factory=dict)


class _Problem:
    """The graph, its weights and the terminals' requirements."""

    def __init__(self, matrix: Any, terminals: Iterable[int]) -> None:
        m = sp.csr_array(matrix)
        m = sp.csr_array(m.minimum(m.T)) if (m != m.T).nnz else m  # symmetric, cheapest
        coo = sp.triu(m, k=1).tocoo()
        self.n = m.shape[0]
        self.weight: dict[Edge, float] = {
            (int(u), int(v)): float(w) for u, v, w in zip(coo.row, coo.col, coo.data, strict=True)
        }
        self.terminals = sorted({int(t) for t in terminals})
        self.is_terminal = set(self.terminals)
        # the graph's bridges (compiled search) and its 2-edge-connected blocks: terminals
        # in one block of the graph need two disjoint paths
        pairs = np.array(list(self.weight), dtype=np.int64).reshape(-1, 2)
        us, vs = pairs[:, 0].copy(), pairs[:, 1].copy()
        found, _, _ = bridges(self.n, us, vs)
        self.graph_bridges = {(int(u), int(v)) for u, v in zip(us[found], vs[found], strict=True)}
        _, block = _components(self.n, us[~found], vs[~found])
        self.block = {t: int(block[t]) for t in self.terminals}
        _, component = _components(self.n, us, vs)
        missing = [t for t in self.terminals if component[t] != component[self.terminals[0]]]
        if missing:
            raise ValueError(
                f"terminals {missing} cannot be reached from terminal {self.terminals[0]}"
            )
        self.edges = list(self.weight)
        self.edge_id = {e: i for i, e in enumerate(self.edges)}
        ends = np.array(self.edges, dtype=np.int64).reshape(-1, 2)
        self.rows = np.concatenate([ends[:, 0], ends[:, 1]])
        self.cols = np.concatenate([ends[:, 1], ends[:, 0]])
        w = np.array([self.weight[e] for e in self.edges], dtype=np.float64)
        self.data = np.concatenate([w, w])
        self.entry_edge = np.concatenate([np.arange(len(self.edges))] * 2)

    def cost(self, edges: Iterable[Edge]) -> float:
        return float(sum(self.weight[e] for e in edges))

    def matrix_without(self, banned: set[Edge], weights: np.ndarray | None = None) -> sp.csr_array:
        """The graph with ``banned`` edges removed (optionally other weights)."""
        data = self.data if weights is None else weights
        if not banned:
            return sp.csr_array((data, (self.rows, self.cols)), shape=(self.n, self.n))
        keep = ~np.isin(self.entry_edge, [self.edge_id[e] for e in banned])
        return sp.csr_array(
            (data[keep], (self.rows[keep], self.cols[keep])), shape=(self.n, self.n)
        )

    def feasible(self, edges: set[Edge]) -> bool:
        """Whether ``edges`` meet every terminal pair's requirement."""
        sub = nx.Graph(list(edges))
        if any(t not in sub for t in self.terminals) and len(self.terminals) > 1:
            return False
        if len(self.terminals) <= 1:
            return True
        if not all(
            t in nx.node_connected_component(sub, self.terminals[0]) for t in self.terminals
        ):
            return False
        for u, v in nx.bridges(sub):
            if _key(u, v) in self.graph_bridges:
                continue
            sub.remove_edge(u, v)
            side = nx.node_connected_component(sub, u)
            sub.add_edge(u, v)
            inside = {self.block[t] for t in self.terminals if t in side}
            outside = {self.block[t] for t in self.terminals if t not in side}
            if inside & outside:
                return False
        return True


def _components(n: int, us: np.ndarray, vs: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of the graph on nodes ``0..n-1`` with edges ``us``-``vs``."""
    adjacency = sp.coo_array((np.ones(us.size), (us, vs)), shape=(n, n))
    count, labels = connected_components(adjacency, directed=False)
    return int(count), labels


def _key(u: int, v: int) -> Edge:
    return (u, v) if u < v else (v, u)


def _path_edges(pred: np.ndarray, source: int, target: int) -> list[Edge] | None:
    if source == target:
        return []
    edges = []
    node = target
    while node != source:
        previous = int(pred[node])
        if previous < 0:
            return None
        edges.append(_key(previous, node))
        node = previous
    return edges


# ------------------------------------------------------------------------- local search


def _key_paths(problem: _Problem, edges: set[Edge]) -> list[list[Edge]]:
    """Maximal chains of ``edges`` whose inner nodes are degree-2 non-terminals."""
    sub = nx.Graph(list(edges))

    def is_key(node: int) -> bool:
        return node in problem.is_terminal or sub.degree[node] != 2

    paths: list[list[Edge]] = []
    seen: set[Edge] = set()
    for start in sorted(sub.nodes):
        if not is_key(start):
            continue
        for nxt in sorted(sub.neighbors(start)):
            first = _key(start, nxt)
            if first in seen:
                continue
            path = [first]
            seen.add(first)
            previous, node = start, nxt
            while not is_key(node):
                (after,) = [x for x in sub.neighbors(node) if x != previous]
                edge = _key(node, after)
                path.append(edge)
                seen.add(edge)
                previous, node = node, after
            paths.append(path)
    return paths


def _ends(path: list[Edge]) -> tuple[int, int]:
    """The two end nodes of a chain of edges."""
    count: dict[int, int] = {}
    for u, v in path:
        count[u] = count.get(u, 0) + 1
        count[v] = count.get(v, 0) + 1
    ends = sorted(node for node, c in count.items() if c % 2 == 1)
    if len(ends) == 2:
        return ends[0], ends[1]
    node = path[0][0]
    return node, node  # a closed loop through one key node


def _prune(problem: _Problem, edges: set[Edge]) -> set[Edge]:
    """Drop key paths (dearest first) while the rest still meets the requirements."""
    edges = set(edges)
    # parts with no terminal serve nothing
    sub = nx.Graph(list(edges))
    if problem.terminals:
        keep = (
            nx.node_connected_component(sub, problem.terminals[0])
            if problem.terminals[0] in sub
            else set()
        )
        edges = {e for e in edges if e[0] in keep}
    improved = True
    while improved:  # rounds over the key paths, dearest first, until a round drops none
        improved = False
        paths = sorted(_key_paths(problem, edges), key=lambda p: -problem.cost(p))
        for path in paths:
            if not set(path) <= edges:
                continue
            trial = edges - set(path)
            if problem.feasible(trial):
                edges = trial
                improved = True
    return edges


def _exchange(problem: _Problem, edges: set[Edge]) -> set[Edge]:
    """Replace key paths by cheaper paths between their ends that avoid the rest."""
    improved = True
    while improved:  # rounds over the key paths, dearest first, until a round finds none
        improved = False
        for path in sorted(_key_paths(problem, edges), key=lambda p: -problem.cost(p)):
            a, b = _ends(path)
            if a == b or not set(path) <= edges:
                continue
            rest = edges - set(path)
            dist, pred = dijkstra(problem.matrix_without(rest), indices=a, return_predecessors=True)
            if not math.isfinite(dist[b]) or dist[b] >= problem.cost(path) * (1 - 1e-9):
                continue
            route = _path_edges(pred, a, b)
            if route is None:
                continue
            trial = rest | set(route)
            if problem.feasible(trial):
                edges = trial
                improved = True
        if improved:
            edges = _prune(problem, edges)
    return edges


def _improve(problem: _Problem, edges: set[Edge]) -> set[Edge]:
    best = _prune(problem, edges)
    while True:
        better = _exchange(problem, best)
        if problem.cost(better) >= problem.cost(best) - 1e-9:
            return best
        best = better


# ------------------------------------------------------------------------------ starts


def _from_tree(problem: _Problem, weights: np.ndarray | None, seed: int) -> set[Edge]:
    from planner.search.steiner import steiner_tree_csr, two_edge_connect

    matrix = problem.matrix_without(set(), weights)
    if len(problem.terminals) < 2:
        return set()
    tree = steiner_tree_csr(matrix, problem.terminals, seed=seed, max_starts=1)
    ringed = two_edge_connect(matrix, tree.edges)
    return {_key(int(u), int(v)) for u, v in ringed.tolist()}


def _from_tour(problem: _Problem, weights: np.ndarray | None) -> set[Edge]:
    """Route a short tour of the terminals leg by leg on edges not used yet, then repair."""
    from planner.search.steiner import two_edge_connect

    terms = problem.terminals
    if len(terms) < 2:
        return set()
    matrix = problem.matrix_without(set(), weights)
    dist = dijkstra(matrix, indices=terms)[:, terms]
    order = _tour(dist)
    used: set[Edge] = set()
    for i in range(len(order)):
        a, b = terms[order[i]], terms[order[(i + 1) % len(order)]]
        # each leg avoids the edges of the legs before it (with two terminals, the way
        # back avoids the way there)
        d, pred = dijkstra(
            problem.matrix_without(used, weights), indices=a, return_predecessors=True
        )
        route = _path_edges(pred, a, b) if math.isfinite(d[b]) else None
        if route is None:
            d, pred = dijkstra(matrix, indices=a, return_predecessors=True)
            route = _path_edges(pred, a, b) or []
        used |= set(route)
    pairs = np.array(sorted(used), dtype=np.int64).reshape(-1, 2)
    ringed = two_edge_connect(matrix, pairs)
    return {_key(int(u), int(v)) for u, v in ringed.tolist()}


def _tour(dist: np.ndarray) -> list[int]:
    """Nearest-neighbour tour improved by 2-opt on a distance matrix."""
    k = dist.shape[0]
    finite = np.where(np.isfinite(dist), dist, 1e18)
    order = [0]
    left = set(range(1, k))
    while left:
        last = order[-1]
        nxt = min(left, key=lambda j: (finite[last, j], j))
        order.append(nxt)
        left.remove(nxt)
    improved = True
    while improved and k > 3:
        improved = False
        for i, j in itertools.combinations(range(k), 2):
            if j - i < 2 or (i == 0 and j == k - 1):
                continue
            a, b, c, d = order[i], order[i + 1], order[j], order[(j + 1) % k]
            if finite[a, c] + finite[b, d] < finite[a, b] + finite[c, d] - 1e-9:
                order[i + 1 : j + 1] = reversed(order[i + 1 : j + 1])
                improved = True
    return order


def ring_subgraph(
    matrix: Any,
    terminals: Sequence[int] | np.ndarray,
    *,
    tree_edges: np.ndarray | None = None,
    seed: int = 0,
    random_starts: int | None = None,
) -> RingSolution:
    """A near-optimal least-cost subgraph giving every two terminals two disjoint paths.

    Parameters
    ----------
    matrix
        Symmetric scipy sparse matrix of edge weights (as for
        :func:`planner.search.steiner.steiner_tree_csr`).
    terminals
        Node indices to join.
    tree_edges
        A Steiner tree over the terminals to start from (else one is computed).
    seed
        Seed of the randomised starts.
    random_starts
        How many starts on perturbed weights follow the tree and tour starts; default
        :data:`RANDOM_STARTS`, or none (no tour and no local search) above
        :data:`MANY_TERMINALS` terminals.

    Returns
    -------
    RingSolution

    Raises
    ------
    ValueError
        When some terminals cannot be reached from the others.

    Examples
    --------
    A square 0-1-2-3 with a diagonal 0-2: the ring over 0, 1 and 2 is the triangle
    0-1-2 (cost 1 + 1 + 1.2), not the square (4).

    >>> import numpy as np, scipy.sparse as sp
    >>> u, v = np.array([0, 1, 2, 3, 0]), np.array([1, 2, 3, 0, 2])
    >>> w = np.array([1.0, 1.0, 1.0, 1.0, 1.2])
    >>> m = sp.coo_array((w, (u, v)), shape=(4, 4)).tocsr()
    >>> ring = ring_subgraph(m + m.T, [0, 1, 2])
    >>> ring.edges.tolist(), round(ring.cost, 6)
    ([[0, 1], [0, 2], [1, 2]], 3.2)
    """
    problem = _Problem(matrix, terminals)
    if len(problem.terminals) < 2:
        return RingSolution(np.empty((0, 2), np.int64), 0.0, {"starts": 0})
    many = len(problem.terminals) > MANY_TERMINALS
    if random_starts is None:
        random_starts = 0 if many else RANDOM_STARTS
    starts: list[set[Edge]] = []
    if tree_edges is not None:
        from planner.search.steiner import two_edge_connect

        closed = two_edge_connect(problem.matrix_without(set()), tree_edges)
        starts.append({_key(int(u), int(v)) for u, v in closed.tolist()})
    else:
        starts.append(_from_tree(problem, None, seed))
    if not many:
        starts.append(_from_tour(problem, None))
    rng = np.random.default_rng(seed)
    best: set[Edge] | None = None
    costs: list[float] = []
    for i in itertools.count():
        if i < len(starts):
            start = starts[i]
        elif i < len(starts) + random_starts:
            # one factor per edge, the same in both directions
            factor = rng.uniform(1.0, 1.0 + NOISE, len(problem.edges))
            noisy = problem.data * factor[problem.entry_edge]
            start = (
                _from_tree(problem, noisy, seed + i) if i % 2 == 0 else _from_tour(problem, noisy)
            )
        else:
            break
        # above MANY_TERMINALS the closed tree is kept as it is: each feasibility check of
        # the local search walks every bridge of the ring, and the 231-terminal national
        # ring (scenario rnei) spent over ten minutes there
        found = start if many else _improve(problem, start)
        costs.append(problem.cost(found))
        if best is None or costs[-1] < problem.cost(best) - 1e-9:
            best = found
    assert best is not None
    edges = np.array(sorted(best), dtype=np.int64).reshape(-1, 2)
    return RingSolution(
        edges,
        problem.cost(best),
        {"starts": len(costs), "start_costs": costs, "best_start": costs.index(min(costs))},
    )


# ------------------------------------------------------------------------------- exact


def exact_ring(
    matrix: Any, terminals: Sequence[int] | np.ndarray, *, time_limit_s: float = 120.0
) -> RingSolution:
    """The least-cost ring, proven optimal by integer programming (for small graphs).

    One 0/1 variable per edge; for every set ``S`` of nodes with terminals on both sides,
    the edges leaving ``S`` must number at least the largest requirement of a pair it
    separates (the cut formulation). Cuts are added as they are found: solve with HiGHS
    (``scipy.optimize.milp``), look for a violated cut in the integer solution (a terminal
    component of the chosen edges, or a side of one of their bridges), add it, repeat
    until there is none; the last solution is then optimal.

    Raises
    ------
    RuntimeError
        When HiGHS stops without a proven optimum within ``time_limit_s``.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    problem = _Problem(matrix, terminals)
    if len(problem.terminals) < 2:
        return RingSolution(np.empty((0, 2), np.int64), 0.0, {"cuts": 0})
    costs = np.array([problem.weight[e] for e in problem.edges])
    rows: list[np.ndarray] = []
    rhs: list[float] = []

    def add_cut(side: set[int]) -> None:
        inside = {problem.block[t] for t in problem.terminals if t in side}
        outside = {problem.block[t] for t in problem.terminals if t not in side}
        need = 2.0 if inside & outside else 1.0
        crossing = [i for i, (u, v) in enumerate(problem.edges) if (u in side) != (v in side)]
        row = np.zeros(len(problem.edges))
        row[crossing] = 1.0
        rows.append(row)
        rhs.append(min(need, float(len(crossing))))

    for t in problem.terminals:
        add_cut({t})
    # the linear relaxation first: violated cuts of fractional solutions, found by minimum
    # cuts between terminal pairs on the edges' values, make the integer rounds few
    from scipy.optimize import linprog

    root = problem.terminals[0]
    for _ in range(200):
        relaxed = linprog(
            costs, A_ub=-np.array(rows), b_ub=-np.array(rhs), bounds=(0, 1), method="highs"
        )
        if relaxed.status != 0:
            break
        support = nx.Graph()
        support.add_nodes_from(range(problem.n))
        for i in np.flatnonzero(relaxed.x > 1e-9):
            u, v = problem.edges[i]
            support.add_edge(u, v, capacity=float(relaxed.x[i]))
        before = len(rows)
        for t in problem.terminals[1:]:
            need = 2.0 if problem.block[t] == problem.block[root] else 1.0
            value, (side, _) = nx.minimum_cut(support, root, t)
            if value < need - 1e-6:
                add_cut(set(side))
        if len(rows) == before:
            break
    iterations = 0
    while True:
        iterations += 1
        result = milp(
            costs,
            constraints=[LinearConstraint(np.array(rows), np.array(rhs), np.inf)],
            integrality=np.ones(len(costs)),
            bounds=Bounds(0, 1),
            options={"time_limit": time_limit_s},
        )
        if result.status != 0 or result.x is None:
            raise RuntimeError(f"HiGHS found no proven optimum: {result.message}")
        chosen = {problem.edges[i] for i in np.flatnonzero(result.x > 0.5)}
        sub = nx.Graph(list(chosen))
        sub.add_nodes_from(problem.terminals)
        before = len(rows)
        components = list(nx.connected_components(sub))
        if len(components) > 1:
            for component in components:
                if component & problem.is_terminal:
                    add_cut(set(component))
        else:
            for u, v in nx.bridges(sub):
                if _key(u, v) in problem.graph_bridges:
                    continue
                sub.remove_edge(u, v)
                side = set(nx.node_connected_component(sub, u))
                sub.add_edge(u, v)
                inside = {problem.block[t] for t in problem.terminals if t in side}
                outside = {problem.block[t] for t in problem.terminals if t not in side}
                if inside & outside:
                    add_cut(side)
        if len(rows) == before:
            edges = np.array(sorted(chosen), dtype=np.int64).reshape(-1, 2)
            return RingSolution(
                edges, problem.cost(chosen), {"cuts": len(rows), "iterations": iterations}
            )
