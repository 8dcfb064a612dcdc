"""OGC API – Features Part 1 (core, geojson, html, oas30) over the store.

``/`` is the landing page, ``/conformance`` the classes implemented, ``/collections`` every
stored vector layer and proposal (see :mod:`api._collections`), and
``/collections/{collectionId}/items`` their features, paged with ``limit``/``offset`` and
``next``/``prev`` links. GDAL's OAPIF driver, and so QGIS, reads them with
``OAPIF:http://host:port/``. Every route needs the viewer role (anonymous in development
mode). Responses are JSON (GeoJSON for features) unless ``f=html`` or the Accept header
asks for HTML.

Paging: ``limit`` defaults to ``TRAZO_DEFAULT_ITEMS_PER_PAGE``; a ``limit`` above
``TRAZO_MAX_ITEMS_PER_PAGE`` is lowered to it rather than refused, as the standard asks,
and the links carry the size used. Invalid parameters (a malformed or too large ``bbox``,
``limit`` < 1, ``offset`` < 0) are answered by the service's one validation error, 422
with a message naming the problem, where the standard asks for 400.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api import _collections, _ogc_html
from api._collections import CollectionInfo
from api._ogc import (
    CONFORMANCE,
    CRS84,
    GEOJSON,
    HTML,
    JSON,
    OPENAPI,
    BBoxQuery,
    Collection,
    Collections,
    Conformance,
    Extent,
    Feature,
    FeatureCollection,
    Format,
    FormatQuery,
    GeoJSONResponse,
    LandingPage,
    LimitQuery,
    Link,
    OffsetQuery,
    SpatialExtent,
    check_bbox_area,
    clamp_limit,
    dump,
    negotiate,
    now,
    page_links,
    parse_bbox,
    self_links,
    url,
)
from api._responses import error_responses
from api.auth import viewer
from api.settings import ServiceSettings
from layers.store_api import LayerStore

router = APIRouter(tags=["OGC API – Features"], dependencies=[viewer])

_HTML_CONTENT = {HTML: {"schema": {"type": "string"}}}
_READ_ERRORS = error_responses(401, 403)

CollectionId = Annotated[
    str,
    Path(
        alias="collectionId",
        description=("A stored vector layer's name, or proposal-<name> for a stored proposal."),
        openapi_examples={
            "layer": {"summary": "A layer", "value": "localities"},
            "proposal": {"summary": "A proposal", "value": "proposal-tabasco_backbone"},
        },
    ),
]
FeatureId = Annotated[
    str,
    Path(
        alias="featureId",
        description="The feature id: the layer's stable fid, or a proposal's segment number.",
        openapi_examples={"first": {"summary": "The first feature", "value": "1"}},
    ),
]


def _store(request: Request) -> LayerStore:
    store: LayerStore = request.app.state.store
    return store


def _respond(fmt: Format, body: dict[str, object], html: str, media: str = JSON) -> Response:
    if fmt == "html":
        return HTMLResponse(html)
    if media == GEOJSON:
        return GeoJSONResponse(body)
    return JSONResponse(body, media_type=media)


def _collection_model(request: Request, info: CollectionInfo, fmt: Format) -> Collection:
    path = f"/collections/{info.id}"
    links = self_links(request, path, fmt)
    links += [
        Link(
            href=url(request, f"{path}/items", f="json"),
            rel="items",
            type=GEOJSON,
            title=f"Features of {info.id} as GeoJSON",
        ),
        Link(
            href=url(request, f"{path}/items", f="html"),
            rel="items",
            type=HTML,
            title=f"Features of {info.id} as HTML",
        ),
    ]
    extent = None
    if info.bbox is not None:
        extent = Extent(spatial=SpatialExtent(bbox=[list(info.bbox)], crs=CRS84))
    return Collection(
        id=info.id, title=info.title, description=info.description, links=links, extent=extent
    )


@router.get(
    "/",
    response_model=LandingPage,
    responses={200: {"content": _HTML_CONTENT}, **_READ_ERRORS},
    summary="Landing page",
)
def landing_page(request: Request, f: FormatQuery = None) -> Response:
    """What the service is, with links to its API description, conformance and data."""
    fmt = negotiate(request, f)
    links = self_links(request, "/", fmt)
    links += [
        Link(
            href=url(request, "/openapi.json"),
            rel="service-desc",
            type=OPENAPI,
            title="The API definition (OpenAPI)",
        ),
        Link(href=url(request, "/docs"), rel="service-doc", type=HTML, title="API documentation"),
        Link(
            href=url(request, "/conformance", f=fmt),
            rel="conformance",
            type=JSON if fmt == "json" else HTML,
            title="Conformance classes implemented",
        ),
        Link(
            href=url(request, "/collections", f=fmt),
            rel="data",
            type=JSON if fmt == "json" else HTML,
            title="Feature collections: stored layers and proposals",
        ),
    ]
    page = LandingPage(
        title="Trazo",
        description=(
            "Costed fiber route proposals for Mexico: the stored layers and proposals as "
            "OGC API – Features collections."
        ),
        links=links,
    )
    return _respond(fmt, dump(page), _ogc_html.landing(page))


@router.get(
    "/conformance",
    response_model=Conformance,
    responses={200: {"content": _HTML_CONTENT}, **_READ_ERRORS},
    summary="Conformance classes",
)
def conformance(request: Request, f: FormatQuery = None) -> Response:
    """The OGC API – Features Part 1 conformance classes this service implements."""
    fmt = negotiate(request, f)
    page = Conformance(conformsTo=list(CONFORMANCE))
    links = self_links(request, "/conformance", fmt)
    links.append(Link(href=url(request, "/", f=fmt), rel="service", title="Landing page"))
    return _respond(fmt, dump(page), _ogc_html.conformance(page, links))


@router.get(
    "/collections",
    response_model=Collections,
    responses={200: {"content": _HTML_CONTENT}, **_READ_ERRORS},
    summary="Feature collections",
)
def collections(request: Request, f: FormatQuery = None) -> Response:
    """Every stored vector layer (id = layer name) and proposal (id = proposal-<name>)."""
    fmt = negotiate(request, f)
    infos = _collections.list_collections(_store(request))
    page = Collections(
        links=self_links(request, "/collections", fmt),
        collections=[_collection_model(request, info, fmt) for info in infos],
    )
    return _respond(fmt, dump(page), _ogc_html.collections(page))


@router.get(
    "/collections/{collectionId}",
    response_model=Collection,
    responses={200: {"content": _HTML_CONTENT}, **_READ_ERRORS, **error_responses(404)},
    summary="One feature collection",
)
def describe_collection(
    request: Request, collection_id: CollectionId, f: FormatQuery = None
) -> Response:
    """A collection's title, description, extent (CRS84) and links to its features."""
    fmt = negotiate(request, f)
    info = _collections.collection(_store(request), collection_id)
    page = _collection_model(request, info, fmt)
    return _respond(fmt, dump(page), _ogc_html.collection(page))


