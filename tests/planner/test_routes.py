"""Shortest route, k alternatives and corridor-disjoint pairs, worked by hand and brute force."""

from __future__ import annotations

import itertools
import math
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.errors import NoRouteError, PlaceNotFoundError
from planner.search.route_search import (
    DiversePair,
    Route,
    diverse_pair,
    k_alternatives,
    shares_risk,
    shortest_route,
)
from tests.planner.nx_reference import nx_diverse_pair, nx_k_alternatives, nx_shortest_route


def corridor_graph(edges: list[tuple[str, str, float, str]]) -> nx.MultiGraph:
    """A MultiGraph from ``(u, v, length_km, corridor)`` tuples."""
    graph = nx.MultiGraph()
    for u, v, w, corridor in edges:
        graph.add_edge(u, v, length_km=w, corridor=corridor)
    return graph


ENGINES = ["csr", "networkx"]
"""The planner's compiled searches, and networkx's reference (tests/planner/nx_reference.py)."""


def shortest(engine: str, graph: nx.Graph, s: object, t: object) -> Route:
    if engine == "csr":
        return shortest_route(graph, s, t)
    return nx_shortest_route(graph, s, t, "length_km")


def alternatives(engine: str, graph: nx.Graph, s: object, t: object, k: int) -> list[Route]:
    if engine == "csr":
        return k_alternatives(graph, s, t, k)
    return nx_k_alternatives(graph, s, t, k, "length_km")


def diverse(engine: str, graph: nx.Graph, s: object, t: object, **options: Any) -> DiversePair:
    if engine == "csr":
        return diverse_pair(graph, s, t, **options)
    return nx_diverse_pair(graph, s, t, **options)


# s-a-t 2.0 · s-a-b-t 2.8 · s-b-a-t 3.3 · s-b-t 3.5 · s-c-t 4.2
KITE = [
    ("s", "a", 1.0, "H1"),
    ("a", "t", 1.0, "H2"),
    ("s", "b", 2.0, "H3"),
    ("b", "t", 1.5, "H4"),
    ("s", "c", 1.0, "H5"),
    ("c", "t", 3.2, "H6"),
    ("a", "b", 0.3, "H7"),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_shortest_route_by_hand(engine: str) -> None:
    g = corridor_graph(KITE)
    g.add_edge("a", "t", length_km=1.2, corridor="P")  # a dearer parallel corridor
    route = shortest(engine, g, "s", "t")
    assert route.nodes == ("s", "a", "t")
    assert route.edges == (("s", "a", 0), ("a", "t", 0))
    assert route.cost == pytest.approx(2.0)
    assert route.length_km == pytest.approx(2.0)
    assert route.corridors == ("H1", "H2")


@pytest.mark.parametrize("engine", ENGINES)
def test_three_alternatives_by_hand(engine: str) -> None:
    routes = alternatives(engine, corridor_graph(KITE), "s", "t", 3)
    assert [r.nodes for r in routes] == [
        ("s", "a", "t"),
        ("s", "a", "b", "t"),
        ("s", "b", "a", "t"),
    ]
    assert [r.cost for r in routes] == pytest.approx([2.0, 2.8, 3.3])
    assert len(alternatives(engine, corridor_graph(KITE), "s", "t", 9)) == 5


def test_unknown_or_unreachable_endpoints() -> None:
    g = corridor_graph([*KITE, ("x", "y", 1.0, "Z")])
    with pytest.raises(PlaceNotFoundError, match="attach the place"):
        shortest_route(g, "s", "nowhere")
    with pytest.raises(NoRouteError, match="not reachable"):
        shortest_route(g, "s", "y")
    with pytest.raises(NoRouteError, match="not reachable"):
        k_alternatives(g, "s", "y", 2)
    with pytest.raises(NoRouteError, match="not reachable"):
        diverse_pair(g, "s", "y")


# The cheapest edge-disjoint pair {s-a-t, s-b-t} (cost 4) uses corridor X twice; the best
# corridor-disjoint pair is one of them plus s-c-t (cost 6).
TRAP = [
    ("s", "a", 1.0, "X"),
    ("a", "t", 1.0, "Y"),
    ("s", "b", 1.0, "Z"),
    ("b", "t", 1.0, "X"),
    ("s", "c", 2.0, "P"),
    ("c", "t", 2.0, "Q"),
]


def brute_force_pair(g: nx.MultiGraph, s: str, t: str, risk: str = "corridor") -> float:
    """Least total cost of two s-t simple paths sharing no corridor (connectors exempt)."""
    paths = []
    for edges in nx.all_simple_edge_paths(g, s, t):
        cost = sum(g.edges[e]["length_km"] for e in edges)
        groups = {
            (g.edges[e]["corridor"] if risk == "corridor" else frozenset(e[:2]) | {e[2]})
            for e in edges
            if g.edges[e]["corridor"] is not None
        }
        paths.append((cost, groups))
    best = math.inf
    for (c1, g1), (c2, g2) in itertools.combinations_with_replacement(paths, 2):
        if not g1 & g2:
            best = min(best, c1 + c2)
    return best


@pytest.mark.parametrize("engine", ENGINES)
def test_corridor_disjoint_pair_differs_from_edge_disjoint(engine: str) -> None:
    g = corridor_graph(TRAP)
    edge_pair = diverse(engine, g, "s", "t", risk="edge")
    assert edge_pair.cost == pytest.approx(4.0)
    assert edge_pair.method == "suurballe"
    pair = diverse(engine, g, "s", "t")
    assert pair.cost == pytest.approx(brute_force_pair(g, "s", "t")) == pytest.approx(6.0)
    assert pair.method == "milp"
    assert pair.second.nodes == ("s", "c", "t")
    assert not shares_risk(pair.first, pair.second)


@pytest.mark.parametrize("engine", ENGINES)
def test_heuristic_when_exact_search_is_too_large(engine: str) -> None:
    pair = diverse(engine, corridor_graph(TRAP), "s", "t", exact_max_edges=0)
    assert pair.method == "heuristic"
    assert pair.cost == pytest.approx(6.0)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "edges",
    [
        [("s", "a", 1.0, "A"), ("a", "t", 1.0, "B"), ("s", "a", 2.0, "C")],  # bridge a-t
        [("s", "a", 1, "X"), ("a", "t", 1, "Y"), ("s", "b", 1, "Z"), ("b", "t", 1, "Y")],
    ],
    ids=["bridge", "shared-corridor"],
)
def test_no_disjoint_pair(engine: str, edges: list[tuple[str, str, float, str]]) -> None:
    with pytest.raises(NoRouteError, match="avoid sharing a corridor"):
        diverse(engine, corridor_graph(edges), "s", "t")


