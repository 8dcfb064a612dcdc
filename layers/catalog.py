"""What every store backend shares: the catalog's types and rules, independent of storage.

Both :class:`layers.store.Store` (GeoPackage) and :class:`layers.store_postgis.PostgisStore`
keep one catalog row per layer pointing at the physical table (or raster) holding its
current version, and one row per proposal. The row's fields, the name rules, the checks a
frame passes before it is stored, the catalog values a load writes, and the messages for a
missing layer or proposal are the same for both, so they live here; each backend keeps
only how it reads and writes its own storage.
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from layers.errors import (
    InvalidParameterError,
    LayerValidationError,
    NotFoundError,
    StoreWriteError,
)
from layers.kinds import LayerKind
from layers.report import ValidationReport

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

ExportFormat = Literal["geojson", "gpkg", "kml", "csv", "tif"]
BBox = tuple[float, float, float, float]

CATALOG_TABLE = "trazo_catalog"
PROPOSALS_TABLE = "trazo_proposals"
LAYER_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
#: Name beginnings GeoPackage (``gpkg``) and SQLite (``sqlite_``) keep for themselves.
RESERVED_NAME_PREFIXES = ("gpkg", "sqlite_")
#: The geometry column of every stored table (GDAL's GeoPackage default).
GEOMETRY_COLUMN = "geom"
#: The catalog's columns, in the order :func:`catalog_values` gives them.
CATALOG_FIELDS = (
    "name, kind, source, loaded_at, feature_count, geometry_type, "
    "min_lon, min_lat, max_lon, max_lat, report, columns, physical"
)
#: A physical table: ``<layer>__v<8 hex>`` (a fresh version per load).
PHYSICAL_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}__v[0-9a-f]{8}$")

_NAME_RE = re.compile(LAYER_NAME_PATTERN)
_NAMES_IN_MESSAGE = 10
_CASTABLE_DTYPES = frozenset(
    {
        "Int8",
        "Int16",
        "Int32",
        "Int64",
        "UInt8",
        "UInt16",
        "UInt32",
        "UInt64",
        "Float32",
        "Float64",
        "boolean",
        "int8",
        "int16",
        "int32",
        "int64",
        "float32",
        "bool",
    }
)


@dataclass(frozen=True)
class LayerInfo:
    """One catalog row: what a stored layer is and where it came from."""

    name: str
    kind: LayerKind
    source: str
    loaded_at: str  # ISO 8601 UTC
    feature_count: int  # raster: 0
    geometry_type: str | None  # raster: None
    bbox: tuple[float, float, float, float] | None  # EPSG:4326
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredProposal:
    """A proposal kept in the store: its GeoJSON document (segments, metrics, parameters)."""

    name: str
    kind: str
    created_at: str
    document: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CatalogRow:
    """A catalog row as a backend keeps it: the layer's info, the physical table or raster
    holding its current version, and the dtypes of its columns."""

    info: LayerInfo
    physical: str
    columns: dict[str, str]


# ---------------------------------------------------------------------- names and boxes


def check_layer_name(name: str) -> str:
    """Return ``name`` if it is a valid layer name, else raise ``LayerValidationError``.

    Valid names are 1–63 characters: a lower-case ASCII letter, then lower-case letters,
    digits and underscores.

    Examples
    --------
    >>> check_layer_name("localities_tabasco")
    'localities_tabasco'
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        shown = name[:80] if isinstance(name, str) else name
        raise LayerValidationError(
            f"layer name {shown!r} is not allowed: use 1-63 characters, a lower-case letter "
            "first, then lower-case letters, digits or underscores (e.g. 'localities_tabasco')"
        )
    if name.startswith(RESERVED_NAME_PREFIXES):
        raise LayerValidationError(
            f"layer name {name!r} is not allowed: names starting with 'gpkg' or 'sqlite_' are "
            "reserved by GeoPackage and SQLite; choose another name",
            subject="layer_name",
        )
    return name


def new_physical(name: str) -> str:
    """A fresh physical table name for a new version of layer ``name``."""
    return f"{name}__v{uuid.uuid4().hex[:8]}"


