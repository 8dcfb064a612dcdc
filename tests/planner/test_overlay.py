"""A planning copy (overlay) gives the graph a full copy gives and never writes to its base."""

from __future__ import annotations

import dataclasses
import pickle

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString

from planner.network.corridor_graph import CorridorGraph
from planner.network.cost_model import load_cost_model
from planner.network.overlay import OverlayGraph, nodes_and_edges, overlay
from planner.network.places import Place
from planner.network.planning_network import (
    PlanningNetwork,
    attach_multihomed,
    attach_place,
    build_network,
)
from planner.plans.backbone import plan_backbone
from planner.plans.route import plan_route
from planner.search.shortest_paths import CSRGraph, csr_of

COSTS = load_cost_model()


def square() -> CorridorGraph:
    """Four nodes on a square, two parallel edges on one side."""
    graph = CorridorGraph()
    for node, (x, y) in enumerate([(0, 0), (1, 0), (1, 1), (0, 1)]):
        graph.add_node(node, x=float(x), y=float(y))
    for u, v in [(0, 1), (1, 2), (2, 3), (3, 0), (0, 1)]:
        graph.add_edge(u, v, length_km=1.0, corridor=("a", u))
    return graph


def snapshot(graph: nx.MultiGraph) -> bytes:
    return pickle.dumps(list(nodes_and_edges(graph)))


def change(graph: nx.MultiGraph) -> None:
    """Every kind of change attaching, splitting and multihoming makes."""
    graph.add_node(9, x=0.5, y=0.0)
    graph.remove_edge(0, 1, 0)
    graph.add_edge(0, 9, length_km=0.5)
    graph.add_edge(9, 1, length_km=0.5)
    graph.add_edge(1, 2, key=0, length_km=7.0)  # an existing key: its dict is updated
    graph.nodes[2]["place"] = "Dos"
    graph.nodes[3].update(name="Tres", kind="place")
    graph.add_node(0, kind="corner")
    hidden = [(u, v, k, d) for u, v, k, d in graph.edges(keys=True, data=True) if u == 3 or v == 3]
    graph.remove_edges_from([(u, v, k) for u, v, k, _ in hidden])
    graph.add_edges_from(hidden)
    graph.remove_node(2)
    graph.add_nodes_from([(10, {"x": 2.0, "y": 2.0}), 11])


def test_changes_to_an_overlay_equal_those_to_a_copy_and_leave_the_base_alone() -> None:
    base = square()
    before = snapshot(base)
    copied, layered = base.copy(), overlay(base)
    assert snapshot(layered) == before
    change(copied)
    change(layered)
    assert snapshot(layered) == snapshot(copied)
    assert snapshot(base) == before
    # the edge 0-1 key 0 was split away in the overlay only; 1-2 kept its length
    assert base.has_edge(0, 1, 0) and base.edges[1, 2, 0]["length_km"] == 1.0
    assert "place" not in base.nodes[2] and "name" not in base.nodes[3]


def test_an_overlay_shares_the_attribute_dicts_it_does_not_change() -> None:
    base = square()
    layered = overlay(base)
    layered.remove_edge(0, 1, 0)
    assert layered._adj[2][3][0] is base._adj[2][3][0]  # untouched edge: one dict
    assert layered._adj[0] is not base._adj[0]  # changed node: its own neighbours


def test_an_overlay_of_an_overlay_and_its_pickle_are_plain_graphs() -> None:
    base = square()
    first = overlay(base)
    first.add_edge(0, 2, length_km=1.4)
    second = overlay(first)
    second.remove_node(0)
    assert first.has_edge(0, 2) and not second.has_node(0)
    thawed = pickle.loads(pickle.dumps(second))
    assert isinstance(thawed, OverlayGraph)
    assert snapshot(thawed) == snapshot(second)


def test_changes_taken_by_a_fresh_overlay_give_the_same_graph() -> None:
    base = square()
    before = snapshot(base)
    changed = overlay(base)
    change(changed)
    fresh = overlay(base)
    fresh.take(pickle.loads(pickle.dumps(changed.changes())))  # as a cache entry holds them
    # the nodes, edges, attributes and their orders of a copy changed the same way (compared
    # as lists: the pickled bytes of equal graphs differ where their values are shared)
    copied = base.copy()
    change(copied)
    assert list(nodes_and_edges(fresh)) == list(nodes_and_edges(copied))
    assert fresh.version == changed.version > 0  # a snapshot of the unchanged copy is stale
    assert sorted(fresh.changed_nodes()) == sorted(changed.changed_nodes())
    assert snapshot(base) == before
    fresh.add_edge(0, 3, length_km=2.0)  # and it goes on changing without touching the base
    assert snapshot(base) == before


