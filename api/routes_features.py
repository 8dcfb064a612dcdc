"""OGC API – Features Part 1 (core, geojson, html, oas30) over the store.

``/`` is the landing page, ``/conformance`` the classes implemented, ``/collections`` every
stored vector layer and proposal (see :mod:`usecases.feature_collections`), and
``/collections/{collectionId}/items`` their features, paged with ``limit``/``offset`` and
``next``/``prev`` links. GDAL's OAPIF driver, and so QGIS, reads them with
``OAPIF:http://host:port/``. Every route needs the viewer role (anonymous in development
mode). Responses are JSON (GeoJSON for features) unless ``f=html`` or the Accept header
asks for HTML.

Paging: ``limit`` defaults to ``TRAZO_DEFAULT_ITEMS_PER_PAGE``; a ``limit`` above
``TRAZO_MAX_ITEMS_PER_PAGE`` is lowered to it rather than refused, and the links carry
the size used. The OpenAPI document declares both, so QGIS asks for large pages. A query
parameter the operation does not declare, or a value it cannot use (``limit=unlimited``,
a malformed ``bbox``), is answered with 400 and a ``{code, message}`` body naming it, as
the standard asks. A ``bbox`` may cross the antimeridian (min lon > max lon).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api import _ogc_html
from api._ogc import (
    CONFORMANCE,
    CRS84,
    FORMAT_ONLY,
    GEOJSON,
    HTML,
    ITEMS_PARAMETERS,
    JSON,
    JSON_SCHEMA,
    OPENAPI,
    Collection,
    Collections,
    Conformance,
    Extent,
    Feature,
    FeatureCollection,
    Format,
    GeoJSONResponse,
    LandingPage,
    Link,
    SpatialExtent,
    check_parameters,
    clamp_limit,
    dump,
    format_query,
    items_query,
    negotiate,
    now,
    page_links,
    parameter_refs,
    self_links,
    url,
)
from api._responses import error_responses
from api.auth import viewer
from api.settings import ServiceSettings
from layers.store_api import LayerStore
from maps.offline import vendored_text
from usecases import feature_collections
from usecases.feature_collections import CollectionInfo

router = APIRouter(tags=["OGC API – Features"], dependencies=[viewer])

_HTML_CONTENT = {HTML: {"schema": {"type": "string"}}}
_READ_ERRORS = error_responses(400, 401, 403)
_FORMAT_ONLY = parameter_refs(*FORMAT_ONLY)


def _page(model: type[Any], *errors: int) -> dict[str, Any]:
    """The route options of a page read as JSON or HTML: its model, errors and ``f``."""
    return {
        "response_model": model,
        "responses": {200: {"content": _HTML_CONTENT}, **_READ_ERRORS, **error_responses(*errors)},
        "openapi_extra": _FORMAT_ONLY,
    }


def _page_format(request: Request) -> Format:
    """The format a page is asked for: its checked ``f``, else the Accept header."""
    return negotiate(request, format_query(request))


PageFormat = Annotated[Format, Depends(_page_format)]

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


def _collection_link(request: Request, collection_id: str, fmt: Format) -> Link:
    """The ``collection`` link of an items page or a feature, in the page's format."""
    return Link(
        href=url(request, f"/collections/{collection_id}", f=fmt),
        rel="collection",
        type=JSON if fmt == "json" else HTML,
        title=f"Collection {collection_id}",
    )


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
    links.append(
        Link(
            href=url(request, f"{path}/schema"),
            # Relation types compare case-insensitively (RFC 8288), but GDAL 3.6's OAPIF
            # driver only takes this spelling; current GDAL takes either.
            rel="describedBy",
            type=JSON_SCHEMA,
            title=f"JSON Schema of the features of {info.id}",
        )
    )
    extent = None
    if info.bbox is not None:
        extent = Extent(spatial=SpatialExtent(bbox=[list(info.bbox)], crs=CRS84))
    return Collection(
        id=info.id, title=info.title, description=info.description, links=links, extent=extent
    )


@router.get("/", summary="Landing page", **_page(LandingPage))
def landing_page(request: Request, fmt: PageFormat) -> Response:
    """What the service is, with links to its API description, conformance and data."""
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


@router.get("/conformance", summary="Conformance classes", **_page(Conformance))
def conformance(request: Request, fmt: PageFormat) -> Response:
    """The OGC API – Features Part 1 conformance classes this service implements."""
    page = Conformance(conformsTo=list(CONFORMANCE))
    links = self_links(request, "/conformance", fmt)
    links.append(Link(href=url(request, "/", f=fmt), rel="service", title="Landing page"))
    return _respond(fmt, dump(page), _ogc_html.conformance(page, links))


