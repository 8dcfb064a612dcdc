"""What a reader would see wrong on a saved map, measured in the browser.

:data:`MEASURE` runs in the page and returns where the panels are, which pane each
proposal line and each base layer is drawn in, what a pointer meets along the proposal's
lines, and where every place name is. :func:`problems` turns that into sentences: panels
that overlap or leave the window, a proposal drawn under a base layer, terminals without a
name. The tests assert there are none, and that a broken map does produce them.
"""

from __future__ import annotations

import time
from typing import Any

SIZES = [(1366, 768), (1400, 1000), (1920, 1080), (390, 844)]
PANELS = {
    "title": ".trazo-title",
    "layer list": ".leaflet-control-layers",
    "legend": ".trazo-legend-panel",
    "steps": ".trazo-summary",
    "overview map": ".leaflet-control-minimap",
    "zoom buttons": ".leaflet-control-zoom",
}
#: Maps with more terminals than this are national networks: names compete for room and
#: only the first :data:`DENSE_NAMES` must show at the opening zoom.
FEW_TERMINALS = 40
DENSE_NAMES = 20

MEASURE = """
var map = Object.keys(window).map(function (k) { return window[k]; }).find(function (v) {
    return v instanceof L.Map && v.getContainer().classList.contains("folium-map");
});
var box = map.getContainer(), outer = box.getBoundingClientRect();
function rectOf(el) {
    var r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
}
function shown(el) { return el.offsetWidth > 0 && el.offsetHeight > 0; }
var selectors = arguments[0], panels = {};
Object.keys(selectors).forEach(function (name) {
    var el = box.querySelector(selectors[name]);
    if (el && shown(el)) {
        panels[name] = {rect: rectOf(el), open: !el.classList.contains("trazo-closed")};
    }
});
function zOf(el) {
    return parseInt(getComputedStyle(el.closest(".leaflet-pane")).zIndex || "0", 10);
}
var proposalZ = Array.prototype.map.call(
    box.querySelectorAll("path.trazo-segment, path.trazo-terminal"), zOf);
var baseZ = Array.prototype.map.call(box.querySelectorAll(
    ".leaflet-overlay-pane path, .marker-cluster, .trazo-icon, .trazo-places path"), zOf);
var covers = Array.prototype.slice.call(
    box.querySelectorAll(".leaflet-control, .trazo-title")).filter(shown).map(rectOf);
function covered(x, y) {
    return covers.some(function (r) {
        return x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;
    });
}
var hits = {proposal: 0, other: []};
var lines = Array.prototype.slice.call(box.querySelectorAll("path.trazo-segment"));
var step = Math.max(1, Math.ceil(lines.length / 300));  // a sample of long plans
lines.filter(function (_p, i) { return i % step === 0; }).forEach(function (path) {
    var length = path.getTotalLength(), ctm = path.getScreenCTM();
    if (!length || !ctm) { return; }
    for (var f = 0.1; f < 1; f += 0.2) {
        var p = path.getPointAtLength(length * f);
        var x = ctm.a * p.x + ctm.c * p.y + ctm.e, y = ctm.b * p.x + ctm.d * p.y + ctm.f;
        if (x < outer.left + 2 || y < outer.top + 2 || x > outer.right - 2
            || y > outer.bottom - 2 || covered(x, y)) { continue; }
        var hit = document.elementFromPoint(x, y);
        if (hit && hit.closest(".leaflet-control, .trazo-title")) { continue; }
        var pane = hit && hit.closest(".leaflet-pane");
        var where = pane ? pane.className : "no pane";
        if (/trazo-proposal|trazo-terminals|trazo-labels|tooltip/.test(where)) {
            hits.proposal += 1;
        } else {
            hits.other.push(where + " / " + (hit && hit.getAttribute("class")));
        }
    }
});
var names = {};
Array.prototype.forEach.call(box.querySelectorAll(".trazo-label"), function (span) {
    names[span.getAttribute("data-place")] = {
        text: span.textContent, kind: span.className,
        visible: !span.classList.contains("trazo-label-hidden"), rect: rectOf(span)};
});
var terminals = Array.prototype.map.call(box.querySelectorAll("path.trazo-terminal"),
    function (dot) {
        var r = rectOf(dot), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
        return {place: dot.getAttribute("data-place"), end: /terminal-end/.test(
                dot.getAttribute("class")),
            inView: x > outer.left && x < outer.right && y > outer.top && y < outer.bottom
                && !covered(x, y)};
    });
return {width: outer.width, height: outer.height, panels: panels, proposalZ: proposalZ,
    baseZ: baseZ, hits: hits, names: names, terminals: terminals};
"""