def test_only_an_unchanged_overlay_takes_changes() -> None:
    base = square()
    changed = overlay(base)
    changed.add_node(9, x=0.5, y=0.5)
    other = overlay(base)
    other.remove_edge(0, 1, 0)
    with pytest.raises(ValueError, match="not changed yet"):
        other.take(changed.changes())


def two_highways() -> PlanningNetwork:
    """Highways on 93.0° W and 92.9° W from 17° to 18° N, tied at both ends."""
    lines = [
        LineString([(-93.0, 17.0), (-93.0, 18.0)]),
        LineString([(-92.9, 17.0), (-92.9, 18.0)]),
        LineString([(-93.0, 17.0), (-92.9, 17.0)]),
        LineString([(-93.0, 18.0), (-92.9, 18.0)]),
    ]
    roads = gpd.GeoDataFrame({"row_type": ["highway"] * 4}, geometry=lines, crs="EPSG:4326")
    return build_network({"roads": roads}, COSTS)


def test_planning_never_writes_to_the_shared_network() -> None:
    network = two_highways()
    before = snapshot(network.graph)
    plan_route(network, Place("Sur", -92.96, 17.5), Place("Norte", -92.96, 17.7), diverse=True)
    plan_route(network, Place("Oeste", -93.0, 17.5), Place("Este", -92.9, 17.5), alternatives=2)
    plan_backbone(
        network,
        [Place("A", -93.01, 17.2), Place("B", -92.89, 17.8), Place("C", -92.95, 18.0)],
        ring=True,
    )
    assert snapshot(network.graph) == before


