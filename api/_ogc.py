"""OGC API – Features Part 1 building blocks: response shapes, parameters, links, paging.

The routes in :mod:`api.routes_features` assemble these; nothing here touches the store.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field

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

BBox = tuple[float, float, float, float]
_NUMBER = r"-?[0-9]+(\.[0-9]+)?"
BBOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"
"""The shape of a bbox, documented in OpenAPI; :func:`check_bbox_text` checks the values."""


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


def check_bbox_text(text: str | None) -> str | None:
    """Check a ``bbox`` parameter: 4 comma-separated numbers in lon/lat ranges, min < max.

    Examples
    --------
    >>> check_bbox_text("-93.5,17.5,-92.5,18.5")
    '-93.5,17.5,-92.5,18.5'
    >>> check_bbox_text("-93,18,-94,19")
    Traceback (most recent call last):
    ...
    ValueError: bbox min lon -93.0 must be less than max lon -94.0 ...
    """
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError(
            f"bbox takes 4 comma-separated numbers (min lon, min lat, max lon, max lat), "
            f"got {len(parts)} values; e.g. bbox=-93.5,17.5,-92.5,18.5"
        )
    try:
        min_x, min_y, max_x, max_y = (float(part) for part in parts)
    except ValueError:
        raise ValueError(
            "bbox values must be numbers (min lon, min lat, max lon, max lat); "
            "e.g. bbox=-93.5,17.5,-92.5,18.5"
        ) from None
    if not all(math.isfinite(v) for v in (min_x, min_y, max_x, max_y)):
        raise ValueError("bbox values must be finite numbers")
    for label, value, bound in (
        ("min lon", min_x, 180),
        ("max lon", max_x, 180),
        ("min lat", min_y, 90),
        ("max lat", max_y, 90),
    ):
        if not -bound <= value <= bound:
            raise ValueError(f"bbox {label} {value} is outside -{bound}..{bound}")
    if min_x >= max_x:
        raise ValueError(
            f"bbox min lon {min_x} must be less than max lon {max_x} (the order is "
            "min lon, min lat, max lon, max lat; boxes across 180° are not supported)"
        )
    if min_y >= max_y:
        raise ValueError(
            f"bbox min lat {min_y} must be less than max lat {max_y} (the order is "
            "min lon, min lat, max lon, max lat)"
        )
    return text


def parse_bbox(text: str | None) -> BBox | None:
    """The numbers of a ``bbox`` that passed :func:`check_bbox_text`."""
    if text is None:
        return None
    min_x, min_y, max_x, max_y = (float(part) for part in text.split(","))
    return (min_x, min_y, max_x, max_y)


def check_bbox_area(bbox: BBox | None, max_area: float) -> None:
    """Refuse a bbox larger than ``max_area`` square degrees as a request validation error."""
    if bbox is None:
        return
    area = (bbox[2] - bbox[0]) * (bbox[3] - bbox[1])
    if area > max_area:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "bbox"),
                    "msg": f"bbox covers {area:g} square degrees, over the {max_area:g} this "
                    "service allows (TRAZO_MAX_BBOX_AREA_DEG2); ask for a smaller box or "
                    "leave bbox out and page through the collection",
                    "type": "value_error",
                }
            ]
        )


Format = Literal["json", "html"]

BBoxQuery = Annotated[
    str | None,
    AfterValidator(check_bbox_text),
    Query(
        json_schema_extra={"pattern": BBOX_PATTERN},
        description=(
            "Only features whose geometry intersects this box: min lon, min lat, max lon, "
            "max lat in CRS84 (WGS 84 degrees), min < max; its area is capped "
            "(TRAZO_MAX_BBOX_AREA_DEG2, default 2000 square degrees)."
        ),
        openapi_examples={
            "tabasco": {"summary": "Around Villahermosa", "value": "-93.5,17.5,-92.5,18.5"},
            "mexico": {"summary": "All of Mexico", "value": "-118.5,14.5,-86.5,32.8"},
        },
    ),
]
LimitQuery = Annotated[
    int | None,
    Query(
        ge=1,
        description=(
            "Features per page, at least 1. Default TRAZO_DEFAULT_ITEMS_PER_PAGE (100); "
            "values above TRAZO_MAX_ITEMS_PER_PAGE (1000) are lowered to it, as OGC API – "
            "Features asks (the page's numberReturned and next link show what was used)."
        ),
        openapi_examples={"ten": {"summary": "Ten features", "value": 10}},
    ),
]
OffsetQuery = Annotated[
    int,
    Query(
        ge=0,
        description="Features to skip, in feature id order; the next link carries it.",
        openapi_examples={"start": {"summary": "First page", "value": 0}},
    ),
]
FormatQuery = Annotated[
    Format | None,
    Query(
        description=(
            "Response format: json (GeoJSON for features) or html. Without it the Accept "
            "header decides; JSON unless HTML is preferred."
        ),
        openapi_examples={"html": {"summary": "A page for a browser", "value": "html"}},
    ),
]


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
