"""Plain HTML pages for the OGC API – Features resources (conformance class html).

Every value from the store, a request or a link is passed through :func:`html.escape`
before it is placed in a page; nothing here writes raw user text. Collection, items and
feature pages carry a map preview drawn with the vendored Leaflet (served by the
service itself, so the pages work offline) over no base map: the features, and the
collection's extent as a rectangle. The features reach the map as JSON in a
``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, so no
stored text can close the block.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from api._ogc import (
    HTML,
    Collection,
    Collections,
    Conformance,
    FeatureCollection,
    LandingPage,
    Link,
)

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;"
    "text-align:left;vertical-align:top}code{word-break:break-all}"
    "#map{height:24rem;border:1px solid #ccc;margin:1rem 0;background:#eef3f7}"
)
LEAFLET_JS = "/assets/leaflet.js"
LEAFLET_CSS = "/assets/leaflet.css"
_MAP_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var map = L.map("map", {attributionControl: false});
  var bounds = null;
  if (data.extent) {
    var e = data.extent;
    var box = L.rectangle([[e[1], e[0]], [e[3], e[2]]], {color: "#888", weight: 1, fill: false});
    box.addTo(map);
    bounds = box.getBounds();
  }
  if (data.features && data.features.features.length) {
    var layer = L.geoJSON(data.features, {
      style: {color: "#c0392b", weight: 2},
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 4, color: "#c0392b", weight: 1, fillOpacity: 0.7});
      }
    }).addTo(map);
    bounds = layer.getBounds();
  }
  if (bounds && bounds.isValid()) {
    map.fitBounds(bounds.pad(0.05), {maxZoom: 14});
  } else {
    map.setView([23.6, -102.5], 4);
  }
})();
"""


def _page(title: str, body: str, *, with_map: bool = False) -> str:
    head = ""
    if with_map:
        head = f'<link rel="stylesheet" href="{LEAFLET_CSS}"><script src="{LEAFLET_JS}"></script>'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style>{head}</head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


def _script_json(value: object) -> str:
    """JSON that is safe inside a ``<script>`` block: no ``<``, ``>`` or ``&`` appear."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def map_preview(features: list[dict[str, Any]], extent: list[float] | None) -> str:
    """A map of ``features`` (GeoJSON) and the ``extent`` rectangle, drawn offline."""
    data = {
        "features": {"type": "FeatureCollection", "features": features},
        "extent": extent,
    }
    return (
        '<div id="map" role="img" aria-label="Map preview"></div>'
        f'<script type="application/json" id="map-data">{_script_json(data)}</script>'
        f"<script>{_MAP_SCRIPT}</script>"
    )


def _extent_table(bbox: list[float]) -> str:
    labels = ("min lon", "min lat", "max lon", "max lat")
    cells = "".join(
        f"<tr><th>{label}</th><td>{value:.6f}</td></tr>"
        for label, value in zip(labels, bbox, strict=True)
    )
    return f"<table>{cells}</table>"


def _geometry_summary(geometry: dict[str, Any] | None) -> str:
    """Point coordinates, or the type and vertex count of other geometries."""
    if not geometry:
        return "(none)"
    kind = str(geometry.get("type", ""))
    coordinates = geometry.get("coordinates")
    if kind == "Point" and isinstance(coordinates, list) and len(coordinates) >= 2:
        return f"Point ({float(coordinates[0]):.6f}, {float(coordinates[1]):.6f})"
    return f"{kind}, {_vertices(coordinates):,} vertices"


def _vertices(coordinates: Any) -> int:
    if isinstance(coordinates, list) and coordinates and isinstance(coordinates[0], int | float):
        return 1
    if isinstance(coordinates, list):
        return sum(_vertices(part) for part in coordinates)
    return 0


def _anchor(href: str, text: str) -> str:
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def _links(links: list[Link]) -> str:
    rows = "".join(
        f"<li>{_anchor(link.href, link.title or link.href)} "
        f"<small>({escape(link.rel)}{', ' + escape(link.type) if link.type else ''})</small></li>"
        for link in links
    )
    return f"<ul>{rows}</ul>"


def _value(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"<code>{escape(json.dumps(value, ensure_ascii=False))}</code>"
    return escape("" if value is None else str(value))


def landing(page: LandingPage) -> str:
    """The landing page."""
    return _page(page.title, f"<p>{escape(page.description)}</p>{_links(page.links)}")


def conformance(page: Conformance, links: list[Link]) -> str:
    """The list of conformance classes."""
    items = "".join(f"<li>{_anchor(uri, uri)}</li>" for uri in page.conformsTo)
    return _page("Conformance", f"<ul>{items}</ul>{_links(links)}")


def collections(page: Collections, counts: dict[str, int]) -> str:
    """Every collection, with its description, extent, feature count and features link."""
    rows = "".join(
        f"<tr><td>{_anchor(_self_href(c.links), c.id)}</td><td>{escape(c.title)}</td>"
        f"<td>{escape(c.description)}</td><td>{counts.get(c.id, 0):,}</td>"
        f"<td>{_extent_text(c)}</td>"
        f"<td>{_anchor(_rel_href(c.links, 'items', HTML), 'features')}</td></tr>"
        for c in page.collections
    )
    table = (
        "<table><tr><th>id</th><th>title</th><th>description</th><th>features</th>"
        f"<th>extent (CRS84)</th><th></th></tr>{rows}</table>"
    )
    return _page("Collections", table + _links(page.links))


def _extent_text(page: Collection) -> str:
    if page.extent is None:
        return ""
    return escape(", ".join(f"{v:.4f}" for v in page.extent.spatial.bbox[0]))


def collection(page: Collection, count: int) -> str:
    """One collection's metadata, feature count, extent and a map of its extent."""
    bbox = page.extent.spatial.bbox[0] if page.extent is not None else None
    extent = ""
    if bbox is not None:
        extent = f"<h2>Extent (CRS84)</h2>{_extent_table(bbox)}"
    items = _anchor(_rel_href(page.links, "items", HTML), f"Browse its {count:,} features")
    body = (
        f"<p>{escape(page.description)}</p><p>Features: {count:,}. {items}</p>"
        f"{map_preview([], bbox)}{extent}{_links(page.links)}"
    )
    return _page(f"Collection {page.id}", body, with_map=True)


