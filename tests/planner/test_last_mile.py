"""Last-mile proposals on a small synthetic network in Tabasco, worked by hand.

The network: an existing, leasable fiber line F along the meridian -93 from 17.9 to 18.2 N
(the backbone) and a highway H1 east from F at 18 N to -92.7, which forks there into H2
north to 18.15 N and H3 south to 17.85 N. Localities (nobody connected):

- C on the fiber line (-93.0, 18.1), 1,000 people;
- A at the end of H2 (-92.7, 18.15), 2,000 people;
- B at the end of H3 (-92.7, 17.85), 600 people;
- D far from everything (-92.0, 17.5), 300 people.

Default cost model (data/cost_model.toml): highway 18,000 USD/km; last-mile fiber 12,000
USD/km of street and 350 USD per household; fixed wireless 60,000 per site of 1,500 people,
150 per subscriber, 10 km range; satellite 350 per terminal + 600 a year for 10 years; 3.6
people per household. In-town cable is 10 m per inhabitant (2,000 people/km², 20 street km
per km²).
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import LineString

from planner.cost_model import load_cost_model
from planner.graph import geodesic_km
from planner.last_mile import NoBackboneError, plan_last_mile
from planner.metrics import compute_metrics
from planner.network import PlanningNetwork, build_network
from planner.proposal import Proposal

MODEL = load_cost_model()
HIGHWAY = 18_000.0

KM_H1 = float(geodesic_km(-93.0, 18.0, -92.7, 18.0))
KM_H2 = float(geodesic_km(-92.7, 18.0, -92.7, 18.15))
KM_H3 = float(geodesic_km(-92.7, 18.0, -92.7, 17.85))

# households = ceil(people / 3.6); fiber access = households x 350 + people / 100 km x 12,000
C_WIRELESS = 1 * 60_000 + 278 * 150  # ceil(1000/1500) sites, ceil(1000/3.6) = 278 CPE
C_FIBER = 278 * 350 + 10 * 12_000  # feeder 0: it sits on the fiber
A_ACCESS = 556 * 350 + 20 * 12_000  # ceil(2000/3.6) = 556 households, 20 km of street
B_ACCESS = 167 * 350 + 6 * 12_000  # ceil(600/3.6) = 167 households, 6 km of street
D_SATELLITE = 84 * (350 + 600 * 10)  # ceil(300/3.6) = 84 households
A_FEEDER = (KM_H1 + KM_H2) * HIGHWAY
B_FEEDER = (KM_H1 + KM_H3) * HIGHWAY


def corridors(*, fiber: bool = True) -> dict[str, gpd.GeoDataFrame]:
    layers = {
        "roads": gpd.GeoDataFrame(
            {"row_type": ["highway"] * 3, "name": ["H1", "H2", "H3"]},
            geometry=[
                LineString([(-93.0, 18.0), (-92.7, 18.0)]),
                LineString([(-92.7, 18.0), (-92.7, 18.15)]),
                LineString([(-92.7, 18.0), (-92.7, 17.85)]),
            ],
            crs="EPSG:4326",
        )
    }
    if fiber:
        layers["fiber"] = gpd.GeoDataFrame(
            {"operator": ["CFE"], "status": ["existing"], "lease_available": [True]},
            geometry=[LineString([(-93.0, 17.9), (-93.0, 18.2)])],
            crs="EPSG:4326",
        )
    return layers


def network(*, fiber: bool = True) -> PlanningNetwork:
    return build_network(corridors(fiber=fiber), MODEL)


def localities(
    rows: list[tuple[str, float, float, int]], connected: bool | None = False
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": [r[0] for r in rows],
            "population": [r[3] for r in rows],
            "cvegeo": [f"2799900{i:02d}" for i in range(len(rows))],
            "state": ["Tabasco"] * len(rows),
            "cve_ent": ["27"] * len(rows),
            "municipality": ["Nowhere"] * len(rows),
            "cve_mun": ["27999"] * len(rows),
            "connected": pd.array([connected] * len(rows), dtype="boolean"),
        },
        geometry=gpd.points_from_xy([r[1] for r in rows], [r[2] for r in rows]),
        crs="EPSG:4326",
    )


FOUR = [
    ("C", -93.0, 18.1, 1000),
    ("A", -92.7, 18.15, 2000),
    ("B", -92.7, 17.85, 600),
    ("D", -92.0, 17.5, 300),
]


def records(proposal: Proposal) -> dict[str, dict]:
    return {r["name"]: r for r in proposal.parameters["localities"]}


def capex(proposal: Proposal) -> float:
    return compute_metrics(proposal).capex_usd_total


@pytest.fixture(scope="module")
def four() -> Proposal:
    return plan_last_mile(network(), localities(FOUR), area_name="test")


def test_locality_on_the_fiber_pays_no_feeder_and_goes_wireless(four: Proposal) -> None:
    c = records(four)["C"]
    assert c["feeder_usd"] == 0
    assert c["options_usd"]["fiber"] == pytest.approx(C_FIBER)  # 97,300 + 120,000
    assert c["options_usd"]["fixed_wireless"] == pytest.approx(C_WIRELESS)  # 101,700
    assert c["technology"] == "fixed_wireless"
    assert c["fed_by"] == "backbone"
    assert c["usd_per_person"] == pytest.approx(101.7)


def test_remote_small_locality_takes_satellite(four: Proposal) -> None:
    d = records(four)["D"]
    # 84 x 6,350 = 533,400, i.e. 1,778 USD a person; no fiber town within 10 km, and its
    # fiber feeder alone (an 83 km greenfield drop at 30,000/km) is several times that
    assert d["technology"] == "satellite"
    assert d["cost_usd"] == pytest.approx(D_SATELLITE)
    assert d["options_usd"]["fixed_wireless"] is None
    assert d["options_usd"]["fiber"] > 4 * D_SATELLITE


def test_two_towns_down_one_road_share_its_trench(four: Proposal) -> None:
    a, b = records(four)["A"], records(four)["B"]
    assert a["technology"] == b["technology"] == "fiber"
    assert a["feeder_usd"] == pytest.approx(A_FEEDER)
    assert b["feeder_usd"] == pytest.approx(B_FEEDER)
    tree = (KM_H1 + KM_H2 + KM_H3) * HIGHWAY  # H1 once: 64.9 km x 18,000
    separate = A_FEEDER + B_FEEDER  # H1 twice: 96.7 km x 18,000
    assert four.parameters["tree"]["cost_usd"] == pytest.approx(tree)
    assert four.parameters["tree"]["separate_usd"] == pytest.approx(separate)
    assert tree < separate
    assert four.parameters["tree"]["steiner_usd"] <= four.parameters["tree"]["forest_usd"]
    assert sum(s.cost_usd for s in four.segments) == pytest.approx(tree)
    assert {s.deployment_type for s in four.segments} == {"highway"}
    assert {s.role for s in four.segments} == {"last-mile"}
    # B, chosen after A, was charged only H3 from A's feeder onwards
    assert b["cost_usd"] == pytest.approx(KM_H3 * HIGHWAY + B_ACCESS)


def test_totals_add_up_once(four: Proposal) -> None:
    tree = (KM_H1 + KM_H2 + KM_H3) * HIGHWAY
    assert four.node_costs_usd == pytest.approx(
        {
            "fiber_households": (556 + 167) * 350,
            "fiber_distribution": (20 + 6) * 12_000,
            "fixed_wireless_sites": 60_000,
            "fixed_wireless_cpe": 278 * 150,
            "satellite_terminals_and_service": D_SATELLITE,
        }
    )
    metrics = compute_metrics(four)
    expected = tree + A_ACCESS + B_ACCESS + C_WIRELESS + D_SATELLITE
    assert metrics.capex_usd_total == pytest.approx(expected)
    assert four.people_covered == 3900
    assert metrics.usd_per_person == pytest.approx(expected / 3900)
    assert four.kind == "last_mile"
    assert four.parameters["technology_split"] == {
        "fiber": {"localities": 2, "people": 2600},
        "fixed_wireless": {"localities": 1, "people": 1000},
        "satellite": {"localities": 1, "people": 300},
    }
    notes = " | ".join(four.notes)
    assert "4 by connected attribute" in notes
    assert "backbone: existing fiber" in notes
    assert "fiber 2 localities (2,600 people)" in notes


def test_budget_that_fits_two_takes_the_most_people() -> None:
    # Standalone: C 101,700 (1,000 people), A 1,306,288 (2,000), B 1,000,751 (600), D 533,400
    # (300). Within C + A: {C, A} = 3,000 people. Any set with A and B costs at least the
    # shared tree plus their access, 1,168,934 + 565,050 > budget; {C, B, D} costs 1,635,851
    # > budget; every other set that fits has fewer people.
    budget = C_WIRELESS + A_FEEDER + A_ACCESS + 1.0
    proposal = plan_last_mile(network(), localities(FOUR), area_name="t", budget_usd=budget)
    served = {n for n, r in records(proposal).items() if r["served"]}
    assert served == {"C", "A"}
    assert proposal.people_covered == 3000
    assert capex(proposal) <= budget
    assert capex(proposal) == pytest.approx(budget - 1.0)
    assert proposal.parameters["budget_usd"] == budget
    assert any("budget USD" in n and "3,000 of 3,900" in n for n in proposal.notes)


def test_budget_counts_the_shared_trench() -> None:
    # B's feeder from A's tree is only H3: C + A + B fit in far less than their standalone
    # sum, and D (533,400) does not fit in what is left.
    budget = C_WIRELESS + A_FEEDER + A_ACCESS + KM_H3 * HIGHWAY + B_ACCESS + 1.0
    assert budget < C_WIRELESS + A_FEEDER + A_ACCESS + B_FEEDER + B_ACCESS
    proposal = plan_last_mile(network(), localities(FOUR), area_name="t", budget_usd=budget)
    served = {n for n, r in records(proposal).items() if r["served"]}
    assert served == {"C", "A", "B"}
    assert capex(proposal) <= budget


def test_zero_budget_builds_nothing() -> None:
    proposal = plan_last_mile(network(), localities(FOUR), area_name="t", budget_usd=0.0)
    assert proposal.people_covered == 0
    assert proposal.segments == ()
    assert capex(proposal) == 0


def test_connected_localities_and_small_ones_are_left_out() -> None:
    proposal = plan_last_mile(network(), localities(FOUR, connected=True), area_name="t")
    assert proposal.people_covered == 0
    assert proposal.parameters["localities"] == []
    assert any("4 localities have nobody left" in n for n in proposal.notes)
    small = plan_last_mile(network(), localities(FOUR), area_name="t", min_population=1500)
    assert [r["name"] for r in small.parameters["localities"]] == ["A"]


def test_distance_rule_when_nothing_else_is_known() -> None:
    # No connected value, no census row for 27999: C (0 km from fiber) counts as served,
    # A (about 32 km away) is wholly unserved.
    rows = localities([FOUR[0], FOUR[1]], connected=None)
    proposal = plan_last_mile(network(), rows, area_name="t")
    assert [(r["name"], r["people_unserved"]) for r in proposal.parameters["localities"]] == [
        ("A", 2000)
    ]
    assert proposal.parameters["demand_methods"]["distance to corridor"] == 2
    assert "within 2 km of fiber counts as served" in proposal.notes[0]


def test_census_share_is_used_when_there_is_no_attribute() -> None:
    census = pd.DataFrame({"cvegeo": ["27999"], "share_without_internet": [0.5]})
    rows = localities([FOUR[1]], connected=None)
    proposal = plan_last_mile(network(), rows, area_name="t", household_internet=census)
    (a,) = proposal.parameters["localities"]
    assert (a["people_unserved"], a["demand_method"]) == (1000, "census household internet share")


def test_no_backbone_is_a_clear_error() -> None:
    with pytest.raises(NoBackboneError, match="no existing fiber"):
        plan_last_mile(network(fiber=False), localities(FOUR), area_name="t")


def node_at(net: PlanningNetwork, lon: float, lat: float) -> int:
    graph = net.graph
    return next(
        n
        for n in graph.nodes
        if abs(graph.nodes[n]["x"] - lon) < 1e-9 and abs(graph.nodes[n]["y"] - lat) < 1e-9
    )


def test_given_backbone_nodes() -> None:
    # A town halfway along H1; the backbone is the west end of H1 only: its feeder is the
    # western half of H1. With both ends of H1 on the backbone, the town sits on it.
    town = [("M", -92.85, 18.0, 2000)]
    net = network(fiber=False)
    west = node_at(net, -93.0, 18.0)
    proposal = plan_last_mile(net, localities(town), area_name="t", backbone_nodes=[west])
    half = float(geodesic_km(-93.0, 18.0, -92.85, 18.0)) * HIGHWAY
    assert records(proposal)["M"]["feeder_usd"] == pytest.approx(half)
    assert any("the 1 nodes given" in n for n in proposal.notes)
    net = network(fiber=False)
    ends = [node_at(net, -93.0, 18.0), node_at(net, -92.7, 18.0)]
    proposal = plan_last_mile(net, localities(town), area_name="t", backbone_nodes=ends)
    assert records(proposal)["M"]["feeder_usd"] == 0
    with pytest.raises(ValueError, match="not in the network"):
        plan_last_mile(net, localities(town), area_name="t", backbone_nodes=["nowhere"])


def on_fiber(x: float, y: float) -> bool:
    return abs(x + 93.0) < 1e-9 and 17.9 - 1e-9 <= y <= 18.2 + 1e-9


def reaches_backbone(proposal: Proposal, lon: float, lat: float) -> bool:
    """Whether (lon, lat) is joined to the fiber line through the segments' vertices."""
    if on_fiber(lon, lat):
        return True
    graph = nx.Graph()
    for segment in proposal.segments:
        coords = [(round(x, 9), round(y, 9)) for x, y in segment.geometry.coords]
        graph.add_edges_from(itertools.pairwise(coords))
    start = (round(lon, 9), round(lat, 9))
    if start not in graph:
        return False
    return any(on_fiber(x, y) for x, y in nx.node_connected_component(graph, start))


