"""A planning copy (overlay) gives the graph a full copy gives and never writes to its base."""

from __future__ import annotations

import dataclasses
import pickle

import geopandas as gpd
import networkx as nx
import numpy as np
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
