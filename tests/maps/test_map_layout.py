"""Every scenario map, and a route, a ring and a last-mile map, opened at four window sizes.

The maps are made from the bundled layers as `trazo scenario run all` and `trazo map` make
them (the session's planned scenarios, tests/conftest.py; the RNEI ring with a short search
budget: its layout, not its last dollar, is under test). Each is opened once in headless
Chromium and resized to 1366x768, 1400x1000, 1920x1080 and a 390x844 phone; at each size
the page is measured (see layout_checks.py) and screenshotted into test-artifacts/maps/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import layout_checks as lc
import map_fixtures as fx
import pytest
from bundled_stores import PlannedScenarios

from layers.store import Store
from maps.render import manifest_attributions, proposal_map, save_map, store_map
from planner.plans.route import plan_route
from planner.plans.scenario import DEFAULT_SCENARIO_DIR
from usecases.proposals import measure, save_proposal

DATA = DEFAULT_SCENARIO_DIR.parent
SCENARIOS = sorted(path.stem for path in DEFAULT_SCENARIO_DIR.glob("*.toml"))
EXTRA = ["route", "ring", "last_mile"]


@pytest.fixture(scope="module")
def real_maps(
    planned_scenarios: PlannedScenarios, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Every scenario's map, plus a route, a ring and a last mile mapped alone."""
    folder = tmp_path_factory.mktemp("real-maps")
    store = Store(planned_scenarios.store)
    maps = {name: result.files["map"] for name, result in planned_scenarios.results.items()}
    credits, labels = manifest_attributions(DATA)
    context = planned_scenarios.workspace.base
    route = plan_route(  # no name: the planner makes one up, the map must not show it
        context.network,
        context.places.resolve("Mérida, Yucatán"),
        context.places.resolve("Cancún"),
        diverse=True,
    )
    route_doc = save_proposal(store, route, measure(context, route), "route", replace=True)
    documents = {
        "route": route_doc,
        "ring": store.proposal("cdmx_ring").document,
        "last_mile": store.proposal("tabasco_last_mile").document,
    }
    for name, document in documents.items():
        m = store_map(store, document, attributions=credits, labels=labels)
        maps[name] = save_map(m, folder / f"{name}.html")
    return maps


def _look(browser: Any, path: Path, name: str, artifacts: Path) -> dict[str, list[str]]:
    """Open ``path`` once, then at every size: measure it and keep a screenshot."""
    browser.get_log("browser")
    browser.get(path.resolve().as_uri())
    found: dict[str, list[str]] = {}
    try:
        for width, height in lc.SIZES:
            lc.resize(browser, width, height)
            seen = lc.measure(browser)
            browser.save_screenshot(str(artifacts / f"{name}-{width}x{height}.png"))
            compact = width < 700 or height < 520
            found[f"{width}x{height}"] = lc.problems(seen, compact=compact)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    errors = [e for e in browser.get_log("browser") if e["level"] in {"SEVERE", "ERROR"}]
    assert errors == [], errors
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS + EXTRA)
def test_map_reads_at_every_size(
    name: str, real_maps: dict[str, Path], browser: Any, artifacts: Path
) -> None:
    found = _look(browser, real_maps[name], name, artifacts)
    assert {size: issues for size, issues in found.items() if issues} == {}


@pytest.mark.slow
def test_titles_and_layers_chosen_for_the_reader(real_maps: dict[str, Path], browser: Any) -> None:
    browser.get(real_maps["route"].resolve().as_uri())
    lc.resize(browser, 1400, 1000)
    title = browser.find_element("css selector", ".trazo-title").text
    assert title == "Route Mérida – Cancún, corridor-disjoint pair"
    # A ring inside Mexico City: city scale. The alcaldías are drawn; the national layers
    # in view that the ring does not use are listed but off (those with nothing near the
    # city, such as the subsea cables, are not read at all).
    browser.get(real_maps["ring"].resolve().as_uri())
    lc.resize(browser, 1400, 1000)
    boxes = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll("
        "'.leaflet-control-layers-overlays label'), function (l) {"
        "return [l.textContent.trim(), l.querySelector('input').checked]; });"
    )
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    shown = dict(boxes)
    assert shown["Municipalities (municipios)"] is True
    assert shown["Oil and gas pipelines (Global Energy Monitor)"] is False  # in view, unused
    assert shown["Major and secondary highways (Natural Earth 10m)"] is True  # the ring uses
    assert any(on for label, on in shown.items() if label.startswith("Ring across"))


def test_the_checks_catch_a_broken_map(browser: Any, tmp_path: Path) -> None:
    """Overlapping panels, a proposal under a base layer and a missing name are all seen."""
    path = save_map(proposal_map(fx.route_proposal(), fx.frames()), tmp_path / "map.html")
    browser.get(path.resolve().as_uri())
    try:
        lc.resize(browser, 1400, 1000)
        assert lc.problems(lc.measure(browser), compact=False) == []
        # the legend dragged onto the title
        browser.execute_script(
            "var l = document.querySelector('.trazo-legend-panel');"
            "l.style.position = 'fixed'; l.style.top = '0px'; l.style.left = '0px';"
        )
        # the base layers' pane lifted above the proposal's
        browser.execute_script(
            "document.querySelector('.leaflet-overlay-pane').style.zIndex = '700';"
        )
        # a route end's name removed
        browser.execute_script("document.querySelector('.trazo-label').remove();")
        found = "\n".join(lc.problems(lc.measure(browser), compact=False))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert "legend overlaps title" in found or "title overlaps legend" in found
    assert "a proposal is drawn under a base layer" in found
    assert "covered by another layer" in found
    assert "terminals have no name label" in found
