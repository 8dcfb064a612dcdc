"""Small folium elements that keep data out of HTML and JavaScript source.

folium's own ``Popup`` pastes its HTML into a JavaScript template literal (so ``${...}`` in
a name runs), and ``GeoJsonPopup`` / ``GeoJsonTooltip`` write raw property values into the
page. These elements instead embed data as JSON (``tojson`` escapes ``<``, ``>`` and ``&``)
and bind popups from properties that :mod:`maps._html` has already escaped.
"""

from __future__ import annotations

import html
from typing import Any

from branca.element import MacroElement
from folium.map import Layer
from folium.plugins import MarkerCluster, MiniMap
from folium.template import Template
from folium.utilities import remove_empty

# The CSS of the boxes Trazo puts on a map (title, summary, legend, popups).
PAGE_CSS = """
.leaflet-container { background: #dfe9f0; font: 13px/1.35 system-ui, -apple-system, "Segoe UI",
  Roboto, "Helvetica Neue", Arial, sans-serif; }
.trazo-box { background: rgba(255,255,255,0.94); border-radius: 6px; padding: 8px 10px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35); color: #222; }
.trazo-summary .trazo-body { width: 275px; }
.trazo-summary.trazo-compare .trazo-body { width: 340px; }
.trazo-summary.trazo-steps .trazo-body { width: 400px; }
.trazo-closed .trazo-body { width: auto; }
.trazo-step-swatch { vertical-align: middle; margin-right: 4px; }
.trazo-summary h3 { margin: 0 0 2px; font-size: 14px; }
.trazo-summary .trazo-kind { color: #555; margin-bottom: 4px; }
.trazo-summary table { border-collapse: collapse; width: 100%; }
.trazo-summary th { text-align: left; font-weight: normal; color: #444; padding: 1px 6px 1px 0; }
.trazo-summary td { text-align: right; font-weight: 600; padding: 1px 0 1px 6px;
  white-space: nowrap; }
.trazo-summary thead th { font-weight: 600; color: #222; text-align: right; }
.trazo-summary .trazo-sub th, .trazo-summary .trazo-sub td { font-weight: normal;
  font-size: 12px; color: #555; }
.trazo-summary .trazo-src { margin-top: 4px; font-size: 11px; color: #666; }
.trazo-legend { width: 215px; }
.trazo-legend h4 { margin: 6px 0 2px; font-size: 12px; text-transform: uppercase;
  letter-spacing: 0.04em; color: #444; }
.trazo-legend h5 { margin: 3px 0 1px; font-size: 12px; font-weight: 600; }
.trazo-legend .trazo-group:first-child h4 { margin-top: 0; }
.trazo-legend .trazo-proposed { border-left: 3px solid #1a1a1a; padding-left: 6px;
  margin-bottom: 4px; }
.trazo-sources-box summary { cursor: pointer; font-size: 12px; font-weight: 600;
  margin-top: 6px; }
.trazo-item { display: flex; align-items: center; gap: 6px; font-size: 12px; line-height: 17px; }
.trazo-item i { width: 14px; height: 12px; display: inline-block; border: 1px solid #999; }
.trazo-item svg { flex: none; }
.trazo-note { font-size: 11px; color: #555; margin-top: 4px; }
.trazo-sources { margin: 0; padding-left: 14px; font-size: 11px; color: #444; }
.trazo-popup table { border-collapse: collapse; margin-top: 3px; }
.trazo-popup th { text-align: left; font-weight: normal; color: #555; padding: 0 8px 0 0;
  vertical-align: top; }
.trazo-icon { background: none; border: none; }
.leaflet-control-attribution { max-width: 55vw; }
"""


class PageStyle(MacroElement):
    """Trazo's panel and popup CSS, in the page head (not a layer; never in the control)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        """
    )

    def __init__(self, css: str = PAGE_CSS) -> None:
        super().__init__()
        self._name = "PageStyle"
        self.css = css


