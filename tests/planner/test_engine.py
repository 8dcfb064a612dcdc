"""The CSR engine agrees with the networkx reference model."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.network.corridor_graph import CorridorGraph
from planner.search.route_search import shortest_route
from planner.search.shortest_paths import (
    ArcGraph,
    CSRGraph,
    arc_search,
    csr_of,
    distances_from,
    nearest_sources,
    search_arrays,
    shortest_path,
)
from tests.planner.nx_reference import nx_arc_search, nx_nearest_sources, nx_shortest_path


def test_parallel_edges_collapse_to_the_cheapest() -> None:
    g = nx.MultiGraph()
    g.add_edge("a", "b", key="highway", w=5.0)
    g.add_edge("a", "b", key="pipeline", w=3.0)
    g.add_edge("b", "c", key="rail", w=1.0)
    csr = CSRGraph.from_networkx(g, "w")
    assert csr.matrix.toarray().tolist() == [[0, 3, 0], [3, 0, 1], [0, 1, 0]]
    k = csr.entry(csr.row("b"), csr.row("a"))
    assert csr.edges[csr.entry_edge[k]][2] == "pipeline"
    assert csr.twin[csr.twin[k]] == k
    assert shortest_path(csr, "a", "c") == (4.0, ["a", "b", "c"])


def test_bad_weights_are_refused() -> None:
    g = nx.Graph()
    g.add_edge(1, 2, w=-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        CSRGraph.from_networkx(g, "w")
    g.add_edge(2, 3)
    with pytest.raises(ValueError, match="no 'w'"):
        CSRGraph.from_networkx(nx.Graph([(1, 2)]), "w")


def test_unreachable_target_raises_like_networkx() -> None:
    g = nx.Graph()
    g.add_edge(1, 2, w=1.0)
    g.add_edge(3, 4, w=1.0)
    with pytest.raises(nx.NetworkXNoPath):
        shortest_path(CSRGraph.from_networkx(g, "w"), 1, 4)
    with pytest.raises(nx.NetworkXNoPath):
        nx_shortest_path(g, 1, 4, "w")


@st.composite
def weighted_graphs(draw: st.DrawFn) -> nx.MultiGraph:
    """Random multigraphs, half of them with lon/lat so the potential is exercised."""
    n = draw(st.integers(2, 25))
    m = draw(st.integers(1, 3 * n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    g = nx.MultiGraph()
    with_xy = draw(st.booleans())
    for i in range(n):
        attrs = {"x": -118 + 32 * rng.random(), "y": 14 + 19 * rng.random()} if with_xy else {}
        g.add_node(i, **attrs)
    for _ in range(m):
        u, v = (int(x) for x in rng.integers(0, n, 2))
        g.add_edge(u, v, w=float(rng.uniform(0, 100)) if rng.random() > 0.05 else 0.0)
    return g


@settings(max_examples=80, deadline=None)
@given(weighted_graphs(), st.data())
def test_shortest_path_agrees_with_networkx(g: nx.MultiGraph, data: st.DataObject) -> None:
    csr = CSRGraph.from_networkx(g, "w")
    s = data.draw(st.sampled_from(list(g.nodes)))
    t = data.draw(st.sampled_from(list(g.nodes)))
    try:
        expected, path = nx_shortest_path(g, s, t, "w")
    except nx.NetworkXNoPath:
        with pytest.raises(nx.NetworkXNoPath):
            shortest_path(csr, s, t)
        return
    cost, got = shortest_path(csr, s, t)
    assert cost == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert got[0] == s and got[-1] == t
    assert all(g.has_edge(u, v) for u, v in itertools.pairwise(got))
    if len(list(nx.all_shortest_paths(nx.Graph(g), s, t, weight=_min_weight(g)))) == 1:
        assert got == path


def _min_weight(g: nx.MultiGraph):  # type: ignore[no-untyped-def]
    def weight(u, v, d):  # type: ignore[no-untyped-def]
        return min(e["w"] for e in g[u][v].values())

    return weight


@settings(max_examples=60, deadline=None)
@given(weighted_graphs(), st.data())
def test_nearest_sources_agree_with_networkx(g: nx.MultiGraph, data: st.DataObject) -> None:
    csr = CSRGraph.from_networkx(g, "w")
    sources = data.draw(st.sets(st.sampled_from(list(g.nodes)), min_size=1, max_size=4))
    got = nearest_sources(csr, sources)
    expected = nx_nearest_sources(g, list(sources), "w")
    for node in g.nodes:
        i = csr.row(node)
        if node not in expected:
            assert math.isinf(got.distance[i])
            continue
        d, _, _ = expected[node]
        assert got.distance[i] == pytest.approx(d, rel=1e-9, abs=1e-12)
        nearest = csr.nodes[got.source[i]]
        assert distances_from(csr, nearest)[i] == pytest.approx(d, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(weighted_graphs(), st.data())
def test_arc_search_engines_agree(g: nx.MultiGraph, data: st.DataObject) -> None:
    arcs = ArcGraph.from_networkx(g, "w", risk="edge")
    cost = np.repeat(arcs.weight, 2)
    s = data.draw(st.integers(0, arcs.n - 1))
    blocked = np.asarray(data.draw(st.lists(st.booleans(), min_size=cost.size, max_size=cost.size)))
    fast, _ = arc_search(arcs.n, arcs.tail, arcs.head, cost, s, blocked=blocked)
    ref, _ = nx_arc_search(arcs.n, arcs.tail, arcs.head, cost, s, blocked=blocked)
    np.testing.assert_allclose(fast, ref, rtol=1e-9, atol=1e-12)


def test_a_corridor_graphs_snapshot_is_reused_until_the_graph_changes() -> None:
    g = CorridorGraph()
    g.add_edge("a", "b", cost_usd=2.0)
    g.add_edge("b", "c", cost_usd=2.0)
    first = csr_of(g, "cost_usd")
    assert csr_of(g, "cost_usd") is first  # no rebuild between searches
    assert shortest_route(g, "a", "c", "cost_usd").cost == 4.0
    g.add_edge("a", "c", cost_usd=3.0)  # a shortcut: 3 instead of 2 + 2
    assert csr_of(g, "cost_usd") is not first
    assert shortest_route(g, "a", "c", "cost_usd").cost == 3.0
    g.remove_edge("a", "c")
    assert shortest_route(g, "a", "c", "cost_usd").cost == 4.0


def test_a_weight_rewritten_in_place_is_snapshot_afresh() -> None:
    # Only priced weights keep a snapshot: a weight a search rewrites as it goes (the
    # alternatives' penalties) changes no node or edge, so the version cannot tell.
    g = CorridorGraph()
    g.add_edge("a", "b", w=2.0)
    first = csr_of(g, "w")
    g.edges["a", "b", 0]["w"] = 5.0
    assert csr_of(g, "w") is not first
    assert shortest_route(g, "a", "b", "w").cost == 5.0


def test_a_plain_graph_is_snapshot_afresh() -> None:
    g = nx.Graph()
    g.add_edge("a", "b", w=1.0)
    assert csr_of(g, "w") is not csr_of(g, "w")


@settings(max_examples=60, deadline=None)
@given(weighted_graphs(), st.data())
def test_the_interpreted_and_compiled_searches_give_the_same_path_ties_included(
    g: nx.MultiGraph, data: st.DataObject
) -> None:
    """A process's first search runs the plain code interpreted, later ones compiled: the
    answer must not depend on which, even where several paths cost the same."""
    from planner.search import _plain_searches, kernels

    for _, _, attrs in g.edges(data=True):
        attrs["w"] = float(int(attrs["w"]) % 3)  # weights 0, 1, 2: many equal-cost paths
    csr = CSRGraph.from_networkx(g, "w")
    s = data.draw(st.integers(0, csr.n - 1))
    t = data.draw(st.integers(0, csr.n - 1))
    blocked = data.draw(st.lists(st.booleans(), min_size=csr.indices.size))
    entry_blocked = np.asarray(blocked[: csr.indices.size], dtype=np.bool_)
    node_blocked = np.zeros(csr.n, dtype=np.bool_)
    graph, positions = search_arrays(csr)
    args = (*graph, s, t, *positions, node_blocked, entry_blocked)
    plain_cost, plain_path = _plain_searches.bidirectional(*args)
    cost, path = kernels.bidirectional(*args)
    assert plain_cost == cost or (math.isinf(plain_cost) and math.isinf(cost))
    assert plain_path.tolist() == path.tolist()


def test_a_processs_first_small_search_does_not_load_the_compiled_kernels() -> None:
    """Loading numba costs more than a national route interpreted; the second search loads
    it, so a process that searches many times runs compiled."""
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "import sys\n"
        "import networkx as nx\n"
        "from planner.search.shortest_paths import CSRGraph, shortest_path\n"
        "g = nx.path_graph(4)\n"
        "nx.set_edge_attributes(g, 1.0, 'w')\n"
        "csr = CSRGraph.from_networkx(g, 'w')\n"
        "first = shortest_path(csr, 0, 3)\n"
        "print('numba' in sys.modules)\n"
        "second = shortest_path(csr, 0, 3)\n"
        "print('numba' in sys.modules, first == second == (3.0, [0, 1, 2, 3]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "True", "True"]
