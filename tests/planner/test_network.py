"""The priced planning network and the segments proposals are made of."""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely import LineString

from planner.network.cost_model import load_cost_model
from planner.network.places import Place
from planner.network.planning_network import attach_place, build_network
from planner.plans.route import plan_route
from planner.proposals.segments import segments_from_edges

# Length of one degree of latitude between 17° and 18° N on the WGS84 ellipsoid: 110.67 km
# (meridian arc tables give 110.649 km per degree at 15° and 110.704 km at 20°).
DEGREE_17_18_KM = 110.67
COSTS = load_cost_model()


def frame(lines: list[LineString], **columns: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=lines, crs="EPSG:4326")


def meridian(lon: float, lat0: float, lat1: float) -> LineString:
    return LineString([(lon, lat0), (lon, lat1)])


def test_edges_are_priced_by_their_corridor_type() -> None:
    row = frame([meridian(-93.0, 17.0, 18.0)], row_type=["highway"])
    fiber = frame(
        [meridian(-92.0, 17.0, 18.0), meridian(-91.0, 17.0, 18.0)],
        operator=["CFE", "CFE"],
        status=["existing", "planned"],
        lease_available=[True, True],
    )
    network = build_network({"roads": row, "fiber": fiber}, COSTS, max_bridge_km=0)
    by_layer = {(d["layer"], d["feature_id"]): d for _, _, d in network.graph.edges(data=True)}
    road = by_layer[("roads", 0)]
    assert road["deployment_type"] == "highway"
    assert road["length_km"] == pytest.approx(DEGREE_17_18_KM, abs=0.05)
    assert road["cost_usd"] == pytest.approx(18_000 * road["length_km"])
    assert road["reuses_corridor"] and not road["reuses_fiber"]
    leased = by_layer[("fiber", 0)]
    assert leased["deployment_type"] == "fiber_lease" and leased["reuses_fiber"]
    # planned fiber cannot be leased yet: a new cable on an unknown right of way
    assert by_layer[("fiber", 1)]["deployment_type"] == "greenfield"


def test_roads_are_priced_by_their_class() -> None:
    # rates of data/cost_model.toml [road_class.*]: motorway 16k, local 24k, unpaved 22k/km;
    # a highway without a class keeps deployment.highway's 18k/km
    classes = ["motorway", "local", "unpaved", None]
    rates = [16_000, 24_000, 22_000, 18_000]
    roads = frame(
        [meridian(-93.0 + i, 17.0, 18.0) for i in range(4)],
        row_type=["highway"] * 4,
        road_class=classes,
    )
    network = build_network({"roads": roads}, COSTS, max_bridge_km=0)
    by_feature = {d["feature_id"]: d for _, _, d in network.graph.edges(data=True)}
    for i, rate in enumerate(rates):
        edge = by_feature[i]
        assert edge["deployment_type"] == "highway"
        assert edge["road_class"] == classes[i]
        assert edge["cost_usd"] == pytest.approx(rate * DEGREE_17_18_KM, rel=5e-4)


def test_a_route_on_a_classed_road_restates_the_class_rate() -> None:
    # one local street along the meridian -93 from 17°N to 18°N; places on it at 17.25° and
    # 17.75°: half a degree of latitude at 24,000 USD/km (road_class.local)
    roads = frame([meridian(-93.0, 17.0, 18.0)], row_type=["highway"], road_class=["local"])
    network = build_network({"roads": roads}, COSTS, max_bridge_km=0)
    a = Place(name="a", lon=-93.0, lat=17.25)
    b = Place(name="b", lon=-93.0, lat=17.75)
    (segment,) = [s for s in plan_route(network, a, b).segments if s.length_km > 1]
    assert segment.rate_usd_per_km == 24_000
    assert segment.extra["road_class"] == "local"
    assert segment.length_km == pytest.approx(0.5 * DEGREE_17_18_KM, abs=0.05)
    assert segment.cost_usd == pytest.approx(24_000 * segment.length_km, abs=0.01)