def check_bbox(bbox: BBox | None) -> BBox | None:
    """``bbox`` as four floats (min lon, min lat, max lon, max lat), or ``ValueError``."""
    if bbox is None:
        return None
    values = tuple(float(v) for v in bbox)
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(
            f"bbox must be 4 finite numbers (min lon, min lat, max lon, max lat), got {bbox!r}"
        )
    min_x, min_y, max_x, max_y = values
    if min_y > max_y:
        raise ValueError(f"bbox {bbox!r} is inverted: give (min lon, min lat, max lon, max lat)")
    return (min_x, min_y, max_x, max_y)


def parse_bbox(text: str) -> BBox:
    """A ``bbox`` of 4 numbers (lon/lat) or 6 (lon/lat/height, heights ignored), CRS84.

    A box whose min lon exceeds its max lon crosses the antimeridian, as OGC API –
    Features allows (``/req/core/fc-bbox-response``).

    Examples
    --------
    >>> parse_bbox("-93.5,17.5,-92.5,18.5")
    (-93.5, 17.5, -92.5, 18.5)
    >>> parse_bbox("177,65,-177,70")
    (177.0, 65.0, -177.0, 70.0)
    >>> parse_bbox("-93.5,17.5,0,-92.5,18.5,100")
    (-93.5, 17.5, -92.5, 18.5)
    """
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameterError(
            f"bbox takes 4 comma-separated numbers (min lon, min lat, max lon, max lat) or 6 "
            f"(with min and max height), got {len(parts)} values; e.g. bbox=-93.5,17.5,-92.5,18.5"
        )
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise InvalidParameterError(
            "bbox values must be numbers (min lon, min lat, max lon, max lat); "
            "e.g. bbox=-93.5,17.5,-92.5,18.5"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise InvalidParameterError("bbox values must be finite numbers")
    if len(values) == 6:
        min_x, min_y, min_z, max_x, max_y, max_z = values
        if min_z > max_z:
            raise InvalidParameterError(
                f"bbox min height {min_z:g} is above its max height {max_z:g}"
            )
    else:
        min_x, min_y, max_x, max_y = values
    for label, value, bound in (
        ("min lon", min_x, 180),
        ("max lon", max_x, 180),
        ("min lat", min_y, 90),
        ("max lat", max_y, 90),
    ):
        if not -bound <= value <= bound:
            raise InvalidParameterError(f"bbox {label} {value:g} is outside -{bound}..{bound}")
    if min_y > max_y:
        raise InvalidParameterError(
            f"bbox min lat {min_y:g} is north of max lat {max_y:g} (the order is min lon, "
            "min lat, max lon, max lat)"
        )
    return (min_x, min_y, max_x, max_y)


def bbox_halves(bbox: BBox) -> list[BBox]:
    """``bbox`` as plain boxes: a box with min lon > max lon crosses the antimeridian and
    is the union of its part east of ``min lon`` and its part west of ``max lon``.

    Examples
    --------
    >>> bbox_halves((170.0, -10.0, -170.0, 10.0))
    [(170.0, -10.0, 180.0, 10.0), (-180.0, -10.0, -170.0, 10.0)]
    """
    min_x, min_y, max_x, max_y = bbox
    if min_x <= max_x:
        return [bbox]
    return [(min_x, min_y, 180.0, max_y), (-180.0, min_y, max_x, max_y)]


def utc_now() -> str:
    """The time now as stored in the catalog (ISO 8601, seconds, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------- writes


def check_vector_write(name: str, kind: LayerKind, frame: gpd.GeoDataFrame) -> LayerKind:
    """The checks every backend makes before storing ``frame`` as vector layer ``name``.

    The name is valid, the kind is a vector kind, the frame is in EPSG:4326 and has no
    column the store keeps for itself (``fid``, the geometry column). Returns the kind.
    """
    check_layer_name(name)
    kind = LayerKind(kind)
    if kind is LayerKind.RASTER:
        raise LayerValidationError(
            "raster layers are stored with write_raster(), not write_layer()"
        )
    crs = getattr(frame, "crs", None)
    if crs is None or crs.to_epsg() != 4326:
        raise LayerValidationError(
            f"layer {name!r} must be in EPSG:4326 to be stored, not {crs}; "
            "load it through the ingest pipeline, which reprojects it"
        )
    geometry = frame.geometry.name
    columns = [str(c) for c in frame.columns if c != geometry]
    clashes = [c for c in columns if c.lower() == "fid"]
    if clashes:
        raise LayerValidationError(
            f"layer {name!r} has a column {clashes[0]!r}, which the store uses for feature "
            "ids; rename it (e.g. to 'source_id')"
        )
    clashes = [c for c in columns if c.lower() == GEOMETRY_COLUMN]
    if clashes:
        raise LayerValidationError(
            f"layer {name!r} has a column {clashes[0]!r}, which the store uses for "
            "geometries; rename it (e.g. to 'source_geom')"
        )
    return kind


def vector_info(
    name: str,
    kind: LayerKind,
    data: gpd.GeoDataFrame,
    report: ValidationReport,
    geometry_type: str | None,
) -> tuple[LayerInfo, dict[str, str]]:
    """The catalog entry of ``data`` stored as ``name``, and its columns' dtypes."""
    bbox: BBox | None = None
    if len(data) and data.geometry.notna().any() and not data.geometry.is_empty.all():
        bounds = data.total_bounds
        bbox = (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))
    info = LayerInfo(
        name=name,
        kind=kind,
        source=report.source,
        loaded_at=utc_now(),
        feature_count=len(data),
        geometry_type=geometry_type,
        bbox=bbox,
        report=report_dict(report),
    )
    geometry = data.geometry.name
    columns = {str(c): str(data[c].dtype) for c in data.columns if c != geometry}
    return info, columns


