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
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import LineString, box

from layers.errors import NoBackboneError
from layers.export import export_frame
from planner.network.corridor_graph import geodesic_km
from planner.network.cost_model import load_cost_model
from planner.network.planning_network import (
    PlanningNetwork,
    build_network,
)
from planner.plans.last_mile import plan_last_mile
from planner.proposals.formats import proposal_frame, proposal_from_geojson, proposal_to_geojson
from planner.proposals.metrics import compute_metrics
from planner.proposals.proposal import Proposal

MODEL = load_cost_model()
HIGHWAY = 18_000.0

KM_H1 = float(geodesic_km(-93.0, 18.0, -92.7, 18.0))
KM_H2 = float(geodesic_km(-92.7, 18.0, -92.7, 18.15))
KM_H3 = float(geodesic_km(-92.7, 18.0, -92.7, 17.85))

# households = ceil(people / 3.6); fiber access = households x 350 + people / 100 km x 12,000
C_WIRELESS = 1 * 60_000 + 278 * 150  # one site, ceil(1000/3.6) = 278 CPE
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


def sites(proposal: Proposal) -> dict[str, dict]:
    return {r["site_id"]: r for r in proposal.parameters["wireless_sites"]}


def capex(proposal: Proposal) -> float:
    return compute_metrics(proposal).capex_usd_total


@pytest.fixture(scope="module")
def four() -> Proposal:
    return plan_last_mile(network(), localities(FOUR), area_name="test")


def test_locality_on_the_fiber_gets_a_fiber_fed_site(four: Proposal) -> None:
    c = records(four)["C"]
    assert c["feeder_usd"] == 0
    assert c["options_usd"]["fiber"] == pytest.approx(C_FIBER)  # 97,300 + 120,000
    assert c["technology"] == "fixed_wireless"
    assert c["cost_usd"] == pytest.approx(278 * 150)  # its CPE; the site is a node cost
    site = sites(four)[c["site_id"]]
    assert site["backhaul"] == "fiber"
    assert site["cost_usd"] == pytest.approx(60_000)  # mast, one radio, feeder 0


def test_remote_small_locality_takes_satellite(four: Proposal) -> None:
    d = records(four)["D"]
    # 84 x 6,350 = 533,400; its own site would need an 83 km greenfield feeder (no
    # backbone node within the 30 km microwave hop) and its fiber the same feeder
    assert d["technology"] == "satellite"
    assert d["cost_usd"] == pytest.approx(D_SATELLITE)
    assert d["site_id"] is None
    assert d["options_usd"]["fiber"] > 4 * D_SATELLITE


def test_two_sites_down_one_road_share_its_trench(four: Proposal) -> None:
    # A and B are 32 km from every backbone node (beyond a 30 km microwave hop) and 33 km
    # apart: each gets its own site (A: 2,000 people, two radios), fed by a fiber feeder
    # cheaper than their fiber access (A 434,600, B 130,450 on top of the same feeder)
    a, b = records(four)["A"], records(four)["B"]
    assert a["technology"] == b["technology"] == "fixed_wireless"
    assert a["site_id"] != b["site_id"]
    site_a, site_b = sites(four)[a["site_id"]], sites(four)[b["site_id"]]
    assert site_a["backhaul"] == site_b["backhaul"] == "fiber"
    assert site_a["radios"] == 2
    assert site_a["cost_usd"] == pytest.approx(60_000 + 8_000 + A_FEEDER)
    assert site_b["cost_usd"] == pytest.approx(60_000 + B_FEEDER)
    tree = (KM_H1 + KM_H2 + KM_H3) * HIGHWAY  # H1 once: 64.9 km x 18,000
    separate = A_FEEDER + B_FEEDER  # H1 twice: 96.7 km x 18,000
    assert four.parameters["tree"]["cost_usd"] == pytest.approx(tree)
    assert four.parameters["tree"]["separate_usd"] == pytest.approx(separate)
    assert four.parameters["tree"]["steiner_usd"] <= four.parameters["tree"]["forest_usd"]
    assert sum(s.cost_usd for s in four.segments) == pytest.approx(tree)
    assert {s.deployment_type for s in four.segments} == {"highway"}
    assert {s.role for s in four.segments} == {"last-mile"}