def test_separate_corridor_networks_are_bridged_at_their_nearest_ends() -> None:
    # two highways on one meridian with a 0.1° gap (17.9° to 18.0°): an 11.07 km bridge
    row = frame(
        [meridian(-93.0, 17.0, 17.9), meridian(-93.0, 18.0, 18.5)], row_type=["highway"] * 2
    )
    network = build_network({"roads": row}, COSTS)
    assert network.bridges == 1
    assert nx.is_connected(network.graph)
    (bridge,) = [d for _, _, d in network.graph.edges(data=True) if d["kind"] == "bridge"]
    assert bridge["deployment_type"] == "greenfield"
    assert bridge["length_km"] == pytest.approx(0.1 * DEGREE_17_18_KM, abs=0.02)
    assert bridge["cost_usd"] == pytest.approx(30_000 * bridge["length_km"])


def test_bridges_stop_at_the_limit() -> None:
    row = frame(
        [meridian(-93.0, 17.0, 17.5), meridian(-93.0, 18.0, 18.5)], row_type=["highway"] * 2
    )
    network = build_network({"roads": row}, COSTS, max_bridge_km=50)
    assert network.bridges == 0
    assert nx.number_connected_components(network.graph) == 2


def test_a_place_is_attached_once_and_its_drop_is_priced() -> None:
    row = frame([meridian(-93.0, 17.0, 18.0)], row_type=["rail"])
    network = build_network({"rail": row}, COSTS)
    # 0.01° of longitude east of the line at 17.5° N: 1.062 km (111.32 km · cos 17.5° / 100)
    town = Place("Pueblo", -92.99, 17.5)
    node = attach_place(network, town)
    assert attach_place(network, town) == node
    ((_, _, drop),) = network.graph.edges(node, data=True)
    assert drop["deployment_type"] == "connector"
    assert drop["length_km"] == pytest.approx(1.062, abs=0.005)
    assert drop["cost_usd"] == pytest.approx(25_000 * drop["length_km"])


def test_consecutive_pieces_of_one_corridor_make_one_segment() -> None:
    # a rail line cut in three by two crossing highways, routed end to end
    rail = frame([meridian(-93.0, 17.0, 18.0)], row_type=["rail"])
    roads = frame(
        [LineString([(-93.5, 17.3), (-92.5, 17.3)]), LineString([(-93.5, 17.6), (-92.5, 17.6)])],
        row_type=["highway", "highway"],
    )
    network = build_network({"rail": rail, "roads": roads}, COSTS)
    start, end = Place("Sur", -93.0, 17.0), Place("Norte", -93.0, 18.0)
    proposal = plan_route(network, start, end)
    (segment,) = proposal.segments
    assert segment.deployment_type == "rail" and segment.corridor == "rail:0"
    assert segment.length_km == pytest.approx(DEGREE_17_18_KM, abs=0.05)
    assert segment.cost_usd == pytest.approx(16_000 * segment.length_km)
    assert segment.geometry.coords[0] == (-93.0, 17.0)


def test_route_takes_the_cheaper_corridor_and_counts_its_nodes() -> None:
    # rail (16k/km) straight north vs highway (18k/km) on the same course: rail wins
    rail = frame([meridian(-93.0, 17.0, 18.0)], row_type=["rail"])
    road = frame(
        [LineString([(-93.0, 17.0), (-92.999, 17.5), (-93.0, 18.0)])], row_type=["highway"]
    )
    network = build_network({"rail": rail, "road": road}, COSTS)
    proposal = plan_route(network, Place("Sur", -93.0, 17.0), Place("Norte", -93.0, 18.0))
    assert {s.deployment_type for s in proposal.segments} == {"rail"}
    # one splice site per 90 km of new cable (floor(110.67 / 90) = 1) and two terminal PoPs
    assert proposal.node_costs_usd == {"splice_sites": 150_000, "terminal_pops": 200_000}


def test_segments_from_edges_orients_each_piece_along_the_route() -> None:
    rail = frame([meridian(-93.0, 17.0, 18.0)], row_type=["rail"])
    network = build_network({"rail": rail}, COSTS)
    ((u, v, key),) = network.graph.edges(keys=True)
    north_first = u if network.graph.nodes[u]["y"] == 18.0 else v
    south = v if north_first == u else u
    (segment,) = segments_from_edges(network, [(north_first, south, key)], role="primary")
    assert list(segment.geometry.coords) == [(-93.0, 18.0), (-93.0, 17.0)]