def raster_info(name: str, report: ValidationReport, bbox: BBox | None) -> LayerInfo:
    """The catalog entry of a raster stored as ``name``."""
    return LayerInfo(
        name=name,
        kind=LayerKind.RASTER,
        source=report.source,
        loaded_at=utc_now(),
        feature_count=0,
        geometry_type=None,
        bbox=bbox,
        report=report_dict(report),
    )


def check_written(name: str, expected: int, found: int) -> None:
    """Refuse a new version whose feature count read back differs from what was written."""
    if found != expected:
        raise StoreWriteError(
            f"layer {name!r} was not stored: {expected} features were written but "
            f"{found} read back; the store is unchanged"
        )


def layer_geometry_type(frame: gpd.GeoDataFrame) -> tuple[str | None, bool]:
    """The geometry type of a whole layer as GDAL names it, and whether to promote singles.

    Mixed single and multi parts of one family are stored as multi (as GDAL stores them
    in a GeoPackage); other mixes are ``Unknown`` (a generic geometry column); a layer
    without geometries has none. Decided once for all of a write's batches.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import MultiPoint, Point
    >>> layer_geometry_type(gpd.GeoDataFrame(geometry=[Point(0, 0), MultiPoint([(1, 1)])]))
    ('MultiPoint', True)
    """
    geometry = frame.geometry
    types = {str(t) for t in geometry[geometry.notna()].geom_type.unique()}
    if not types:
        return None, False
    if len(types) == 1:
        return types.pop(), False
    multi = [t for t in types if t.startswith("Multi")]
    if len(types) == 2 and len(multi) == 1 and multi[0][len("Multi") :] in types:
        return multi[0], True
    return "Unknown", False


def catalog_values(info: LayerInfo, physical: str, columns: dict[str, str]) -> tuple[Any, ...]:
    """The values of a catalog row, in the order of :data:`CATALOG_FIELDS`."""
    bbox = info.bbox or (None, None, None, None)
    return (
        info.name,
        info.kind.value,
        info.source,
        info.loaded_at,
        info.feature_count,
        info.geometry_type,
        *bbox,
        json.dumps(info.report),
        json.dumps(columns),
        physical,
    )


def report_dict(report: ValidationReport) -> dict[str, Any]:
    """The report as stored: JSON types (the bbox a list), as it reads back."""
    result: dict[str, Any] = json.loads(json.dumps(report.to_dict()))
    return result


