"""Saved maps opened in headless Chromium with no network, as a stakeholder would open them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import map_fixtures as fx
import pytest

from maps.render import comparison_map, layers_map, proposal_map, save_map

EVIL = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>window.__pwned=1</script>"

# Every layer of the map in turn: open its popup and tooltip, keep their text.
OPEN_EVERYTHING = """
var map = Object.keys(window).map(function (k) { return window[k]; })
    .find(function (v) { return v instanceof L.Map; });
var texts = [];
map.eachLayer(function (layer) {
    if (layer.getPopup && layer.getPopup()) {
        layer.openPopup();
        texts.push(layer.getPopup().getElement().textContent);
        layer.closePopup();
    }
    if (layer.getTooltip && layer.getTooltip()) {
        layer.openTooltip();
        texts.push(layer.getTooltip().getElement().textContent);
        layer.closeTooltip();
    }
});
return texts;
"""


def _open(browser: Any, path: Path) -> list[dict[str, Any]]:
    """Load ``path``; return the console entries it caused."""
    browser.get_log("browser")  # drop entries of earlier pages
    browser.get(path.resolve().as_uri())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if browser.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.05)
    time.sleep(0.3)  # let Leaflet finish drawing
    return list(browser.get_log("browser"))


def _errors(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["level"] in {"SEVERE", "ERROR"}]


def _wait_text(browser: Any, selector: str, seconds: float = 3) -> str:
    """Text of ``selector`` once it shows (popups fade in)."""
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline and not text:
        found = browser.find_elements("css selector", selector)
        text = found[0].text if found else ""
        time.sleep(0.05)
    return str(text)


def _count(browser: Any, selector: str) -> int:
    return len(browser.find_elements("css selector", selector))


def _text(browser: Any, selector: str) -> str:
    return str(browser.find_element("css selector", selector).text)


def _content(browser: Any, selector: str) -> str:
    """All text of ``selector``, folded parts too (the legend's sources fold away)."""
    return str(browser.find_element("css selector", selector).get_attribute("textContent"))


def test_proposal_map_shows_the_proposal(browser: Any, artifacts: Path, tmp_path: Path) -> None:
    m = proposal_map(
        fx.proposal(),
        fx.frames(),
        attributions=fx.ATTRIBUTIONS,
        choropleth_field="share_connected",
    )
    path = save_map(m, tmp_path / "proposal.html")
    entries = _open(browser, path)
    browser.save_screenshot(str(artifacts / "proposal.png"))

    assert _errors(entries) == []
    assert _count(browser, ".folium-map.leaflet-container") == 1  # (the minimap is another)
    # states, rights of way, fiber, subsea cables, landings, localities + 3 proposal roles
    assert _count(browser, ".leaflet-control-layers-selector") == 9
    segments = browser.find_elements("css selector", "path.trazo-segment")
    assert len(segments) == len(fx.proposal()["features"]) == 4
    assert all(len(s.get_attribute("d")) > 10 for s in segments)
    assert _count(browser, "path.trazo-role-alternative-1") == 1
    summary = _text(browser, ".trazo-summary")
    for figure in ("1,234 km", "USD 12.3 M", "72%", "0.91 ms", "433,400", "USD 28.49"):
        assert figure in summary
    legend = _content(browser, ".trazo-legend")
    assert "Leased fiber" in legend and "INEGI, Censo de Población y Vivienda 2020" in legend
    for control in (".leaflet-control-scale", ".leaflet-control-minimap", ".trazo-title"):
        assert _count(browser, control) == 1, control
    assert _count(browser, ".leaflet-control-zoom-fullscreen") == 1
    assert _count(browser, ".leaflet-control-measure") == 1
    assert _count(browser, ".marker-cluster, path.leaflet-interactive") > 10

    # A person clicks the leased-fiber segment (a straight line: its middle is on it).
    segments[0].click()
    popup = _wait_text(browser, ".leaflet-popup-content")
    assert "Cárdenas–Villahermosa lease" in popup and "USD 310,000" in popup


def test_layer_toggles_hide_and_show(browser: Any, tmp_path: Path) -> None:
    path = save_map(proposal_map(fx.proposal()), tmp_path / "toggle.html")
    assert _errors(_open(browser, path)) == []
    assert _count(browser, ".leaflet-control-layers-selector") == 3
    assert _count(browser, "path.trazo-segment") == 4
    browser.find_elements("css selector", ".leaflet-control-layers-selector")[0].click()
    assert _count(browser, "path.trazo-segment") == 2  # the two primary segments are hidden


def test_hostile_names_stay_text(browser: Any, artifacts: Path, tmp_path: Path) -> None:
    sneaky = SCRIPT + "${window.__pwned=3}`"
    m = proposal_map(
        fx.proposal(name='<img src=x onerror="window.__pwned=2">', segment_name=sneaky),
        fx.frames(evil_name=EVIL),
        attributions={**fx.ATTRIBUTIONS, "states": EVIL},
    )
    path = save_map(m, tmp_path / "hostile.html")
    entries = _open(browser, path)
    texts = browser.execute_script(OPEN_EVERYTHING)
    browser.save_screenshot(str(artifacts / "hostile.png"))

    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018 (the property raises when there is no alert)
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.execute_script('return document.querySelectorAll("img[src=x]").length') == 0
    assert _errors(entries) == []
    shown = "\n".join(texts)
    assert EVIL in shown  # rights of way, landing point and locality popups, as text
    assert sneaky in shown  # the segment's popup
    assert EVIL in _content(browser, ".trazo-legend")  # the attribution, as text
    assert '<img src=x onerror="window.__pwned=2">' in _text(browser, ".trazo-summary")


def test_comparison_map_shows_both_summaries(browser: Any, artifacts: Path, tmp_path: Path) -> None:
    m = comparison_map(fx.proposal(), fx.proposal_b(), fx.frames(), attributions=fx.ATTRIBUTIONS)
    path = save_map(m, tmp_path / "comparison.html")
    entries = _open(browser, path)
    browser.save_screenshot(str(artifacts / "comparison.png"))

    assert _errors(entries) == []
    assert _count(browser, ".leaflet-control-layers-selector") == 6 + 3 + 1
    assert _count(browser, "path.trazo-segment") == 4 + 2
    summary = _text(browser, ".trazo-summary")
    for figure in ("1,234 km", "100 km", "USD 12.3 M", "USD 3.3 M", "433,400", "120,000"):
        assert figure in summary
    labels = _content(browser, ".leaflet-control-layers")  # the list may open folded
    assert "A: Villahermosa–Palenque backbone (main route)" in labels
    assert "B: Costa y Sierra" in labels


def test_layers_map_without_a_proposal(browser: Any, artifacts: Path, tmp_path: Path) -> None:
    m = layers_map(
        fx.frames(),
        title="Tabasco: connectivity layers",
        attributions=fx.ATTRIBUTIONS,
        choropleth_field="population",
        min_population=0,
    )
    path = save_map(m, tmp_path / "layers.html")
    entries = _open(browser, path)
    browser.save_screenshot(str(artifacts / "layers.png"))

    assert _errors(entries) == []
    assert _count(browser, ".leaflet-control-layers-selector") == 6
    assert _count(browser, ".trazo-summary") == 0
    assert "Tabasco: connectivity layers" in _text(browser, ".trazo-title")
    assert _count(browser, ".trazo-icon") == 2  # landing points


def last_mile_proposal() -> dict[str, Any]:
    """A last mile near Teapa: one fiber feeder, one wireless site fed by one microwave hop
    serving two localities, one locality on satellite."""

    def point(lon: float, lat: float, **props: Any) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props,
        }

    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[-92.95, 17.55], [-92.9, 17.6]]},
                "properties": {
                    "deployment_type": "highway",
                    "length_km": 7.7,
                    "cost_usd": 138_600,
                    "role": "last-mile",
                },
            },
            point(
                -92.8,
                17.5,
                role="wireless_site",
                site_id="W0001",
                mast_height_m=30,
                backhaul="microwave",
                people_covered=900,
                cost_usd=110_000,
            ),
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[-92.8, 17.5], [-92.95, 17.55]]},
                "properties": {
                    "role": "microwave_link",
                    "site_id": "W0001",
                    "km": 16.9,
                    "cost_usd": 50_000,
                },
            },
            point(
                -92.9,
                17.6,
                role="locality",
                name="Fiber town",
                technology="fiber",
                people_unserved=1200,
                cvegeo="270170010",
            ),
            point(
                -92.78,
                17.52,
                role="locality",
                name="Radio A",
                technology="fixed_wireless",
                site_id="W0001",
                people_unserved=500,
                cvegeo="270170020",
            ),
            point(
                -92.82,
                17.47,
                role="locality",
                name="Radio B",
                technology="fixed_wireless",
                site_id="W0001",
                people_unserved=400,
                cvegeo="270170030",
            ),
            point(
                -92.6,
                17.3,
                role="locality",
                name="Far ranch",
                technology="satellite",
                people_unserved=300,
                cvegeo="270170040",
            ),
        ],
        "proposal": {"name": "Last mile near Teapa", "kind": "last_mile"},
        "metrics": {"capex_usd_total": 500_000, "people_covered": 2400},
    }