def test_totals_add_up_once(four: Proposal) -> None:
    tree = (KM_H1 + KM_H2 + KM_H3) * HIGHWAY
    assert four.node_costs_usd == pytest.approx(
        {
            "fixed_wireless_sites": 3 * 60_000 + 8_000,
            "fixed_wireless_cpe": (278 + 556 + 167) * 150,
            "satellite_terminals_and_service": D_SATELLITE,
        }
    )
    metrics = compute_metrics(four)
    expected = tree + 188_000 + 1001 * 150 + D_SATELLITE
    assert metrics.capex_usd_total == pytest.approx(expected)
    assert four.people_covered == 3900
    assert metrics.usd_per_person == pytest.approx(expected / 3900)
    assert four.kind == "last_mile"
    assert four.parameters["technology_split"] == {
        "fiber": {"localities": 0, "people": 0},
        "fixed_wireless": {"localities": 3, "people": 3600},
        "satellite": {"localities": 1, "people": 300},
    }
    assert four.parameters["wireless"]["selection_status"] == "optimal"
    assert four.parameters["wireless"]["optimality_gap"] == 0
    notes = " | ".join(four.notes)
    assert "4 by connected attribute" in notes
    assert "backbone: existing fiber" in notes
    assert "3 shared sites serve 3 localities" in notes


def test_every_output_feature(four: Proposal) -> None:
    document = proposal_to_geojson(four)
    by_role: dict[str, list[dict]] = {}
    for feature in document["features"]:
        by_role.setdefault(feature["properties"]["role"], []).append(feature)
    assert len(by_role["wireless_site"]) == 3
    assert len(by_role["locality"]) == 4
    assert "microwave_link" not in by_role
    site = by_role["wireless_site"][0]
    assert site["geometry"]["type"] == "Point"
    assert {"site_id", "mast_height_m", "backhaul", "people_covered", "cost_usd"} <= set(
        site["properties"]
    )
    d = next(f for f in by_role["locality"] if f["properties"]["name"] == "D")
    assert d["properties"]["technology"] == "satellite"
    assert d["properties"]["people_unserved"] == 300
    assert d["properties"]["cvegeo"] == "279990003"
    back = proposal_from_geojson(document)
    assert len(back.markers) == 7
    frame = proposal_frame(four)
    assert sorted(frame["role"].unique()) == ["last-mile", "locality", "wireless_site"]


# Three towns of 300 people a few km apart near the east end of H1, 25-27 km from the
# fiber line: one 30 m mast at any of them reaches the other two over flat ground (at
# 5 km the bulge is 0.4 m and 0.6 of the Fresnel zone 4.9 m, far below the ray), and one
# 11 GHz hop to the backbone (about 26 km: bulge 10 m + 0.6 x Fresnel 8 m < 30 m masts)
# costs 20,000 + 30,000, far below a 26 km highway feeder (about 470,000).
CLUSTER = [
    ("P", -92.78, 18.0, 300),
    ("Q", -92.76, 18.04, 300),
    ("R", -92.76, 17.96, 300),
]


def test_one_site_serves_three_towns_over_one_microwave_hop() -> None:
    proposal = plan_last_mile(network(), localities(CLUSTER), area_name="t")
    recs = records(proposal)
    assert {r["technology"] for r in recs.values()} == {"fixed_wireless"}
    assert len({r["site_id"] for r in recs.values()}) == 1
    assert all(r["radio_margin_m"] is None or r["radio_margin_m"] >= 0 for r in recs.values())
    (site,) = proposal.parameters["wireless_sites"]
    assert site["backhaul"] == "microwave"
    assert site["microwave_hops"] == 1
    assert site["people_covered"] == 900
    # 60,000 mast and radio + 50,000 hop; CPE 3 x 84 x 150
    assert site["cost_usd"] == pytest.approx(110_000)
    assert proposal.node_costs_usd == pytest.approx(
        {
            "fixed_wireless_sites": 60_000,
            "fixed_wireless_cpe": 3 * 84 * 150,
            "microwave_links": 20_000,
            "microwave_relays": 30_000,
        }
    )
    assert capex(proposal) == pytest.approx(110_000 + 3 * 84 * 150)
    (link,) = [m for m in proposal.markers if m.role == "microwave_link"]
    assert 24 <= link.properties["km"] <= MODEL.last_mile.microwave.max_hop_km
    assert link.geometry.coords[-1][0] == pytest.approx(-93.0)  # ends on the backbone


