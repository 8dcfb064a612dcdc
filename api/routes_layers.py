"""Layers over HTTP: list, upload, replace, delete and download the stored layers.

Reading needs the viewer role; uploading, replacing and deleting need gis. An upload is
streamed to a server-named file under ``TRAZO_MAX_UPLOAD_BYTES`` (:mod:`api._upload`),
validated in full by :func:`layers.ingest.ingest`, and only then published atomically; a
refused upload leaves the store as it was.
"""

from __future__ import annotations

import shutil
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api._responses import error_responses
from api._upload import UPLOAD_SUFFIXES, receive_upload
from api.auth import gis, viewer
from api.settings import ServiceSettings
from layers.catalog import LAYER_NAME_PATTERN, LayerInfo
from layers.errors import AlreadyExistsError, LayerValidationError
from layers.ingest import ingest
from layers.kinds import LayerKind
from layers.limits import Limits
from layers.store_api import LayerStore
from layers.workdirs import make_workdir

router = APIRouter(prefix="/layers", tags=["layers"])

MEDIA_TYPES: dict[str, str] = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "kml": "application/vnd.google-earth.kml+xml",
    "csv": "text/csv; charset=utf-8",
    "tif": "image/tiff; application=geotiff",
}
ExportFormat = Literal["geojson", "gpkg", "kml", "csv", "tif"]

LayerName = Annotated[
    str,
    Path(
        pattern=LAYER_NAME_PATTERN,
        description="The layer's name: a lower-case letter, then lower-case letters, digits, _.",
        openapi_examples={"localities": {"summary": "A layer", "value": "localities"}},
    ),
]
FormatPath = Annotated[
    ExportFormat,
    Path(
        description=(
            "File format: geojson (RFC 7946), gpkg, kml, csv (WKT geometry, lon/lat for "
            "points) for vector layers; tif (GeoTIFF) for rasters."
        ),
        openapi_examples={"gpkg": {"summary": "GeoPackage", "value": "gpkg"}},
    ),
]
ReplaceQuery = Annotated[
    bool,
    Query(
        description="Replace a stored layer of the same name; without it that is a 409.",
        openapi_examples={"replace": {"summary": "Replace the layer", "value": True}},
    ),
]


class Layer(BaseModel):
    """One catalog row: a stored layer."""

    name: str = Field(examples=["tabasco_localities"])
    kind: LayerKind
    source: str = Field(description="The file it was loaded from.", examples=["localities.csv"])
    loaded_at: str = Field(examples=["2025-05-01T12:00:00Z"])
    feature_count: int = Field(description="0 for rasters.", examples=[6])
    geometry_type: str | None = Field(examples=["Point"])
    bbox: list[float] | None = Field(
        description="min lon, min lat, max lon, max lat (EPSG:4326).",
        examples=[[-92.99, 17.85, -92.86, 18.14]],
    )
    report: dict[str, Any] = Field(description="The validation report of the load.")

    @classmethod
    def of(cls, info: LayerInfo) -> Layer:
        """The row of ``info``."""
        return cls(
            name=info.name,
            kind=info.kind,
            source=info.source,
            loaded_at=info.loaded_at,
            feature_count=info.feature_count,
            geometry_type=info.geometry_type,
            bbox=list(info.bbox) if info.bbox is not None else None,
            report=info.report,
        )


class Report(BaseModel):
    """What validating an upload found and did; the layer was stored as ``name``."""

    name: str
    kind: str
    source: str
    format: str
    crs_in: str | None
    features_read: int
    features_kept: int
    features_repaired: int
    features_dropped: int
    repair_reasons: dict[str, int]
    drop_reasons: dict[str, int]
    bbox: list[float] | None
    warnings: list[str]


_UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "kind"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": (
                            "The layer file; its name's suffix chooses the reader: "
                            + ", ".join(sorted(UPLOAD_SUFFIXES))
                            + " (a .zip holds one dataset or one shapefile)."
                        ),
                    },
                    "kind": {
                        "type": "string",
                        "enum": [k.value for k in LayerKind],
                        "description": "What the layer describes; raster for a GeoTIFF.",
                        "examples": ["localities"],
                    },
                    "name": {
                        "type": "string",
                        "pattern": LAYER_NAME_PATTERN,
                        "description": "Layer name; default: from the file name.",
                        "examples": ["tabasco_localities"],
                    },
                },
            }
        }
    },
}


def _store(request: Request) -> LayerStore:
    store: LayerStore = request.app.state.store
    return store


@router.get(
    "",
    response_model=list[Layer],
    dependencies=[viewer],
    responses=error_responses(401, 403),
    summary="List the stored layers",
)
def list_layers(request: Request) -> list[Layer]:
    """Every stored layer's catalog row, sorted by name."""
    return [Layer.of(info) for info in _store(request).list_layers()]


@router.post(
    "",
    status_code=201,
    response_model=Report,
    dependencies=[gis],
    responses=error_responses(401, 403, 409, 413, 422, 503),
    openapi_extra={"requestBody": _UPLOAD_BODY},
    summary="Upload a layer",
)
async def upload_layer(request: Request, replace: ReplaceQuery = False) -> JSONResponse:
    """Upload a file as a layer: validated in full, then stored atomically.

    The body is multipart/form-data with ``file``, ``kind`` and optionally ``name``, at
    most ``TRAZO_MAX_UPLOAD_BYTES``. Answers 201 with the validation report, or a 4xx whose
    message names the problem; a refused upload changes nothing.
    """
    settings: ServiceSettings = request.app.state.settings
    limits: Limits = request.app.state.limits
    async with receive_upload(request, max_bytes=settings.max_upload_bytes) as upload:
        if upload.path is None:
            raise LayerValidationError("the form has no 'file' part; attach the layer file")
        kind = upload.fields.get("kind")
        if not kind:
            known = ", ".join(k.value for k in LayerKind)
            raise LayerValidationError(f"the form has no 'kind' field; send one of: {known}")
        name = upload.fields.get("name") or None
        try:
            report = await run_in_threadpool(
                ingest,
                _store(request),
                upload.path,
                kind,
                name=name,
                replace=replace,
                limits=limits,
            )
        except AlreadyExistsError:
            shown = name or upload.path.stem
            raise AlreadyExistsError(
                f"layer {shown!r} already exists; add ?replace=true to replace it"
            ) from None
    body = Report.model_validate(report.to_dict()).model_dump(mode="json")
    return JSONResponse(body, status_code=201, headers={"Location": f"/layers/{report.name}"})


@router.get(
    "/{name}.{fmt}",
    dependencies=[viewer],
    response_class=FileResponse,
    responses={
        200: {
            "description": "The layer as a file, with Content-Disposition: attachment.",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in (MEDIA_TYPES.values())
            },
        },
        **error_responses(401, 403, 404, 422),
    },
    summary="Download a layer as a file",
)
def export_layer(request: Request, name: LayerName, fmt: FormatPath) -> FileResponse:
    """The layer as GeoJSON, GeoPackage, KML or CSV (vector) or GeoTIFF (raster)."""
    folder = make_workdir("trazo-export-")
    try:
        path = _store(request).export(name, fmt, folder / f"{name}.{fmt}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        filename=f"{name}.{fmt}",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.get(
    "/{name}",
    response_model=Layer,
    dependencies=[viewer],
    responses=error_responses(401, 403, 404),
    summary="One layer's catalog row",
)
def describe_layer(request: Request, name: LayerName) -> Layer:
    """A stored layer's kind, source, counts, extent and validation report."""
    return Layer.of(_store(request).info(name))


@router.delete(
    "/{name}",
    status_code=204,
    dependencies=[gis],
    responses=error_responses(401, 403, 404, 503),
    summary="Delete a layer",
)
def delete_layer(request: Request, name: LayerName) -> Response:
    """Remove a stored layer; its collection disappears with it."""
    _store(request).delete(name)
    return Response(status_code=204)
