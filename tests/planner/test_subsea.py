"""Subsea edges between consecutive landings of a cable, worked by hand on the equator."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely import LineString, MultiLineString, Point

from layers.errors import NotFoundError
from planner.network.cost_model import load_cost_model
from planner.network.places import Place
from planner.network.planning_network import PlanningNetwork, build_network
from planner.plans.route import plan_route
from planner.plans.subsea import (
    add_subsea_links,
    cable_proposal,
    geodesic_line_km,
    great_circle,
    published_length_km,
)

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


def test_a_domestic_cable_is_priced_on_its_published_length(network: PlanningNetwork) -> None:
    # drawn: one degree along the equator (111.32 km); published: 150 km. Priced:
    # 150 km x USD 30,000/km = USD 4,500,000 whatever the drawing says
    cable = LineString([(0.0, 0.0), (1.0, 0.0)])
    landings = _landings(("West", 0.0, 0.0), ("East", 1.0, 0.0))
    frame = _cables(cable, "West, East", length_km=150.0, all_landings="West, Mexico; East, Mexico")
    [link] = add_subsea_links(network, frame, landings)
    assert link.length_km == pytest.approx(EQUATOR_DEGREE_KM, rel=1e-6)
    assert link.published_km == pytest.approx(150.0)
    assert (link.cable_drawn_km, link.cable_published_km) == (
        pytest.approx(EQUATOR_DEGREE_KM),
        150.0,
    )
    assert link.cost_usd == pytest.approx(4_500_000.0)
    proposal = plan_route(
        network, Place("West", 0.0, 0.0, kind="landing"), Place("East", 1.0, 0.0, kind="landing")
    )
    [segment] = [s for s in proposal.segments if s.deployment_type == "subsea"]
    factor = segment.multipliers["published_length"]
    assert factor == pytest.approx(150.0 / EQUATOR_DEGREE_KM, abs=1e-4)
    assert segment.cost_usd == pytest.approx(segment.length_km * 30_000 * factor, abs=0.01)
    assert segment.extra["published_km"] == pytest.approx(150.0)


def test_an_international_cable_keeps_its_drawn_length(network: PlanningNetwork) -> None:
    # the published 10,000 km is the whole system's, not the stretch between two landings
    cable = LineString([(0.0, 0.0), (1.0, 0.0)])
    landings = _landings(("West", 0.0, 0.0), ("East", 1.0, 0.0))
    frame = _cables(
        cable,
        "West, East",
        length_km=10_000.0,
        all_landings="West, Mexico; East, Mexico; Far, Peru",
    )
    [link] = add_subsea_links(network, frame, landings)
    assert link.published_km is None
    assert link.cost_usd == pytest.approx(30_000 * EQUATOR_DEGREE_KM)


BUNDLED = Path(__file__).resolve().parents[2] / "data" / "layers"


@pytest.fixture(scope="module")
def bundled_cables() -> gpd.GeoDataFrame:
    return gpd.read_file(BUNDLED / "subsea_cables.fgb")


@pytest.mark.parametrize(
    ("cable", "drawn_km", "published_km"),
    [
        # the figures of TeleGeography's records against its schematic drawings
        ("Gulf of California Cable", 217, 250.0),
        ("Lazaro Cardenas-Manzanillo Santiago Submarine Cable System (LCMSSCS)", 391, 322.0),
        ("Pan-American Crossing (PAC)", 6647, None),  # international: no domestic figure
    ],
)
def test_bundled_cables_have_published_lengths_beside_drawn_ones(
    bundled_cables: gpd.GeoDataFrame, cable: str, drawn_km: float, published_km: float | None
) -> None:
    row = bundled_cables[bundled_cables["name"] == cable].iloc[0]
    drawn = sum(geodesic_line_km(part) for part in shapely.get_parts(row.geometry))
    assert drawn == pytest.approx(drawn_km, abs=1)
    assert published_length_km(row) == published_km


def test_gignet1_is_costed_at_its_published_figure(bundled_cables: gpd.GeoDataFrame) -> None:
    landings = gpd.read_file(BUNDLED / "subsea_landings.fgb")
    model = load_cost_model()
    source = "USTDA, Mexico ICT Resource Guide: project value $38 Million"
    proposal = cable_proposal(
        bundled_cables, landings, "gignet-1", model, cost_usd=38_000_000, cost_source=source
    )
    assert sum(s.cost_usd for s in proposal.segments) == pytest.approx(38_000_000)
    assert {s.deployment_type for s in proposal.segments} == {"subsea"}
    assert all(s.extra["cost_source"] == source for s in proposal.segments)
    assert proposal.parameters["published_km"] == 1104.0
    assert 950 < proposal.parameters["drawn_km"] < 1104
    cancun, boca = proposal.terminals
    assert cancun.name == "Cancún"
    # the far end is Boca Raton, Florida (26.36 N, 80.08 W): a cable end abroad
    assert boca.name == "Boca Raton, FL, United States" and boca.attributes["abroad"]
    assert abs(boca.lat - 26.36) < 0.3 and abs(boca.lon + 80.08) < 0.3
    # without the published figure: 1,104 km x USD 30,000 + 2 landings x USD 500,000
    derived = cable_proposal(bundled_cables, landings, "GigNet-1", model)
    assert sum(s.cost_usd for s in derived.segments) == pytest.approx(1104 * 30_000, rel=1e-4)
    assert derived.node_costs_usd == {"cable_landings": 1_000_000}


def test_an_unknown_cable_is_named(bundled_cables: gpd.GeoDataFrame) -> None:
    with pytest.raises(NotFoundError, match=r"no cable named 'Atlantis'.*GigNet-1"):
        cable_proposal(bundled_cables, bundled_cables.iloc[:0], "Atlantis", load_cost_model())