def resize(browser: Any, width: int, height: int) -> None:
    """Make the page ``width`` x ``height`` CSS pixels and wait for the panels' layout."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
    )
    wanted = f"{width}x{height}"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        done = browser.execute_script(
            'var m = document.querySelector(".folium-map");'
            'return m && m.getAttribute("data-trazo-layout");'
        )
        if done == wanted:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the map's panels were not laid out for {wanted}")
    # then let the view settle, as a person looks at a page once it is still: no pan or
    # zoom animation running, and the map and its names where they were a moment ago
    last = None
    while time.monotonic() < deadline + 5:
        now = browser.execute_script(STILL)
        if now is not None and now == last:
            return
        last = now
        time.sleep(0.25)


STILL = """
var box = document.querySelector(".folium-map");
if (/leaflet-(zoom|pan)-anim/.test(box.className)) { return null; }
var placed = parseInt(box.getAttribute("data-trazo-placed") || "0", 10);
if (Date.now() - placed < 400) { return null; }  // names placed a moment ago may move again
var pane = box.querySelector(".leaflet-map-pane");
return [getComputedStyle(pane).transform].concat(Array.prototype.map.call(
    box.querySelectorAll(".trazo-label"),
    function (s) {
        var r = s.getBoundingClientRect();
        return [r.left, r.top, r.width, s.className].join(",");
    }));
"""


def measure(browser: Any) -> dict[str, Any]:
    """Run :data:`MEASURE` in the open page."""
    result: dict[str, Any] = browser.execute_script(MEASURE, PANELS)
    return result


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and (a["top"] < b["bottom"] and b["top"] < a["bottom"])
    )


def problems(seen: dict[str, Any], *, compact: bool) -> list[str]:
    """Everything wrong with one measured page, as sentences (empty when all is well)."""
    found: list[str] = []
    width, height = seen["width"], seen["height"]
    panels = seen["panels"]
    names = list(panels)
    for i, a in enumerate(names):
        r = panels[a]["rect"]
        if r["left"] < 0 or r["top"] < 0 or r["right"] > width + 0.5 or r["bottom"] > height + 0.5:
            found.append(f"{a} leaves the window: {r}")
        for b in names[i + 1 :]:
            if _overlap(r, panels[b]["rect"]):
                found.append(f"{a} overlaps {b}")
    for required in ("title", "legend"):
        if required not in panels:
            found.append(f"no {required} on the page")
    if not compact and "legend" in panels and not panels["legend"]["open"]:
        found.append("the legend is folded on a screen that has room for it")
    if seen["proposalZ"] and seen["baseZ"] and min(seen["proposalZ"]) <= max(seen["baseZ"]):
        found.append(
            f"a proposal is drawn under a base layer (pane z-index {min(seen['proposalZ'])} "
            f"<= {max(seen['baseZ'])})"
        )
    if seen["hits"]["other"]:
        found.append(
            f"{len(seen['hits']['other'])} points of the proposal's lines are covered by "
            f"another layer, e.g. {seen['hits']['other'][0]}"
        )
    found += _name_problems(seen, compact=compact)
    return found


def _name_problems(seen: dict[str, Any], *, compact: bool) -> list[str]:
    found: list[str] = []
    named = seen["names"]
    terminals = seen["terminals"]
    missing = [t for t in terminals if t["place"] not in named]
    if missing:
        found.append(f"{len(missing)} terminals have no name label")
    shown = [n for n in named.values() if n["visible"]]
    panels = [p["rect"] for p in seen["panels"].values()]
    for i, a in enumerate(shown):
        r = a["rect"]
        if (
            r["left"] < 0
            or r["top"] < 0
            or r["right"] > seen["width"] + 0.5
            or (r["bottom"] > seen["height"] + 0.5)
        ):
            found.append(f"the name {a['text']!r} is cut by the window's edge")
        if any(_overlap(r, p) for p in panels):
            found.append(f"the name {a['text']!r} is under a panel")
        for b in shown[i + 1 :]:
            if _overlap(r, b["rect"]):
                found.append(f"the names {a['text']!r} and {b['text']!r} overlap")
    in_view = [t for t in terminals if t["inView"] and t["place"] in named]
    unnamed = [t for t in in_view if not named[t["place"]]["visible"]]
    ends = [named[t["place"]]["text"] for t in unnamed if t["end"]]
    if ends:
        found.append(f"route ends without a visible name: {ends}")
    if len(terminals) <= FEW_TERMINALS:
        # Crowded places may give way on a phone; on a desktop nearly all must show.
        least = 0.5 if compact else 0.8
        if in_view and len(in_view) - len(unnamed) < least * len(in_view):
            found.append(
                f"only {len(in_view) - len(unnamed)} of {len(in_view)} terminals in view "
                "show their name"
            )
    elif len(in_view) - len(unnamed) < DENSE_NAMES:
        found.append(f"only {len(in_view) - len(unnamed)} names show on a national map")
    return found
