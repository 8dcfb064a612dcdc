"""Tests for the Steiner backbone solver (planner.search.steiner).

Expected optima are worked out independently: by hand for the small named graphs, by
exhaustive search over Steiner-node subsets for the random ones (the optimal tree is a
minimum spanning tree of the subgraph induced by its own nodes), and from the
OR-Library for steinb10.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.search.steiner import (
    SteinerSolution,
    UnreachableTerminalsError,
    mehlhorn_tree_csr,
    read_orlib,
    steiner_tree,
    steiner_tree_csr,
    two_edge_connect,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "steiner"


def csr(n: int, edges: list[tuple[int, int, float]]) -> sp.csr_array:
    u = np.array([e[0] for e in edges], dtype=np.int64)
    v = np.array([e[1] for e in edges], dtype=np.int64)
    w = np.array([e[2] for e in edges], dtype=np.float64)
    return sp.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))


def brute_force_optimum(n: int, edges: list[tuple[int, int, float]], terms: list[int]) -> float:
    """Cheapest MST over terminals plus every subset of the other nodes."""
    g = nx.Graph()
    g.add_weighted_edges_from(edges)
    others = [x for x in range(n) if x not in set(terms)]
    best = np.inf
    for r in range(len(others) + 1):
        for extra in itertools.combinations(others, r):
            h = g.subgraph([*terms, *extra])
            if h.number_of_nodes() == len(terms) + r and nx.is_connected(h):
                best = min(best, _mst_cost(h))
    return float(best)


def _mst_cost(h: nx.Graph) -> float:
    return float(nx.minimum_spanning_tree(h).size(weight="weight"))


def assert_valid_tree(sol: SteinerSolution, matrix: sp.csr_array, terms: list[int]) -> None:
    """Every terminal spanned, a tree, no Steiner leaf, cost the sum of real weights."""
    t = nx.Graph()
    t.add_nodes_from(int(x) for x in np.unique(terms))
    t.add_edges_from(map(tuple, sol.edges.tolist()))
    assert nx.is_tree(t)
    assert set(np.unique(terms).tolist()) <= set(t.nodes)
    assert sorted(t.nodes) == sol.nodes.tolist()
    leaves = [x for x in t.nodes if t.degree[x] == 1]
    assert set(leaves) <= set(np.asarray(terms).tolist())
    dense = matrix.tocsr()
    real = [float(dense[int(a), int(b)]) for a, b in sol.edges]
    assert sol.weights.tolist() == real
    assert sol.cost == pytest.approx(sum(real))
    assert sol.cost >= 0


# --------------------------------------------------------------------------- by hand


def test_star_beats_the_terminal_mst() -> None:
    # three terminals pairwise 1.9 apart, a hub 1 from each: hub tree 3 < MST 3.8
    m = csr(4, [(0, 1, 1.9), (1, 2, 1.9), (0, 2, 1.9), (0, 3, 1), (1, 3, 1), (2, 3, 1)])
    sol = steiner_tree_csr(m, [0, 1, 2])
    assert sol.cost == 3.0
    assert sol.nodes.tolist() == [0, 1, 2, 3]
    assert_valid_tree(sol, m, [0, 1, 2])


def test_path_through_steiner_nodes() -> None:
    # 0 - 1 - 2 - 3 costs 3; the direct edge 0-3 costs 4: take the path
    m = csr(4, [(0, 1, 1), (1, 2, 1), (2, 3, 1), (0, 3, 4)])
    sol = steiner_tree_csr(m, [0, 3])
    assert sol.cost == 3.0
    assert sol.edges.tolist() == [[0, 1], [1, 2], [2, 3]]


def test_one_terminal_is_an_empty_tree() -> None:
    m = csr(3, [(0, 1, 1), (1, 2, 1)])
    sol = steiner_tree_csr(m, [1])
    assert sol.cost == 0.0
    assert sol.edges.shape == (0, 2)
    assert sol.nodes.tolist() == [1]


def test_duplicate_terminals_are_tolerated() -> None:
    m = csr(3, [(0, 1, 2), (1, 2, 3)])
    sol = steiner_tree_csr(m, [2, 0, 2, 0])
    assert sol.cost == 5.0
    assert sol.terminals.tolist() == [0, 2]


def test_zero_weight_edges_are_edges() -> None:
    m = csr(4, [(0, 1, 0), (1, 2, 0), (2, 3, 5), (0, 3, 7)])
    sol = steiner_tree_csr(m, [0, 2, 3])
    assert sol.cost == 5.0
    assert_valid_tree(sol, m, [0, 2, 3])


# --------------------------------------------------------------------------- bad input


def test_unreachable_terminals_are_named() -> None:
    m = csr(6, [(0, 1, 1), (1, 2, 1), (3, 4, 1)])
    with pytest.raises(UnreachableTerminalsError, match=r"terminal 0: 3, 5") as err:
        steiner_tree_csr(m, [0, 2, 3, 5])
    assert err.value.terminals == [3, 5]
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("matrix", "terms", "match"),
    [
        (csr(3, [(0, 1, 1)]), [], "at least one terminal"),
        (csr(3, [(0, 1, 1)]), [0, 3], "out of range"),
        (csr(3, [(0, 1, -1)]), [0, 1], "non-negative"),
        (csr(3, [(0, 1, np.nan)]), [0, 1], "finite"),
        (sp.csr_array(np.array([[0.0, 1.0], [2.0, 0.0]])), [0, 1], "symmetric"),
        (np.ones((2, 2)), [0, 1], "scipy sparse"),
        (csr(3, [(0, 1, 1)]), [0.5, 1.0], "integer"),
    ],
)
def test_bad_input_is_refused(matrix: object, terms: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        steiner_tree_csr(matrix, terms)


# --------------------------------------------------------------------------- random small graphs


@st.composite
def small_instances(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, float]], list[int]]:
    n = draw(st.integers(2, 10))
    weight = st.integers(0, 20).map(float)
    order = draw(st.permutations(range(n)))
    # a random spanning path keeps the graph connected; extra edges on top
    pairs = {(min(a, b), max(a, b)) for a, b in itertools.pairwise(order)}
    pairs |= {p for p in itertools.combinations(range(n), 2) if draw(st.floats(0, 1)) < 0.35}
    edges = [(a, b, draw(weight)) for a, b in sorted(pairs)]
    terms = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=min(n, 7), unique=True))
    return n, edges, terms


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(small_instances())
def test_matches_brute_force_optimum(
    inst: tuple[int, list[tuple[int, int, float]], list[int]],
) -> None:
    n, edges, terms = inst
    m = csr(n, edges)
    sol = steiner_tree_csr(m, terms, time_budget_s=2.0)
    if len(terms) > 1:
        assert_valid_tree(sol, m, terms)
    assert sol.cost == pytest.approx(brute_force_optimum(n, edges, terms))
    assert sol.cost <= mehlhorn_tree_csr(m, terms).cost + 1e-9


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.integers(0, 10_000), st.integers(2, 40), st.booleans())
def test_grid_trees_are_valid_and_beat_mehlhorn(seed: int, nterm: int, big_mode: bool) -> None:
    rng = np.random.default_rng(seed)
    g = nx.grid_2d_graph(20, 20)
    g = nx.convert_node_labels_to_integers(g)
    edges = [(a, b, float(rng.integers(1, 50))) for a, b in g.edges]
    m = csr(400, edges)
    terms = rng.choice(400, nterm, replace=False).tolist()
    # big_mode: the bounded local search used on graphs above multistart_max_nodes
    sol = steiner_tree_csr(
        m, terms, time_budget_s=2.0, multistart_max_nodes=0 if big_mode else 20_000
    )
    assert_valid_tree(sol, m, terms)
    assert sol.cost <= mehlhorn_tree_csr(m, terms).cost + 1e-9
    assert sol.stats["mehlhorn_cost"] == mehlhorn_tree_csr(m, terms).cost


# --------------------------------------------------------------------------- OR-Library


def test_read_orlib_steinb10() -> None:
    m, terms, n, edges = read_orlib(DATA / "steinb10.txt")
    assert (n, edges, terms.size) == (75, 150, 13)
    assert m.shape == (75, 75)
    assert m.nnz == 2 * 150
    assert terms[0] == 8  # first terminal is node 9, 1-based
    assert m[0, 6] == 8.0  # first edge "1 7 8"


def test_steinb10_reaches_the_optimum() -> None:
    m, terms, _, _ = read_orlib(DATA / "steinb10.txt")
    sol = steiner_tree_csr(m, terms, time_budget_s=5.0)
    assert sol.cost == 86.0  # OR-Library optimum
    assert_valid_tree(sol, m, terms.tolist())
    assert sol.stats["mehlhorn_cost"] > 86.0


def test_same_seed_same_tree() -> None:
    m, terms, _, _ = read_orlib(DATA / "steinb10.txt")
    a = steiner_tree_csr(m, terms, seed=3)
    b = steiner_tree_csr(m, terms, seed=3)
    assert a.edges.tolist() == b.edges.tolist()


# --------------------------------------------------------------------------- networkx wrapper


def test_networkx_wrapper_keeps_labels_and_edge_data() -> None:
    g = nx.Graph()
    g.add_edge("MTY", "hub", weight=1.0, corridor="federal 85")
    g.add_edge("GDL", "hub", weight=1.0, corridor="federal 80")
    g.add_edge("CDMX", "hub", weight=1.0, corridor="federal 57")
    g.add_edge("MTY", "GDL", weight=1.9)
    g.add_edge("GDL", "CDMX", weight=1.9)
    g.add_edge("CDMX", "MTY", weight=1.9)
    g.nodes["hub"]["kind"] = "junction"
    tree = steiner_tree(g, ["MTY", "GDL", "CDMX"])
    assert tree.graph["cost"] == 3.0
    assert set(tree.nodes) == {"MTY", "GDL", "CDMX", "hub"}
    assert tree.nodes["hub"]["kind"] == "junction"
    assert tree.edges["MTY", "hub"]["corridor"] == "federal 85"


def test_networkx_wrapper_names_unreachable_labels() -> None:
    g = nx.Graph()
    g.add_edge("a", "b", weight=1)
    g.add_edge("c", "d", weight=1)
    with pytest.raises(ValueError, match=r"terminal 'a': 'c'"):
        steiner_tree(g, ["a", "b", "c"])
    with pytest.raises(ValueError, match="not in the graph"):
        steiner_tree(g, ["a", "zz"])


# --------------------------------------------------------------------------- ring


def test_ring_on_a_grid_has_no_bridges() -> None:
    rng = np.random.default_rng(7)
    g = nx.convert_node_labels_to_integers(nx.grid_2d_graph(8, 8))
    m = csr(64, [(a, b, float(rng.integers(1, 20))) for a, b in g.edges])
    sol = steiner_tree_csr(m, [0, 7, 56, 63, 27])
    ring = two_edge_connect(m, sol.edges)
    r = nx.Graph()
    r.add_edges_from(map(tuple, ring.tolist()))
    assert not nx.has_bridges(r)
    assert nx.is_connected(r)
    assert {tuple(e) for e in sol.edges.tolist()} <= {tuple(e) for e in ring.tolist()}
    assert all(m[int(a), int(b)] > 0 for a, b in ring)


def test_ring_keeps_bridges_the_graph_forces() -> None:
    # two triangles joined by the bridge 2-3: it cannot be covered, the rest can
    m = csr(6, [(0, 1, 1), (1, 2, 1), (0, 2, 5), (2, 3, 1), (3, 4, 1), (4, 5, 1), (3, 5, 5)])
    ring = two_edge_connect(m, np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]))
    r = nx.Graph()
    r.add_edges_from(map(tuple, ring.tolist()))
    assert [tuple(sorted(b)) for b in nx.bridges(r)] == [(2, 3)]
    assert ring.tolist() == [[0, 1], [0, 2], [1, 2], [2, 3], [3, 4], [3, 5], [4, 5]]


def test_ring_refuses_edges_not_in_the_graph() -> None:
    m = csr(3, [(0, 1, 1), (1, 2, 1)])
    with pytest.raises(ValueError, match=r"\(0, 2\) is not an edge"):
        two_edge_connect(m, np.array([[0, 2]]))


def test_restarts_searched_ahead_give_the_tree_of_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the next restart is searched in a thread while this one is looked at; run one at a
    # time instead (an executor that runs each restart when it is submitted), the same
    # restarts must give the same tree, stopping at the same start
    from concurrent.futures import Future

    import planner.search.steiner as steiner

    class OneAtATime:
        def __init__(self, max_workers: int) -> None:
            pass

        def submit(self, fn: object, *args: object) -> Future[object]:
            done: Future[object] = Future()
            done.set_result(fn(*args))  # type: ignore[operator]
            return done

        def shutdown(self, wait: bool) -> None:
            pass

    rng = np.random.default_rng(11)
    n = 600
    u, v = rng.integers(0, n, 2400), rng.integers(0, n, 2400)
    chain = np.arange(n - 1)
    rows, cols = np.r_[u, chain], np.r_[v, chain + 1]
    keep = rows != cols
    m = sp.coo_array(
        (rng.uniform(1, 10, keep.sum()), (rows[keep], cols[keep])), shape=(n, n)
    ).tocsr()
    m = (m + m.T).tocsr()
    terms = rng.choice(n, 30, replace=False)
    ahead = steiner_tree_csr(m, terms)
    monkeypatch.setattr(steiner, "ThreadPoolExecutor", OneAtATime)
    alone = steiner_tree_csr(m, terms)
    assert np.array_equal(ahead.edges, alone.edges) and ahead.cost == alone.cost
    for key in ("starts", "best_start", "passes"):
        assert ahead.stats[key] == alone.stats[key]
    assert ahead.stats["starts"] > 2
