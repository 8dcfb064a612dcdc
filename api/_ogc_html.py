"""Plain HTML pages for the OGC API – Features resources (conformance class html).

Every value from the store, a request or a link is passed through :func:`html.escape`
before it is placed in a page; nothing here writes raw user text.
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
)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


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


def collections(page: Collections) -> str:
    """Every collection, with its description and a link to its features."""
    rows = "".join(
        f"<tr><td>{_anchor(_self_href(c.links), c.id)}</td><td>{escape(c.title)}</td>"
        f"<td>{escape(c.description)}</td>"
        f"<td>{_anchor(_rel_href(c.links, 'items', HTML), 'features')}</td></tr>"
        for c in page.collections
    )
    table = f"<table><tr><th>id</th><th>title</th><th>description</th><th></th></tr>{rows}</table>"
    return _page("Collections", table + _links(page.links))


def collection(page: Collection) -> str:
    """One collection's metadata."""
    extent = ""
    if page.extent is not None:
        extent = f"<p>Extent (CRS84): {_value(page.extent.spatial.bbox)}</p>"
    body = f"<p>{escape(page.description)}</p>{extent}{_links(page.links)}"
    return _page(f"Collection {page.id}", body)


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
        cells = [_anchor(href, str(feature["id"])), _value(geometry.get("type"))]
        cells += [_value(properties.get(k)) for k in keys]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    summary = (
        f"<p>Features {page.numberReturned:,} of {page.numberMatched:,} matching, "
        f"at {escape(page.timeStamp)}.</p>"
    )
    table = f"<table><tr>{head}</tr>{''.join(rows)}</table>"
    return _page(f"Features of {collection_id}", summary + table + _links(page.links))


def feature(body: dict[str, Any], links: list[Link], collection_id: str) -> str:
    """One feature: its properties and its geometry as GeoJSON."""
    properties = body.get("properties") or {}
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{_value(v)}</td></tr>" for k, v in properties.items()
    )
    geometry = f"<p>Geometry (GeoJSON): {_value(body.get('geometry'))}</p>"
    title = f"Feature {body['id']} of {collection_id}"
    return _page(title, f"<table>{rows}</table>{geometry}{_links(links)}")


def _rel_href(links: list[Link], rel: str, media: str | None = None) -> str:
    matching = [link for link in links if link.rel == rel]
    preferred = [link for link in matching if media is None or link.type == media]
    return next((link.href for link in preferred or matching), "")


def _self_href(links: list[Link]) -> str:
    return _rel_href(links, "self")