def test_segments_from_edges_orients_every_edge_of_a_route_either_way() -> None:
    # four rail lines end to end along 17°N, digitised west-east and east-west in turn:
    # a route either way must run each piece away from where the last one ended
    lines = [
        LineString([(-93.0, 17.0), (-92.9, 17.0)]),
        LineString([(-92.8, 17.0), (-92.9, 17.0)]),
        LineString([(-92.8, 17.0), (-92.7, 17.0)]),
        LineString([(-92.6, 17.0), (-92.7, 17.0)]),
    ]
    network = build_network({"rail": frame(lines, row_type=["rail"] * 4)}, COSTS)
    graph = network.graph
    west = next(n for n in graph if graph.nodes[n]["x"] == -93.0)
    east = next(n for n in graph if graph.nodes[n]["x"] == -92.6)
    path = nx.shortest_path(graph, west, east)
    for nodes in (path, path[::-1]):
        edges = [(u, v, next(iter(graph[u][v]))) for u, v in pairwise(nodes)]
        segments = segments_from_edges(network, edges, role="primary")
        assert len(segments) == 4  # one corridor each
        start = (graph.nodes[nodes[0]]["x"], graph.nodes[nodes[0]]["y"])
        for segment, v in zip(segments, nodes[1:], strict=True):
            coords = list(segment.geometry.coords)
            assert coords[0] == start
            assert coords[-1] == (graph.nodes[v]["x"], graph.nodes[v]["y"])
            start = coords[-1]


def test_fiber_on_a_power_line_shares_its_corridor() -> None:
    line = meridian(-93.0, 17.0, 18.0)
    power = frame([line], row_type=["power"])
    fiber = frame([line], operator=["CFE"], status=["existing"], lease_available=[True])
    network = build_network({"power": power, "fiber": fiber}, COSTS)
    edges = {d["layer"]: d for _, _, d in network.graph.edges(data=True)}
    assert edges["fiber"]["corridor"] == edges["power"]["corridor"] == ("power", 0)
    assert edges["fiber"]["fiber_corridor"] == ("fiber", 0)


def test_a_diverse_pair_leaves_a_place_by_two_corridors() -> None:
    # two highways 0.1° apart, joined at both ends; the towns sit between them, nearer the
    # west one: attached to one corridor only, both routes would have to share it.
    west, east = meridian(-93.0, 17.0, 18.0), meridian(-92.9, 17.0, 18.0)
    ties = [LineString([(-93.0, 17.0), (-92.9, 17.0)]), LineString([(-93.0, 18.0), (-92.9, 18.0)])]
    roads = frame([west, east, *ties], row_type=["highway"] * 4)
    network = build_network({"roads": roads}, COSTS)
    south, north = Place("Sur", -92.96, 17.5), Place("Norte", -92.96, 17.7)
    proposal = plan_route(network, south, north, diverse=True)
    corridors = {
        role: {s.corridor for s in proposal.segments if s.role == role and s.corridor}
        for role in ("diverse-a", "diverse-b")
    }
    assert corridors == {"diverse-a": {"roads:0"}, "diverse-b": {"roads:1"}}
    # each route: two drops east or west (0.04° or 0.06° of longitude at 17.5-17.7° N,
    # 4.25 / 6.37 km) and 0.2° of latitude (22.13 km) along its highway
    km = {
        role: sum(s.length_km for s in proposal.segments if s.role == role)
        for role in ("diverse-a", "diverse-b")
    }
    assert sorted(km.values()) == pytest.approx([2 * 4.25 + 22.13, 2 * 6.37 + 22.13], abs=0.1)


ELEVATION = (
    Path(__file__).resolve().parents[1] / "data" / "raster" / "tabasco_chiapas_elevation_1km.tif"
)


