"""Maps built from small Tabasco layers: what goes into the HTML (no browser needed)."""

from __future__ import annotations

import copy
import html
import json
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import map_fixtures as fx
import pytest

from layers.catalog import LayerInfo
from layers.errors import ProposalFormatError
from layers.kinds import LayerKind
from maps import proposal as proposal_module
from maps.offline import external_references
from maps.proposal import metrics, segments
from maps.render import comparison_map, layers_map, proposal_map, save_map, store_map

EVIL = "<img src=x onerror=alert(1)>"


def _js(text: str) -> str:
    """How escaped text appears inside the page's JSON (folium's ``tojson``)."""
    quoted = json.dumps(html.escape(text))[1:-1]
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        quoted = quoted.replace(char, code)
    return quoted


def _html(m: Any, tmp_path: Path, name: str = "map.html") -> str:
    return save_map(m, tmp_path / name).read_text(encoding="utf-8")


def test_proposal_map_is_self_contained_and_small(tmp_path: Path) -> None:
    started = time.perf_counter()
    m = proposal_map(
        fx.proposal(), fx.frames(), attributions=fx.ATTRIBUTIONS, choropleth_field="population"
    )
    path = save_map(m, tmp_path / "p.html")
    assert time.perf_counter() - started < 5
    text = path.read_text(encoding="utf-8")
    assert external_references(text) == []
    # Leaflet and plugins are ~370 kB; the Tabasco fixture adds little.
    assert path.stat().st_size < 450_000
    for credit in fx.ATTRIBUTIONS.values():
        assert _js(credit) in text


def test_hostile_attribute_values_never_reach_the_page_unescaped(tmp_path: Path) -> None:
    script = "<script>window.__pwned=1</script>"
    evil_proposal = fx.proposal(name=EVIL, segment_name=script + "${window.__pwned=3}`")
    attributions = {**fx.ATTRIBUTIONS, "states": EVIL}
    m = proposal_map(evil_proposal, fx.frames(EVIL), attributions=attributions, title=EVIL)
    text = _html(m, tmp_path)
    assert EVIL not in text
    assert script not in text
    assert text.count("<script>") == text.count("</script>")


def test_layers_map_draws_each_layer_once(tmp_path: Path) -> None:
    m = layers_map(fx.frames(), title="Tabasco", attributions=fx.ATTRIBUTIONS)
    text = _html(m, tmp_path)
    for label in ("States", "Rights of way", "Fiber routes", "Subsea cables", "Localities"):
        assert text.count(json.dumps(label)) == 1, label


def test_localities_are_filtered_by_area_and_population(tmp_path: Path) -> None:
    frames = fx.frames()
    m = layers_map(frames, title="t", focus_bbox=(-93.5, 17.8, -92.5, 18.5), min_population=30_000)
    text = _html(m, tmp_path)
    assert _js("Villahermosa") in text and _js("Cárdenas") in text and _js("Comalcalco") in text
    assert _js("Paraíso") not in text  # 26,000 people
    assert _js("Tenosique") not in text  # outside the area
    m = layers_map(frames, title="t", min_population=0, max_localities=2)
    text = _html(m, tmp_path)
    assert "2 of 9 with 0+ people shown" in text


def test_choropleth_field_must_exist() -> None:
    with pytest.raises(ValueError, match=r"no column 'unserved'.*population"):
        layers_map(fx.frames(), title="t", choropleth_field="unserved")


@pytest.mark.parametrize(
    ("url", "attribution", "message"),
    [
        ("http://tile.example/{z}/{x}/{y}.png", "x", "https://"),
        ("https://tile.example/tiles.png", "x", r"\{z\}"),
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "", "attribution"),
    ],
)
def test_online_tiles_need_an_xyz_https_url_and_credit(
    url: str, attribution: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        layers_map(fx.frames(), title="t", tiles_url=url, tiles_attribution=attribution)


def test_online_tiles_are_a_base_layer_with_credit(tmp_path: Path) -> None:
    m = layers_map(
        fx.frames(),
        title="t",
        tiles_url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        tiles_attribution="© OpenStreetMap contributors",
    )
    text = _html(m, tmp_path)
    assert "tile.openstreetmap.org" in text and "Online basemap" in text


def test_metrics_fall_back_to_the_segments_when_missing() -> None:
    values = metrics(fx.proposal_b())
    assert values["total_km"] == pytest.approx(100.0)
    assert values["capex_usd_total"] == pytest.approx(3_320_000)
    assert values["usd_per_person"] == pytest.approx(3_320_000 / 120_000)
    assert "reuse_share" not in values
    assert metrics(fx.proposal())["states_crossed"] == 2


def test_summary_reads_like_a_report() -> None:
    text = proposal_module.summary_html(fx.proposal())
    for figure in ("1,234 km", "USD 12.3 M", "72%", "0.91 ms", "433,400", "USD 28.49"):
        assert f"<td>{figure}</td>" in text
    assert "122 km · USD 4.6 M" in text


def test_a_proposal_without_metrics_or_names_still_renders(tmp_path: Path) -> None:
    bare = copy.deepcopy(fx.proposal_b())
    del bare["metrics"], bare["proposal"]
    for feature in bare["features"]:
        feature["properties"] = {}
    text = _html(proposal_map(bare), tmp_path)
    assert _js("Proposal") in text and _js("—") in text


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"type": "Feature"}, "FeatureCollection"),
        ({"type": "FeatureCollection", "features": "x"}, "list"),
        ({"type": "FeatureCollection", "features": [{"type": "Feature"}]}, "not valid GeoJSON"),
    ],
)
def test_malformed_proposals_are_refused(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ProposalFormatError, match=message):
        segments(bad)


