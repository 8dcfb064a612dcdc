"""Attaching many places at once gives exactly the graph that attaching them as before gave.

:func:`planner.network.attach.attach_points` projects every place in one call, asks the
index for every nearest corridor at once, keeps the projected pieces of split corridors and
cuts drops against land tiles instead of the whole coast. None of that may change a single
node, edge, length or cost: each test attaches the same places with the reference of
``attach_reference.py`` (point by point, as before, against the whole land) and compares
the two graphs value for value — no tolerance.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely import LineString, Point, box

from planner.network import attach as attach_module
from planner.network.attach import _corridor_index, attach_point, attach_points
from planner.network.cost_model import load_cost_model
from planner.network.land import Land
from planner.network.planning_network import PlanningNetwork, build_network
from tests.planner.attach_reference import reference_attach_points, whole_land

COSTS = load_cost_model()
build_corridor_index = attach_module._build_corridor_index


def _points(xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [f"place {i}" for i in range(len(xy))]},
        geometry=[Point(x, y) for x, y in xy],
        crs="EPSG:4326",
    )


def _roads(*lines: LineString) -> dict[str, gpd.GeoDataFrame]:
    frame = gpd.GeoDataFrame(
        {"row_type": ["highway"] * len(lines)}, geometry=list(lines), crs="EPSG:4326"
    )
    return {"roads": frame}


def _value(value: Any) -> Any:
    return value.wkb if isinstance(value, shapely.Geometry) else value


def _snapshot(graph: nx.MultiGraph) -> tuple[dict[Hashable, Any], dict[Any, Any]]:
    nodes = {n: dict(d) for n, d in graph.nodes(data=True)}
    edges = {
        (u, v, k): {name: _value(value) for name, value in d.items()}
        for u, v, k, d in graph.edges(keys=True, data=True)
    }
    return nodes, edges


def assert_attached_alike(network: PlanningNetwork, points: gpd.GeoDataFrame) -> nx.MultiGraph:
    """Attach ``points`` both ways on copies of ``network``; the graphs must be equal."""
    ours, theirs = network.copy(), network.copy()
    land, price = network.land, network.link_cost
    nodes = attach_points(ours.graph, points, land=land, link_cost=price)
    expected = reference_attach_points(theirs.graph, points, land=land, link_cost=price)
    assert nodes == expected
    ours_nodes, ours_edges = _snapshot(ours.graph)
    their_nodes, their_edges = _snapshot(theirs.graph)
    assert ours_nodes == their_nodes
    assert ours_edges.keys() == their_edges.keys()
    for key, data in ours_edges.items():
        assert data == their_edges[key], key
    return ours.graph


def test_many_places_on_few_corridors_split_them_as_one_by_one() -> None:
    # two parallel highways 0.2 degree apart and a diagonal: 400 places fall on them, so
    # each corridor is split again and again and a place often lies nearest a piece of an
    # earlier split; some lie exactly on a road, on a vertex, or half-way between the two
    # parallels (equally near both: the first of equals must be the same)
    network = build_network(
        _roads(
            LineString([(-93.0, 17.0), (-93.0, 17.5), (-93.0, 18.0)]),
            LineString([(-92.8, 17.0), (-92.8, 18.0)]),
            LineString([(-93.0, 17.0), (-92.8, 18.0)]),
        ),
        COSTS,
    )
    rng = np.random.default_rng(5)
    xy = list(zip(rng.uniform(-93.1, -92.7, 360), rng.uniform(16.95, 18.05, 360), strict=True))
    xy += [(-93.0, 17.25), (-93.0, 17.5), (-92.8, 17.8), (-92.9, 17.3), (-92.9, 17.3)]
    xy += [(-92.9, lat) for lat in np.linspace(17.1, 17.9, 35)]
    graph = assert_attached_alike(network, _points(xy))
    # and the corridors still add up: the pieces of the three roads keep their length
    corridor_km = sum(
        d["length_km"] for _, _, d in graph.edges(data=True) if d["kind"] != "connector"
    )
    # 1 degree of latitude at 17-18 N is 110.67 km (meridian arc tables); the diagonal
    # runs 0.2 degree of longitude (0.2 x 106.1 km at 17.5 N) and 1 of latitude
    assert corridor_km == pytest.approx(2 * 110.67 + np.hypot(21.22, 110.67), rel=2e-3)


@pytest.fixture(scope="module")
def strait() -> PlanningNetwork:
    # a mainland (17.0-17.5 N) and an island (17.6-17.8 N) with a highway on each, and a
    # corridor-less islet (17.9-18.0 N): places on the islet reach land only over water
    land = Land(
        gpd.GeoSeries(
            [
                box(-93.5, 17.0, -92.5, 17.5),
                box(-93.5, 17.6, -92.5, 17.8),
                box(-93.2, 17.9, -92.9, 18.0),
            ],
            crs="EPSG:4326",
        ),
        margin_km=30.0,
    )
    lines = _roads(
        LineString([(-93.4, 17.1), (-92.6, 17.45)]),
        LineString([(-93.4, 17.65), (-92.6, 17.75)]),
    )
    return build_network(lines, COSTS, land=land)


def test_places_across_water_take_the_same_drops(strait: PlanningNetwork) -> None:
    rng = np.random.default_rng(11)
    xy = list(zip(rng.uniform(-93.45, -92.55, 60), rng.uniform(17.02, 17.79, 60), strict=True))
    xy += list(zip(rng.uniform(-93.15, -92.95, 6), rng.uniform(17.91, 17.99, 6), strict=True))
    # by the shore, where the nearest road is across the strait
    xy += [(-93.0, 17.52), (-92.7, 17.59), (-93.1, 17.55)]
    graph = assert_attached_alike(strait, _points(xy))
    # the islet's six places (place 60 to place 65) cross the 0.1-degree strait to the
    # island (17.9 -> 17.8 N), landing on both shores
    crossings = {
        d["name"]: d for _, _, d in graph.edges(data=True) if d.get("deployment_type") == "subsea"
    }
    for i in range(60, 66):
        crossing = crossings[f"subsea link to place {i}"]
        assert crossing["landings"] == 2
        assert crossing["length_km"] == pytest.approx(0.1 * 110.67, rel=0.02)


def _coast_world() -> Land:
    # a jagged coast: a comb of bays (every 0.05 degree) along 17.5 N, and a 6-degree
    # straight border (a long segment that every tile it crosses cuts short)
    teeth = [(-96.0 + 0.05 * i, 17.5 + 0.03 * (i % 2)) for i in range(121)]
    mainland = shapely.Polygon([(-96.0, 15.0), *teeth, (-90.0, 15.0)])
    border = shapely.Polygon([(-96.0, 14.0), (-90.0, 14.9), (-90.0, 14.0)])
    return Land(gpd.GeoSeries([mainland, border], crs="EPSG:4326"), margin_km=100.0)


def test_a_line_cut_against_a_tile_is_cut_as_against_the_whole_land() -> None:
    land = _coast_world()
    rng = np.random.default_rng(3)
    lines = [LineString([(-92.83, 17.3), (-92.83, 17.7)])]  # across a tooth of the comb
    for _ in range(150):
        x, y = rng.uniform(-96.2, -89.8), rng.choice([17.5, 14.9 - rng.uniform(0, 0.9)])
        length, angle = 10 ** rng.uniform(-2.5, 0.5), rng.uniform(0, 2 * np.pi)
        lines.append(LineString([(x, y), (x + length * np.cos(angle), y + length * np.sin(angle))]))
    ours = [land.pieces(line) for line in lines]
    with whole_land():
        theirs = [land.pieces(line) for line in lines]
    assert [[(p.geometry.wkb, p.on_land, p.landings) for p in pieces] for pieces in ours] == [
        [(p.geometry.wkb, p.on_land, p.landings) for p in pieces] for pieces in theirs
    ]
    # the first line leaves land where it meets the comb's edge from (-92.85, 17.53) to
    # (-92.80, 17.50), 0.4 of the way along: 17.53 - 0.4 x 0.03 = 17.518 N; it never
    # comes back
    first = ours[0]
    assert [p.on_land for p in first] == [True, False]
    assert first[0].geometry.coords[-1][1] == pytest.approx(17.518, abs=1e-9)
    # the tiles were used, and the long border segment made the lines near it fall back
    assert land.__dict__["_tiles"]


def test_a_line_near_a_segment_cut_by_its_tile_is_cut_against_the_whole_land() -> None:
    land = _coast_world()
    # crosses the 6-degree border segment, whose tile cuts it short: the tile is no use
    line = LineString([(-93.0, 14.3), (-93.0, 14.6)])
    assert land._local(line) is land.geometry
    # a short line in a bay of the comb, far from any cut segment: its tile is used
    bay = LineString([(-94.02, 17.45), (-94.02, 17.56)])
    assert land._local(bay) is not land.geometry


def test_the_bundled_coast_is_cut_alike_by_tiles(bundled_states: Land) -> None:
    # 300 lines of 100 m to 500 km across the real coast, at seeded random places on it
    land = bundled_states
    rng = np.random.default_rng(17)
    boundary = shapely.boundary(land.geometry)
    at = shapely.line_interpolate_point(boundary, rng.uniform(0, boundary.length, 300))
    length, angle = 10 ** rng.uniform(-3, 0.7, 300), rng.uniform(0, 2 * np.pi, 300)
    x0, y0 = shapely.get_x(at), shapely.get_y(at)
    ends = np.stack([x0 + length * np.cos(angle), y0 + length * np.sin(angle)], axis=1)
    lines = shapely.linestrings(np.stack([np.stack([x0, y0], axis=1), ends], axis=1))
    ours = [[(p.geometry.wkb, p.on_land, p.landings) for p in land.pieces(g)] for g in lines]
    with whole_land():
        theirs = [[(p.geometry.wkb, p.on_land, p.landings) for p in land.pieces(g)] for g in lines]
    assert ours == theirs
    # the sample is no sample of easy cases: a fifth or more leave the land beyond the tolerance
    assert sum(len(pieces) > 1 for pieces in ours) > 60


@pytest.fixture(scope="module")
def bundled_states() -> Land:
    return Land(gpd.read_file(Path(__file__).resolve().parents[2] / "data/layers/states.fgb"))


@pytest.mark.parametrize("area", ["Tabasco", "Quintana Roo", "Baja California Sur"])
def test_the_bundled_localities_attach_as_before(bundled_store: Path, area: str) -> None:
    # Tabasco: 1,268 localities of 250 people or more on few corridors (many splits);
    # Quintana Roo and Baja California Sur: islands whose drops cross water
    from layers.store import Store
    from usecases.context import planning_context
    from usecases.last_mile import area_localities

    context = planning_context(Store(bundled_store))
    _, inside = area_localities(area, context)
    inside = inside[inside["population"] >= 250]
    anchor = shapely.point_on_surface(np.asarray(inside.geometry.values, dtype=object))
    points = gpd.GeoDataFrame(
        {"name": inside["name"].astype(str).to_numpy()}, geometry=anchor, crs="EPSG:4326"
    )
    assert len(points) > 80
    assert_attached_alike(context.network, points)


def test_the_corridor_index_is_built_once_per_shared_network() -> None:
    network = build_network(_roads(LineString([(-93.0, 17.0), (-93.0, 18.0)])), COSTS)
    first, second = network.copy(), network.copy()
    keys, tree = _corridor_index(first.graph)
    # another request's untouched copy gets the same index, not a new one
    assert _corridor_index(second.graph)[1] is tree
    # once a place is attached the copy's corridors differ: its index is its own, and
    # holds the two halves of the split highway instead of the highway
    attach_points(first.graph, _points([(-92.99, 17.5)]))
    split_keys, split_tree = _corridor_index(first.graph)
    assert split_tree is not tree
    assert len(keys) == 1 and len(split_keys) == 2
    # and the shared network itself was never changed
    assert network.graph.number_of_edges() == 1


def test_places_attached_one_after_another_share_one_index_and_attach_as_with_fresh_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a route attaches its places one call each: the second call reuses the index the
    # first left (it knows the split it made) and must give the graph that a new index
    # of the split corridors gives; places on the roads, on a vertex, twice at one spot
    # and half-way between the parallels (equally near both) test the ties
    network = build_network(
        _roads(
            LineString([(-93.0, 17.0), (-93.0, 17.5), (-93.0, 18.0)]),
            LineString([(-92.8, 17.0), (-92.8, 18.0)]),
        ),
        COSTS,
    )
    rng = np.random.default_rng(3)
    xy = list(zip(rng.uniform(-93.1, -92.7, 40), rng.uniform(16.95, 18.05, 40), strict=True))
    xy += [(-93.0, 17.25), (-93.0, 17.5), (-92.9, 17.3), (-92.9, 17.3), (-92.8, 17.8)]
    ours, theirs = network.copy(), network.copy()
    built: list[nx.MultiGraph] = []

    def counted(graph: nx.MultiGraph) -> Any:
        built.append(graph)
        return build_corridor_index(graph)

    monkeypatch.setattr(attach_module, "_build_corridor_index", counted)
    ours_nodes = [attach_point(ours.graph, x, y, name=f"p{i}") for i, (x, y) in enumerate(xy)]
    assert len(built) == 1  # the shared network's index; every later call reused its own
    monkeypatch.setattr(attach_module, "_edge_index", attach_module._EdgeIndex)
    their_nodes = [attach_point(theirs.graph, x, y, name=f"p{i}") for i, (x, y) in enumerate(xy)]
    assert len(built) == 1 + len(xy) - 1  # the first call found the shared index
    assert ours_nodes == their_nodes
    assert _snapshot(ours.graph) == _snapshot(theirs.graph)


def test_an_index_is_not_reused_once_something_else_changed_the_graph() -> None:
    network = build_network(_roads(LineString([(-93.0, 17.0), (-93.0, 18.0)])), COSTS)
    copy = network.copy()
    attach_point(copy.graph, -92.99, 17.5, name="a")
    kept = attach_module._LIVE_INDEXES[copy.graph][1]
    assert attach_module._edge_index(copy.graph) is kept
    # a new road the index never saw: the next place must see it, so a new index is made
    copy.graph.add_node(900, x=-92.5, y=17.2)
    copy.graph.add_node(901, x=-92.5, y=17.8)
    copy.graph.add_edge(
        900, 901, geometry=LineString([(-92.5, 17.2), (-92.5, 17.8)]), length_km=66.4,
        cost_usd=1.0, kind="rights_of_way", deployment_type="highway",
    )  # fmt: skip
    assert attach_module._edge_index(copy.graph) is not kept
    node = attach_point(copy.graph, -92.51, 17.5, name="b")
    assert {n for n in copy.graph.neighbors(node)} - {900, 901}  # joined the new road
