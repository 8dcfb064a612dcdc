"""Closing a backbone into rings: the compiled bridge search and the closing steps on it.

:func:`planner.search.steiner.two_edge_connect` finds the subgraph's bridges with the
compiled search of :mod:`planner.search._bridges`; it must close every backbone exactly as
the networkx version did (``tests/planner/nx_reference.py``), tie for tie, and the bridge
search must agree with networkx and with bridges found by hand.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from planner.search._bridges import bridges
from planner.search.ring import _Problem
from planner.search.steiner import steiner_tree_csr, two_edge_connect
from tests.planner.nx_reference import nx_two_edge_connect


def edge_arrays(edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    u = np.array([a for a, _ in edges], dtype=np.int64)
    v = np.array([b for _, b in edges], dtype=np.int64)
    return u, v


def matrix(n: int, edges: dict[tuple[int, int], float]) -> sp.csr_array:
    u, v = edge_arrays(list(edges))
    w = np.array(list(edges.values()), dtype=np.float64)
    return sp.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))


# ------------------------------------------------------------------------ bridge search


def test_a_cycle_with_a_tail_has_the_tail_as_its_only_bridges() -> None:
    # square 0-1-2-3 with a tail 3-4-5: the two tail edges are bridges; cutting 3-4 leaves
    # the square (4 nodes) on 3's side and 4, 5 on the other; cutting 4-5 leaves 5 alone
    edges = [(0, 1), (1, 2), (2, 3), (3, 0), (3, 4), (4, 5)]
    found, near, far = bridges(6, *edge_arrays(edges))
    assert found.tolist() == [False, False, False, False, True, True]
    assert (near[4], far[4]) == (4, 2)
    assert (near[5], far[5]) == (5, 1)
    assert near[:4].tolist() == far[:4].tolist() == [0, 0, 0, 0]


def test_every_edge_of_a_path_is_a_bridge_and_sides_count_from_either_end() -> None:
    # path 0-1-2-3-4, its edges listed backwards and with ends swapped
    edges = [(4, 3), (2, 3), (1, 2), (1, 0)]
    found, near, far = bridges(5, *edge_arrays(edges))
    assert found.all()
    assert near.tolist() == [1, 3, 2, 4]  # the nodes left joined to the first end listed
    assert far.tolist() == [4, 2, 3, 1]


def test_parallel_edges_are_never_bridges_and_components_are_counted_apart() -> None:
    # a doubled edge 0-1 joined by 1-2 to a node; a separate edge 3-4; node 5 alone
    edges = [(0, 1), (1, 0), (1, 2), (3, 4)]
    found, near, far = bridges(6, *edge_arrays(edges))
    assert found.tolist() == [False, False, True, True]
    assert (near[2], far[2]) == (2, 1)
    assert (near[3], far[3]) == (1, 1)


def test_a_graph_with_no_edges_has_no_bridges() -> None:
    found, near, far = bridges(3, np.empty(0, np.int64), np.empty(0, np.int64))
    assert found.shape == near.shape == far.shape == (0,)


@pytest.mark.parametrize("seed", range(40))
def test_bridges_and_their_sides_match_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    # sparse random graphs have many bridges; a few cycles and components as well
    g = nx.gnm_random_graph(n, int(rng.integers(0, 2 * n)), seed=seed)
    edges = [(a, b) if rng.random() < 0.5 else (b, a) for a, b in g.edges]
    found, near, far = bridges(n, *edge_arrays(edges))
    expected = {frozenset(e) for e in nx.bridges(g)}
    assert {frozenset(e) for e, hit in zip(edges, found, strict=True) if hit} == expected
    for (a, b), hit, left, right in zip(edges, found, near, far, strict=True):
        if hit:
            g.remove_edge(a, b)
            assert left == len(nx.node_connected_component(g, a))
            assert right == len(nx.node_connected_component(g, b))
            g.add_edge(a, b)


def test_a_long_path_is_searched_without_recursion() -> None:
    n = 200_000
    u = np.arange(n - 1, dtype=np.int64)
    found, near, far = bridges(n, u, u + 1)
    assert found.all()
    assert near[n // 2 - 1] == far[n // 2 - 1] == n // 2


# ---------------------------------------------------------------------- closing steps


def test_a_path_on_a_cycle_is_closed_into_the_whole_cycle() -> None:
    # cycle 0-1-...-5 (weights 1..6) with the backbone 0-1-2-3: the only way round from
    # either end of the path is the rest of the cycle, 3-4-5-0
    cycle = {(i, (i + 1) % 6): float(i + 1) for i in range(6)}
    closed = two_edge_connect(matrix(6, cycle), np.array([[0, 1], [1, 2], [2, 3]]))
    assert closed.tolist() == [[0, 1], [0, 5], [1, 2], [2, 3], [3, 4], [4, 5]]


def test_a_star_is_closed_leaf_by_leaf_with_the_cheapest_rim_edges() -> None:
    # hub 0 with spokes to 1, 2, 3, 4 (the backbone); rim 1-2 (2), 2-3 (9), 3-4 (2),
    # 4-1 (9). Pendant bridges in order: 0-1 is closed by its cheapest way round, rim
    # 1-2, which covers 0-2 as well; then 0-3 by 3-4, covering 0-4. The dear rim edges
    # stay out.
    edges = {(0, 1): 1.0, (0, 2): 1.0, (0, 3): 1.0, (0, 4): 1.0}
    edges |= {(1, 2): 2.0, (2, 3): 9.0, (3, 4): 2.0, (1, 4): 9.0}
    closed = two_edge_connect(matrix(5, edges), np.array([[0, 1], [0, 2], [0, 3], [0, 4]]))
    assert closed.tolist() == [[0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [3, 4]]


def test_a_backbone_with_no_edges_stays_empty() -> None:
    closed = two_edge_connect(matrix(3, {(0, 1): 1.0}), np.empty((0, 2), np.int64))
    assert closed.shape == (0, 2) and closed.dtype == np.int64


def random_case(seed: int) -> tuple[sp.csr_array, np.ndarray]:
    """A random graph with small integer weights (many ties) and a backbone in it.

    The backbone is a Steiner tree, a random spanning forest of part of the graph, or a
    random set of its edges (cycles, several components and repeated edges included).
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 45))
    g = nx.gnm_random_graph(n, int(rng.integers(n, 4 * n)), seed=seed)
    weights = {e: float(rng.integers(0 if seed % 7 == 0 else 1, 6)) for e in g.edges}
    m = matrix(n, weights)
    kind = seed % 3
    if kind == 0:
        component = max(nx.connected_components(g), key=len)
        size = min(len(component), int(rng.integers(2, 9)))
        terminals = rng.choice(sorted(component), size, replace=False)
        pairs = steiner_tree_csr(m, terminals).edges
    elif kind == 1:
        order = [tuple(map(int, e)) for e in rng.permutation(np.array(g.edges))]
        forest = nx.Graph()
        for a, b in order:  # a random spanning forest, then part of it
            if a not in forest or b not in forest or not nx.has_path(forest, a, b):
                forest.add_edge(a, b)
        kept = [e for e in forest.edges if rng.random() < 0.8]
        pairs = np.array(kept, dtype=np.int64).reshape(-1, 2)
    else:
        chosen = [e for e in g.edges if rng.random() < 0.3]
        chosen += chosen[:2]  # an edge given twice counts once
        pairs = np.array([(b, a) if rng.random() < 0.5 else (a, b) for a, b in chosen])
        pairs = pairs.astype(np.int64).reshape(-1, 2)
    return m, pairs


