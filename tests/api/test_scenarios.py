"""The scenario runner on a small synthetic store, and once on the bundled Tabasco data.

The synthetic state (cve_ent 07, two municipalities) has a highway and a railway running
east-west 22 km apart, joined at both ends, a leasable fiber route to the south, two
cable landings on its coast with a cable between them, and six localities.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyproj
import pytest
from bundled_stores import PlannedScenarios
from shapely import LineString, Point, box

from layers.errors import NotFoundError, TrazoError
from layers.ingest import ingest
from layers.store import Store
from planner.plans.scenario import DEFAULT_SCENARIO_DIR, Scenario, load_scenario
from planner.proposals.metrics import is_built, segment_graph
from usecases.scenario import ScenarioResult, ScenarioWorkspace, run_scenario

CORRIDOR_DEPLOYMENTS = {"rail", "highway", "pipeline", "power_aerial", "fiber_lease", "subsea"}

SCENARIO = """
name = "synthetic"
title = "Synthetic <state> plan"
description = "Everything the runner does, on a toy state."
funding_usd = 2_000_000
funding_label = "Seed"
subsea = true
assumptions = ["Toy data <script>alert(1)</script>"]

[[facts]]
text = "A fact."
source = "A source."

[cost_model]
"deployment.rail.usd_per_km" = 10000
"deployment.rail.source" = "test override"

[[steps]]
name = "pair"
kind = "route"
title = "Alfa to Beta, diverse"
from = "Alfa"
to = "Beta"
diverse = true

[[steps]]
name = "spine"
kind = "backbone"
title = "Seats and ports"
terminals = ["landing:Puerto Este"]
terminals_seats_of = "Testado"
ring = true

[[steps]]
name = "access"
kind = "last_mile"
title = "Access with what the seed leaves"
area = "Testado"
min_population = 100
budget_after_steps = ["pair"]
backbone_step = "spine"

[[latency_tables]]
title = "Ports to seats"
from = ["landing:Puerto Oeste", "landing:Puerto Este"]
to = ["Alfa", "Beta"]

[inventory]
area = "Testado"
buffer_km = 10

