"""Names on the map: terminals, route ends and cable landings, placed so none overlap.

:class:`PlaceLabels` draws each place it is given as a dot (terminals, route ends) or
leaves the dot to the layer it belongs to (landings, which have their own icon), and
writes its name beside it. The names are placed in the browser, at the opening zoom and
again after every zoom: most important first (route ends and terminals before landings,
larger places first), each at the first of eight spots around its point that overlaps no
name already placed and no other place's dot; a name with no free spot is hidden until
the reader zooms in (its dot still names the place on hover).
"""

from __future__ import annotations

from dataclasses import dataclass

from branca.element import MacroElement
from folium.template import Template

from maps._html import esc


@dataclass(frozen=True)
class Place:
    """A named point to label: ``kind`` is ``terminal``, ``end`` or ``landing``."""

    name: str
    lon: float
    lat: float
    kind: str = "terminal"
    priority: float = 0.0


class PlaceLabels(MacroElement):
    """Dots and non-overlapping permanent names for :class:`Place` points.

    Each place becomes ``[lat, lon, escaped name, priority, kind]``; the labels go to the
    ``trazo-labels`` pane, the dots to ``trazo-terminals`` (see :mod:`maps._layout`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var rows = {{ this.rows|tojson }};
            var labels = rows.map(function (r) {
                var latlng = L.latLng(r[0], r[1]);
                if (r[4] !== "landing") {
                    L.circleMarker(latlng, {pane: "trazo-terminals", radius: 5, weight: 2,
                        color: "#1a1a1a", fillColor: "#ffffff", fillOpacity: 1,
                        className: "trazo-terminal trazo-terminal-" + r[4]})
                        .bindTooltip(r[2]).addTo(map);
                }
                var marker = L.marker(latlng, {pane: "trazo-labels", interactive: false,
                    keyboard: false, icon: L.divIcon({className: "trazo-label-anchor",
                        iconSize: [0, 0], html: ""})}).addTo(map);
                var span = document.createElement("span");
                span.className = "trazo-label trazo-label-" + r[4];
                span.innerHTML = r[2];  // escaped in Python
                marker.getElement().appendChild(span);
                return {latlng: latlng, span: span, priority: r[3], kind: r[4]};
            });
            labels.sort(function (a, b) { return b.priority - a.priority; });
            function place() {
                // Panels and the title cover the map: a name under them is not readable.
                var origin = map.getContainer().getBoundingClientRect();
                var taken = Array.prototype.slice.call(map.getContainer().querySelectorAll(
                    ".trazo-title, .trazo-panel, .leaflet-control-minimap, .leaflet-bar"
                )).filter(function (el) { return el.offsetWidth > 0; }).map(function (el) {
                    var r = el.getBoundingClientRect();
                    return {left: r.left - origin.left, right: r.right - origin.left,
                        top: r.top - origin.top, bottom: r.bottom - origin.top};
                });
                var dots = labels.map(function (label) {
                    var p = map.latLngToContainerPoint(label.latlng);
                    return {left: p.x - 6, right: p.x + 6, top: p.y - 6, bottom: p.y + 6};
                });
                var size = map.getSize();
                function free(box, own) {
                    if (box.left < 0 || box.top < 0 || box.right > size.x
                        || box.bottom > size.y) {
                        return false;
                    }
                    var all = taken.concat(dots.filter(function (_d, i) { return i !== own; }));
                    return all.every(function (o) {
                        return box.right <= o.left || o.right <= box.left
                            || box.bottom <= o.top || o.bottom <= box.top;
                    });
                }
                var order = labels.map(function (label) { return labels.indexOf(label); });
                order.forEach(function (i) {
                    var label = labels[i], span = label.span;
                    span.classList.remove("trazo-label-hidden");
                    var w = span.offsetWidth, h = span.offsetHeight, r = 7;
                    var p = map.latLngToContainerPoint(label.latlng);
                    var spots = [[r, -h / 2], [-r - w, -h / 2], [-w / 2, -r - h], [-w / 2, r],
                        [r - 2, -h - 2], [r - 2, 2], [-r - w + 2, -h - 2], [-r - w + 2, 2]];
                    for (var k = 0; k < spots.length; k++) {
                        var box = {left: p.x + spots[k][0], top: p.y + spots[k][1]};
                        box.right = box.left + w;
                        box.bottom = box.top + h;
                        if (free(box, i)) {
                            span.style.left = spots[k][0] + "px";
                            span.style.top = spots[k][1] + "px";
                            taken.push(box);
                            return;
                        }
                    }
                    span.classList.add("trazo-label-hidden");
                });
            }
            map.whenReady(place);
            map.on("zoomend resize trazolayout", place);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, places: list[Place]) -> None:
        super().__init__()
        self._name = "PlaceLabels"
        self.rows = [
            [round(p.lat, 5), round(p.lon, 5), esc(p.name), p.priority, p.kind] for p in places
        ]
