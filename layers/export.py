"""Write a stored layer out as a file others can open.

Vector layers go to GeoJSON (RFC 7946: lon/lat in WGS 84, no ``crs`` member), GeoPackage
(version 1.2, which GDAL 3.6 and QGIS 3.22 read without a warning), KML, or CSV (UTF-8 with
a byte-order mark so Excel reads accents right; geometry as a ``wkt`` column, plus ``lon``
and ``lat`` for point layers).
Raster layers are copied as GeoTIFF. Every export is written to a temporary file in the
destination folder and moved into place only once complete, so an existing file is never
left half-written.

Exports are opened by other programs, so what a layer's attributes hold must not act in
them: in CSV, a text cell or column name starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return gets a leading ``'`` (OWASP's rule against formula injection:
spreadsheets show it as text); in KML, column names become XML names (letters, digits,
``_``), since GDAL writes them unescaped into ``<SimpleField name=...>``.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from layers.errors import ExportError, UnsafeInputError
from layers.kinds import LayerKind

if TYPE_CHECKING:
    import geopandas as gpd

    from layers.store_api import LayerStore

log = logging.getLogger(__name__)

GPKG_VERSION = "1.2"
#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_XML_NAME_BAD = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class _Format:
    extension: str
    description: str
    write: Callable[[gpd.GeoDataFrame, Path, str, str | None], None]


def _write_geojson(
    frame: gpd.GeoDataFrame, path: Path, layer: str, geometry_type: str | None
) -> None:
    import pyogrio

    pyogrio.write_dataframe(
        frame, path, layer=layer, driver="GeoJSON", layer_options={"RFC7946": "YES"}
    )


def _write_gpkg(frame: gpd.GeoDataFrame, path: Path, layer: str, geometry_type: str | None) -> None:
    import pyogrio

    # GDAL 3.7+ writes GeoPackage 1.4 by default; GDAL 3.6 (Debian 12, QGIS 3.22) warns it
    # "may only be partially supported". 1.2 is what GDAL 3.6 itself writes.
    pyogrio.write_dataframe(
        frame, path, layer=layer, driver="GPKG", dataset_options={"VERSION": GPKG_VERSION}
    )


def _write_kml(frame: gpd.GeoDataFrame, path: Path, layer: str, geometry_type: str | None) -> None:
    import pyogrio

    frame = frame.rename(columns=kml_field_names(frame.columns, frame.geometry.name))
    options = {"NameField": "name"} if "name" in frame.columns else {}
    pyogrio.write_dataframe(frame, path, layer=layer, driver="KML", dataset_options=options)


def kml_field_names(columns: Iterable[object], geometry: str) -> dict[object, str]:
    """Map column names to distinct XML names GDAL can write into KML unescaped.

    Examples
    --------
    >>> kml_field_names(["name", 'a"><x', "2020", "a___x"], "geometry")
    {'a"><x': 'a___x_2', '2020': '_2020'}
    """
    renames: dict[object, str] = {}
    taken = {str(c) for c in columns if _XML_NAME_BAD.sub("_", str(c)) == str(c)}
    for column in columns:
        text = str(column)
        if column == geometry:
            continue
        safe = _XML_NAME_BAD.sub("_", text) or "_"
        if not (safe[0].isalpha() or safe[0] == "_"):
            safe = f"_{safe}"
        if safe == text:
            continue
        candidate, n = safe, 2
        while candidate in taken:
            candidate, n = f"{safe}_{n}", n + 1
        taken.add(candidate)
        renames[column] = candidate
    return renames


def neutralise_formula(value: object) -> object:
    """Prefix a text that a spreadsheet would run as a formula with ``'``; keep the rest.

    Examples
    --------
    >>> [neutralise_formula(v) for v in ("=HYPERLINK(1)", "Villahermosa", -3)]
    ["'=HYPERLINK(1)", 'Villahermosa', -3]
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _write_csv(frame: gpd.GeoDataFrame, path: Path, layer: str, geometry_type: str | None) -> None:
    import shapely
    from pandas.api.types import is_numeric_dtype

    geometry = frame.geometry
    table = frame.drop(columns=[geometry.name])
    table = table.reset_index(drop=True)
    if geometry_type == "Point":
        table["lon"] = geometry.x.to_numpy()
        table["lat"] = geometry.y.to_numpy()
    # Full precision: shapely rounds to 6 decimals by default.
    wkt = shapely.to_wkt(geometry.to_numpy(), rounding_precision=-1)
    table["wkt"] = wkt
    for column in table.columns:
        if not is_numeric_dtype(table[column].dtype):  # numbers (e.g. -92.9) are not formulas
            table[column] = table[column].map(neutralise_formula, na_action="ignore")
    table.columns = [str(neutralise_formula(str(column))) for column in table.columns]
    # RFC 4180 line ends: with CRLF as the terminator, a value holding a lone CR is quoted
    # rather than written raw, where spreadsheets would start a new row. The byte-order
    # mark is how Excel knows the file is UTF-8 ("Cancún", not "CancÃºn"); GDAL, pandas
    # and Python's csv module with utf-8-sig skip it.
    table.to_csv(path, index=False, lineterminator="\r\n", encoding="utf-8-sig")