def test_comparison_map_keeps_both_scenarios_apart(tmp_path: Path) -> None:
    m = comparison_map(fx.proposal(), fx.proposal_b(), fx.frames())
    text = _html(m, tmp_path)
    assert json.dumps("B: Costa y Sierra") in text
    assert json.dumps("A: Villahermosa–Palenque backbone (main route)") in text


class _FakeStore:
    """The two Store methods maps use, over in-memory frames."""

    def __init__(self, frames: dict[str, tuple[str, gpd.GeoDataFrame]]) -> None:
        self.frames = frames
        self.bboxes: list[Any] = []

    def list_layers(self) -> list[LayerInfo]:
        infos = [
            LayerInfo(name, LayerKind(kind), "fixture", "2025-01-01T00:00:00", len(f), "x", None)
            for name, (kind, f) in self.frames.items()
        ]
        return [*infos, LayerInfo("elevation", LayerKind.RASTER, "x", "x", 0, None, None)]

    def read(self, name: str, bbox: Any = None) -> gpd.GeoDataFrame:
        self.bboxes.append(bbox)
        return self.frames[name][1]


def test_store_map_reads_vector_layers_around_the_proposal(tmp_path: Path) -> None:
    store = _FakeStore(fx.frames())
    m = store_map(store, fx.proposal(), attributions=fx.ATTRIBUTIONS)  # type: ignore[arg-type]
    text = _html(m, tmp_path)
    assert len(store.bboxes) == len(fx.frames())
    west, south, east, north = store.bboxes[0]
    assert west < -93.37 and east > -91.98 and south < 17.51 and north > 18.05
    assert "Villahermosa–Palenque backbone" in text


def test_titles_are_written_from_the_request() -> None:
    route = fx.route_proposal()
    assert proposal_module.title(route) == "Route Paraíso – Palenque, with 1 alternative"
    route["proposal"]["parameters"] = {"diverse": True}
    assert proposal_module.title(route) == "Route Paraíso – Palenque, corridor-disjoint pair"
    ring = {
        "type": "FeatureCollection",
        "features": [],
        "proposal": {
            "name": "backbone-3-terminals",
            "kind": "backbone",
            "parameters": {"terminals": ["A", "B", "C"], "ring": True},
        },
    }
    assert proposal_module.title(ring) == "Ring over 3 places"
    last_mile = {
        "type": "FeatureCollection",
        "features": [],
        "proposal": {
            "name": "last-mile-Tabasco",
            "kind": "last_mile",
            "parameters": {"area": "Tabasco", "min_population": 250, "budget_usd": 7e6},
        },
    }
    assert proposal_module.title(last_mile) == (
        "Last mile in Tabasco, localities of 250+ people, budget USD 7.0 M"
    )
    # a name somebody chose stays
    assert proposal_module.title(fx.proposal()) == "Villahermosa–Palenque backbone"


def test_route_ends_are_labelled_places_and_bound_the_view() -> None:
    places = proposal_module.places(fx.route_proposal())
    assert [(p.name, p.kind) for p in places] == [("Paraíso", "end"), ("Palenque", "end")]
    # Paraíso (26,000 people) outranks Palenque (unknown) when names compete for room
    assert places[0].priority > places[1].priority
    # a plan of terminals alone (wireless) still has an extent: its terminals'
    only_ends = {**fx.route_proposal(), "features": []}
    west, north = fx.PARAISO
    east, south = fx.PALENQUE
    assert proposal_module.bounds(only_ends) == (west, south, east, north)


def test_base_layers_the_plan_does_not_use_start_off(tmp_path: Path) -> None:
    # The route runs on rights_of_way only: the fiber layer starts off and the legend says
    # so; the Dos Bocas landing and its cable are in the route's view, so they stay on.
    text = _html(proposal_map(fx.route_proposal(), fx.frames()), tmp_path)
    start = text.index("Off until ticked in Layers: ")
    assert text[start : text.index("\\u003c", start)] == (
        "Off until ticked in Layers: Fiber routes (not used by this plan or not in view)."
    )
