"""Proposal value objects, their metrics and exports, checked against hand-worked values.

Most lines run along the equator, where the geodesic between two points less than 180°
apart is the equator itself, so its length is the WGS84 semi-major axis times the
longitude difference: 6378.137 km × π/180 = 111.3194908 km per degree. Lengths, costs,
shares and latencies below follow from that by arithmetic, not from pyproj.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely import LineString, Polygon, box

from planner.network.places import Place
from planner.proposals import metrics
from planner.proposals.areas import Areas
from planner.proposals.formats import (
    bill_of_quantities,
    proposal_frame,
    proposal_from_geojson,
    proposal_to_geojson,
)
from planner.proposals.metrics import compute_metrics, longest_terminal_path_km
from planner.proposals.proposal import DEPLOYMENT_TYPES, Proposal, Segment, line_length_km
from tests.planner.nx_reference import nx_longest_shortest_path

KM_PER_DEGREE_EQUATOR = 6378.137 * math.pi / 180  # 111.3194908 km


def equator(lon0: float, lon1: float) -> LineString:
    return LineString([(lon0, 0.0), (lon1, 0.0)])


def km(degrees: float) -> float:
    return degrees * KM_PER_DEGREE_EQUATOR


# USD/km of the three-segment route (round numbers, chosen for arithmetic by hand).
RAIL, LEASE, TRENCH = 20_000.0, 5_000.0, 40_000.0


@pytest.fixture
def route() -> Proposal:
    """Rail 0→2°, leased fiber 2→5°, greenfield 5→9° along the equator, and a 1-segment
    alternative 0→9° of new highway duct; a splice-site node cost of 50,000 USD."""
    primary = (
        Segment(equator(0, 2), "rail", cost_usd=km(2) * RAIL, reuses_corridor=True),
        Segment(equator(2, 5), "fiber_lease", cost_usd=km(3) * LEASE, reuses_fiber=True),
        Segment(equator(5, 9), "greenfield", cost_usd=km(4) * TRENCH),
    )
    alternative = Segment(
        LineString([(0, 0), (4.5, 0.0001), (9, 0)]),
        "highway",
        cost_usd=1_000_000,
        reuses_corridor=True,
        role="alternative-1",
    )
    return Proposal(
        "route",
        "demo route",
        (*primary, alternative),
        terminals=[Place("west", 0, 0), Place("east", 9, 0)],
        node_costs_usd={"splice_sites": 50_000},
        cost_model_source="data/cost_model.toml (test)",
    )


def test_line_length_matches_published_meridian_degree() -> None:
    # 1° of meridian from the equator: 110.574 km (WGS84 meridian arc tables).
    assert line_length_km(LineString([(0, 0), (0, 1)])) == pytest.approx(110.574, abs=5e-4)
    assert line_length_km(equator(0, 1)) == pytest.approx(KM_PER_DEGREE_EQUATOR, rel=1e-9)


def test_line_length_agrees_with_pyproj_on_a_polyline() -> None:
    line = LineString([(-99.13, 19.43), (-96.72, 17.06), (-92.93, 17.99)])
    expected = Geod(ellps="WGS84").geometry_length(line) / 1000
    assert line_length_km(line) == expected  # the same geodesic sum, read more directly


def test_route_totals_costs_and_shares(route: Proposal) -> None:
    m = compute_metrics(route)
    primary = m.metrics_by_role["primary"]
    assert primary.total_km == pytest.approx(km(9))  # 1001.875 km
    assert primary.km_by_deployment == pytest.approx(
        {"rail": km(2), "fiber_lease": km(3), "greenfield": km(4)}
    )
    assert primary.capex_usd == pytest.approx(km(2) * RAIL + km(3) * LEASE + km(4) * TRENCH)
    assert primary.reuse_share == pytest.approx(5 / 9)
    assert primary.fiber_reuse_share == pytest.approx(3 / 9)
    assert primary.segment_count == 3
    # 1001.875 km × 4.9 µs/km = 4.909 ms
    assert m.one_way_latency_ms == pytest.approx(km(9) * 4.9 / 1000)
    assert m.one_way_latency_ms == pytest.approx(4.909, abs=1e-3)

    # the alternative is an option, not part of what is built: out of the totals
    segment_capex = km(2) * RAIL + km(3) * LEASE + km(4) * TRENCH
    assert m.capex_usd_total == pytest.approx(segment_capex + 50_000)
    assert m.capex_by_deployment["splice_sites"] == 50_000
    assert "highway" not in m.capex_by_deployment
    assert m.total_km == pytest.approx(km(9))
    assert sum(m.km_by_deployment.values()) == pytest.approx(m.total_km)
    assert m.segment_count == 3
    assert m.states_crossed is None and m.municipality_count is None


def test_alternative_is_measured_apart_from_the_primary(route: Proposal) -> None:
    m = compute_metrics(route)
    assert list(m.metrics_by_role) == ["primary", "alternative-1"]
    alternative = m.metrics_by_role["alternative-1"]
    assert alternative.total_km == pytest.approx(km(9), rel=1e-6)
    assert alternative.reuse_share == 1.0
    assert alternative.capex_usd == 1_000_000
    assert alternative.one_way_latency_ms == pytest.approx(km(9) * 4.9 / 1000, rel=1e-6)


def test_thousand_km_is_four_point_nine_ms() -> None:
    thousand = 1000 / KM_PER_DEGREE_EQUATOR
    seg = Segment(equator(0, thousand), "greenfield", cost_usd=0)
    assert seg.length_km == pytest.approx(1000, abs=1e-6)
    m = compute_metrics(Proposal("route", "1000 km", (seg,)))
    assert m.one_way_latency_ms == pytest.approx(4.9, abs=1e-6)
    assert compute_metrics(
        Proposal("route", "1000 km", (seg,)), latency_us_per_km=5.0
    ).one_way_latency_ms == pytest.approx(5.0, abs=1e-6)


def test_diverse_pair_latency_is_the_worse_path() -> None:
    a = Segment(equator(0, 1), "highway", role="diverse-a")
    b = Segment(LineString([(0, 0), (0, 1), (1, 1), (1, 0)]), "rail", role="diverse-b")
    m = compute_metrics(Proposal("route", "pair", (a, b)))
    assert m.one_way_latency_ms == pytest.approx(b.length_km * 4.9 / 1000)


@pytest.fixture
def star() -> tuple[Segment, ...]:
    """Arms from (0, 0): 1° east, 2° west along the equator, 1° north along the meridian."""
    return (
        Segment(equator(0, 1), "highway", role="backbone"),
        Segment(equator(0, -2), "rail", role="backbone"),
        Segment(LineString([(0, 0), (0, 1)]), "greenfield", role="backbone"),
    )


def test_backbone_latency_is_the_longest_terminal_path(star: tuple[Segment, ...]) -> None:
    leaves = [Place("east", 1, 0), Place("west", -2, 0), Place("north", 0, 1)]
    m = compute_metrics(Proposal("backbone", "star", star, terminals=leaves))
    # east to west: 3° of equator = 333.958 km
    assert m.one_way_latency_ms == pytest.approx(km(3) * 4.9 / 1000)
    # with only east and north as terminals: 1° of equator + 1° of meridian
    two = longest_terminal_path_km(star, [Place("east", 1, 0), Place("north", 0.001, 1)])
    assert two == pytest.approx(km(1) + 110.574, abs=1e-3)
    # without terminals the leaves stand in
    assert longest_terminal_path_km(star) == pytest.approx(km(3))


def test_backbone_with_a_ring_uses_shortest_paths() -> None:
    ring = (
        Segment(equator(0, 1), "highway", role="ring"),
        Segment(LineString([(1, 0), (1, 1)]), "highway", role="ring"),
        Segment(LineString([(1, 1), (0, 1)]), "highway", role="ring"),
        Segment(LineString([(0, 1), (0, 0)]), "highway", role="ring"),
    )
    got = longest_terminal_path_km(ring, [Place("a", 0, 0), Place("b", 1, 0)])
    assert got == pytest.approx(km(1))


def test_rings_apart_give_the_longest_path_within_either() -> None:
    # ring 1: the equator 0-1-3° and a long way back from 3° over 1° N (about 555 km), so
    # the shortest way from 0° to 3° is the equator, 3°; ring 2: a square at 10-11°, whose
    # terminals are 1° apart. Terminals in different rings are not paired.
    ring = (
        Segment(equator(0, 1), "highway", role="ring"),
        Segment(equator(1, 3), "highway", role="ring"),
        Segment(LineString([(3, 0), (3, 1), (0, 1), (0, 0)]), "rail", role="ring"),
        Segment(equator(10, 11), "highway", role="ring"),
        Segment(LineString([(11, 0), (11, 1), (10, 1), (10, 0)]), "rail", role="ring"),
    )
    towns = [Place("a", 0, 0), Place("b", 1, 0), Place("c", 3, 0), Place("d", 10, 0)]
    towns.append(Place("e", 11, 0))
    assert longest_terminal_path_km(ring, towns) == pytest.approx(km(3), rel=1e-12)
    assert longest_terminal_path_km(ring, towns[3:]) == pytest.approx(km(1), rel=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_longest_path_over_rings_matches_a_networkx_search_per_terminal(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 80))
    graph = nx.gnm_random_graph(n, int(rng.integers(n // 2, 3 * n)), seed=seed)
    for a, b in graph.edges:
        graph.edges[a, b]["km"] = float(rng.uniform(0.0, 50.0))
    ends = [int(x) for x in rng.choice(n, int(rng.integers(2, n + 1)), replace=False)]
    # blocks of a few sources at a time, as a national ring is searched
    monkeypatch.setattr(metrics, "_BLOCK_CELLS", 3 * n)
    got = metrics._longest_shortest_path(graph, ends)
    expected = nx_longest_shortest_path(graph, ends)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, rel=1e-12)


def test_backbone_falls_back_to_half_the_length_when_terminals_do_not_connect() -> None:
    apart = (Segment(equator(0, 1), "highway"), Segment(equator(2, 4), "highway"))
    proposal = Proposal("backbone", "apart", apart, terminals=[Place("a", 0, 0), Place("b", 4, 0)])
    m = compute_metrics(proposal)
    assert m.one_way_latency_ms == pytest.approx(km(3) / 2 * 4.9 / 1000)


def test_last_mile_has_cost_per_person_and_no_latency() -> None:
    seg = Segment(equator(0, 0.1), "fixed_wireless", cost_usd=80_000, role="last-mile")
    proposal = Proposal(
        "last_mile", "lm", (seg,), node_costs_usd={"towers": 20_000}, people_covered=2_500
    )
    m = compute_metrics(proposal)
    assert m.one_way_latency_ms is None
    assert m.usd_per_person == pytest.approx(100_000 / 2_500)
    assert (
        compute_metrics(Proposal("last_mile", "nobody", (seg,), people_covered=0)).usd_per_person
        is None
    )


# Two "states" side by side across the equator: A spans lon 0..1, B lon 1..3. A line from
# lon 0.5 to 4 runs 0.5° in A, 2° in B and 1° outside both.
@pytest.fixture
def states() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"cve_ent": ["01", "02"], "name": ["Alfa", "Beta"]},
        geometry=[box(0, -1, 1, 1), box(1, -1, 3, 1)],
        crs="EPSG:4326",
    )


@pytest.fixture
def municipalities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "cvegeo": ["01001", "02001", "02002"],
            "name": ["Uno", "Dos", "Uno"],
            "cve_ent": ["01", "02", "02"],
            "state": ["Alfa", "Beta", "Beta"],
        },
        geometry=[box(0, -1, 1, 1), box(1, -1, 2, 1), box(2, -1, 3, 1)],
        crs="EPSG:4326",
    )


def test_states_and_municipalities_crossed_with_km_by_construction(
    states: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame
) -> None:
    crossing = Proposal(
        "route",
        "cross",
        (Segment(equator(0.5, 2.5), "highway"), Segment(equator(2.5, 4), "subsea")),
    )
    m = compute_metrics(crossing, states, municipalities)
    assert m.states_crossed is not None
    assert [(s.name, s.code) for s in m.states_crossed] == [("Beta", "02"), ("Alfa", "01")]
    assert [s.km for s in m.states_crossed] == pytest.approx([km(2), km(0.5)])
    assert m.km_outside_states == pytest.approx(km(1))
    assert m.municipality_count == 3
    assert m.municipalities_crossed is not None
    assert {(a.name, a.code): a.km for a in m.municipalities_crossed} == pytest.approx(
        {
            ("Dos, Beta", "02001"): km(1),
            ("Uno, Beta", "02002"): km(1),
            ("Uno, Alfa", "01001"): km(0.5),
        }
    )


def test_lines_inside_a_state_count_whole_and_lines_across_its_border_in_part(
    states: gpd.GeoDataFrame,
) -> None:
    # inside Alfa: 0.2-0.7° of equator and a meridian piece at 0.5° E from 0.1 to 0.4° N
    # (its length is the segment's own geodesic length); across into Beta: 0.9-1.4° of
    # equator, 0.1° in Alfa and 0.4° in Beta
    meridian = LineString([(0.5, 0.1), (0.5, 0.4)])
    segments = (
        Segment(equator(0.2, 0.7), "highway"),
        Segment(meridian, "highway"),
        Segment(equator(0.9, 1.4), "highway"),
    )
    m = compute_metrics(Proposal("backbone", "b", segments), states)
    assert m.states_crossed is not None
    crossed = {s.name: s.km for s in m.states_crossed}
    assert crossed["Alfa"] == pytest.approx(km(0.5) + line_length_km(meridian) + km(0.1))
    assert crossed["Beta"] == pytest.approx(km(0.4))


@pytest.mark.parametrize("seed", range(10))
def test_overlay_km_matches_overlaying_every_line_with_every_area(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # a 3 x 3 grid of unit squares, some lines inside one, some across, some outside all
    areas = gpd.GeoDataFrame(
        geometry=[box(x, y, x + 1, y + 1) for x in range(3) for y in range(3)], crs="EPSG:4326"
    )
    lines = [LineString(rng.uniform(-0.5, 3.5, (int(rng.integers(2, 6)), 2))) for _ in range(40)]
    lines += [LineString([(x + 0.3, 0.4), (x + 0.6, 0.5)]) for x in range(3)]
    labels = [f"a{i}" for i in range(9)]
    got = metrics._overlay_km(lines, Areas(tuple(labels), (None,) * 9, tuple(areas.geometry)))
    expected: dict[tuple[str, str | None], float] = {}
    geod = Geod(ellps="WGS84")
    for label, area in zip(labels, areas.geometry, strict=True):
        for line in lines:
            piece = line.intersection(area)
            parts = [p for p in getattr(piece, "geoms", [piece]) if p.geom_type == "LineString"]
            length = sum(geod.geometry_length(p) for p in parts) / 1000.0
            if length > 1e-9:
                expected[(label, None)] = expected.get((label, None), 0.0) + length
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9)


def test_overlays_reproject_other_crs(states: gpd.GeoDataFrame) -> None:
    proposal = Proposal("route", "r", (Segment(equator(0.5, 2.5), "highway"),))
    m = compute_metrics(proposal, states.to_crs(3857))
    assert m.states_crossed is not None
    assert [s.km for s in m.states_crossed] == pytest.approx([km(1.5), km(0.5)], rel=1e-6)


def test_geojson_round_trip(route: Proposal, states: gpd.GeoDataFrame) -> None:
    whole_dollars = Proposal(
        "route",
        route.name,
        tuple(
            Segment(
                s.geometry,
                s.deployment_type,
                cost_usd=round(s.cost_usd),
                reuses_corridor=s.reuses_corridor,
                reuses_fiber=s.reuses_fiber,
                role=s.role,
                name="tramo",
                corridor="rights_of_way:17",
                source_layer="rights_of_way",
                extra={"terrain": "flat", "factor": 1.2},
            )
            for s in route.segments
        ),
        terminals=[
            Place(
                "Villahermosa",
                -92.93,
                17.99,
                "locality",
                340_060,
                "Tabasco",
                {"cvegeo": "270040001"},
            )
        ],
        node_costs_usd=route.node_costs_usd,
        parameters={"alternatives": 1, "avoid": ["greenfield"]},
        people_covered=None,
        cost_model_source=route.cost_model_source,
        notes=["primary reuses 56% of corridors"],
    )
    document = proposal_to_geojson(whole_dollars, compute_metrics(whole_dollars, states))
    text = json.dumps(document, allow_nan=False)
    back = proposal_from_geojson(json.loads(text))
    assert back == whole_dollars
    assert document["type"] == "FeatureCollection"
    feature = document["features"][0]
    assert feature["geometry"] == {"type": "LineString", "coordinates": [[0.0, 0.0], [2.0, 0.0]]}
    assert feature["properties"]["length_km"] == pytest.approx(km(2), abs=1e-9)
    assert feature["properties"]["cost_usd"] == round(km(2) * RAIL)
    assert {
        "deployment_type",
        "role",
        "source_layer",
        "corridor",
        "reuses_corridor",
        "name",
    } <= set(feature["properties"])
    assert document["proposal"]["kind"] == "route"
    built = [s for s in whole_dollars.segments if not s.role.startswith("alternative")]
    assert document["metrics"]["capex_usd_total"] == round(sum(s.cost_usd for s in built) + 50_000)
    assert [s["name"] for s in document["metrics"]["states_crossed"]] == ["Beta", "Alfa"]


def test_geojson_coordinates_are_each_lines_own_with_or_without_z() -> None:
    flat = LineString([(-93.0, 17.0), (-92.5, 17.25), (-92.0, 17.0)])
    raised = LineString([(-92.0, 17.0, 12.5), (-91.0, 17.0, 30.0)])
    for lines in ([flat, flat.reverse()], [flat, raised, flat.reverse()]):
        proposal = Proposal(
            "route",
            "z or not",
            tuple(Segment.along(line, "rail", usd_per_km=1.0) for line in lines),
        )
        features = proposal_to_geojson(proposal)["features"]
        assert [f["geometry"]["coordinates"] for f in features] == [
            [list(xy) for xy in line.coords] for line in lines
        ]


def test_from_geojson_refuses_other_documents() -> None:
    with pytest.raises(ValueError, match="not a Trazo proposal"):
        proposal_from_geojson({"type": "FeatureCollection", "features": []})


def test_bill_of_quantities_totals_capex(route: Proposal) -> None:
    m = compute_metrics(route)
    boq = bill_of_quantities(route, m)
    assert list(boq.columns) == ["item", "category", "km", "usd_per_km", "usd"]
    total = boq.iloc[-1]
    assert total["item"] == "total"
    assert total["usd"] == pytest.approx(m.capex_usd_total)
    assert boq.loc[boq["category"] != "total", "usd"].sum() == pytest.approx(m.capex_usd_total)
    assert total["km"] == pytest.approx(m.total_km)
    rows = boq.set_index("item")
    assert rows.loc["rail", "usd_per_km"] == pytest.approx(RAIL)
    assert rows.loc["fiber_lease", "km"] == round(km(3), 3)  # to the metre
    assert rows.loc["splice_sites", "category"] == "node"
    assert boq.loc[boq["item"] == "splice_sites", "km"].isna().all()
    assert boq.iloc[0]["item"] == "greenfield"  # most expensive first


def test_proposal_frame_saves_to_geopackage(route: Proposal, tmp_path: Path) -> None:
    frame = proposal_frame(route)
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    assert list(frame["role"]) == ["primary"] * 3 + ["alternative-1"]
    # the frame keeps every segment, alternatives included; the totals count what is built
    built = frame[frame["role"] == "primary"]
    assert built["length_km"].sum() == pytest.approx(compute_metrics(route).total_km)
    out = tmp_path / "route.gpkg"
    frame.to_file(out, driver="GPKG")
    back = gpd.read_file(out)
    assert list(back["deployment_type"]) == ["rail", "fiber_lease", "greenfield", "highway"]
    pd.testing.assert_series_equal(back["cost_usd"], frame["cost_usd"], check_names=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"length_km": 222_638.98}, "does not match the geodesic length"),
        ({"length_km": 2.0}, "does not match the geodesic length"),
        ({"cost_usd": -1.0}, "finite amount >= 0"),
        ({"cost_usd": math.inf}, "finite amount >= 0"),
    ],
)
def test_segment_refuses_wrong_units_and_costs(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Segment(equator(0, 2), "rail", **kwargs)


def test_segment_keeps_a_given_length_close_to_the_geodesic() -> None:
    seg = Segment(equator(0, 2), "rail", length_km=km(2) * 1.01)
    assert seg.length_km == pytest.approx(km(2) * 1.01)


def test_proposal_refuses_node_keys_that_repeat_a_deployment_type() -> None:
    seg = Segment(equator(0, 1), "satellite", role="last-mile")
    with pytest.raises(ValueError, match="satellite_terminals"):
        Proposal("last_mile", "x", (seg,), node_costs_usd={"satellite": 1.0})
    with pytest.raises(ValueError, match="unknown proposal kind"):
        Proposal("ring", "x", (seg,))  # type: ignore[arg-type]


lon_lat = st.tuples(st.floats(-118, -86), st.floats(14, 33))
segments = st.builds(
    lambda a, b, kind, usd_per_km, corridor, fiber, role: Segment.along(
        LineString([a, b]),
        kind,
        usd_per_km=usd_per_km,
        reuses_corridor=corridor,
        reuses_fiber=fiber,
        role=role,
    ),
    lon_lat,
    lon_lat,
    st.sampled_from(DEPLOYMENT_TYPES),
    st.floats(0, 2_000_000),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["primary", "alternative-1", "backbone"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(segments, max_size=8),
    st.sampled_from(["route", "backbone", "last_mile"]),
    st.dictionaries(st.sampled_from(["pops", "landing"]), st.floats(0, 1e7)),
)
def test_metric_invariants(segs: list[Segment], kind: str, nodes: dict[str, float]) -> None:
    proposal = Proposal(kind, "p", tuple(segs), node_costs_usd=nodes)  # type: ignore[arg-type]
    m = compute_metrics(proposal)
    assert m.capex_usd_total >= 0
    assert m.capex_usd_total == pytest.approx(sum(m.capex_by_deployment.values()))
    assert sum(m.km_by_deployment.values()) == pytest.approx(m.total_km)
    assert 0.0 <= m.fiber_reuse_share <= m.reuse_share <= 1.0
    built = [r for role, r in m.metrics_by_role.items() if not role.startswith("alternative")]
    assert sum(r.total_km for r in built) == pytest.approx(m.total_km)
    if m.one_way_latency_ms is not None:
        assert m.one_way_latency_ms >= 0
    boq = bill_of_quantities(proposal, m)
    assert boq.iloc[-1]["usd"] == pytest.approx(m.capex_usd_total)


def test_a_segment_priced_at_a_rate_costs_km_times_rate_times_each_multiplier() -> None:
    # 0.1° of the equator = 11.13194908 km; 30,000 USD/km x 1.3 (slope) x 0.8 (corridor ground)
    seg = Segment(
        equator(0, 0.1),
        "greenfield",
        rate_usd_per_km=30_000,
        multipliers={"terrain": 1.3, "corridor_ground": 0.8},
    )
    assert seg.cost_usd == round(11.13194908 * 30_000 * 1.3 * 0.8, 2) == 347_316.81
    feature = proposal_to_geojson(Proposal("route", "r", (seg,)))["features"][0]["properties"]
    assert feature["rate_usd_per_km"] == 30_000
    assert feature["multipliers"] == {"terrain": 1.3, "corridor_ground": 0.8}
    assert feature["cost_usd"] == 347_316.81


def test_the_bill_of_quantities_is_rounded_and_adds_up_to_the_stored_totals() -> None:
    # three greenfield pieces of 1/3 of 0.1° each: 3.71064969 km at 40,000 USD/km is
    # 148,425.99 USD each (to the cent): 445,277.97 USD of trench, plus a 50,000 USD PoP
    pieces = tuple(
        Segment(equator(i / 30, (i + 1) / 30), "greenfield", rate_usd_per_km=40_000)
        for i in range(3)
    )
    proposal = Proposal("route", "r", pieces, node_costs_usd={"terminal_pops": 50_000})
    document = json.loads(json.dumps(proposal_to_geojson(proposal)))
    back = proposal_from_geojson(document)
    boq = bill_of_quantities(back).set_index("item")
    assert boq.loc["greenfield", "usd"] == 445_277.97
    assert boq.loc["greenfield", "km"] == 11.132  # metres
    assert boq.loc["total", "usd"] == 495_277.97 == document["metrics"]["capex_usd_total"]
    assert boq.loc[["greenfield", "terminal_pops"], "usd"].sum() == pytest.approx(495_277.97)
    text = bill_of_quantities(back).to_csv(index=False)
    assert "445277.97" in text and "11.132," in text and "495277.97" in text


def test_areas_are_made_valid_and_a_box_that_only_overlaps_is_not_crossed() -> None:
    # a bow-tie from lon 0 to 2 (invalid: its edges cross at (1, 0)); made valid it is two
    # triangles meeting at (1, 0) that hold the equator from lon 0 to 2. The triangle
    # (2, 1), (3, 1), (3, -1) has a box over lon 2..3 but holds the equator only from 2.5.
    bow_tie = Polygon([(0, -1), (2, 1), (2, -1), (0, 1)])
    assert not bow_tie.is_valid
    areas = gpd.GeoDataFrame(
        {"cve_ent": ["01", "02"], "name": ["Bow", "Wedge"]},
        geometry=[bow_tie, Polygon([(2, 1), (3, 1), (3, -1)])],
        crs="EPSG:4326",
    )
    proposal = Proposal("route", "r", (Segment(equator(0.5, 2.2), "highway"),))
    m = compute_metrics(proposal, areas)
    assert m.states_crossed is not None
    assert [(s.name, s.km) for s in m.states_crossed] == [("Bow", pytest.approx(km(1.5)))]
