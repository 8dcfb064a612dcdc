"""Corridor graph building and place attachment, checked against hand-worked geodesy."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import pytest
from scipy.integrate import quad
from shapely import LineString, MultiLineString, Point

from layers.errors import (
    GraphBuildError,
    NoRouteError,
)
from planner.network.attach import (
    attach_point,
    attach_points,
)
from planner.network.corridor_graph import build_corridor_graph

# WGS84 ellipsoid, worked here independently of pyproj
A = 6378.137
F = 1 / 298.257223563
E2 = F * (2 - F)


def meridian_km(lat1: float, lat2: float) -> float:
    """Meridian arc length: a(1-e²) ∫ (1 - e² sin²φ)^(-3/2) dφ."""

    def integrand(phi: float) -> float:
        return float(A * (1 - E2) / (1 - E2 * math.sin(phi) ** 2) ** 1.5)

    return quad(integrand, math.radians(lat1), math.radians(lat2))[0]


def parallel_km(lat: float, dlon: float) -> float:
    """Arc of a parallel: N cos φ Δλ (the geodesic is shorter by ~1 cm at 0.5°)."""
    phi = math.radians(lat)
    return A / math.sqrt(1 - E2 * math.sin(phi) ** 2) * math.cos(phi) * math.radians(dlon)


def edge_lengths(graph: nx.MultiGraph) -> list[float]:
    return sorted(d["length_km"] for _, _, d in graph.edges(data=True))


def test_meridian_degree_at_equator_is_published_value(rows) -> None:
    graph = build_corridor_graph({"row": rows(("highway", [(0.0, 0.0), (0.0, 1.0)]))})
    (length,) = edge_lengths(graph)
    assert length == pytest.approx(110.574, abs=0.001)  # 1° of meridian at the equator
    assert length == pytest.approx(meridian_km(0, 1), abs=1e-6)


def test_crossing_lines_are_noded_into_four_edges(rows) -> None:
    frame = rows(
        ("highway", [(-93.0, 18.0), (-93.0, 19.0)]),
        ("rail", [(-93.5, 18.5), (-92.5, 18.5)]),
    )
    graph = build_corridor_graph({"row": frame})
    assert graph.number_of_nodes() == 5
    assert graph.number_of_edges() == 4
    centre = next(n for n, d in graph.nodes(data=True) if (d["x"], d["y"]) == (-93.0, 18.5))
    assert graph.degree(centre) == 4
    expected = sorted([meridian_km(18, 18.5), meridian_km(18.5, 19)] + [parallel_km(18.5, 0.5)] * 2)
    assert edge_lengths(graph) == pytest.approx(expected, abs=1e-3)
    by_type = {d["row_type"]: d for _, _, d in graph.edges(data=True)}
    assert by_type["rail"]["corridor"] == ("row", 1)
    assert by_type["rail"]["deployment"] == "rail"
    assert by_type["highway"]["name"] == "r0"
    assert graph.graph["crs"] == "EPSG:4326"
    assert graph.graph["analysis_crs"] == "EPSG:6372"
    assert graph.graph["length_units"] == "km"


@pytest.mark.parametrize(("gap_deg", "joined"), [(0.0, True), (0.0003, True), (0.0008, False)])
def test_line_ends_within_tolerance_are_merged(rows, gap_deg: float, joined: bool) -> None:
    # 0.0003° of latitude is ~33 m, 0.0008° is ~88 m; the tolerance is 50 m
    frame = rows(
        ("highway", [(-99.0, 19.0), (-99.0, 19.5)]),
        ("highway", [(-99.0, 19.5 + gap_deg), (-99.0, 20.0)]),
    )
    graph = build_corridor_graph({"row": frame}, snap_tolerance_m=50.0)
    assert nx.is_connected(graph) is joined
    assert graph.number_of_nodes() == (3 if joined else 4)


def test_line_end_near_another_lines_middle_joins_it(rows) -> None:
    frame = rows(
        ("highway", [(-99.0, 19.0), (-99.0, 20.0)]),
        ("pipeline", [(-98.5, 19.5), (-98.9997, 19.5)]),  # stops ~31 m short
    )
    graph = build_corridor_graph({"row": frame})
    assert nx.is_connected(graph)
    assert graph.number_of_edges() == 3
    highway = [d["length_km"] for _, _, d in graph.edges(data=True) if d["row_type"] == "highway"]
    assert sum(highway) == pytest.approx(meridian_km(19, 20), abs=1e-3)


def test_parallel_corridors_are_both_kept() -> None:
    line = LineString([(-96.0, 17.0), (-96.0, 17.5)])
    highway = gpd.GeoDataFrame({"row_type": ["highway"]}, geometry=[line], crs="EPSG:4326")
    fiber = gpd.GeoDataFrame(
        {"operator": ["Red"], "status": ["existing"], "lease_available": [True], "fibers": [48]},
        geometry=[MultiLineString([[(-96.0, 17.0), (-96.0, 17.25), (-96.0, 17.5)]])],
        crs="EPSG:4326",
    )
    graph = build_corridor_graph([highway.assign(layer="roads"), fiber.assign(layer="red")])
    assert graph.number_of_nodes() == 2
    assert graph.number_of_edges() == 2
    kinds = {d["deployment"]: d for _, _, d in graph.edges(data=True)}
    assert set(kinds) == {"highway", "fiber"}
    assert kinds["fiber"]["operator"] == "Red"
    assert kinds["fiber"]["fibers"] == 48
    assert kinds["fiber"]["lease_available"] is True
    assert kinds["fiber"]["corridor"] == ("red", 0)


def test_partial_overlap_is_cut_where_lines_meet_and_part() -> None:
    highway = gpd.GeoDataFrame(
        {"row_type": ["highway"]},
        geometry=[LineString([(-96.0, 17.0), (-96.0, 18.0)])],
        crs="EPSG:4326",
    )
    fiber = gpd.GeoDataFrame(
        {"operator": ["Red"], "status": ["planned"]},
        geometry=[LineString([(-95.5, 17.2), (-96.0, 17.2), (-96.0, 17.6), (-95.5, 17.6)])],
        crs="EPSG:4326",
    )
    graph = build_corridor_graph({"roads": highway, "red": fiber})
    # highway: 3 pieces; fiber: in, along (parallel to the middle highway piece), out
    assert graph.number_of_edges() == 6
    assert graph.number_of_nodes() == 6
    pairs: dict[frozenset[int], list[float]] = {}
    for u, v, d in graph.edges(data=True):
        pairs.setdefault(frozenset((u, v)), []).append(d["length_km"])
    (shared,) = [lengths for lengths in pairs.values() if len(lengths) == 2]
    assert shared == pytest.approx([meridian_km(17.2, 17.6)] * 2, abs=1e-3)


def test_missing_crs_is_refused(rows) -> None:
    frame = rows(("rail", [(0, 0), (0, 1)])).set_crs(None, allow_override=True)
    with pytest.raises(GraphBuildError, match="set_crs"):
        build_corridor_graph({"row": frame})


@pytest.fixture
def meridian_graph(rows) -> nx.MultiGraph:
    return build_corridor_graph({"row": rows(("highway", [(-93.0, 18.0), (-93.0, 19.0)]))})


def test_attach_point_splits_the_nearest_edge(meridian_graph: nx.MultiGraph) -> None:
    total = meridian_km(18, 19)
    node = attach_point(meridian_graph, -92.99, 18.25, name="Cárdenas")
    g = meridian_graph
    assert g.nodes[node]["name"] == "Cárdenas"
    assert g.number_of_edges() == 3
    connector = next(d for _, _, d in g.edges(node, data=True))
    assert connector["deployment"] == "connector"
    # 0.01° of longitude at 18.25° N
    assert connector["length_km"] == pytest.approx(parallel_km(18.25, 0.01), rel=1e-3)
    split = [d for _, _, d in g.edges(data=True) if d["deployment"] == "highway"]
    assert sum(d["length_km"] for d in split) == pytest.approx(total, rel=1e-12)
    assert sorted(d["length_km"] for d in split) == pytest.approx(
        sorted([meridian_km(18, 18.25), meridian_km(18.25, 19)]), abs=0.05
    )
    assert all(d["corridor"] == ("row", 0) for d in split)


def test_several_points_on_one_edge_split_its_pieces(meridian_graph: nx.MultiGraph) -> None:
    points = gpd.GeoDataFrame(
        {"name": ["a", "b", "c"]},
        geometry=[Point(-93.01, 18.2), Point(-92.98, 18.7), Point(-93.0, 18.5)],
        crs="EPSG:4326",
    )
    nodes = attach_points(meridian_graph, points)
    g = meridian_graph
    highway = [d for _, _, d in g.edges(data=True) if d["deployment"] == "highway"]
    assert len(highway) == 4
    assert sum(d["length_km"] for d in highway) == pytest.approx(meridian_km(18, 19), abs=1e-3)
    assert nx.is_connected(g)
    assert g.nodes[nodes[2]]["name"] == "c"  # on the line: the split node itself
    assert g.degree(nodes[2]) == 2
    for _, _, d in g.edges(data=True):
        start, end = d["geometry"].coords[0], d["geometry"].coords[-1]
        assert start != end


def test_point_on_a_node_does_not_split(meridian_graph: nx.MultiGraph) -> None:
    node = attach_point(meridian_graph, -93.0, 19.0, name="end")
    assert meridian_graph.number_of_edges() == 1
    assert meridian_graph.number_of_nodes() == 2
    assert meridian_graph.nodes[node]["name"] == "end"
    node = attach_point(meridian_graph, -93.001, 19.0, name="beside")
    assert meridian_graph.number_of_edges() == 2
    assert meridian_graph.number_of_nodes() == 3


def test_far_point_is_refused(meridian_graph: nx.MultiGraph) -> None:
    with pytest.raises(NoRouteError, match="max_connector_km"):
        attach_point(meridian_graph, -90.0, 18.5, name="far", max_connector_km=50)