@router.get("/collections", summary="Feature collections", **_page(Collections))
def collections(request: Request, fmt: PageFormat) -> Response:
    """Every stored vector layer (id = layer name) and proposal (id = proposal-<name>)."""
    infos = feature_collections.list_collections(_store(request))
    page = Collections(
        links=self_links(request, "/collections", fmt),
        collections=[_collection_model(request, info, fmt) for info in infos],
    )
    counts = {info.id: info.feature_count for info in infos}
    return _respond(fmt, dump(page), _ogc_html.collections(page, counts))


@router.get(
    "/collections/{collectionId}", summary="One feature collection", **_page(Collection, 404)
)
def describe_collection(request: Request, collection_id: CollectionId, fmt: PageFormat) -> Response:
    """A collection's title, description, extent (CRS84) and links to its features."""
    info = feature_collections.collection(_store(request), collection_id)
    page = _collection_model(request, info, fmt)
    return _respond(fmt, dump(page), _ogc_html.collection(page, info.feature_count))


@router.get(
    "/collections/{collectionId}/items",
    response_model=FeatureCollection,
    response_class=GeoJSONResponse,
    responses={
        200: {"content": _HTML_CONTENT},
        **_READ_ERRORS,
        **error_responses(404),
    },
    summary="Features of a collection",
    openapi_extra=parameter_refs(*ITEMS_PARAMETERS),
)
async def collection_items(request: Request, collection_id: CollectionId) -> Response:
    """A page of features in id order, with numberMatched, numberReturned and paging links.

    Follow the ``next`` link until there is none to read every matching feature once.
    """
    query = items_query(request)
    fmt = negotiate(request, query.f)
    settings: ServiceSettings = request.app.state.settings
    default = settings.default_items_per_page
    if fmt == "html":
        default = min(default, settings.html_items_per_page)
    size = clamp_limit(query.limit, default, settings.max_items_per_page)
    offset = query.offset
    bbox = query.bbox_text
    features, matched = await run_in_threadpool(
        feature_collections.items, _store(request), collection_id, query.bbox, size, offset
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
    links.append(_collection_link(request, collection_id, fmt))
    # The page's members are checked by the model; the features, already plain JSON
    # values, are added afterwards (validating 10,000 of them would double the time).
    page = FeatureCollection(
        features=[],
        links=links,
        numberMatched=matched,
        numberReturned=len(features),
        timeStamp=now(),
    )
    if fmt == "html":
        return HTMLResponse(
            _ogc_html.items(page.model_copy(update={"features": features}), collection_id)
        )
    return GeoJSONResponse({**dump(page), "features": features})


@router.get(
    "/collections/{collectionId}/schema",
    responses={
        200: {"content": {JSON_SCHEMA: {"schema": {"type": "object"}}}},
        **_READ_ERRORS,
        **error_responses(404),
    },
    response_class=JSONResponse,
    summary="The JSON Schema of a collection's features",
)
def collection_schema(request: Request, collection_id: CollectionId) -> Response:
    """A GeoJSON Feature schema naming each property's type.

    GDAL's OAPIF driver (the collection's ``describedby`` link) takes the field types
    from it, so an attribute keeps its type even where a page holds only nulls.
    """
    check_parameters(request, ())
    types = feature_collections.property_types(_store(request), collection_id)
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(request, f"/collections/{collection_id}/schema"),
        "title": collection_id,
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {"type": ["object", "null"]},
            "properties": {
                "type": "object",
                "properties": {name: {"type": kind} for name, kind in types.items()},
            },
        },
    }
    return JSONResponse(document, media_type=JSON_SCHEMA)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_class=GeoJSONResponse,
    summary="One feature",
    **_page(Feature, 404),
)
def collection_feature(
    request: Request, collection_id: CollectionId, feature_id: FeatureId, fmt: PageFormat
) -> Response:
    """One feature by id, with links to itself and its collection."""
    body = feature_collections.feature(_store(request), collection_id, feature_id)
    path = f"/collections/{collection_id}/items/{body['id']}"
    links = self_links(request, path, fmt, GEOJSON)
    links.append(_collection_link(request, collection_id, fmt))
    document = {**body, "links": [dump(link) for link in links]}
    return _respond(fmt, document, _ogc_html.feature(body, links, collection_id), GEOJSON)


_ASSETS = {
    _ogc_html.LEAFLET_JS: ("leaflet/leaflet.js", "text/javascript; charset=utf-8"),
    _ogc_html.LEAFLET_CSS: ("leaflet/leaflet.css", "text/css; charset=utf-8"),
}


@router.get(_ogc_html.LEAFLET_JS, include_in_schema=False)
@router.get(_ogc_html.LEAFLET_CSS, include_in_schema=False)
def leaflet_asset(request: Request) -> Response:
    """The vendored Leaflet the HTML pages' map previews use (no CDN, works offline)."""
    relative, media = _ASSETS[request.url.path]
    return Response(
        vendored_text(relative), media_type=media, headers={"Cache-Control": "max-age=86400"}
    )