def raster_bbox(tif: Path, name: str) -> BBox | None:
    """Open ``tif`` with rasterio to check it is a readable GeoTIFF; return its EPSG:4326 bbox."""
    import rasterio
    import rasterio.errors
    from rasterio.warp import transform_bounds

    try:
        with rasterio.open(tif) as src:
            if src.driver != "GTiff":
                raise StoreWriteError(f"raster {name!r} is {src.driver}, not a GeoTIFF")
            if src.crs is None:
                return None
            left, bottom, right, top = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    except rasterio.errors.RasterioError as exc:
        log.warning("raster %s could not be read back from %s: %s", name, tif, exc)
        raise StoreWriteError(f"raster {name!r} could not be read back as a GeoTIFF") from exc
    return (float(left), float(bottom), float(right), float(top))


# ---------------------------------------------------------------------- reads


def row_from_record(record: Sequence[Any]) -> CatalogRow:
    """A catalog row from the values of :data:`CATALOG_FIELDS`, as either backend reads them."""
    (
        name,
        kind,
        source,
        loaded_at,
        feature_count,
        geometry_type,
        min_lon,
        min_lat,
        max_lon,
        max_lat,
        report,
        columns,
        physical,
    ) = record
    bbox = None if min_lon is None else (min_lon, min_lat, max_lon, max_lat)
    info = LayerInfo(
        name=name,
        kind=LayerKind(kind),
        source=source,
        loaded_at=loaded_at,
        feature_count=int(feature_count),
        geometry_type=geometry_type,
        bbox=bbox,
        report=json.loads(report),
    )
    return CatalogRow(info=info, physical=physical, columns=json.loads(columns))


def proposal_from_record(record: Sequence[Any]) -> StoredProposal:
    """A stored proposal from ``(name, kind, created_at, document text)``."""
    name, kind, created, text = record
    return StoredProposal(str(name), str(kind), str(created), json.loads(text))


def found_row(name: str, rows: list[CatalogRow], all_names: Callable[[], list[str]]) -> CatalogRow:
    """The row of ``name`` from ``rows`` (its lookup), or the error saying what is stored."""
    if rows:
        return rows[0]
    names = all_names()
    if not names:
        raise NotFoundError(
            f"no layer named {name!r}; the store has no layers yet", subject="layers"
        )
    if len(names) <= _NAMES_IN_MESSAGE:
        known = "stored layers: " + ", ".join(names)
    else:
        known = f"{len(names)} layers are stored"
    raise NotFoundError(f"no layer named {name!r}; {known}", subject="layer")


def vector_row(row: CatalogRow) -> CatalogRow:
    """``row`` if it is a vector layer's, else the error pointing at the raster calls."""
    if row.info.kind is LayerKind.RASTER:
        raise NotFoundError(
            f"layer {row.info.name!r} is a raster; use raster_path() or export(..., 'tif')"
        )
    return row


def raster_row(row: CatalogRow) -> CatalogRow:
    """``row`` if it is a raster layer's, else the error pointing at the vector calls."""
    if row.info.kind is not LayerKind.RASTER:
        raise NotFoundError(
            f"layer {row.info.name!r} is a {row.info.kind.value} vector layer, not a raster; "
            "use read() or export() instead"
        )
    return row


def found_proposal(
    name: str, records: list[tuple[Any, ...]], all_names: Callable[[], list[str]]
) -> StoredProposal:
    """The proposal of ``name`` from ``records`` (its lookup), or the error naming the rest."""
    if not records:
        names = all_names()
        known = f"stored: {', '.join(names[:_NAMES_IN_MESSAGE])}" if names else "none stored"
        raise NotFoundError(f"no proposal named {name!r} ({known})", subject="proposal")
    return proposal_from_record(records[0])


def check_page(limit: int, offset: int) -> None:
    """Refuse a negative page size or offset."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must be >= 0, got {limit} and {offset}")


def restore_dtypes(frame: gpd.GeoDataFrame, columns: dict[str, str]) -> gpd.GeoDataFrame:
    """Give back the dtypes storage cannot keep (nullable ints and booleans read as float)."""
    for column, dtype in columns.items():
        if column in frame.columns and str(frame[column].dtype) != dtype:
            if dtype not in _CASTABLE_DTYPES:
                continue
            try:
                frame[column] = frame[column].astype(dtype)
            except (TypeError, ValueError):
                log.debug("kept column %s as %s", column, frame[column].dtype)
    return frame
