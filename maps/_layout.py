"""Where things sit on a map: drawing order (panes) and the panels around it.

Drawing order, bottom to top, is fixed by Leaflet panes (:data:`PANES`): base layers in
Leaflet's overlay pane, places (localities, landings) above them, then the proposal's
casing and lines, then the proposal's terminals and the place labels. A proposal is
therefore never hidden by a base layer or a locality cluster, whatever order the layers
are switched on in.

The panels — title band, layer list, legend, steps or summary, overview map — are laid
out by :class:`Layout`, a script that runs when the page opens and whenever the map
changes size: the title is a band across the top and every control starts below it; the
layer list (top right) and legend (bottom right) share the right column, the steps panel
(top left) and overview map (bottom left) the left one, each panel scrolling inside its
share. Each panel folds to its heading with a click; a layer list that would cover more
than a tenth of the map opens folded. On a small screen (narrower than
700 px or lower than 520 px) panels open folded, the overview map is hidden, and opening
one panel folds the others. Whatever the size, when two panels would still overlap, the
less needed one folds (layer list first, then steps, then legend). The opening view is
fitted into the part of the map the open panels leave free.
"""

from __future__ import annotations

from branca.element import MacroElement
from folium.template import Template

from maps._html import esc

#: Leaflet panes Trazo adds, with their z-index (Leaflet's own: overlays 400,
#: markers 600, tooltips 650, popups 700; map controls sit above 800).
PANES: dict[str, int] = {
    "trazo-places": 450,
    "trazo-proposal-casing": 610,
    "trazo-proposal": 620,
    "trazo-terminals": 630,
    "trazo-labels": 640,
}
PROPOSAL_PANES = ("trazo-proposal-casing", "trazo-proposal", "trazo-terminals")

LAYOUT_CSS = """
.trazo-title { position: absolute; top: 0; left: 0; right: 0; z-index: 1000; margin: 0;
  border-radius: 0; padding: 7px 16px; text-align: center; font-size: 17px; font-weight: 600;
  line-height: 1.3; pointer-events: none; box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
.trazo-compact .trazo-title { font-size: 14px; padding: 5px 8px; }
.trazo-panel { padding: 0; overflow: hidden; }
.trazo-head { cursor: pointer; user-select: none; font-weight: 600; font-size: 13px;
  padding: 6px 10px; white-space: nowrap; }
.trazo-head::before { content: "\\25BE"; display: inline-block; width: 14px; color: #555; }
.trazo-closed .trazo-head::before { content: "\\25B8"; }
.trazo-body { padding: 0 10px 8px; overflow-y: auto; overflow-x: hidden; }
.trazo-closed .trazo-body { display: none !important; }
.leaflet-control-layers.trazo-panel { border: none; border-radius: 6px; background:
  rgba(255,255,255,0.94); box-shadow: 0 1px 5px rgba(0,0,0,0.35); }
.leaflet-control-layers.trazo-panel .trazo-body { padding: 0 10px 6px; }
.leaflet-control-layers.trazo-panel label { white-space: normal; }
.trazo-compact .leaflet-control-minimap { display: none !important; }
.trazo-compact .leaflet-control-attribution { max-width: 60vw; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.leaflet-pane.trazo-labels-pane { pointer-events: none; }
.trazo-label-anchor { background: none; border: none; }
.trazo-label { position: absolute; white-space: nowrap; font-size: 12px; font-weight: 600;
  color: #1d1d1d; line-height: 14px; padding: 0 1px; text-shadow: 0 0 2px #fff, 0 0 2px #fff,
  0 0 3px #fff, 0 0 4px #fff; }
.trazo-label.trazo-label-landing { color: #0b3d75; font-style: italic; font-weight: 500; }
.trazo-label-hidden { visibility: hidden; }
"""