class HtmlBox(MacroElement):
    """A box of trusted (already escaped) HTML on the map.

    ``position`` is a Leaflet control corner (``"topleft"``, ...) or ``"topcenter"``, which
    places the box over the map's top edge, inside the map so it stays in full screen.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            {%- if this.position == "topcenter" %}
            {{ this._parent.get_name() }}.getContainer().appendChild(div);
            {%- else %}
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function () { return div; };
            control.addTo({{ this._parent.get_name() }});
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str, *, position: str, css_class: str) -> None:
        super().__init__()
        self._name = "HtmlBox"
        self.html = html
        self.position = position
        self.css_class = css_class


class SafeGeoJson(Layer):
    """A GeoJSON layer whose features carry only escaped ``_popup``/``_tooltip`` and ``_style``.

    Points become circle markers styled by ``_style``, or, given ``icon_html`` (trusted SVG
    built by this package), ``divIcon`` markers.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson({{ this.data|tojson }}, {
            attribution: {{ this.attribution|tojson }},
            interactive: {{ this.interactive|tojson }},
            {%- if this.pane %}
            pane: {{ this.pane|tojson }},
            {%- endif %}
            style: function (feature) {
                return Object.assign({}, {{ this.style|tojson }}, feature.properties._style || {});
            },
            pointToLayer: function (feature, latlng) {
                {%- if this.icon_html %}
                return L.marker(latlng, {pane: {{ (this.pane or "markerPane")|tojson }},
                    icon: L.divIcon({
                    html: {{ this.icon_html|tojson }}, className: "trazo-icon",
                    iconSize: [18, 18], iconAnchor: [9, 9], popupAnchor: [0, -8]})});
                {%- else %}
                return L.circleMarker(latlng, Object.assign(
                    {radius: 5}, {{ this.style|tojson }}, feature.properties._style || {}));
                {%- endif %}
            },
            onEachFeature: function (feature, layer) {
                var p = feature.properties;
                if (p._popup) { layer.bindPopup(p._popup, {maxWidth: 340}); }
                if (p._tooltip) { layer.bindTooltip(p._tooltip, {sticky: true}); }
            }
        });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict[str, Any],
        *,
        name: str,
        style: dict[str, Any] | None = None,
        attribution: str = "",
        icon_html: str | None = None,
        interactive: bool = True,
        control: bool = True,
        show: bool = True,
        pane: str | None = None,
    ) -> None:
        super().__init__(name=name, overlay=True, control=control, show=show)
        self._name = "SafeGeoJson"
        self.pane = pane
        self.data = data
        self.style = style or {}
        self.attribution = html.escape(attribution)  # Leaflet's attribution box is HTML
        self.icon_html = icon_html
        self.interactive = interactive


class LocalityCluster(MarkerCluster):
    """Clustered circle markers from compact rows, popups built on click.

    Each row is ``[lat, lon, radius, color, name, population, municipality, state,
    connected]``; the text fields must already be HTML-escaped. One JSON array is much
    smaller than one folium ``Marker`` (or one popup string) per locality.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var rows = {{ this.rows|tojson }};
            var labels = ["Population", "Municipality", "State", "Connected"];
            function popupOf(r) {
                var html = '<div class="trazo-popup"><b>' + r[4] + '</b><table>';
                for (var j = 0; j < labels.length; j++) {
                    var value = r[5 + j];
                    if (value !== null && value !== "") {
                        html += "<tr><th>" + labels[j] + "</th><td>" + value + "</td></tr>";
                    }
                }
                return html + "</table></div>";
            }
            var cluster = L.markerClusterGroup({{ this.options|tojavascript }});
            var markers = [];
            rows.forEach(function (r) {
                var marker = L.circleMarker([r[0], r[1]], {radius: r[2], color: "#333",
                    pane: {{ this.pane|tojson }},
                    weight: 1, fillColor: r[3], fillOpacity: 0.75});
                marker.bindPopup(function () { return popupOf(r); });
                markers.push(marker);
            });
            cluster.addLayers(markers);
            return cluster;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        rows: list[list[Any]],
        *,
        name: str,
        attribution: str = "",
        show: bool = True,
        pane: str = "markerPane",
    ) -> None:
        options = {
            "maxClusterRadius": 45,
            "attribution": html.escape(attribution),
            "clusterPane": pane,
        }
        super().__init__(name=name, show=show, options=options)
        self._name = "LocalityCluster"
        self.rows = rows
        self.pane = pane


class OutlineMiniMap(MiniMap):
    """The overview map drawn from an outline GeoJSON instead of online tiles.

    It shows where the main view is and follows it; it does not steer the main map.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new L.Control.MiniMap(
            L.geoJson({{ this.outline|tojson }}, {interactive: false,
                style: {color: "#666", weight: 1, fillColor: "#f4f1ea", fillOpacity: 1}}),
            {{ this.options|tojavascript }}
        );
        // The overview only follows the main map. Left to itself it also moves the main
        // map to its own centre when two moves of the main map come quickly (the opening
        // view's second fit), undoing the second one.
        {{ this.get_name() }}._onMiniMapMoved = function () {
            this._mainMapMoving = false;
            this._miniMapMoving = false;
        };
        {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, outline: dict[str, Any], *, position: str = "bottomleft") -> None:
        super(MiniMap, self).__init__()  # MiniMap's own __init__ would make an online tile layer
        self._name = "OutlineMiniMap"
        self.outline = outline
        self.options = remove_empty(
            position=position,
            width=140,
            height=120,
            zoom_level_offset=-4,
            toggle_display=True,
            map_options={
                "dragging": False,
                "scrollWheelZoom": False,
                "doubleClickZoom": False,
                "touchZoom": False,
                "boxZoom": False,
                "keyboard": False,
            },
        )