def test_connectors_at_the_ends_may_be_shared() -> None:
    g = corridor_graph([("a", "b", 1.0, "X"), ("a", "c", 1.0, "Y"), ("c", "b", 1.0, "Z")])
    g.add_edge("s", "a", length_km=0.5, corridor=None)
    g.add_edge("b", "t", length_km=0.5, corridor=None)
    pair = diverse_pair(g, "s", "t")
    assert pair.method == "suurballe"
    assert {pair.first.nodes, pair.second.nodes} == {
        ("s", "a", "b", "t"),
        ("s", "a", "c", "b", "t"),
    }
    assert pair.cost == pytest.approx(5.0)


@st.composite
def corridor_graphs(draw: st.DrawFn) -> nx.MultiGraph:
    n = draw(st.integers(3, 7))
    m = draw(st.integers(2, 11))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    g = nx.MultiGraph()
    g.add_nodes_from(range(n))
    for _ in range(m):
        u, v = (int(x) for x in rng.integers(0, n, 2))
        corridor = None if rng.random() < 0.1 else f"c{rng.integers(0, 5)}"
        g.add_edge(u, v, length_km=float(rng.uniform(0.1, 10)), corridor=corridor)
    return g


def _check_route(g: nx.MultiGraph, route: Route, s: int, t: int) -> None:
    assert route.nodes[0] == s and route.nodes[-1] == t
    assert route.cost >= 0
    for (u, v, k), (a, b) in zip(route.edges, itertools.pairwise(route.nodes), strict=True):
        assert (u, v) == (a, b) and g.has_edge(u, v, k)
    assert route.cost == pytest.approx(sum(g.edges[e]["length_km"] for e in route.edges))


@settings(max_examples=50, deadline=None)
@given(corridor_graphs())
def test_diverse_pair_is_optimal_and_disjoint(g: nx.MultiGraph) -> None:
    s, t = 0, 1
    best = brute_force_pair(g, s, t)
    results = []
    for engine in ENGINES:
        try:
            results.append(diverse(engine, g, s, t))
        except NoRouteError:
            results.append(None)
    if math.isinf(best):
        assert results == [None, None]
        return
    for pair in results:
        assert pair is not None
        _check_route(g, pair.first, s, t)
        _check_route(g, pair.second, s, t)
        assert not shares_risk(pair.first, pair.second)
        assert pair.cost == pytest.approx(best, rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(corridor_graphs(), st.integers(1, 4))
def test_alternatives_agree_between_engines(g: nx.MultiGraph, k: int) -> None:
    s, t = 0, 1
    try:
        ref = nx_k_alternatives(g, s, t, k, "length_km")
    except NoRouteError:
        with pytest.raises(NoRouteError):
            k_alternatives(g, s, t, k)
        return
    got = k_alternatives(g, s, t, k)
    assert [r.cost for r in got] == pytest.approx([r.cost for r in ref], rel=1e-9)
    assert [r.cost for r in got] == sorted(r.cost for r in got)
    assert len({r.nodes for r in got}) == len(got)
    for route in got:
        _check_route(g, route, s, t)
        assert len(set(route.nodes)) == len(route.nodes)
    shortest = shortest_route(g, s, t)
    assert shortest.cost == pytest.approx(got[0].cost, rel=1e-9)