def test_budget_that_fits_two_takes_the_most_people() -> None:
    # Standalone: C 101,700 (1,000 people), A A_FEEDER + 151,400 (2,000), B B_FEEDER +
    # 85,050 (600), D 533,400 (300). Within C + A: {C, A} = 3,000 people; {C, B, D} costs
    # more (B's feeder is as long as A's) and A with B needs all of H1 + H2 + H3.
    budget = C_WIRELESS + A_FEEDER + 151_400 + 1.0
    proposal = plan_last_mile(network(), localities(FOUR), area_name="t", budget_usd=budget)
    served = {n for n, r in records(proposal).items() if r["served"]}
    assert served == {"C", "A"}
    assert proposal.people_covered == 3000
    assert capex(proposal) <= budget
    assert capex(proposal) == pytest.approx(budget - 1.0)
    assert proposal.parameters["budget_usd"] == budget
    assert any("budget USD" in n and "3,000 of 3,900" in n for n in proposal.notes)


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
    site_usd = sum(r["cost_usd"] for r in proposal.parameters["wireless_sites"])
    paid = sum(r["cost_usd"] for r in served) + site_usd
    assert metrics.capex_usd_total <= paid + 0.01 * (len(served) + len(sites(proposal)))
    by_site = sites(proposal)
    for record in served:
        if record["technology"] == "fiber":
            assert reaches_backbone(proposal, record["lon"], record["lat"]), record["name"]
        if record["technology"] == "fixed_wireless":
            site = by_site[record["site_id"]]
            assert record["radio_margin_m"] is None or record["radio_margin_m"] >= 0
            assert geodesic_km(site["lon"], site["lat"], record["lon"], record["lat"]) <= 10.0
            if site["backhaul"] == "fiber":
                assert reaches_backbone(proposal, site["lon"], site["lat"]), site["site_id"]
    hops = MODEL.last_mile.microwave
    for site in by_site.values():
        assert site["microwave_hops"] <= hops.max_hops
    for marker in proposal.markers:
        if marker.role == "microwave_link":
            assert marker.properties["km"] <= hops.max_hop_km
        assert not math.isnan(record["usd_per_person"])


def test_coverage_polygon_and_state_share_take_people_out_of_demand() -> None:
    # a 4G polygon around C: C has nobody left; a 3G polygon around A does not count;
    # with Tabasco's 35% state share A keeps rint(2000 x 0.65) = 1300 and B 390
    cover = gpd.GeoDataFrame(
        {"technology": ["4g", "3g"]},
        geometry=[box(-93.05, 18.05, -92.95, 18.15), box(-92.75, 18.1, -92.65, 18.2)],
        crs="EPSG:4326",
    )
    shares = pd.DataFrame(
        {"cve_ent": ["27"], "coverage_share": [0.35], "source": ["USTDA table 5"]}
    )
    proposal = plan_last_mile(
        network(), localities(FOUR[:3]), area_name="t", coverage=cover, state_coverage=shares
    )
    recs = records(proposal)
    assert "C" not in recs
    assert recs["A"]["people_unserved"] == 1300
    assert recs["B"]["people_unserved"] == 390
    assert recs["A"]["coverage"] == "state mobile coverage share 35%"
    assert proposal.parameters["demand_methods"]["coverage layer"] == 1
    assert any("1 localities inside coverage polygons" in n for n in proposal.notes)
    assert any("USTDA table 5" in n for n in proposal.notes)


def test_dearer_terrain_never_breaks_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # stand-in terrain: every feeder routed over it costs 1.5 times its flat estimate. The
    # budget fits C and A at flat prices (A's feeder is 870,000); over the terrain A's
    # feeder is 435,000 dearer, so the plan is chosen again within less and A drops out
    import dataclasses as dc

    import planner.plans.last_mile as last_mile

    real = last_mile.segments_from_edges

    def steep(*args: object, **kwargs: object) -> list:
        segments = real(*args, **kwargs)  # type: ignore[arg-type]
        if kwargs.get("min_terrain_km") == math.inf:
            return segments
        return [
            dc.replace(s, multipliers={**s.multipliers, "terrain": 1.5})
            if s.rate_usd_per_km is not None
            else dc.replace(s, cost_usd=s.cost_usd * 1.5)
            for s in segments
        ]

    monkeypatch.setattr(last_mile, "segments_from_edges", steep)
    budget = C_WIRELESS + A_FEEDER + 151_400 + 1.0
    proposal = plan_last_mile(network(), localities(FOUR), area_name="t", budget_usd=budget)
    assert capex(proposal) <= budget
    assert not records(proposal)["A"]["served"]
    assert any("chosen again" in n for n in proposal.notes)