VECTOR_FORMATS: dict[str, _Format] = {
    "geojson": _Format("geojson", "GeoJSON (RFC 7946)", _write_geojson),
    "gpkg": _Format("gpkg", "GeoPackage", _write_gpkg),
    "kml": _Format("kml", "KML", _write_kml),
    "csv": _Format("csv", "CSV with WKT geometry", _write_csv),
}
RASTER_FORMATS: dict[str, str] = {"tif": "GeoTIFF"}


def export_layer(store: LayerStore, name: str, fmt: str, out: Path) -> Path:
    """Write stored layer ``name`` to ``out`` and return the file written.

    Vector layers export to ``geojson`` (RFC 7946), ``gpkg``, ``kml`` or ``csv`` (WKT
    geometry, plus ``lon``/``lat`` for point layers); raster layers to ``tif``. ``out``
    is a file path, or an existing folder to write ``<name>.<ext>`` into. The request is
    checked before any data is read; an existing file is replaced only once the new one
    is complete. Every store backend exports through here.
    """
    info = store.info(name)
    raster = info.kind is LayerKind.RASTER
    check_request(fmt, out, name, raster=raster)
    if raster:
        return export_raster(store.raster_path(name), fmt, out, name)
    return export_frame(store.read(name), fmt, out, name, geometry_type=info.geometry_type)


def export_frame(
    frame: gpd.GeoDataFrame,
    fmt: str,
    out: Path,
    name: str,
    *,
    geometry_type: str | None = None,
) -> Path:
    """Write ``frame`` (EPSG:4326) as ``fmt`` to ``out`` and return the file written.

    Parameters
    ----------
    frame
        The layer, in EPSG:4326.
    fmt
        One of :data:`VECTOR_FORMATS`: ``geojson``, ``gpkg``, ``kml``, ``csv``.
    out
        The file to write, or an existing folder to write ``<name>.<ext>`` into. Its folder
        must exist.
    name
        The layer name, used for the layer inside the file and the default file name.
    geometry_type
        The layer's geometry type as catalogued (``"Point"`` adds lon/lat columns to CSV).
    """
    target = check_request(fmt, out, name, raster=False)
    spec = VECTOR_FORMATS[fmt]
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ExportError(f"layer {name!r} must be in EPSG:4326 to export, not {frame.crs}")
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp.{spec.extension}")
    try:
        spec.write(frame, tmp, name, geometry_type)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("exported %s as %s to %s", name, fmt, target)
    return target


def export_raster(tif: Path, fmt: str, out: Path, name: str) -> Path:
    """Copy raster ``tif`` to ``out`` (a file, or an existing folder) as GeoTIFF."""
    target = check_request(fmt, out, name, raster=True)
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp.{fmt}")
    try:
        shutil.copyfile(tif, tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("exported raster %s to %s", name, target)
    return target


def check_request(fmt: str, out: Path, name: str, *, raster: bool) -> Path:
    """Check an export can be written before any data is read; return the target file.

    Raises :class:`ExportError` for a format the layer cannot take or a missing folder,
    :class:`UnsafeInputError` for a GDAL virtual path.
    """
    if raster:
        if fmt not in RASTER_FORMATS:
            raise ExportError(
                f"cannot export raster layer {name!r} as {fmt!r}; use one of: "
                f"{', '.join(RASTER_FORMATS)}"
            )
        return _target(out, name, fmt)
    spec = VECTOR_FORMATS.get(fmt)
    if spec is None:
        hint = " (raster layers export only to 'tif')" if fmt in RASTER_FORMATS else ""
        raise ExportError(
            f"cannot export vector layer {name!r} as {fmt!r}{hint}; "
            f"use one of: {', '.join(VECTOR_FORMATS)}"
        )
    return _target(out, name, spec.extension)


def _target(out: Path, name: str, extension: str) -> Path:
    """Resolve where an export goes; refuse GDAL virtual paths and missing folders."""
    text = str(out)
    if text.startswith("/vsi") or "://" in text:
        raise UnsafeInputError(f"export to {text!r} refused: give a local file path")
    out = Path(out)
    if out.is_dir():
        return out / f"{name}.{extension}"
    if not out.parent.is_dir():
        raise ExportError(
            f"cannot write {out}: folder {out.parent} does not exist; create it first"
        )
    return out