class Panes(MacroElement):
    """Create Trazo's panes (:data:`PANES`) when the map is made, before any layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var panes = {{ this.panes|tojson }};
            Object.keys(panes).forEach(function (name) {
                var pane = map.createPane(name);
                pane.style.zIndex = String(panes[name]);
            });
            map.getPane("trazo-labels").classList.add("trazo-labels-pane");
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Panes"
        self.panes = PANES


def panel_html(heading: str, body: str) -> str:
    """A folding panel: an escaped ``heading`` over trusted (already escaped) ``body``."""
    return f'<div class="trazo-head">{esc(heading)}</div><div class="trazo-body">{body}</div>'


class Layout(MacroElement):
    """The script that places and folds the panels; add it after every control.

    ``bounds`` (west, south, east, north) is the opening view: it is fitted into the part
    of the map the open panels leave free, until the reader pans or zooms.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro script(this, kwargs) %}
        (function (map) {
            var box = map.getContainer();
            var GAP = 10, MIN_BODY = 60, LIST_SHARE = 0.1;
            var touched = false, mode = null;
            var FOLD_FIRST = ["trazo-layers", "trazo-summary", "trazo-legend-panel"];
            function all(selector) {
                return Array.prototype.slice.call(box.querySelectorAll(selector));
            }
            function compact() { return box.clientWidth < 700 || box.clientHeight < 520; }
            function shown(el) { return el && el.offsetWidth > 0 && el.offsetHeight > 0; }
            function rect(el) { return el.getBoundingClientRect(); }
            function overlap(a, b) {
                return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
            }
            function body(panel) { return panel.querySelector(".trazo-body"); }
            function isOpen(panel) { return !panel.classList.contains("trazo-closed"); }
            function setOpen(panel, open) {
                panel.classList.toggle("trazo-closed", !open);
                panel.querySelector(".trazo-head").setAttribute("aria-expanded", String(open));
            }
            // The layer list becomes a folding panel like the others.
            var layers = box.querySelector(".leaflet-control-layers");
            if (layers && !layers.querySelector(".trazo-head")) {
                var head = L.DomUtil.create("div", "trazo-head");
                head.textContent = "Layers";
                layers.insertBefore(head, layers.firstChild);
                layers.classList.add("trazo-panel", "trazo-layers");
                layers.querySelector(".leaflet-control-layers-list").classList.add("trazo-body");
            }
            var panels = all(".trazo-panel");
            panels.forEach(function (panel) {
                var head = panel.querySelector(".trazo-head");
                head.setAttribute("role", "button");
                head.setAttribute("tabindex", "0");
                function toggle(event) {
                    if (event) { L.DomEvent.stop(event); }
                    touched = true;
                    var open = !isOpen(panel);
                    setOpen(panel, open);
                    if (open && compact()) {
                        panels.forEach(function (other) {
                            if (other !== panel) { setOpen(other, false); }
                        });
                    }
                    fit();
                    map.fire("trazolayout");
                }
                L.DomEvent.on(head, "click", toggle);
                L.DomEvent.on(head, "keydown", function (event) {
                    if (event.key === "Enter" || event.key === " ") { toggle(event); }
                });
                L.DomEvent.disableClickPropagation(panel);
                L.DomEvent.disableScrollPropagation(panel);
            });
            function bottomOf(corner) {  // top edge of what a bottom corner holds
                var top = box.getBoundingClientRect().bottom;
                all(corner + " > .leaflet-control").forEach(function (control) {
                    if (shown(control)) { top = Math.min(top, rect(control).top); }
                });
                return top;
            }
            function chrome(panel) { return rect(panel).height - rect(body(panel)).height; }
            function natural(panel) {
                var b = body(panel);
                b.style.maxHeight = "";
                return isOpen(panel) ? b.scrollHeight : 0;
            }
            function fitLeft() {
                var panel = box.querySelector(".leaflet-top.leaflet-left .trazo-panel");
                if (!panel || !isOpen(panel)) { return; }
                natural(panel);
                var space = bottomOf(".leaflet-bottom.leaflet-left") - GAP - rect(panel).top
                    - chrome(panel);
                if (space < MIN_BODY) { setOpen(panel, false); return; }
                body(panel).style.maxHeight = Math.floor(space) + "px";
            }
            function fitRight() {
                var top = box.querySelector(".leaflet-top.leaflet-right .trazo-panel");
                var bottom = box.querySelector(".leaflet-bottom.leaflet-right .trazo-panel");
                if (!top || !bottom) { return; }
                var want = [natural(top), natural(bottom)];
                var space = rect(bottom).bottom - rect(top).top - GAP - chrome(top)
                    - chrome(bottom);
                var open = [isOpen(top), isOpen(bottom)];
                var give = want.slice();
                if (want[0] + want[1] > space) {
                    if (open[0] && open[1]) {
                        var half = space / 2;
                        if (want[0] < half) { give[1] = space - want[0]; }
                        else if (want[1] < half) { give[0] = space - want[1]; }
                        else { give = [half, half]; }
                    } else {
                        give = [open[0] ? space : 0, open[1] ? space : 0];
                    }
                }
                [top, bottom].forEach(function (panel, i) {
                    if (!open[i]) { return; }
                    if (give[i] < MIN_BODY) { setOpen(panel, false); return; }
                    body(panel).style.maxHeight = Math.floor(give[i]) + "px";
                });
            }
            function fit() {
                box.classList.toggle("trazo-compact", compact());
                var title = box.querySelector(".trazo-title");
                var band = title ? title.offsetHeight : 0;
                all(".leaflet-top").forEach(function (corner) { corner.style.top = band + "px"; });
                var width = Math.max(box.clientWidth / 2 - 2 * GAP, 120);
                panels.forEach(function (panel) { panel.style.maxWidth = width + "px"; });
                for (var round = 0; round < 6; round++) {
                    fitLeft();
                    fitRight();
                    var clash = firstClash();
                    if (!clash) { return; }
                    var victim = FOLD_FIRST.map(function (name) {
                        return clash.filter(function (el) {
                            return el.classList.contains(name) && isOpen(el);
                        })[0];
                    }).filter(Boolean)[0];
                    if (victim) { setOpen(victim, false); }
                    else {  // only folded panels left: the overview map gives way
                        box.classList.add("trazo-compact");
                    }
                }
            }
            function firstClash() {
                var boxes = all(".trazo-title, .trazo-panel, .leaflet-control-minimap, "
                    + ".leaflet-control-zoom").filter(shown);
                for (var i = 0; i < boxes.length; i++) {
                    for (var j = i + 1; j < boxes.length; j++) {
                        if (overlap(rect(boxes[i]), rect(boxes[j]))) {
                            return [boxes[i], boxes[j]];
                        }
                    }
                }
                return null;
            }
            function openAsRoomAllows() {
                panels.forEach(function (panel) { setOpen(panel, !mode); });
                var list = box.querySelector(".trazo-layers");
                if (list && !mode) {  // a long layer list would hide the plan: folded
                    var r = rect(list);
                    if (r.width * r.height > LIST_SHARE * box.clientWidth * box.clientHeight) {
                        setOpen(list, false);
                    }
                }
            }
            var view = {{ this.bounds|tojson }}, moved = false;
            ["mousedown", "wheel", "touchstart", "keydown"].forEach(function (type) {
                box.addEventListener(type, function (event) {  // the reader takes over
                    if (!event.target.closest(".leaflet-control")) { moved = true; }
                }, {passive: true});
            });
            function frame() {  // the opening view, clear of the panels where room allows
                if (!view || moved) { return; }
                var outer = box.getBoundingClientRect();
                var left = 0, right = 0, top = 0;
                var title = box.querySelector(".trazo-title");
                if (title) { top = title.offsetHeight; }
                all(".leaflet-left .trazo-panel").filter(isOpen).filter(shown)
                    .forEach(function (el) { left = Math.max(left, rect(el).right - outer.left); });
                all(".leaflet-right .trazo-panel").filter(isOpen).filter(shown)
                    .forEach(function (el) {
                        right = Math.max(right, outer.right - rect(el).left);
                    });
                if (outer.width - left - right < 0.45 * outer.width) { left = right = 0; }
                map.fitBounds([[view[1], view[0]], [view[3], view[2]]], {animate: false,
                    paddingTopLeft: [left + GAP, top + GAP],
                    paddingBottomRight: [right + GAP, GAP]});
            }
            function relayout() {
                // Panels open as the screen allows until a reader folds or opens one.
                if (!touched || mode !== compact()) {
                    mode = compact();
                    touched = false;
                    box.classList.toggle("trazo-compact", mode);
                    openAsRoomAllows();
                }
                fit();
                frame();
                map.fire("trazolayout");
            }
            relayout();
            map.on("resize", relayout);
            window.trazoLayout = relayout;
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: tuple[float, float, float, float] | None = None) -> None:
        super().__init__()
        self._name = "Layout"
        self.css = LAYOUT_CSS
        self.bounds = list(bounds) if bounds else None