def same_snapshot(a: CSRGraph, b: CSRGraph) -> None:
    for name in ("indptr", "indices", "data", "entry_edge", "twin", "xyz"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert (a.nodes, a.index, a.edges, a.alpha, a.weight) == (
        b.nodes,
        b.index,
        b.edges,
        b.alpha,
        b.weight,
    )


def grid_network(side: int = 12, seed: int = 3) -> PlanningNetwork:
    """A jittered street grid with parallel duplicates, so ties and parallels occur."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(side):
        for j in range(side - 1):
            x, y = -93.0 + j * 0.01, 17.0 + i * 0.01
            lines.append(LineString([(x, y), (x + 0.01, y + rng.uniform(-0.002, 0.002))]))
            lines.append(LineString([(y - 110.0, x + 110.0), (y - 110.0 + 0.0, x + 110.01)]))
    lines += lines[:5]  # parallel corridors of equal length: ties between parallel edges
    types = ["highway", "rail", "pipeline"]
    roads = gpd.GeoDataFrame(
        {"row_type": [types[k % 3] for k in range(len(lines))]}, geometry=lines, crs="EPSG:4326"
    )
    return build_network({"roads": roads}, COSTS)


def test_a_patched_snapshot_equals_one_taken_from_scratch() -> None:
    network = grid_network()
    base = network.graph
    csr_of(base, "cost_usd")  # the shared network's snapshot, taken once
    rng = np.random.default_rng(5)
    for trial in range(6):
        planning = network.copy()
        for _ in range(1 + trial % 3):
            lon, lat = -93.0 + rng.uniform(0, 0.11), 17.0 + rng.uniform(0, 0.11)
            attach_place(planning, Place(f"P{trial}", lon, lat))
        if trial % 2:
            attach_multihomed(planning, Place("M", -92.95, 17.05), homes=3, radius_km=3.0)
        graph = planning.graph
        assert isinstance(graph, OverlayGraph) and graph.base is base
        patched = csr_of(graph, "cost_usd")
        same_snapshot(patched, CSRGraph.from_networkx(graph, "cost_usd"))


def test_alternatives_write_their_penalties_on_the_requests_own_edges() -> None:
    network = grid_network()
    before = snapshot(network.graph)
    west, east = Place("W", -92.999, 17.031), Place("E", -92.891, 17.079)
    on_overlay = plan_route(network, west, east, alternatives=2)
    assert snapshot(network.graph) == before
    copied = dataclasses.replace(network, graph=network.graph.copy())
    copied.copy = lambda: dataclasses.replace(copied, graph=copied.graph.copy())  # type: ignore[method-assign]
    on_copy = plan_route(copied, west, east, alternatives=2)
    assert [(s.role, s.cost_usd, s.geometry.wkb) for s in on_overlay.segments] == [
        (s.role, s.cost_usd, s.geometry.wkb) for s in on_copy.segments
    ]


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_a_layered_snapshot_searches_as_one_taken_from_scratch(seed: int) -> None:
    # A random network with lon/lat, weights 0-3 (many equal-cost paths: the tie-breaks
    # count) and a few parallel edges; a copy splits edges, adds drops and new nodes,
    # and sometimes adds a shortcut or removes an edge, as attaching does. Its layered
    # snapshot must give every row, the potential's scale and every search (cost and
    # path, ties included) exactly as the snapshot taken from scratch.
    from planner.search import _plain_searches
    from planner.search.shortest_paths import search_arrays
    from planner.search.snapshot_patch import layered_snapshot

    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 30))
    base = CorridorGraph()
    for i in range(n):
        base.add_node(i, x=-93.0 + rng.random(), y=17.0 + rng.random())
    for _ in range(int(rng.integers(n, 3 * n))):
        u, v = (int(x) for x in rng.integers(0, n, 2))
        base.add_edge(u, v, w=float(rng.integers(0, 4)))
    copy = overlay(base)
    edges = list(copy.edges(keys=True))
    for _ in range(int(rng.integers(1, 4))):
        if edges and rng.random() < 0.8:  # split an edge at a new node
            u, v, k = edges.pop(int(rng.integers(0, len(edges))))
            if not copy.has_edge(u, v, k):
                continue
            w = copy.edges[u, v, k]["w"]
            copy.remove_edge(u, v, k)
            new = len(copy) + 100
            copy.add_node(new, x=-93.0 + rng.random(), y=17.0 + rng.random())
            copy.add_edge(u, new, w=w / 2)
            copy.add_edge(new, v, w=w - w / 2)
        drop = len(copy) + 200  # a place and its drop
        copy.add_node(drop, x=-93.0 + rng.random(), y=17.0 + rng.random())
        copy.add_edge(drop, int(rng.integers(0, n)), w=float(rng.integers(0, 4)))
    if rng.random() < 0.3:
        u, v = (int(x) for x in rng.integers(0, n, 2))
        copy.add_edge(u, v, w=0.0)
    if edges and rng.random() < 0.3:
        u, v, k = edges[int(rng.integers(0, len(edges)))]
        if copy.has_edge(u, v, k):
            copy.remove_edge(u, v, k)
    fresh = CSRGraph.from_networkx(copy, "w")
    layered = layered_snapshot(CSRGraph.from_networkx(base, "w"), copy, copy.changed_nodes(), "w")
    assert layered is not None and layered.alpha == fresh.alpha
    assert list(layered.nodes) == list(fresh.nodes)
    for row in range(fresh.n):
        at = layered.over[row]
        if at < 0:
            lo, hi = layered.base.indptr[row], layered.base.indptr[row + 1]
            cols, data = layered.base.indices[lo:hi], layered.base.data[lo:hi]
        else:
            lo, hi = layered.over_ptr[at], layered.over_ptr[at + 1]
            cols, data = layered.over_indices[lo:hi], layered.over_data[lo:hi]
        span = slice(fresh.indptr[row], fresh.indptr[row + 1])
        assert cols.tolist() == fresh.indices[span].tolist()
        assert data.tolist() == fresh.data[span].tolist()
    for _ in range(10):
        s, t = (int(x) for x in rng.integers(0, fresh.n, 2))
        answers = []
        for snap in (fresh, layered):
            graph, positions = search_arrays(snap)
            blocked = np.zeros(snap.entries if snap is layered else snap.indices.size, bool)
            cost, path = _plain_searches.bidirectional(
                *graph, s, t, *positions, np.zeros(fresh.n, bool), blocked
            )
            answers.append((cost, path.tolist()))
        assert answers[0] == answers[1]


def test_a_layered_snapshot_rescales_the_potential_when_the_steepest_edge_goes() -> None:
    # The potential's scale is the least cost per unit of straight distance over the
    # edges: here edge 0-1 (1 per 0.01 degree) against 1-2 (4 per 0.01 degree). Removing
    # 0-1 from a copy leaves 1-2 and a new drop 1-3 of 8 per 0.01 degree, so the copy's
    # scale is 1-2's: four times the base's (to the chord's rounding).
    from planner.search.snapshot_patch import layered_snapshot

    base = CorridorGraph()
    for node, x in enumerate([0.0, 0.01, 0.02]):
        base.add_node(node, x=-93.0 + x, y=17.0)
    base.add_edge(0, 1, w=1.0)
    base.add_edge(1, 2, w=4.0)
    copy = overlay(base)
    copy.remove_edge(0, 1)
    copy.add_node(3, x=-93.0 + 0.01, y=17.01)
    copy.add_edge(1, 3, w=8.0)
    snap = CSRGraph.from_networkx(base, "w")
    layered = layered_snapshot(snap, copy, copy.changed_nodes(), "w")
    fresh = CSRGraph.from_networkx(copy, "w")
    assert layered is not None
    assert layered.alpha == fresh.alpha
    assert layered.alpha == pytest.approx(4.0 * snap.alpha, rel=1e-6)
