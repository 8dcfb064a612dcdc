"""OGC API – Features Part 1 building blocks: response shapes, parameters, links, paging.

The routes in :mod:`api.routes_features` assemble these; nothing here touches the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from layers.catalog import parse_bbox
from layers.errors import InvalidParameterError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
JSON_SCHEMA = "application/schema+json"

BBox = tuple[float, float, float, float]


class GeoJSONResponse(JSONResponse):
    """JSON sent as ``application/geo+json`` (RFC 7946)."""

    media_type = GEOJSON


# ---------------------------------------------------------------------- response shapes


class Link(BaseModel):
    """A link, as in OGC API – Common (``href``, ``rel``, ``type``, ``title``)."""

    href: str = Field(examples=["http://127.0.0.1:8000/collections"])
    rel: str = Field(examples=["data"])
    type: str | None = Field(default=None, examples=[JSON])
    title: str | None = Field(default=None, examples=["The feature collections"])


class LandingPage(BaseModel):
    """The entry point: what the service is and where everything else is."""

    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes the service implements."""

    conformsTo: list[str] = Field(examples=[list(CONFORMANCE)])  # noqa: N815 (OGC name)


class SpatialExtent(BaseModel):
    """Bounding boxes in CRS84 (min lon, min lat, max lon, max lat)."""

    bbox: list[list[float]] = Field(examples=[[[-94.2, 17.2, -90.9, 18.7]]])
    crs: str = CRS84


class Extent(BaseModel):
    """Where a collection's features lie."""

    spatial: SpatialExtent


class Collection(BaseModel):
    """One feature collection: a stored vector layer or a stored proposal."""

    id: str = Field(examples=["localities", "proposal-tabasco_backbone"])
    title: str
    description: str
    links: list[Link]
    extent: Extent | None = None
    itemType: Literal["feature"] = "feature"  # noqa: N815 (OGC name)
    crs: list[str] = Field(default_factory=lambda: [CRS84])


class Collections(BaseModel):
    """Every feature collection the service offers."""

    links: list[Link]
    collections: list[Collection]


class FeatureCollection(BaseModel):
    """One page of features (RFC 7946 FeatureCollection plus OGC paging members)."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
    links: list[Link]
    numberMatched: int = Field(ge=0)  # noqa: N815 (OGC name)
    numberReturned: int = Field(ge=0)  # noqa: N815 (OGC name)
    timeStamp: str = Field(examples=["2025-05-01T12:00:00Z"])  # noqa: N815 (OGC name)


class Feature(BaseModel):
    """One feature (RFC 7946 Feature) with its links."""

    type: Literal["Feature"] = "Feature"
    id: int = Field(ge=1)
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    links: list[Link]


def dump(model: BaseModel) -> dict[str, Any]:
    """The JSON body of ``model``; unset optional members (``type``, ``title``) left out."""
    return model.model_dump(mode="json", exclude_none=True)


def now() -> str:
    """The current UTC time as RFC 3339, for ``timeStamp``."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------- parameters

Format = Literal["json", "html"]
FORMATS: tuple[Format, ...] = ("json", "html")
_MAX_OFFSET = 2**63 - 1


@dataclass(frozen=True)
class ItemsQuery:
    """The query parameters of a features request, checked.

    ``bbox_text`` is the ``bbox`` as sent (4 or 6 numbers), carried into paging links;
    ``bbox`` its 2D box, with min lon > max lon when it crosses the antimeridian.
    """

    f: Format | None = None
    bbox: BBox | None = None
    bbox_text: str | None = None
    limit: int | None = None
    offset: int = 0
    datetime: str | None = None


def _invalid(message: str) -> InvalidParameterError:
    return InvalidParameterError(message)