def test_a_greenfield_bridge_in_a_route_follows_the_terrain() -> None:
    # two highways on 92.9° W that stop 0.2° of latitude apart (17.6° to 17.8° N, about
    # 22.1 km): the route crosses the gap by a greenfield link re-routed over the
    # elevation clip, so its line bends through cells and costs at least the flat rate
    # over the straight distance.
    roads = frame(
        [meridian(-92.9, 17.4, 17.6), meridian(-92.9, 17.8, 18.0)], row_type=["highway"] * 2
    )
    network = build_network({"roads": roads}, COSTS, elevation=ELEVATION)
    proposal = plan_route(network, Place("Sur", -92.9, 17.4), Place("Norte", -92.9, 18.0))
    (bridge,) = [s for s in proposal.segments if s.deployment_type == "greenfield"]
    assert len(bridge.geometry.coords) > 2
    assert bridge.geometry.coords[0] == pytest.approx((-92.9, 17.6))
    assert bridge.geometry.coords[-1] == pytest.approx((-92.9, 17.8))
    straight_km = 0.2 * DEGREE_17_18_KM
    assert straight_km <= bridge.length_km < 1.3 * straight_km
    assert bridge.cost_usd >= 30_000 * straight_km * 0.999
    # flat ground (slope under 5°: multiplier 1.0); the link starts and ends on the highways,
    # so part of it lies on corridor cells priced at the highway's 18k/30k = 0.6 of the rate
    assert bridge.rate_usd_per_km == 30_000 and bridge.multipliers["terrain"] == 1.0
    share = bridge.extra["corridor_share"]
    assert 0 < share < 0.5
    assert bridge.multipliers["corridor_ground"] == pytest.approx(1 - share + 0.6 * share, abs=1e-3)
    assert bridge.cost_usd == round(
        bridge.length_km * 30_000 * math.prod(bridge.multipliers.values()), 2
    )


def test_without_elevation_the_bridge_stays_straight_and_a_note_says_so() -> None:
    roads = frame(
        [meridian(-92.9, 17.4, 17.6), meridian(-92.9, 17.8, 18.0)], row_type=["highway"] * 2
    )
    network = build_network({"roads": roads}, COSTS)
    proposal = plan_route(network, Place("Sur", -92.9, 17.4), Place("Norte", -92.9, 18.0))
    (bridge,) = [s for s in proposal.segments if s.deployment_type == "greenfield"]
    assert len(bridge.geometry.coords) == 2
    assert any("no elevation raster" in note for note in proposal.notes)


def test_corridors_near_a_link_are_the_lines_meeting_its_widened_window() -> None:
    # highways along the meridians 92.0, 92.5, ..., 94.5 ° W from 17 to 18 ° N, and one at
    # 93.2 ° W from 25 to 26 ° N; windows are widened by 0.1 ° on every side
    lons = [-92.0 - 0.5 * i for i in range(6)]
    lines = [meridian(lon, 17.0, 18.0) for lon in lons] + [meridian(-93.2, 25.0, 26.0)]
    network = build_network({"roads": frame(lines, row_type=["highway"] * 7)}, COSTS)

    def near(bounds: tuple[float, float, float, float]) -> list[float]:
        found = network.corridors_near(bounds, 0.1)
        return [] if found is None else sorted(g.coords[0][0] for g in found.geometry)

    # 93.05-92.45 ° W widens to 93.15-92.35 ° W: the lines at 93.0 and 92.5 ° W
    assert near((-93.05, 17.5, -92.45, 17.6)) == [-93.0, -92.5]
    # 93.45-93.3 ° W widens to 93.55-93.2 ° W: only the line at 93.5 ° W
    assert near((-93.45, 17.2, -93.3, 17.3)) == [-93.5]
    # between the two groups of lines (20 ° N): none
    assert near((-93.3, 20.0, -93.25, 20.1)) == []
    # 24.9-26.1 ° N over 94.1-92.5 ° W: the northern line alone, not the southern ones
    assert near((-94.0, 25.0, -92.6, 26.0)) == [-93.2]
    # 94.1-92.5 ° W from 17.3 to 25.6 ° N: four southern lines (not 92.0 or 94.5 ° W) and
    # the northern one, the same rows in the same order as geopandas' coordinate indexer
    lines_frame = network.corridor_lines
    assert lines_frame is not None
    got = network.corridors_near((-94.0, 17.4, -92.6, 25.5), 0.1)
    expected = lines_frame.cx[-94.1:-92.5, 17.3:25.6]
    assert got is not None and got.index.tolist() == expected.index.tolist()
    assert len(got) == 5