@pytest.mark.parametrize("fmt", ["gpkg", "kml"])
def test_exports_carry_sites_and_localities(four: Proposal, tmp_path: Path, fmt: str) -> None:
    out = export_frame(proposal_frame(four), fmt, tmp_path / f"four.{fmt}", "four")
    back = pyogrio.read_dataframe(out)
    roles = back["role"].value_counts().to_dict()
    assert roles == {"locality": 4, "wireless_site": 3, "last-mile": len(four.segments)}
    sites = back[back["role"] == "wireless_site"]
    assert set(sites.geometry.geom_type) == {"Point"}


# ---------------------------------------------------------------- a finer DEM over the grid
# Two towns of 300 people 8.9 km apart on a north-south line, S (-92.80, 18.02) and
# N (-92.80, 18.10). The national-style grid (0.01 degree cells) is flat at 10 m: from a
# 30 m mast at one town to a 6 m antenna at the other the ray is 28 m high midway, above
# 10 m of ground + 1.2 m of bulge (4.4 km x 4.4 km / (2 x 4/3 x 6,371 km)) + 0.6 x 10.7 m
# of Fresnel radius at 5.8 GHz = 17.6 m, so one site serves both: USD 60,000 + a 50,000
# microwave hop to the fiber 21-24 km west + 2 x 84 x 150 CPE = 135,200. A finer survey
# (0.001 degree cells) of the towns' area shows a 160 m ridge at 18.06 N between them,
# 4.4 km from each (beyond the 3 km search for high points): no path crosses it, and each
# town takes its own site, 2 x 110,000 + 2 x 12,600 = 245,200 (satellite would be 533,400
# each). Hops to the fiber run west of the ridge's end (-92.83).
SOUTH, NORTH = ("S", -92.80, 18.02, 300), ("N", -92.80, 18.10, 300)


def write_dem(path: Path, west: float, north: float, cell: float, values: object) -> Path:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    grid = np.asarray(values, dtype="int16")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=grid.shape[0],
        width=grid.shape[1],
        count=1,
        dtype="int16",
        crs="EPSG:4326",
        transform=from_origin(west, north, cell, cell),
        nodata=-32768,
    ) as dst:
        dst.write(grid, 1)
    return path