towns = st.lists(
    st.tuples(
        st.floats(-93.3, -92.0),
        st.floats(17.5, 18.4),
        st.integers(250, 6000),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(towns=towns, budget=st.one_of(st.none(), st.floats(0, 4e6)))
def test_invariants(towns: list[tuple[float, float, int]], budget: float | None) -> None:
    rows = [(f"T{i}", x, y, p) for i, (x, y, p) in enumerate(towns)]
    proposal = plan_last_mile(network(), localities(rows), area_name="t", budget_usd=budget)
    metrics = compute_metrics(proposal)
    assert proposal.people_covered is not None
    assert 0 <= proposal.people_covered <= sum(p for _, _, p in towns)
    assert metrics.capex_usd_total >= 0
    if budget is not None:
        assert metrics.capex_usd_total <= budget + 1e-6
    else:
        assert proposal.people_covered == sum(p for _, _, p in towns)
    served = [r for r in proposal.parameters["localities"] if r["served"]]
    assert sum(r["people_unserved"] for r in served) == proposal.people_covered
    # records are rounded to cents
    assert metrics.capex_usd_total <= sum(r["cost_usd"] for r in served) + 0.01 * len(served)
    for record in served:
        if record["technology"] == "fiber":
            assert reaches_backbone(proposal, record["lon"], record["lat"]), record["name"]
        assert not math.isnan(record["usd_per_person"])