@router.get(
    "/collections/{collectionId}/items",
    response_model=FeatureCollection,
    response_class=GeoJSONResponse,
    responses={
        200: {"content": _HTML_CONTENT},
        **_READ_ERRORS,
        **error_responses(404, 422),
    },
    summary="Features of a collection",
)
async def collection_items(
    request: Request,
    collection_id: CollectionId,
    bbox: BBoxQuery = None,
    limit: LimitQuery = None,
    offset: OffsetQuery = 0,
    f: FormatQuery = None,
) -> Response:
    """A page of features in id order, with numberMatched, numberReturned and paging links.

    Follow the ``next`` link until there is none to read every matching feature once.
    """
    fmt = negotiate(request, f)
    settings: ServiceSettings = request.app.state.settings
    box = parse_bbox(bbox)
    check_bbox_area(box, settings.max_bbox_area_deg2)
    size = clamp_limit(limit, settings.default_items_per_page, settings.max_items_per_page)
    features, matched = await run_in_threadpool(
        _collections.items, _store(request), collection_id, box, size, offset
    )
    path = f"/collections/{collection_id}/items"
    links = page_links(
        request,
        path,
        fmt,
        bbox=bbox,
        limit=size,
        offset=offset,
        returned=len(features),
        matched=matched,
    )
    links.append(
        Link(
            href=url(request, f"/collections/{collection_id}", f=fmt),
            rel="collection",
            type=JSON if fmt == "json" else HTML,
            title=f"Collection {collection_id}",
        )
    )
    page = FeatureCollection(
        features=features,
        links=links,
        numberMatched=matched,
        numberReturned=len(features),
        timeStamp=now(),
    )
    return _respond(fmt, dump(page), _ogc_html.items(page, collection_id), GEOJSON)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_model=Feature,
    response_class=GeoJSONResponse,
    responses={200: {"content": _HTML_CONTENT}, **_READ_ERRORS, **error_responses(404)},
    summary="One feature",
)
def collection_feature(
    request: Request, collection_id: CollectionId, feature_id: FeatureId, f: FormatQuery = None
) -> Response:
    """One feature by id, with links to itself and its collection."""
    fmt = negotiate(request, f)
    body = _collections.feature(_store(request), collection_id, feature_id)
    path = f"/collections/{collection_id}/items/{body['id']}"
    links = self_links(request, path, fmt, GEOJSON)
    links.append(
        Link(
            href=url(request, f"/collections/{collection_id}", f=fmt),
            rel="collection",
            type=JSON if fmt == "json" else HTML,
            title=f"Collection {collection_id}",
        )
    )
    document = {**body, "links": [dump(link) for link in links]}
    return _respond(fmt, document, _ogc_html.feature(body, links, collection_id), GEOJSON)