def items(page: FeatureCollection, collection_id: str) -> str:
    """A page of features as a table of their properties, with paging links."""
    keys: list[str] = []
    for feature in page.features:
        for key in feature.get("properties") or {}:
            if key not in keys:
                keys.append(key)
    head = "".join(f"<th>{escape(k)}</th>" for k in ["id", "geometry", *keys])
    rows = []
    for feature in page.features:
        properties = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        href = _self_href(page.links).split("?")[0] + f"/{feature['id']}"
        cells = [_anchor(href, str(feature["id"])), escape(_geometry_summary(geometry))]
        cells += [_value(properties.get(k)) for k in keys]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    summary = (
        f"<p>Features {page.numberReturned:,} of {page.numberMatched:,} matching, "
        f"at {escape(page.timeStamp)}.</p>"
    )
    table = f"<table><tr>{head}</tr>{''.join(rows)}</table>"
    body = summary + map_preview(page.features, None) + table + _links(page.links)
    return _page(f"Features of {collection_id}", body, with_map=True)


def feature(body: dict[str, Any], links: list[Link], collection_id: str) -> str:
    """One feature: its properties and its geometry as GeoJSON."""
    properties = body.get("properties") or {}
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{_value(v)}</td></tr>" for k, v in properties.items()
    )
    geometry = body.get("geometry")
    summary = f"<p>Geometry: {escape(_geometry_summary(geometry))}</p>"
    preview = map_preview([{k: body[k] for k in ("type", "id", "geometry") if k in body}], None)
    text = f"<details><summary>GeoJSON geometry</summary>{_value(geometry)}</details>"
    title = f"Feature {body['id']} of {collection_id}"
    return _page(
        title, f"{summary}{preview}<table>{rows}</table>{text}{_links(links)}", with_map=True
    )


def _rel_href(links: list[Link], rel: str, media: str | None = None) -> str:
    matching = [link for link in links if link.rel == rel]
    preferred = [link for link in matching if media is None or link.type == media]
    return next((link.href for link in preferred or matching), "")


def _self_href(links: list[Link]) -> str:
    return _rel_href(links, "self")
