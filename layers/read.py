"""Read a checked file into a GeoDataFrame (vectors) or open it as a GeoTIFF (rasters).

Formats are recognised by extension and confirmed by the file's first bytes before GDAL
sees it, so a ``.csv`` or ``.geojson`` holding GDAL's VRT XML (which can point at any file
on the server) is refused rather than opened. Vectors are read with pyogrio, rasters with
rasterio restricted to the GTiff driver; nothing here parses a geometry format by hand.

Limits are enforced before the data is read: the feature count from ``pyogrio.read_info``
and, once read, the vertices of every geometry. GDAL's messages are summarised without the
server's folders.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers._safety import SafeInput
from layers.errors import LayerValidationError, LimitExceededError
from layers.limits import Limits, LoadDeadline
from layers.roads import ProgressCallback, read_osm_extract

logger = logging.getLogger(__name__)

#: GDAL driver for each file suffix Trazo reads.
DRIVERS: dict[str, str] = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".kml": "KML",
    ".fgb": "FlatGeobuf",
    ".csv": "CSV",
    ".tif": "GTiff",
    ".tiff": "GTiff",
    ".pbf": "OSM",
}
#: Suffixes of datasets that may be found inside a zip archive (shapefiles are handled apart).
DATASET_SUFFIXES = frozenset(DRIVERS) - {".shp"}

#: Column names recognised as coordinates in a CSV, in order of preference (lower case).
LON_NAMES = ("lon", "lng", "longitude", "longitud", "long", "x")
LAT_NAMES = ("lat", "latitude", "latitud", "y")

#: Columns GDAL's LIBKML driver adds to every KML layer, with the value meaning "not set".
_KML_BOOKKEEPING: dict[str, object] = {
    "description": None,
    "timestamp": None,
    "begin": None,
    "end": None,
    "altitudeMode": None,
    "tessellate": -1,
    "extrude": 0,
    "visibility": -1,
    "drawOrder": None,
    "icon": None,
}
_ACCEPTED_DRIVERS = {"KML": {"KML", "LIBKML"}}
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_SNIFF_BYTES = 64 * 1024
_SHP_HEADER_BYTES = 100  # .shp and .shx headers
_SHX_RECORD_BYTES = 8  # one (offset, length) pair per shape
_GPKG_CHECK_STEPS = 10_000  # x 1000 SQLite instructions for listing a GeoPackage's tables
_MESSAGE_CHARS = 300


@dataclass
class RawLayer:
    """What was read from a file, before validation.

    Attributes
    ----------
    format : str
        GDAL driver name (``"GeoJSON"``, ``"GPKG"``, ``"ESRI Shapefile"``, ``"KML"``,
        ``"FlatGeobuf"``, ``"CSV"`` or ``"GTiff"``).
    frame : GeoDataFrame or None
        The features, for vector formats; the CRS is the file's (``None`` if it has none).
    raster : Path or None
        The GeoTIFF, for raster formats.
    warnings : list of str
        Notes for the report (GDAL warnings, encoding fallbacks, ...).
    """

    format: str
    frame: gpd.GeoDataFrame | None = None
    raster: Path | None = None
    warnings: list[str] = field(default_factory=list)


def detect_format(path: Path, display_name: str) -> str:
    """Return the GDAL driver for a file, from its suffix, confirmed by its first bytes.

    Parameters
    ----------
    path : Path
        The checked file (an extracted copy has the suffix of the archive member).
    display_name : str
        The user's file name, for messages.

    Returns
    -------
    str
        A value of :data:`DRIVERS`.

    Raises
    ------
    LayerValidationError
        For unsupported suffixes and content that does not match the suffix.
    """
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    driver = DRIVERS.get(suffix)
    if driver is None:
        driver = _driver_from_magic(head)
        if driver is None:
            supported = ", ".join(sorted({*DRIVERS, ".zip"}))
            raise LayerValidationError(
                f"{display_name!r}: unsupported file type {suffix or '(no extension)'!r}; "
                f"Trazo reads {supported}"
            )
    problem = _content_problem(driver, head)
    if problem is None and driver == "KML":
        problem = _kml_problem(path)
    if problem is not None:
        raise LayerValidationError(f"{display_name!r} does not look like {driver}: {problem}")
    return driver


def _driver_from_magic(head: bytes) -> str | None:
    if head.startswith(b"SQLite format 3\x00"):
        return "GPKG"
    if head.startswith(b"fgb\x03"):
        return "FlatGeobuf"
    if head[:4] in _TIFF_MAGIC:
        return "GTiff"
    return None


def _text_start(head: bytes) -> bytes:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()


def _content_problem(driver: str, head: bytes) -> str | None:
    """Say why ``head`` cannot be the start of a ``driver`` file, or ``None``."""
    text = _text_start(head)
    lowered = head.lower()
    if b"ogrvrtdatasource" in lowered or b"vrtdataset" in lowered:
        return "it holds GDAL VRT XML, which is not accepted"
    if driver == "GeoJSON" and not text.startswith(b"{"):
        return "a GeoJSON file starts with '{'"
    if driver == "GPKG" and not head.startswith(b"SQLite format 3\x00"):
        return "a GeoPackage is an SQLite database"
    if driver == "ESRI Shapefile" and not head.startswith(_SHP_MAGIC):
        return "the .shp part lacks the shapefile header"
    if driver == "FlatGeobuf" and not head.startswith(b"fgb\x03"):
        return "a FlatGeobuf file starts with 'fgb'"
    if driver == "GTiff" and head[:4] not in _TIFF_MAGIC:
        return "a GeoTIFF starts with a TIFF header"
    if driver == "KML" and b"<kml" not in lowered:
        return "a KML file has a <kml> element"
    if driver == "OSM" and b"OSMHeader" not in head[:64]:
        return "an OpenStreetMap PBF file starts with an OSMHeader block"
    if driver == "CSV" and (text[:1] in (b"<", b"{", b"[") or b"\x00" in head):
        return "a CSV file is plain text with a header row"
    return None


def _kml_problem(path: Path) -> str | None:
    """Scan a whole KML file for constructs that make GDAL reach beyond it."""
    forbidden = {
        b"<!entity": "XML entity declarations are not accepted",
        b"<!doctype": "XML DOCTYPE declarations are not accepted",
        b"<networklink": "NetworkLink elements (remote content) are not accepted",
    }
    overlap = max(len(token) for token in forbidden)
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_SNIFF_BYTES):
            window = (tail + chunk).lower()
            for token, problem in forbidden.items():
                if token in window:
                    return problem
            tail = window[-overlap:]
    return None


def summarise_gdal_message(message: str, path: Path, display_name: str) -> str:
    """Make a GDAL message safe to show: no server folders, bounded length.

    Examples
    --------
    >>> summarise_gdal_message(
    ...     "/tmp/trazo-x/layer.gpkg: file is not a database", Path("/tmp/trazo-x/layer.gpkg"),
    ...     "municipios.gpkg")
    'municipios.gpkg: file is not a database'
    """
    text = str(message)
    for variant in {str(path), str(path.resolve())}:
        text = text.replace(variant, display_name)
    text = re.sub(r"(?<![\w.])/[^\s'\",;:()]+", "<path>", text)
    text = " ".join(text.split())
    if len(text) > _MESSAGE_CHARS:
        text = text[: _MESSAGE_CHARS - 3] + "..."
    return text


def read_input(
    source: SafeInput,
    limits: Limits,
    *,
    layer: str | None = None,
    progress: ProgressCallback | None = None,
    deadline: LoadDeadline | None = None,
) -> RawLayer:
    """Read a checked file.

    Parameters
    ----------
    source : SafeInput
        The file, as returned by the safety checks.
    limits : Limits
        ``max_features`` and ``max_vertices_per_geometry`` are enforced here.
    layer : str, optional
        The layer to read from a file holding several (GeoPackage, KML).
    progress : callable, optional
        Called with the features read so far, for formats read in batches (OSM).
    deadline : LoadDeadline, optional
        Checked after each step and between batches (default: ``limits.max_load_seconds``
        from now); the GeoPackage table check stops SQLite when it passes.

    Returns
    -------
    RawLayer
        The features or the raster, with the format and any reader warnings.

    Raises
    ------
    LayerValidationError
        For unreadable or corrupt files, missing shapefile parts, files holding several
        layers when none was chosen, and CSV files without usable coordinate columns.
    LimitExceededError
        For too many features or vertices, or a read past the load time limit.
    """
    deadline = deadline or LoadDeadline(limits.max_load_seconds, source.source)
    path = source.path
    if path.suffix.lower() == ".shp":
        _check_shapefile_parts(path, source.source)
    driver = detect_format(path, source.source)
    if driver == "GTiff":
        return RawLayer(format=driver, raster=path)
    if driver == "GPKG":
        _check_gpkg_tables(path, source.source, deadline)
    deadline.check("checking its format")
    notes: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if driver == "OSM":
                frame = read_osm_extract(
                    path, source.source, limits, _checking(deadline, "reading it", progress)
                )
            else:
                frame = _read_vector(path, driver, source.source, limits, layer, notes)
    except (LayerValidationError, LimitExceededError):
        raise
    except Exception as err:  # pyogrio/GDAL raise many types for corrupt input
        logger.info("cannot read %s (%s): %r", source.source, path, err)
        message = summarise_gdal_message(str(err), path, source.source)
        raise LayerValidationError(
            f"{source.source!r} cannot be read as {driver}: {message}"
        ) from None
    for warning in caught:
        notes.append(summarise_gdal_message(str(warning.message), path, source.source))
    deadline.check("reading it")
    _check_vertices(frame, limits)
    return RawLayer(format=driver, frame=frame, warnings=notes)


def _checking(
    deadline: LoadDeadline, step: str, progress: ProgressCallback | None
) -> ProgressCallback:
    """A progress callback that checks ``deadline`` between batches, then reports."""

    def report(read: int) -> None:
        deadline.check(step)
        if progress is not None:
            progress(read)

    return report


def _check_shapefile_parts(path: Path, name: str) -> None:
    missing = [
        suffix for suffix in (".shp", ".shx", ".dbf") if not path.with_suffix(suffix).is_file()
    ]
    if missing:
        raise LayerValidationError(
            f"shapefile {name!r} is missing its {', '.join(missing)} "
            f"part{'s' if len(missing) > 1 else ''}; zip all the parts "
            "(.shp, .shx, .dbf and .prj) together"
        )
    shapes, records = _shapefile_records(path)
    if shapes is not None and records is not None and shapes != records:
        raise LayerValidationError(
            f"shapefile {name!r}: its .dbf has {records:,} attribute records but its .shp "
            f"has {shapes:,} shapes, so features would lose their attributes or be dropped; "
            "the parts do not belong together - export the shapefile again"
        )


def _shapefile_records(path: Path) -> tuple[int | None, int | None]:
    """The shape count from the .shx index and the record count from the .dbf header."""
    shx = path.with_suffix(".shx")
    shapes = (shx.stat().st_size - _SHP_HEADER_BYTES) // _SHX_RECORD_BYTES
    with path.with_suffix(".dbf").open("rb") as handle:
        header = handle.read(8)
    records = int.from_bytes(header[4:8], "little") if len(header) == 8 else None
    return (shapes if shapes >= 0 else None), records


def _check_gpkg_tables(path: Path, display_name: str, deadline: LoadDeadline) -> None:
    """Refuse a GeoPackage whose layers are not plain tables, before GDAL opens it.

    A layer registered in ``gpkg_contents`` may be a view, whose SQL runs on every read:
    a recursive one never ends, and GDAL cannot be interrupted while it counts. Only plain
    tables are read. The file is opened read-only and immutable (no locks, no journal),
    and SQLite is stopped if the check itself runs long or the load's time is up.
    """
    import sqlite3
    from urllib.parse import quote

    uri = f"file:{quote(str(path.absolute()))}?mode=ro&immutable=1"
    budget = [_GPKG_CHECK_STEPS]

    def spend() -> int:
        budget[0] -= 1
        return 1 if budget[0] <= 0 or deadline.passed() else 0

    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return  # GDAL then says what is wrong with the file
    try:
        conn.set_progress_handler(spend, 1000)
        rows = conn.execute(
            "SELECT c.table_name, m.type, m.sql FROM gpkg_contents AS c LEFT JOIN sqlite_master "
            "AS m ON lower(m.name) = lower(c.table_name) WHERE c.data_type IN "
            "('features', 'attributes')"
        ).fetchall()
    except sqlite3.Error:
        deadline.check("listing its tables")
        return
    finally:
        conn.close()
    for table, kind, sql in rows:
        if kind == "view":
            raise LayerValidationError(
                f"{display_name!r}: layer {table!r} is an SQL view; Trazo reads only tables "
                "(save the view's result as a table, e.g. with ogr2ogr)"
            )
        if kind == "table" and str(sql or "").lstrip().upper().startswith("CREATE VIRTUAL"):
            raise LayerValidationError(
                f"{display_name!r}: layer {table!r} is a virtual table; Trazo reads only "
                "plain tables"
            )


def _choose_layer(path: Path, display_name: str, layer: str | None) -> str | None:
    import pyogrio

    listed = pyogrio.list_layers(path)
    names = [str(row[0]) for row in listed]
    spatial = [str(row[0]) for row in listed if row[1] is not None]
    if layer is not None:
        if layer not in names:
            raise LayerValidationError(
                f"{display_name!r} has no layer {layer!r}; its layers are: {', '.join(names)}"
            )
        return layer
    if len(spatial) == 1:
        return spatial[0]
    if not spatial:
        if len(names) == 1:
            return names[0]
        raise LayerValidationError(f"{display_name!r} has no layer with geometries")
    raise LayerValidationError(
        f"{display_name!r} holds {len(spatial)} layers ({', '.join(spatial)}); choose one of them"
    )


def _read_vector(
    path: Path,
    driver: str,
    display_name: str,
    limits: Limits,
    layer: str | None,
    notes: list[str],
) -> gpd.GeoDataFrame:
    import pyogrio

    chosen = _choose_layer(path, display_name, layer)
    info = pyogrio.read_info(path, layer=chosen, force_feature_count=True)
    opened = str(info.get("driver") or driver)
    if opened not in _ACCEPTED_DRIVERS.get(driver, {driver}):
        raise LayerValidationError(
            f"{display_name!r} has a {driver} extension but GDAL reads it as {opened}"
        )
    count = int(info.get("features") or 0)
    if count > limits.max_features:
        raise LimitExceededError(
            f"{display_name!r} has {count:,} features, over the {limits.max_features:,} "
            "limit (max_features)"
        )
    read_options: dict[str, Any] = {"layer": chosen, "max_features": limits.max_features + 1}
    if driver == "CSV":
        return _read_csv(path, display_name, read_options, notes)
    frame = pyogrio.read_dataframe(path, **read_options)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LayerValidationError(f"{display_name!r} has no geometries")
    if len(frame) > limits.max_features:
        raise LimitExceededError(
            f"{display_name!r} has more than {limits.max_features:,} features, over the "
            "limit (max_features)"
        )
    if driver == "KML":
        frame = _drop_kml_bookkeeping(frame, chosen)
    return frame


def _drop_kml_bookkeeping(frame: gpd.GeoDataFrame, layer: str | None) -> gpd.GeoDataFrame:
    """Drop the columns the KML reader adds when no placemark sets them.

    Placemark ids of the form ``<layer>.<n>`` (what GDAL writes) are dropped too, so they
    are not mistaken for an ``id`` attribute.
    """
    unused = []
    for column, unset in _KML_BOOKKEEPING.items():
        if column in frame.columns:
            values = frame[column]
            if bool(
                (values.isna() | (values == unset) if unset is not None else values.isna()).all()
            ):
                unused.append(column)
    if "id" in frame.columns and layer is not None:
        ids = frame["id"].astype("string")
        if bool(ids.str.fullmatch(re.escape(layer) + r"\.\d+").fillna(True).all()):
            unused.append("id")
    return frame.drop(columns=unused)


def _find_column(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    by_lower = {str(column).lower(): str(column) for column in columns}
    for candidate in candidates:
        if candidate in by_lower:
            return by_lower[candidate]
    return None


def _read_csv(
    path: Path, display_name: str, read_options: dict[str, Any], notes: list[str]
) -> gpd.GeoDataFrame:
    """Read a CSV's rows as text and build points from its longitude/latitude columns.

    Columns named lon/lat, longitude/latitude, longitud/latitud (or lng, long) hold degrees,
    so the points get EPSG:4326; columns named x/y get no CRS (validation decides). The
    coordinate columns become the geometry and are not kept as attributes.
    """
    import pyogrio

    options = dict(read_options, read_geometry=False, AUTODETECT_TYPE="NO")
    try:
        table = pyogrio.read_dataframe(path, encoding="utf-8", **options)
    except UnicodeDecodeError:
        table = pyogrio.read_dataframe(path, encoding="cp1252", **options)
        notes.append("the CSV is not UTF-8; it was read as Windows-1252 (Latin-1)")
    columns = [str(column) for column in table.columns]
    lon = _find_column(columns, LON_NAMES)
    lat = _find_column(columns, LAT_NAMES)
    if lon is None or lat is None:
        raise LayerValidationError(
            f"CSV {display_name!r} needs longitude and latitude columns (named "
            f"{'/'.join(LON_NAMES)} and {'/'.join(LAT_NAMES)}); columns found: "
            f"{', '.join(columns) or 'none'}"
        )
    xs = _numbers(table[lon])
    ys = _numbers(table[lat])
    bad = xs.isna() | ys.isna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # header is line 1
        raise LayerValidationError(
            f"CSV {display_name!r}: {int(bad.sum()):,} rows have an empty or non-numeric "
            f"coordinate in columns {lon!r}/{lat!r} (first on line {first}); "
            "fix or remove those rows"
        )
    in_degrees = lon.lower() != "x" and lat.lower() != "y"
    attributes = table.drop(columns=[lon, lat])
    geometry = gpd.points_from_xy(xs.to_numpy(), ys.to_numpy())
    return gpd.GeoDataFrame(attributes, geometry=geometry, crs="EPSG:4326" if in_degrees else None)


def _numbers(column: pd.Series) -> pd.Series:
    text = column.astype("string").str.strip()
    return pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")


def _check_vertices(frame: gpd.GeoDataFrame, limits: Limits) -> None:
    counts = shapely.get_num_coordinates(np.asarray(frame.geometry.array))
    if len(counts) and int(counts.max()) > limits.max_vertices_per_geometry:
        worst = int(np.argmax(counts))
        raise LimitExceededError(
            f"feature {worst} has {int(counts[worst]):,} vertices, over the "
            f"{limits.max_vertices_per_geometry:,} limit (max_vertices_per_geometry); "
            "simplify the geometry or split it"
        )