@pytest.mark.parametrize("seed", range(150))
def test_closing_matches_the_networkx_steps_edge_for_edge(seed: int) -> None:
    m, pairs = random_case(seed)
    expected = nx_two_edge_connect(m, pairs)
    closed = two_edge_connect(m, pairs)
    assert closed.dtype == np.int64
    assert closed.tolist() == expected.tolist()


def test_closing_a_large_tree_matches_the_networkx_steps() -> None:
    # a 30 x 30 grid with weights 1-3 and a Steiner tree over 25 of its nodes: hundreds of
    # closing steps, each with many equal-cost ways round
    rng = np.random.default_rng(5)
    g = nx.convert_node_labels_to_integers(nx.grid_2d_graph(30, 30))
    m = matrix(900, {e: float(rng.integers(1, 4)) for e in g.edges})
    tree = steiner_tree_csr(m, rng.choice(900, 25, replace=False))
    closed = two_edge_connect(m, tree.edges)
    assert closed.tolist() == nx_two_edge_connect(m, tree.edges).tolist()
    ring = nx.Graph([tuple(e) for e in closed.tolist()])
    assert not nx.has_bridges(ring)


@pytest.mark.parametrize("seed", range(20))
def test_a_ring_problem_knows_the_graphs_bridges_and_blocks_as_networkx_does(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 40))
    g = nx.gnm_random_graph(n, int(rng.integers(n - 1, 2 * n)), seed=seed)
    component = sorted(max(nx.connected_components(g), key=len))
    g = nx.Graph(g.subgraph(component))
    g.add_nodes_from(range(n))
    terminals = [int(t) for t in rng.choice(component, min(len(component), 6), replace=False)]
    problem = _Problem(matrix(n, {e: float(rng.integers(1, 9)) for e in g.edges}), terminals)
    assert problem.graph_bridges == {(min(e), max(e)) for e in nx.bridges(g)}
    blocks = nx.Graph(g)
    blocks.remove_edges_from(nx.bridges(g))
    for a in terminals:  # same block exactly when networkx puts them in one component
        for b in terminals:
            together = nx.has_path(blocks, a, b)
            assert (problem.block[a] == problem.block[b]) == together


def test_a_ring_problem_names_the_terminals_it_cannot_reach() -> None:
    m = matrix(5, {(0, 1): 1.0, (1, 2): 1.0, (3, 4): 1.0})
    with pytest.raises(ValueError, match=r"terminals \[3, 4\] cannot be reached from terminal 0"):
        _Problem(m, [4, 0, 2, 3])
