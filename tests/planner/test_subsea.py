"""Subsea edges between consecutive landings of a cable, worked by hand on the equator."""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
from shapely import LineString, MultiLineString, Point

from planner.cost_model import load_cost_model
from planner.network import PlanningNetwork, build_network
from planner.places import Place
from planner.route_plan import plan_route
from planner.subsea import add_subsea_links, great_circle

# One degree of longitude along the equator on the WGS84 ellipsoid:
# 2 * pi * 6,378,137 m / 360 = 111,319.49 m.
EQUATOR_DEGREE_KM = 2 * math.pi * 6378.137 / 360


@pytest.fixture
def network() -> PlanningNetwork:
    """Two short coastal roads, one at each landing, that do not touch each other."""
    roads = gpd.GeoDataFrame(
        {"row_type": ["highway", "highway"]},
        geometry=[
            LineString([(0.0, 0.01), (0.0, 0.2)]),
            LineString([(1.0, 0.01), (1.0, 0.2)]),
        ],
        crs="EPSG:4326",
    )
    return build_network({"roads": roads}, load_cost_model(), max_bridge_km=1.0)


def _landings(*points: tuple[str, float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [p[0] for p in points]},
        geometry=[Point(p[1], p[2]) for p in points],
        crs="EPSG:4326",
    )


def _cables(
    geometry: LineString | MultiLineString, landings: str, **extra: object
) -> gpd.GeoDataFrame:
    data = {"name": ["Equator cable"], "landings": [landings], "cable_id": ["eq-1"]}
    data.update({k: [v] for k, v in extra.items()})
    return gpd.GeoDataFrame(data, geometry=[geometry], crs="EPSG:4326")


def test_one_edge_between_two_landings_with_hand_computed_length(network: PlanningNetwork) -> None:
    cable = LineString([(-0.5, 0.0), (1.5, 0.0)])  # runs past both landings
    landings = _landings(("West", 0.0, 0.0), ("East", 1.0, 0.0))
    [link] = add_subsea_links(network, _cables(cable, "West, East"), landings)

    assert link.method == "along cable"
    assert (link.landing_a, link.landing_b) == ("West", "East")
    assert link.length_km == pytest.approx(EQUATOR_DEGREE_KM, rel=1e-6)
    model = network.cost_model
    assert link.cost_usd == pytest.approx(model.usd_per_km("subsea") * EQUATOR_DEGREE_KM)

    data = network.graph.get_edge_data(link.node_a, link.node_b)
    [edge] = [d for d in data.values() if d["deployment_type"] == "subsea"]
    assert edge["corridor"] == ("subsea_cables", "eq-1")
    assert edge["reuses_fiber"] is True  # a cable in service: capacity, not a new build
    assert edge["geometry"].coords[0] == (0.0, 0.0)
    assert edge["geometry"].coords[-1] == (1.0, 0.0)
    # each landing is attached to the land network by a drop to its road
    for node in (link.node_a, link.node_b):
        kinds = {d.get("kind") for _, _, d in network.graph.edges(node, data=True)}
        assert "connector" in kinds


def test_a_route_between_the_landings_uses_the_cable(network: PlanningNetwork) -> None:
    cable = LineString([(0.0, 0.0), (1.0, 0.0)])
    landings = _landings(("West", 0.0, 0.0), ("East", 1.0, 0.0))
    add_subsea_links(network, _cables(cable, "West, East"), landings)
    proposal = plan_route(
        network, Place("West", 0.0, 0.0, kind="landing"), Place("East", 1.0, 0.0, kind="landing")
    )
    subsea = [s for s in proposal.segments if s.deployment_type == "subsea"]
    assert len(subsea) == 1
    assert subsea[0].corridor == "subsea_cables:eq-1"
    assert subsea[0].length_km == pytest.approx(EQUATOR_DEGREE_KM, rel=1e-6)


def test_three_landings_are_joined_in_order_along_the_cable(network: PlanningNetwork) -> None:
    cable = LineString([(0.0, 0.0), (2.0, 0.0)])
    landings = _landings(("A", 0.0, 0.0), ("C", 2.0, 0.0), ("B", 1.0, 0.0))
    links = add_subsea_links(network, _cables(cable, "C, A, B"), landings)
    pairs = [{link.landing_a, link.landing_b} for link in links]
    assert pairs == [{"A", "B"}, {"B", "C"}] or pairs == [{"B", "C"}, {"A", "B"}]
    assert sum(link.length_km for link in links) == pytest.approx(2 * EQUATOR_DEGREE_KM, rel=1e-6)


def test_a_branch_that_stops_short_of_the_trunk_is_followed(network: PlanningNetwork) -> None:
    trunk = LineString([(0.0, -1.0), (0.0, 1.0)])
    branch = LineString([(0.05, 0.0), (1.0, 0.0)])  # ends ~5.6 km from the trunk
    cable = MultiLineString([trunk, branch])
    landings = _landings(("North", 0.0, 1.0), ("East", 1.0, 0.0))
    [link] = add_subsea_links(network, _cables(cable, "North, East"), landings)
    assert link.method == "along cable"
    # up the trunk 1 degree of latitude, across the 0.05 degree gap, along the branch
    assert 110.5 + 0.95 * EQUATOR_DEGREE_KM < link.length_km < 110.7 + EQUATOR_DEGREE_KM


def test_a_landing_far_from_the_cable_gets_a_great_circle(network: PlanningNetwork) -> None:
    cable = LineString([(0.0, 3.0), (1.0, 3.0)])  # drawn 330 km away from both landings
    landings = _landings(("West", 0.0, 0.0), ("East", 1.0, 0.0))
    [link] = add_subsea_links(network, _cables(cable, "West, East"), landings)
    assert link.method == "great circle"
    assert link.length_km == pytest.approx(EQUATOR_DEGREE_KM, rel=1e-6)


def test_a_planned_cable_is_a_new_build(network: PlanningNetwork) -> None:
    cable = LineString([(0.0, 0.0), (1.0, 0.0)])
    landings = _landings(("West", 0.0, 0.0), ("East", 1.0, 0.0))
    [link] = add_subsea_links(network, _cables(cable, "West, East", planned=True), landings)
    assert link.existing is False
    data = network.graph.get_edge_data(link.node_a, link.node_b)
    assert all(not d["reuses_fiber"] for d in data.values() if d["kind"] == "subsea")


def test_a_cable_with_one_known_landing_adds_nothing(network: PlanningNetwork) -> None:
    cable = LineString([(0.0, 0.0), (1.0, 0.0)])
    landings = _landings(("West", 0.0, 0.0))
    assert add_subsea_links(network, _cables(cable, "West, Elsewhere"), landings) == []


def test_great_circle_keeps_its_ends() -> None:
    line = great_circle((0.0, 0.0), (1.0, 0.0))
    assert line.coords[0] == (0.0, 0.0)
    assert line.coords[-1] == (1.0, 0.0)
    assert len(line.coords) == 6  # 111 km in steps of at most 25 km
