"""The same request gives the same proposal, whatever was planned before it or how busy the
machine is: planning never changes the network it is given, and the Steiner search is
bounded by work, not by the clock."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import LineString

from planner.network.cost_model import load_cost_model
from planner.network.places import Place
from planner.network.planning_network import PlanningNetwork, build_network
from planner.plans.backbone import plan_backbone
from planner.plans.route import plan_route
from planner.search import steiner
from planner.search.steiner import read_orlib, steiner_tree_csr

COSTS = load_cost_model()
STEINER_DATA = Path(__file__).resolve().parents[1] / "data" / "steiner"


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


def summary(proposal: object) -> list[tuple[object, ...]]:
    return [
        (s.role, s.deployment_type, s.corridor, s.length_km, s.cost_usd, s.geometry.wkb)
        for s in proposal.segments  # type: ignore[attr-defined]
    ]


def test_a_route_is_the_same_alone_and_after_a_diverse_pair() -> None:
    west, east = Place("Oeste", -93.0, 17.5), Place("Este", -92.9, 17.5)
    alone = plan_route(two_highways(), west, east)

    shared = two_highways()
    nodes, edges = shared.graph.number_of_nodes(), shared.graph.number_of_edges()
    # a town between the highways, joined to both by a diverse pair: on a shared, changed
    # network its two drops would be a 10.6 km shortcut from one highway to the other
    plan_route(shared, Place("Sur", -92.96, 17.5), Place("Norte", -92.96, 17.7), diverse=True)
    after = plan_route(shared, west, east)

    assert (shared.graph.number_of_nodes(), shared.graph.number_of_edges()) == (nodes, edges)
    assert summary(after) == summary(alone)
    # south along the west highway (0.5° of latitude at 110.67 km/°), across the southern
    # tie (0.1° of longitude at 17° N: 111.32 km · cos 17° / 10 = 10.65 km) and north again
    km = sum(s.length_km for s in alone.segments)
    assert km == pytest.approx(2 * 0.5 * 110.67 + 10.65, abs=0.1)


def test_a_backbone_is_the_same_alone_and_after_other_plans() -> None:
    terminals = [Place("A", -93.0, 17.2), Place("B", -92.9, 17.8), Place("C", -92.95, 17.02)]
    alone = plan_backbone(two_highways(), terminals, ring=True)
    shared = two_highways()
    plan_route(shared, Place("Sur", -92.96, 17.5), Place("Norte", -92.96, 17.7), diverse=True)
    plan_backbone(shared, terminals[:2])
    assert summary(plan_backbone(shared, terminals, ring=True)) == summary(alone)


def test_the_steiner_search_does_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    matrix, terminals, _, _ = read_orlib(STEINER_DATA / "steinb10.txt")
    calm = steiner_tree_csr(matrix, terminals)
    # a machine so busy that 100 s pass between any two looks at the clock
    ticks = itertools.count(step=100.0)
    monkeypatch.setattr(steiner.time, "perf_counter", lambda: float(next(ticks)))
    busy = steiner_tree_csr(matrix, terminals)
    assert busy.edges.tolist() == calm.edges.tolist()
    assert busy.cost == calm.cost == 86.0  # the OR-Library optimum of steinb10
