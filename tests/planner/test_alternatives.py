"""Alternatives a planner can compare are different routes, not the same one with a kink."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import LineString

from planner.network.corridor_graph import CorridorGraph
from planner.network.cost_model import load_cost_model
from planner.network.places import Place
from planner.network.planning_network import attach_place, build_network
from planner.plans.route import plan_route
from planner.search.alternatives import distinct_alternatives, overlap_share
from planner.search.route_search import k_alternatives

COSTS = load_cost_model()


def network_with_a_kink_and_a_second_corridor():  # type: ignore[no-untyped-def]
    # West highway straight north 17.0°-18.0°, with a 1 km kink (a short loop) at 17.5°;
    # an east highway 0.2° away joined to it at both ends. Yen's second route is the west
    # highway through the kink; a planner's alternative is the east highway.
    west = LineString([(-93.0, 17.0), (-93.0, 18.0)])
    kink_out = LineString([(-93.0, 17.495), (-92.995, 17.5)])
    kink_back = LineString([(-92.995, 17.5), (-93.0, 17.505)])
    east = LineString([(-92.8, 17.0), (-92.8, 18.0)])
    ties = [LineString([(-93.0, 17.0), (-92.8, 17.0)]), LineString([(-93.0, 18.0), (-92.8, 18.0)])]
    lines = [west, east, kink_out, kink_back, *ties]
    roads = gpd.GeoDataFrame({"row_type": ["highway"] * 6}, geometry=lines, crs=4326)
    return build_network({"roads": roads}, COSTS)


def test_yen_gives_the_kink_but_distinct_alternatives_give_the_other_corridor() -> None:
    network = network_with_a_kink_and_a_second_corridor()
    graph = network.graph
    south = attach_place(network, Place("Sur", -93.0, 17.0))
    north = attach_place(network, Place("Norte", -93.0, 18.0))
    best, yen_second = k_alternatives(graph, south, north, 2, "cost_usd")
    assert overlap_share(graph, yen_second, best) > 0.98
    (alternative,) = distinct_alternatives(graph, south, north, 1, "cost_usd", primary=best)
    assert overlap_share(graph, alternative, best) == 0.0
    assert ("roads", 1) in alternative.corridors  # the east highway
    # 1° north plus the two 0.2° ties at 17° and 18° N (21.29 + 21.20 km): 153.2 km
    assert alternative.length_km == pytest.approx(110.67 + 21.29 + 21.20, abs=0.1)
    assert "_alternative_weight" not in next(iter(graph.edges(data=True)))[2]


def test_alternatives_stay_out_of_the_totals() -> None:
    network = network_with_a_kink_and_a_second_corridor()
    proposal = plan_route(
        network, Place("Sur", -93.0, 17.0), Place("Norte", -93.0, 18.0), alternatives=2
    )
    roles = {s.role for s in proposal.segments}
    assert roles == {"primary", "alternative-1"}
    # only two routes share at most 60% of their length: the note says so
    assert any("only 1 alternative" in note for note in proposal.notes)


def test_each_alternative_search_sees_the_penalties_so_far() -> None:
    # Three disjoint two-hop corridors from a to b of 1.0, 1.1 and 1.2 km on a graph that
    # keeps its snapshots. With a 50% penalty: after the best (1.0 -> 1.5) the next search
    # takes the 1.1 km corridor; once that is penalised too (1.65) the 1.2 km one is the
    # cheapest. A search that still saw the first penalties only would find 1.1 again.
    graph = CorridorGraph()
    for i, km in enumerate((1.0, 1.1, 1.2)):
        mid = f"m{i}"
        graph.add_node(mid, x=-92.9 + i * 0.01, y=18.0)
        for u, v in (("a", mid), (mid, "b")):
            graph.add_edge(u, v, length_km=km / 2, cost_usd=km / 2)
    graph.nodes["a"].update(x=-92.95, y=18.0)
    graph.nodes["b"].update(x=-92.85, y=18.0)
    routes = distinct_alternatives(graph, "a", "b", 2, "length_km", max_overlap=0.6)
    assert [round(route.length_km, 6) for route in routes] == [1.1, 1.2]