def test_last_mile_map_draws_sites_links_and_localities(
    browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    m = proposal_map(last_mile_proposal(), fx.frames(), attributions=fx.ATTRIBUTIONS)
    path = save_map(m, tmp_path / "last_mile.html")
    entries = _open(browser, path)
    browser.save_screenshot(str(artifacts / "last_mile.png"))
    assert _errors(entries) == []
    assert _count(browser, "path.trazo-role-wireless-site") == 1
    assert _count(browser, "path.trazo-role-microwave-link") == 1
    assert _count(browser, "path.trazo-technology-fixed-wireless") == 2
    assert _count(browser, "path.trazo-technology-fiber") == 1
    assert _count(browser, "path.trazo-technology-satellite") == 1
    legend = _content(browser, ".trazo-legend")
    for label in ("Last mile", "Wireless site", "Microwave backhaul hop", "Locality on satellite"):
        assert label in legend
    layers = _content(browser, ".leaflet-control-layers")
    for group in ("wireless sites", "microwave links", "localities served"):
        assert group in layers
    # the map opens on the plan (about 0.35 degrees across), not on Mexico or the world
    zoom = browser.execute_script(
        "var m = Object.keys(window).map(function (k) { return window[k]; })"
        ".find(function (v) { return v instanceof L.Map; }); return m.getZoom();"
    )
    assert zoom >= 9