@pytest.fixture(scope="module")
def dems(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The flat coarse grid, the fine survey with the ridge, and a survey of elsewhere."""
    import numpy as np

    folder = tmp_path_factory.mktemp("dem")
    coarse = write_dem(folder / "elevation.tif", -93.3, 18.4, 0.01, np.full((80, 90), 10))
    fine = np.full((200, 200), 10)  # -92.9 .. -92.7, 18.15 .. 17.95
    row = round((18.15 - 18.06) / 0.001)
    first, last = round((-92.83 + 92.9) / 0.001), round((-92.77 + 92.9) / 0.001)
    fine[row - 1 : row + 2, first : last + 1] = 160
    survey = write_dem(folder / "dem_survey.tif", -92.9, 18.15, 0.001, fine)
    # a survey of an area west of the towns: it does not hold them, so it is passed over
    elsewhere = write_dem(folder / "dem_elsewhere.tif", -93.3, 18.15, 0.001, np.full((50, 50), 900))
    return coarse, survey, elsewhere


def plan_two_towns(*rasters: Path) -> Proposal:
    net = build_network(
        corridors(), MODEL, elevation=rasters[0] if rasters else None, elevations=rasters
    )
    return plan_last_mile(net, localities([SOUTH, NORTH]), area_name="t")


def test_one_site_over_the_coarse_grid(dems: tuple[Path, Path, Path]) -> None:
    coarse, _, elsewhere = dems
    proposal = plan_two_towns(coarse, elsewhere)
    (site,) = proposal.parameters["wireless_sites"]
    assert site["people_covered"] == 600
    assert proposal.parameters["wireless"]["elevation"] == "elevation.tif"
    assert capex(proposal) == pytest.approx(60_000 + 50_000 + 2 * 84 * 150)


def test_a_finer_dem_holding_the_towns_is_used_and_its_ridge_splits_the_site(
    dems: tuple[Path, Path, Path],
) -> None:
    coarse, survey, elsewhere = dems
    proposal = plan_two_towns(coarse, elsewhere, survey)
    assert proposal.parameters["wireless"]["elevation"] == (
        "dem_survey.tif (beyond it elevation.tif)"
    )
    plan_sites = proposal.parameters["wireless_sites"]
    assert sorted(s["people_covered"] for s in plan_sites) == [300, 300]
    recs = records(proposal)
    assert {r["technology"] for r in recs.values()} == {"fixed_wireless"}
    assert recs["S"]["site_id"] != recs["N"]["site_id"]
    assert capex(proposal) == pytest.approx(2 * (60_000 + 50_000) + 2 * 84 * 150)


def test_the_backbone_of_a_network_read_from_its_table_is_the_walked_one(
    bundled_store: Path,
) -> None:
    # the existing fiber's nodes and lines answered from the table's columns (and, once
    # places are attached, from the nodes the copy changed) must be what walking every
    # edge dict finds
    import numpy as np
    import shapely

    from layers.store import Store
    from planner.network.edge_table import TableGraph
    from planner.network.places import Place
    from planner.network.planning_network import attach_places
    from planner.plans import last_mile
    from usecases.context import planning_context

    def walked(graph: nx.MultiGraph) -> set[object]:
        return {
            node
            for u, v, data in graph.edges(data=True)
            if last_mile._is_existing_fiber(data)
            for node in (u, v)
        }

    network = planning_context(Store(bundled_store)).network
    assert isinstance(network.graph, TableGraph)
    copy = network.copy()
    backbone = last_mile._initial_backbone(copy.graph, None)
    assert backbone == walked(copy.graph) and len(backbone) > 1000
    lines, points = last_mile._backbone_shapes(copy.graph, backbone)
    expected = [
        data["geometry"]
        for u, v, data in copy.graph.edges(data=True)
        if u in backbone and v in backbone and data.get("kind") != "connector"
    ]
    assert len(lines) == len(expected) and all(
        shapely.equals_exact(a, b, tolerance=0.0) for a, b in zip(lines, expected, strict=True)
    )
    xy = sorted((copy.graph.nodes[n]["x"], copy.graph.nodes[n]["y"]) for n in backbone)
    assert sorted(shapely.get_coordinates(points).tolist()) == [list(p) for p in xy]
    # localities along the Tabasco fiber split its edges: the joints join the backbone
    rng = np.random.default_rng(5)
    places = [
        Place(f"p{i}", float(x), float(y))
        for i, (x, y) in enumerate(rng.uniform([-93.6, 17.8], [-92.6, 18.4], (300, 2)))
    ]
    attach_places(copy, places)
    after = last_mile._initial_backbone(copy.graph, None)
    assert after == walked(copy.graph) and len(after) > len(backbone)


@pytest.mark.parametrize("area", ["Tabasco", "Centro, Tabasco", "Baja California Sur"])
def test_an_areas_localities_from_their_coordinates_are_the_clipped_layer(
    bundled_store: Path, area: str
) -> None:
    from geopandas.testing import assert_geodataframe_equal

    from layers.store import Store
    from planner.plans.demand import localities_in_area
    from usecases.context import planning_context
    from usecases.last_mile import area_localities

    context = planning_context(Store(bundled_store))
    selection, inside = area_localities(area, context)
    assert context.locality_points is not None and len(inside) > 100
    assert_geodataframe_equal(inside, localities_in_area(context.localities, selection))


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_each_locality_gets_the_margin_of_the_path_to_its_own_site(data: st.DataObject) -> None:
    from planner.plans.wireless import _path_margins

    n_sites, n_loc = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 8))
    pairs = sorted(
        data.draw(st.sets(st.tuples(st.integers(0, n_sites - 1), st.integers(0, n_loc - 1))))
    )
    margins = [float(data.draw(st.integers(0, 50))) for _ in pairs]
    # each locality on one of the sites that reach it, or on none
    site_of = [
        data.draw(st.sampled_from([-1, *(s for s, j in pairs if j == loc)])) for loc in range(n_loc)
    ]
    found = _path_margins(
        np.array(site_of, dtype=np.int64),
        np.array([s for s, _ in pairs], dtype=np.int64),
        np.array([j for _, j in pairs], dtype=np.int64),
        np.array(margins),
    )
    by_pair = dict(zip(pairs, margins, strict=True))
    expected = [math.nan if s < 0 else by_pair[(s, j)] for j, s in enumerate(site_of)]
    assert found.tolist() == pytest.approx(expected, nan_ok=True)
