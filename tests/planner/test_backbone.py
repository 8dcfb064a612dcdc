"""Backbone proposals over small corridor networks whose optimum is worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pytest
from shapely import LineString

from layers.errors import (
    NoRouteError,
)
from planner.network.cost_model import load_cost_model
from planner.network.places import Place
from planner.network.planning_network import build_network
from planner.plans.backbone import plan_backbone

COSTS = load_cost_model()
HIGHWAY_USD_PER_KM = 18_000  # data/cost_model.toml, deployment.highway
RAIL_USD_PER_KM = 16_000  # data/cost_model.toml, deployment.rail
# One degree of latitude between 17° and 18° N: 110.67 km (meridian arc tables).
DEGREE_KM = 110.67


def roads(*lines: LineString, row_type: str = "highway") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"row_type": [row_type] * len(lines)}, geometry=list(lines), crs=4326)


def test_three_towns_on_a_t_are_joined_by_its_three_arms() -> None:
    # a north-south highway from 17.0° to 18.0° and an east arm at 17.5°; towns at the three
    # ends. The Steiner tree is the whole T: 1° of latitude plus the east arm, with the
    # junction at (-93.0, 17.5) as its Steiner point.
    trunk = LineString([(-93.0, 17.0), (-93.0, 18.0)])
    arm = LineString([(-93.0, 17.5), (-92.5, 17.5)])
    network = build_network({"roads": roads(trunk, arm)}, COSTS)
    towns = [Place("Sur", -93.0, 17.0), Place("Norte", -93.0, 18.0), Place("Este", -92.5, 17.5)]
    proposal = plan_backbone(network, towns)
    # the east arm: 0.5° of longitude at 17.5° N = 0.5 · 111.32 km · cos 17.5° = 53.08 km
    arm_km = 53.08
    km = sum(s.length_km for s in proposal.segments)
    assert km == pytest.approx(DEGREE_KM + arm_km, abs=0.1)
    # each segment's cost is to the cent
    assert sum(s.cost_usd for s in proposal.segments) == pytest.approx(
        HIGHWAY_USD_PER_KM * km, abs=0.01 * len(proposal.segments)
    )
    # floor(163.75 / 90) = 1 splice site, three terminal PoPs
    assert proposal.node_costs_usd == {"splice_sites": 150_000, "terminal_pops": 300_000}
    assert {s.role for s in proposal.segments} == {"backbone"}


def test_the_tree_prefers_a_cheaper_corridor_of_equal_length() -> None:
    # two towns joined both by a highway and by a rail line on the same course: rail wins
    line = LineString([(-93.0, 17.0), (-93.0, 18.0)])
    corridors = {"road": roads(line), "rail": roads(line, row_type="rail")}
    network = build_network(corridors, COSTS)
    proposal = plan_backbone(network, [Place("Sur", -93.0, 17.0), Place("Norte", -93.0, 18.0)])
    assert {s.deployment_type for s in proposal.segments} == {"rail"}
    assert sum(s.cost_usd for s in proposal.segments) == pytest.approx(
        RAIL_USD_PER_KM * DEGREE_KM, rel=1e-3
    )


def test_a_ring_closes_a_square() -> None:
    # a 0.5° square of highways; towns at two opposite corners. The tree takes the two sides
    # of one half; the ring adds the other two sides, so every link lies on a cycle.
    corners = [(-93.0, 17.0), (-92.5, 17.0), (-92.5, 17.5), (-93.0, 17.5)]
    sides = [LineString([corners[i], corners[(i + 1) % 4]]) for i in range(4)]
    network = build_network({"roads": roads(*sides)}, COSTS)
    towns = [Place("SO", *corners[0]), Place("NE", *corners[2])]
    tree = plan_backbone(network, towns)
    ring = plan_backbone(network, towns, ring=True)
    tree_km = sum(s.length_km for s in tree.segments)
    ring_km = sum(s.length_km for s in ring.segments)
    # perimeter: 2 · 0.5° of latitude (55.34 km each) + 0.5° of longitude at 17.0° and
    # at 17.5° (53.23 + 53.08 km) = 217.0 km
    assert ring_km == pytest.approx(217.0, abs=0.2)
    assert tree_km < ring_km
    links = nx.Graph()
    for segment in ring.segments:
        coords = list(segment.geometry.coords)
        links.add_edge(coords[0], coords[-1])
    assert not list(nx.bridges(links))


def test_terminals_the_corridors_do_not_join_are_named() -> None:
    west = LineString([(-93.0, 17.0), (-93.0, 17.5)])
    far_east = LineString([(-91.0, 17.0), (-91.0, 17.5)])
    network = build_network({"roads": roads(west, far_east)}, COSTS, max_bridge_km=50)
    towns = [Place("Oeste", -93.0, 17.0), Place("Lejos", -91.0, 17.5)]
    with pytest.raises(NoRouteError, match="Lejos"):
        plan_backbone(network, towns)


def test_one_distinct_terminal_is_refused() -> None:
    network = build_network({"roads": roads(LineString([(-93, 17), (-93, 18)]))}, COSTS)
    town = Place("Sur", -93.0, 17.0)
    with pytest.raises(NoRouteError, match="at least two"):
        plan_backbone(network, [town, town])