[demand]
state = "Testado"
"""


def _save(frame: gpd.GeoDataFrame, path: Path) -> Path:
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("synthetic")
    store = Store(folder / "store.gpkg")
    crs = "EPSG:4326"
    layers: list[tuple[str, str, gpd.GeoDataFrame]] = [
        (
            "states",
            "states",
            gpd.GeoDataFrame(
                {"cve_ent": ["07"], "name": ["Testado"]},
                geometry=[box(-93.3, 17.5, -91.7, 18.5)],
                crs=crs,
            ),
        ),
        (
            "municipalities",
            "municipalities",
            gpd.GeoDataFrame(
                {
                    "cvegeo": ["07001", "07002"],
                    "name": ["Uno", "Dos"],
                    "cve_ent": ["07", "07"],
                    "state": ["Testado"] * 2,
                },
                geometry=[box(-93.3, 17.5, -92.5, 18.5), box(-92.5, 17.5, -91.7, 18.5)],
                crs=crs,
            ),
        ),
        (
            "roads",
            "rights_of_way",
            gpd.GeoDataFrame(
                {"row_type": ["highway", "highway", "highway"]},
                geometry=[
                    LineString([(-93.1, 18.0), (-92.0, 18.0)]),
                    LineString([(-93.1, 18.0), (-93.1, 18.2)]),
                    LineString([(-92.0, 18.0), (-92.0, 18.2)]),
                ],
                crs=crs,
            ),
        ),
        (
            "rail",
            "rights_of_way",
            gpd.GeoDataFrame(
                {"row_type": ["rail"]},
                geometry=[LineString([(-93.1, 18.2), (-92.0, 18.2)])],
                crs=crs,
            ),
        ),
        (
            "fiber",
            "fiber_routes",
            gpd.GeoDataFrame(
                {"operator": ["Op"], "status": ["existing"], "lease_available": [True]},
                geometry=[LineString([(-93.1, 17.8), (-92.0, 17.8), (-92.0, 18.0)])],
                crs=crs,
            ),
        ),
        (
            "landings",
            "subsea_landings",
            gpd.GeoDataFrame(
                {"name": ["Puerto Oeste", "Puerto Este"]},
                geometry=[Point(-93.1, 17.7), Point(-92.0, 17.7)],
                crs=crs,
            ),
        ),
        (
            "cables",
            "subsea_cables",
            gpd.GeoDataFrame(
                {"name": ["Costa"], "landings": ["Puerto Oeste, Puerto Este"]},
                geometry=[LineString([(-93.1, 17.7), (-92.55, 17.6), (-92.0, 17.7)])],
                crs=crs,
            ),
        ),
        (
            "localities",
            "localities",
            gpd.GeoDataFrame(
                {
                    "name": ["Alfa", "Beta", "Gama", "Delta", "Epsilon", "Zeta"],
                    "population": [40000, 25000, 900, 600, 300, 50],
                    "cvegeo": [
                        "070010001",
                        "070020001",
                        "070010002",
                        "070020002",
                        "070010003",
                        "070020003",
                    ],
                    "cve_ent": ["07"] * 6,
                    "state": ["Testado"] * 6,
                    "connected": [False] * 6,
                },
                geometry=[
                    Point(-93.05, 18.1),
                    Point(-92.05, 18.1),
                    Point(-92.6, 18.05),
                    Point(-92.3, 18.25),
                    Point(-92.8, 18.4),
                    Point(-92.5, 17.9),
                ],
                crs=crs,
            ),
        ),
    ]
    for name, kind, frame in layers:
        ingest(store, _save(frame, folder / f"{name}.geojson"), kind, name=name)
    return store


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    path = tmp_path_factory.mktemp("spec") / "synthetic.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return load_scenario(path)


@pytest.fixture(scope="module")
def result(
    store: Store, spec: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> ScenarioResult:
    lines: list[str] = []
    out = tmp_path_factory.mktemp("out")
    result = run_scenario(spec, store, out, lines.append)
    assert lines, "progress is reported"
    return result


def test_every_step_writes_its_files_and_is_stored(result: ScenarioResult, store: Store) -> None:
    """Each step's GeoJSON file is what the store holds, and its numbers add up by hand.

    Lengths are measured again from the written coordinates (WGS84 geodesic, pyproj), each
    cost is its length x rate x multipliers (to the cent), the rail rate is the scenario's
    own override and the total is the built segments plus the node costs, all read back
    from the file.
    """
    geod = pyproj.Geod(ellps="WGS84")
    assert [s.name for s in result.steps] == ["pair", "spine", "access"]
    for step in result.steps:
        assert step.files["gpkg"].is_file()
        document = json.loads(step.files["geojson"].read_text(encoding="utf-8"))
        stored = store.proposal(f"synthetic_{step.name}")
        assert (stored.name, stored.kind) == (f"synthetic_{step.name}", step.kind)
        assert stored.document["features"] == document["features"]
        assert stored.document["metrics"] == document["metrics"]
        segments = [f for f in document["features"] if "deployment_type" in f["properties"]]
        assert segments or step.kind == "last_mile", step.name  # the seed may buy nothing
        built = 0.0
        for feature in segments:
            props = feature["properties"]
            lon, lat = zip(*feature["geometry"]["coordinates"], strict=True)
            km = geod.line_length(lon, lat) / 1000
            assert props["length_km"] == pytest.approx(km, rel=1e-6, abs=1e-6)
            if props["deployment_type"] == "rail":
                assert props["rate_usd_per_km"] == 10_000  # "deployment.rail.usd_per_km"
            if props["rate_usd_per_km"] is not None:
                rate = props["rate_usd_per_km"] * math.prod(props["multipliers"].values())
                assert props["cost_usd"] == pytest.approx(props["length_km"] * rate, abs=0.01)
            if not props["role"].startswith("alternative"):
                built += props["cost_usd"]
        nodes = sum(document["proposal"]["node_costs_usd"].values())
        assert document["metrics"]["capex_usd_total"] == pytest.approx(built + nodes, abs=0.02)
    assert result.files["map"].is_file() and result.files["summary"].is_file()


def test_summary_is_one_escaped_page(result: ScenarioResult) -> None:
    page = result.files["summary"].read_text(encoding="utf-8")
    assert "Synthetic &lt;state&gt; plan" in page
    assert "<script" not in page
    assert "http://" not in page and "https://" not in page
    for step in result.steps:
        assert step.title.replace("<", "&lt;") in page
    assert "Seed (USD 2,000,000) covers" in page
    assert "test override" in page


def test_rerun_replaces_the_stored_proposals(
    store: Store, spec: Scenario, result: ScenarioResult, tmp_path: Path
) -> None:
    steps = [f"synthetic_{step.name}" for step in result.steps]
    others = {p.name for p in store.list_proposals()} - set(steps)
    # Mark what the first run stored as stale and drop one step's proposal: the rerun must
    # overwrite the marked ones under the same names and store the missing one again.
    for name in steps[:-1]:
        old = store.proposal(name)
        stale = {**old.document, "proposal": {**old.document["proposal"], "notes": ["stale"]}}
        store.write_proposal(name, old.kind, stale, replace=True)
    store.delete_proposal(steps[-1])

    rerun = run_scenario(spec, store, tmp_path)

    assert {p.name for p in store.list_proposals()} == others | set(steps)
    for step in rerun.steps:
        stored = store.proposal(f"synthetic_{step.name}").document
        assert "stale" not in stored["proposal"]["notes"]
        assert stored["proposal"]["created_at"] == step.proposal.created_at
        assert len(stored["features"]) == len(step.proposal.segments) + len(step.proposal.markers)


def _on_network(proposal_segments: list[Any], lon: float, lat: float) -> bool:
    graph = segment_graph(proposal_segments)
    return any(math.hypot(x - lon, y - lat) < 1e-6 for x, y in graph.nodes)


def test_every_terminal_is_reached(result: ScenarioResult) -> None:
    for step in result.steps:
        if step.kind == "last_mile":
            continue
        built = [s for s in step.proposal.segments if is_built(s.role)]
        graph = segment_graph(built)
        nodes = []
        for terminal in step.proposal.terminals:
            assert _on_network(built, terminal.lon, terminal.lat), terminal.name
            nodes.append(
                min(graph.nodes, key=lambda n, t=terminal: math.hypot(n[0] - t.lon, n[1] - t.lat))
            )
        if step.kind == "backbone":
            import networkx as nx

            component = nx.node_connected_component(graph, nodes[0])
            assert all(n in component for n in nodes)
    spine = result.step("spine").proposal
    assert {t.name for t in spine.terminals} == {"Alfa", "Beta", "Puerto Este"}


def test_diverse_pair_is_corridor_disjoint(result: ScenarioResult) -> None:
    segments = result.step("pair").proposal.segments
    a = {s.corridor for s in segments if s.role == "diverse-a" and s.corridor}
    b = {s.corridor for s in segments if s.role == "diverse-b" and s.corridor}
    assert a and b and not a & b


def test_budget_after_steps_is_respected(result: ScenarioResult, spec: Scenario) -> None:
    access = result.step("access")
    assert spec.funding_usd is not None
    expected = max(spec.funding_usd - result.step("pair").metrics.capex_usd_total, 0.0)
    assert access.budget_usd == pytest.approx(expected)
    assert access.metrics.capex_usd_total <= expected + 1e-6


def test_costs_match_the_cost_model(result: ScenarioResult) -> None:
    model = result.cost_model
    assert model.usd_per_km("rail") == 10000  # the scenario's override
    for step in result.steps:
        for segment in step.proposal.segments:
            rate = model.usd_per_km(segment.deployment_type)
            if segment.deployment_type in CORRIDOR_DEPLOYMENTS | {"connector"}:
                assert segment.cost_usd == pytest.approx(rate * segment.length_km, rel=1e-6)
            else:
                assert segment.cost_usd >= rate * segment.length_km * 0.999


def test_subsea_link_and_latency_table(result: ScenarioResult) -> None:
    [link] = result.subsea_links
    assert {link.landing_a, link.landing_b} == {"Puerto Oeste", "Puerto Este"}
    table = next(t for t in result.tables if t.title == "Ports to seats")
    assert [row[0] for row in table.rows] == ["Puerto Oeste", "Puerto Este"]
    assert all("ms" in cell for row in table.rows for cell in row[1:])
    assert any("Beta: lowest latency from Puerto Este" in note for note in table.notes), table


def test_inventory_and_demand_tables(result: ScenarioResult) -> None:
    inventory = next(t for t in result.tables if t.title.startswith("Corridor inventory"))
    rail = next(row for row in inventory.rows if row[0] == "rail")
    assert rail[2] == pytest.approx(116.0, abs=1.0)  # 1.1 degrees of longitude at 18.2 N
    demand = next(t for t in result.tables if t.title.startswith("Demand"))
    assert [row[0] for row in demand.rows] == ["Uno", "Dos"]
    assert any("no rows for Testado" in note for note in demand.notes)


def test_unknown_layer_and_place_are_user_errors(
    store: Store, spec: Scenario, tmp_path: Path
) -> None:
    bad_layers = spec.model_copy(update={"layers": ("roads", "canals")})
    with pytest.raises(NotFoundError, match="canals"):
        run_scenario(bad_layers, store, tmp_path)
    step = spec.steps[0].model_copy(update={"destination": "Atlantis"})
    bad_place = spec.model_copy(update={"steps": (step,)})
    with pytest.raises(TrazoError, match="Atlantis"):
        run_scenario(bad_place, store, tmp_path, workspace=ScenarioWorkspace(store))


@pytest.mark.slow
def test_tabasco_on_the_bundled_data(planned_scenarios: PlannedScenarios) -> None:
    """The real Tabasco scenario end to end, as the session's planned scenarios ran it."""
    result = planned_scenarios.results["tabasco"]
    assert result.spec == load_scenario(DEFAULT_SCENARIO_DIR / "tabasco.toml")
    backbone = result.step("backbone")
    assert len(backbone.proposal.terminals) == 17
    built = [s for s in backbone.proposal.segments if is_built(s.role)]
    for terminal in backbone.proposal.terminals:
        assert _on_network(built, terminal.lon, terminal.lat), terminal.name
    assert {s.source_layer for s in built} <= {
        "railways",
        "tren_maya",
        "pipelines",
        "highways",
        None,
    }
    seed = result.step("last_mile_seed")
    assert seed.metrics.capex_usd_total <= 7_000_000 + 1e-6
    after = result.step("last_mile_after_backbone")
    assert after.budget_usd == pytest.approx(max(7_000_000 - backbone.metrics.capex_usd_total, 0))
    assert (result.step("last_mile").metrics.people_covered or 0) > 1_000_000
    # shared wireless sites: fewer sites than wireless localities, every one within the
    # 10 km range over a path the planner found clear (margin >= 0)
    last_mile = result.step("last_mile").proposal.parameters
    wireless = [r for r in last_mile["localities"] if r["technology"] == "fixed_wireless"]
    assert 0 < len(last_mile["wireless_sites"]) < len(wireless)
    assert all(r["radio_margin_m"] is None or r["radio_margin_m"] >= 0 for r in wireless)
    assert last_mile["wireless"]["optimality_gap"] is not None
    # no land deployment runs more than 1 km off the states (the offshore Southeast
    # Gateway pipeline is not a land corridor)
    assert [step.km_off_land for step in result.steps] == [0.0] * len(result.steps)
    assert not any(
        "Southeast Gateway" in (s.name or "")
        for step in result.steps
        for s in step.proposal.segments
    )