def check_parameters(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The request's query parameters, each given once and each one ``allowed``.

    OGC API – Features asks for 400 on a parameter the API definition does not declare
    (``/req/core/query-param-unknown``); silently ignoring a misspelt ``bbox`` would
    return every feature.
    """
    given: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            raise _invalid(
                f"unknown query parameter {name[:40]!r}; this operation takes {', '.join(allowed)}"
            )
        if name in given:
            raise _invalid(f"query parameter {name!r} is given more than once")
        given[name] = value
    return given


def parse_format(text: str | None) -> Format | None:
    """The ``f`` parameter: ``json`` or ``html``."""
    if text is None:
        return None
    if text not in FORMATS:
        raise _invalid(f"f={text[:40]!r} is not a format this service serves; use json or html")
    return "json" if text == "json" else "html"


def _integer(name: str, text: str, minimum: int) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise _invalid(f"{name}={text[:40]!r} is not a whole number of at least {minimum}")
    value = int(text)
    if value < minimum:
        raise _invalid(f"{name}={value} is below its minimum {minimum}")
    return value


def _instant(text: str) -> datetime | None:
    """An RFC 3339 date or date-time, or None for an open end (``..`` or empty)."""
    if text in ("", ".."):
        return None
    try:
        if "T" in text or "t" in text:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                raise ValueError
            return moment
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        raise _invalid(
            f"datetime {text[:40]!r} is not an RFC 3339 date or date-time with a time zone, "
            "e.g. 2024-05-01T00:00:00Z or 2024-05-01/2024-06-01"
        ) from None


def parse_datetime(text: str) -> str:
    """Check a ``datetime``: an instant, or an interval ``start/end`` with ``..`` for open."""
    ends = text.split("/")
    if len(ends) > 2:
        raise _invalid("datetime takes one instant or one interval start/end")
    moments = [_instant(end) for end in ends]
    if len(ends) == 1 and moments[0] is None:
        raise _invalid("datetime needs an instant or an interval start/end")
    if len(moments) == 2 and moments[0] and moments[1] and moments[0] > moments[1]:
        raise _invalid(f"datetime interval {text[:80]!r} ends before it starts")
    return text


ITEMS_PARAMETERS = ("f", "bbox", "limit", "offset", "datetime")
FORMAT_ONLY = ("f",)


def items_query(request: Request) -> ItemsQuery:
    """The checked query of a ``/collections/{collectionId}/items`` request."""
    given = check_parameters(request, ITEMS_PARAMETERS)
    bbox_text = given.get("bbox")
    limit = given.get("limit")
    offset = given.get("offset")
    moment = given.get("datetime")
    return ItemsQuery(
        f=parse_format(given.get("f")),
        bbox=None if bbox_text is None else parse_bbox(bbox_text),
        bbox_text=bbox_text,
        limit=None if limit is None else _integer("limit", limit, 1),
        offset=0 if offset is None else min(_integer("offset", offset, 0), _MAX_OFFSET),
        datetime=None if moment is None else parse_datetime(moment),
    )


def format_query(request: Request) -> Format | None:
    """The checked ``f`` of a request to an OGC resource that takes nothing else."""
    return parse_format(check_parameters(request, FORMAT_ONLY).get("f"))


def parameter_components(default_limit: int, max_limit: int) -> dict[str, dict[str, Any]]:
    """The OGC query parameters as OpenAPI 3.0 ``components/parameters``.

    Shaped as OGC API – Features Part 1 declares them (``style: form``, ``explode:
    false``); ``limit`` carries its ``maximum`` and ``default`` because clients such as
    QGIS choose their page size from them.
    """
    return {
        "f": {
            "name": "f",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": (
                "Response format: json (GeoJSON for features) or html. Without it the "
                "Accept header decides; JSON unless HTML is preferred."
            ),
            "schema": {"type": "string", "enum": list(FORMATS)},
        },
        "bbox": {
            "name": "bbox",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": (
                "Only features whose geometry intersects this box: min lon, min lat, max "
                "lon, max lat in CRS84 (WGS 84 degrees), or 6 numbers with min and max "
                "height after each corner (heights are ignored). A min lon greater than "
                "the max lon crosses the antimeridian."
            ),
            "schema": {
                "type": "array",
                "minItems": 4,
                "maxItems": 6,
                "items": {"type": "number"},
            },
            "example": [-93.5, 17.5, -92.5, 18.5],
        },
        "limit": {
            "name": "limit",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": (
                f"Features per page, 1 to {max_limit} (TRAZO_MAX_ITEMS_PER_PAGE), default "
                f"{default_limit} (TRAZO_DEFAULT_ITEMS_PER_PAGE). A larger value is lowered "
                "to the maximum; numberReturned and the next link show the size used."
            ),
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": max_limit,
                "default": default_limit,
            },
        },
        "offset": {
            "name": "offset",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": "Features to skip, in feature id order; the next link carries it.",
            "schema": {"type": "integer", "minimum": 0, "default": 0},
        },
        "datetime": {
            "name": "datetime",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": (
                "An RFC 3339 instant or interval (start/end, '..' for an open end). Trazo's "
                "layers and proposals carry no feature time, so a valid datetime selects "
                "every feature; an invalid one is refused."
            ),
            "schema": {"type": "string"},
            "example": "2024-01-01T00:00:00Z/..",
        },
    }


def parameter_refs(*names: str) -> dict[str, Any]:
    """``openapi_extra`` for a route taking the OGC query parameters ``names``."""
    return {"parameters": [{"$ref": f"#/components/parameters/{name}"} for name in names]}


def negotiate(request: Request, f: Format | None) -> Format:
    """Pick json or html: ``f`` wins, else the Accept header's preference, else json.

    HTML is chosen only when the Accept header ranks ``text/html`` above every JSON type,
    as browsers do; clients such as GDAL that ask for JSON get JSON.
    """
    if f is not None:
        return f
    best_html, best_json = -1.0, -1.0
    accept = request.headers.get("accept", "")
    for position, item in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        rank = quality - position * 1e-3
        media = media.lower()
        if media == HTML:
            best_html = max(best_html, rank)
        elif media.endswith("json") or media in ("*/*", "application/*"):
            best_json = max(best_json, rank)
    return "html" if best_html > 0 and best_html > best_json else "json"


def clamp_limit(limit: int | None, default: int, maximum: int) -> int:
    """The page size used: ``default`` when not asked, at most ``maximum``.

    Examples
    --------
    >>> clamp_limit(None, 100, 1000), clamp_limit(5000, 100, 1000), clamp_limit(7, 100, 1000)
    (100, 1000, 7)
    """
    return default if limit is None else min(limit, maximum)


# ---------------------------------------------------------------------- links


def url(request: Request, path: str, **params: object) -> str:
    """An absolute URL on this service, with the query ``params`` that are not None."""
    base = str(request.base_url).rstrip("/")
    query = urlencode({k: v for k, v in params.items() if v is not None}, safe=",")
    return f"{base}{path}" + (f"?{query}" if query else "")


def self_links(
    request: Request, path: str, fmt: Format, json_type: str = JSON, **params: object
) -> list[Link]:
    """The ``self`` link in the format served and an ``alternate`` link in the other one."""
    json_href = url(request, path, f="json", **params)
    html_href = url(request, path, f="html", **params)
    if fmt == "html":
        return [
            Link(href=html_href, rel="self", type=HTML, title="This page"),
            Link(href=json_href, rel="alternate", type=json_type, title="This as JSON"),
        ]
    return [
        Link(href=json_href, rel="self", type=json_type, title="This document"),
        Link(href=html_href, rel="alternate", type=HTML, title="This as HTML"),
    ]


def page_links(
    request: Request,
    path: str,
    fmt: Format,
    *,
    bbox: str | None,
    limit: int,
    offset: int,
    returned: int,
    matched: int,
) -> list[Link]:
    """``self``/``alternate`` plus ``next`` (more features follow) and ``prev`` links."""
    media = GEOJSON if fmt == "json" else HTML
    links = self_links(request, path, fmt, GEOJSON, bbox=bbox, limit=limit, offset=offset)
    if offset + returned < matched:
        links.append(
            Link(
                href=url(request, path, f=fmt, bbox=bbox, limit=limit, offset=offset + limit),
                rel="next",
                type=media,
                title="Next page",
            )
        )
    if offset > 0:
        previous = max(0, offset - limit)
        links.append(
            Link(
                href=url(request, path, f=fmt, bbox=bbox, limit=limit, offset=previous),
                rel="prev",
                type=media,
                title="Previous page",
            )
        )
    return links