def test_corridors_near_in_the_surface_crs_are_the_lines_reprojected_once() -> None:
    # two windows that share the line at 93.0 ° W: asked for in EPSG:6372, every line has
    # the coordinates reprojecting the lon/lat lines gives, the shared one reprojected once
    lines = [meridian(-92.0 - 0.5 * i, 17.0, 18.0) for i in range(4)]
    network = build_network({"roads": frame(lines, row_type=["highway"] * 4)}, COSTS)
    first = (-93.05, 17.5, -92.45, 17.6)  # the lines at 92.5 and 93.0 ° W
    second = (-93.45, 17.5, -92.95, 17.6)  # the lines at 93.0 and 93.5 ° W
    for bounds in (first, second):
        projected = network.corridors_near(bounds, 0.1, crs=6372)
        lonlat = network.corridors_near(bounds, 0.1)
        assert projected is not None and lonlat is not None
        expected = lonlat.to_crs(6372)
        assert projected.crs.is_exact_same(expected.crs)
        assert projected.index.tolist() == expected.index.tolist() and len(projected) == 2
        assert projected["deployment"].tolist() == expected["deployment"].tolist()
        assert (
            shapely.get_coordinates(projected.geometry)
            == shapely.get_coordinates(expected.geometry)
        ).all()
    assert network.corridors_near((-93.3, 20.0, -93.25, 20.1), 0.1, crs=6372) is None


def test_reusing_a_proxy_fiber_layer_is_noted_with_its_caveat() -> None:
    line = meridian(-93.0, 17.0, 18.0)
    fiber = frame([line], operator=["CFE"], status=["existing"], lease_available=[True])
    road = frame([meridian(-92.0, 17.0, 18.0)], row_type=["highway"])
    caveat = "an assumption: transmission corridors standing in for fiber"
    network = build_network(
        {"cfe_fiber": fiber, "road": road}, COSTS, caveats={"cfe_fiber": caveat, "gone": "x"}
    )
    assert network.caveats == {"cfe_fiber": caveat}
    proposal = plan_route(network, Place("Sur", -93.0, 17.0), Place("Norte", -93.0, 18.0))
    assert {s.deployment_type for s in proposal.segments} == {"fiber_lease"}
    assert f"100% of the length reuses cfe_fiber, which is {caveat}" in proposal.notes
    # every segment: km x the cost model's rate (fiber lease 5,000 USD/km), no multiplier
    (segment,) = proposal.segments
    assert segment.rate_usd_per_km == 5_000 and segment.multipliers == {}
    assert segment.cost_usd == round(segment.length_km * 5_000, 2)


def test_bridging_finds_the_nearest_joined_node_as_the_joined_set_grows() -> None:
    # bridging many components asks, again and again, for the joined node nearest each
    # node of the next component while the joined set grows: checked against brute force
    from planner.network.planning_network import _JoinedNodes

    rng = np.random.default_rng(5)
    metric = rng.uniform(0, 100_000, size=(3_000, 2))
    order = rng.permutation(3_000)
    joined = _JoinedNodes(metric, order[:400].tolist())
    members = order[:400].tolist()
    start = 400
    for size in [1, 3, 50, 7, 200, 2, 400, 90, 600, 5, 30]:
        rows = order[start : start + size]
        distance, nearest = joined.nearest(rows)
        gaps = np.hypot(*(metric[rows][:, None, :] - metric[members][None, :, :]).T).T
        assert np.allclose(distance, gaps.min(axis=1))
        assert np.array_equal(nearest, np.asarray(members)[gaps.argmin(axis=1)])
        joined.extend(rows)
        members.extend(rows.tolist())
        start += size
