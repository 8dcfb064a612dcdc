"""Validate what was read: CRS, coordinates, geometries and attributes.

:func:`validate_vector` turns a raw GeoDataFrame into one a kind accepts, in EPSG:4326
lon/lat with the kind's typed attributes, and records what it did in a
:class:`~layers.report.ValidationReport`. :func:`validate_raster` does the same for a GeoTIFF.

Decisions
---------
- Null and empty geometries are dropped and counted in ``drop_reasons``.
- NaN or infinite coordinates are refused, even in one feature: they mean the file or its
  CRS is wrong, and dropping them would hide that. (A CSV row with a non-numeric
  coordinate is refused for the same reason, see :mod:`layers.read`.)
- Data without a CRS whose coordinates fit lon/lat ranges is taken as EPSG:4326 with a
  warning; otherwise it is refused.
- Coordinates that look like lat,lon in Mexico (x within 14..33 and y within -118..-86 for
  most features) are refused with a hint to swap the columns.
- Invalid geometries are repaired with ``shapely.make_valid``; the GEOS reason (without its
  location) is counted in ``repair_reasons``. Repairs are brought back to the kind's
  geometry family; a feature whose repair leaves nothing of that family is dropped.
- A layer left with no features is refused.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import LayerValidationError, LimitExceededError
from layers.kinds import AttributeSpec, GeometryFamily, LayerKind, kind_spec
from layers.limits import Limits
from layers.report import ValidationReport

if TYPE_CHECKING:
    from pyproj import CRS

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
#: Where Mexico's data lands when its longitude and latitude are exchanged.
SWAPPED_MEXICO_X = (14.0, 33.0)
SWAPPED_MEXICO_Y = (-118.0, -86.0)

_POINT, _LINE, _RING, _POLYGON = 0, 1, 2, 3
_MULTIPOINT, _MULTILINE, _MULTIPOLYGON, _COLLECTION = 4, 5, 6, 7
_FAMILY_TYPES: dict[GeometryFamily, frozenset[int]] = {
    "point": frozenset({_POINT, _MULTIPOINT}),
    "line": frozenset({_LINE, _RING, _MULTILINE}),
    "polygon": frozenset({_POLYGON, _MULTIPOLYGON}),
}
_FAMILY_NAMES: dict[GeometryFamily, str] = {
    "point": "points (Point, MultiPoint)",
    "line": "lines (LineString, MultiLineString)",
    "polygon": "polygons (Polygon, MultiPolygon)",
}
_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
_NUMBER_PLACEHOLDERS = frozenset({"*", "N/D", "ND", "N/A", "NA"})
_TRUE = frozenset({"true", "yes", "si", "sí", "1", "t", "y"})
_FALSE = frozenset({"false", "no", "0", "f", "n"})
_SHOWN_VALUES = 5
#: Whole numbers are stored as 64-bit integers (GeoPackage INTEGER).
_INT64_MAX = 2**63 - 1


def crs_label(crs: CRS) -> str:
    """Name a CRS by its authority code (``"EPSG:6372"``), else by its WKT name."""
    authority = crs.to_authority()
    if authority is not None:
        return f"{authority[0]}:{authority[1]}"
    return str(crs.name)


def earth_crs(crs: Any, what: str, sample: tuple[float, float]) -> CRS:
    """Return ``crs`` (pyproj, rasterio or WKT) as a pyproj CRS that can reach EPSG:4326.

    ``sample`` is a point of the data in ``crs`` (e.g. the centre of its bounds); it must
    transform to finite lon/lat.

    Raises
    ------
    LayerValidationError
        For a CRS PROJ cannot read, a local (engineering) CRS not tied to the Earth, and
        one with no transformation to EPSG:4326 (e.g. a unit of 1e-300 metres).
    """
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError, ProjError

    wkt = crs.to_wkt() if hasattr(crs, "to_wkt") else str(crs)
    try:
        parsed = CRS.from_user_input(wkt)
    except (CRSError, ProjError):
        raise LayerValidationError(
            f"{what} has a CRS that PROJ cannot read; save it with a standard CRS "
            "(e.g. EPSG:4326 or EPSG:6372)"
        ) from None
    label = crs_label(parsed)
    if parsed.is_engineering or not (parsed.is_geographic or parsed.is_projected):
        raise LayerValidationError(
            f"{what} has a local CRS ({label!r}) that is not tied to the Earth; save it "
            "in a geographic or projected CRS (e.g. EPSG:4326 or EPSG:6372)"
        )
    try:
        transformer = Transformer.from_crs(parsed, WGS84, always_xy=True)
        probe = transformer.transform(*sample)
    except (CRSError, ProjError):
        probe = (math.nan, math.nan)
    if not all(math.isfinite(float(value)) for value in probe):
        raise LayerValidationError(
            f"{what} has a CRS ({label!r}) that cannot be transformed to EPSG:4326 (check "
            "its units and parameters); save it with a standard CRS"
        )
    return parsed


def validate_vector(
    frame: gpd.GeoDataFrame, kind: LayerKind | str, report: ValidationReport
) -> gpd.GeoDataFrame:
    """Validate, reproject and repair a layer so that ``kind`` accepts it.

    Parameters
    ----------
    frame : GeoDataFrame
        The features as read, in the file's CRS (``None`` if it has none).
    kind : LayerKind or str
        A vector kind; fixes the geometry family and attribute schema.
    report : ValidationReport
        Filled in place: ``crs_in``, counts, repair and drop reasons, ``bbox``, warnings.

    Returns
    -------
    GeoDataFrame
        In EPSG:4326, geometry column ``geometry``, 2-D, valid, of the kind's family; the
        kind's attributes under their canonical names and types, then the other columns.

    Raises
    ------
    LayerValidationError
        For a missing or unusable CRS, non-finite, out-of-range or swapped coordinates,
        geometries of the wrong family, missing required or badly typed attributes, and
        layers left with no features.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> raw = gpd.GeoDataFrame(
    ...     {"NOM_LOC": ["Villahermosa"], "POBTOT": ["340060"]},
    ...     geometry=[shapely.Point(-92.93, 17.99)], crs="EPSG:4326")
    >>> report = ValidationReport("v", "localities", "v.csv", "CSV", None)
    >>> clean = validate_vector(raw, "localities", report)
    >>> clean.loc[0, "name"], int(clean.loc[0, "population"]), report.features_kept
    ('Villahermosa', 340060, 1)
    """
    spec = kind_spec(kind)
    frame = frame.reset_index(drop=True)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    report.features_read = len(frame)
    frame = drop_empty(frame, report)
    check_finite(frame)
    frame = to_wgs84(frame, report)
    frame = conform_geometries(frame, spec.geometry, report, kind=spec.kind.value)
    frame = conform_attributes(frame, spec.attributes)
    if len(frame) == 0:
        raise LayerValidationError(
            f"no features left to load ({report.features_read:,} read, "
            f"dropped: {_describe(report.drop_reasons) or 'none'})"
        )
    report.features_kept = len(frame)
    report.features_dropped = report.features_read - report.features_kept
    minx, miny, maxx, maxy = (float(value) for value in frame.total_bounds)
    report.bbox = (minx, miny, maxx, maxy)
    return frame


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason}: {count:,}" for reason, count in counts.items())


def _count(counter: dict[str, int], reason: str, amount: int = 1) -> None:
    if amount:
        counter[reason] = counter.get(reason, 0) + amount


def drop_empty(frame: gpd.GeoDataFrame, report: ValidationReport) -> gpd.GeoDataFrame:
    """Drop features whose geometry is null or empty, counting them in ``drop_reasons``."""
    geoms = np.asarray(frame.geometry.array)
    null = shapely.is_missing(geoms)
    empty = ~null & shapely.is_empty(geoms)
    _count(report.drop_reasons, "null geometry", int(null.sum()))
    _count(report.drop_reasons, "empty geometry", int(empty.sum()))
    keep = ~(null | empty)
    if keep.all():
        return frame
    return frame.loc[keep].reset_index(drop=True)


def check_finite(frame: gpd.GeoDataFrame) -> None:
    """Refuse a layer with NaN or infinite coordinates, naming how many features have them."""
    coords, index = shapely.get_coordinates(
        np.asarray(frame.geometry.array), include_z=False, return_index=True
    )
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        features = np.unique(index[bad])
        raise LayerValidationError(
            f"{len(features):,} features have NaN or infinite coordinates (first: feature "
            f"{int(features[0])}); fix those coordinates or remove the features"
        )


def _centres(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    bounds = shapely.bounds(np.asarray(frame.geometry.array))
    return (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2


def _check_not_swapped(frame: gpd.GeoDataFrame) -> None:
    if len(frame) == 0:
        return
    xs, ys = _centres(frame)
    swapped = (
        (xs >= SWAPPED_MEXICO_X[0])
        & (xs <= SWAPPED_MEXICO_X[1])
        & (ys >= SWAPPED_MEXICO_Y[0])
        & (ys <= SWAPPED_MEXICO_Y[1])
    )
    if swapped.mean() > 0.5:
        raise LayerValidationError(
            f"coordinates look like lat,lon: {int(swapped.sum()):,} of {len(frame):,} features "
            "have x within 14..33 and y within -118..-86, which is Mexico with longitude and "
            "latitude exchanged; swap the columns (x is longitude, y is latitude)"
        )


def _bounds_text(frame: gpd.GeoDataFrame) -> str:
    minx, miny, maxx, maxy = frame.total_bounds
    return f"x {minx:.6g} to {maxx:.6g}, y {miny:.6g} to {maxy:.6g}"


def _in_lonlat_range(frame: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = frame.total_bounds
    return bool(minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90)


def to_wgs84(frame: gpd.GeoDataFrame, report: ValidationReport) -> gpd.GeoDataFrame:
    """Bring a layer to EPSG:4326 lon/lat and check that its coordinates make sense there.

    A layer with a CRS is reprojected (pyproj, always x=lon, y=lat). A layer without one
    is taken as EPSG:4326, with a report warning, when its coordinates fit lon/lat
    ranges. ``report.crs_in`` is set to the input CRS.

    Raises
    ------
    LayerValidationError
        For no CRS with coordinates outside lon/lat ranges, coordinates that look like
        lat,lon in Mexico, and coordinates outside lon/lat ranges after reprojection.
    """
    if len(frame) == 0:
        report.crs_in = crs_label(frame.crs) if frame.crs is not None else None
        return frame.set_crs(WGS84, allow_override=True)
    if frame.crs is None:
        report.crs_in = None
        _check_not_swapped(frame)
        if not _in_lonlat_range(frame):
            raise LayerValidationError(
                f"no CRS and coordinates outside lon/lat ranges ({_bounds_text(frame)}); "
                "give the file a .prj / CRS"
            )
        report.warnings.append("the file has no CRS; its coordinates were taken as EPSG:4326")
        return frame.set_crs(WGS84)
    xs, ys = _centres(frame)
    crs = earth_crs(frame.crs, "the layer", (float(np.median(xs)), float(np.median(ys))))
    report.crs_in = crs_label(crs)
    if not crs.equals(WGS84):
        frame = _reproject(frame, report.crs_in)
        check_finite(frame)
    _check_not_swapped(frame)
    if not _in_lonlat_range(frame):
        raise LayerValidationError(
            f"coordinates outside lon/lat ranges after reprojection from {report.crs_in} to "
            f"EPSG:4326 ({_bounds_text(frame)}); check that the file's CRS is the one its "
            "coordinates are in"
        )
    return frame


def _reproject(frame: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    from pyproj.exceptions import ProjError

    try:
        return frame.to_crs(WGS84)
    except ProjError:
        raise LayerValidationError(
            f"the layer's coordinates cannot be transformed from its CRS ({label!r}) to "
            "EPSG:4326; check that the CRS is the one its coordinates are in"
        ) from None


def _parts(geom: BaseGeometry) -> Iterable[BaseGeometry]:
    """Single-part geometries of ``geom``, flattening collections of any depth."""
    for part in shapely.get_parts(geom):
        if shapely.get_type_id(part) in (_MULTIPOINT, _MULTILINE, _MULTIPOLYGON, _COLLECTION):
            yield from _parts(part)
        else:
            yield part


def _to_family(geom: BaseGeometry, family: GeometryFamily) -> BaseGeometry | None:
    """Reduce ``geom`` to its parts of ``family``; ``None`` if it has none."""
    type_id = int(shapely.get_type_id(geom))
    if type_id == _RING:
        return shapely.LineString(geom.coords)
    if type_id in _FAMILY_TYPES[family]:
        return geom
    singles = {"point": _POINT, "line": _LINE, "polygon": _POLYGON}[family]
    parts = [
        part
        for part in _parts(geom)
        if int(shapely.get_type_id(part)) in (singles, _RING) and not part.is_empty
    ]
    if not parts:
        return None
    if family == "polygon":
        return shapely.union_all(parts)
    if len(parts) == 1:
        return _to_family(parts[0], family)
    if family == "line":
        return shapely.MultiLineString([shapely.LineString(part.coords) for part in parts])
    return shapely.MultiPoint([shapely.Point(part.coords[0]) for part in parts])


def conform_geometries(
    frame: gpd.GeoDataFrame,
    family: GeometryFamily,
    report: ValidationReport,
    *,
    kind: str = "this",
) -> gpd.GeoDataFrame:
    """Drop Z, check the geometry family, repair invalid geometries.

    Multi-part geometries of the right family are accepted, as are mixes of single and
    multi-part ones. Geometry collections are reduced to their parts of the family.

    Raises
    ------
    LayerValidationError
        When some features are of another family, naming the types found.
    """
    geoms = np.asarray(frame.geometry.array)
    if shapely.has_z(geoms).any():
        report.warnings.append("Z coordinates were dropped")
        geoms = shapely.force_2d(geoms)
    type_ids = shapely.get_type_id(geoms)
    accepted = _FAMILY_TYPES[family]
    wrong = ~np.isin(type_ids, list(accepted))
    reduced: dict[int, BaseGeometry | None] = {}
    for i in np.flatnonzero(wrong & (type_ids == _COLLECTION)):
        reduced[int(i)] = _to_family(geoms[i], family)
    not_fitting = [
        i for i in np.flatnonzero(wrong) if int(i) not in reduced or reduced[int(i)] is None
    ]
    if not_fitting:
        found = Counter(_TYPE_NAMES.get(int(t), str(t)) for t in type_ids)
        listed = ", ".join(f"{name}: {count:,}" for name, count in sorted(found.items()))
        raise LayerValidationError(
            f"layer kind {kind!r} takes {_FAMILY_NAMES[family]}; found {listed} "
            f"({len(not_fitting):,} features do not fit)"
        )
    out = geoms.copy()
    for index, geom in reduced.items():
        out[index] = geom
        _count(report.repair_reasons, f"GeometryCollection reduced to {family} parts")
    repaired = set(reduced)
    dropped: list[int] = []
    for i in np.flatnonzero(~shapely.is_valid(out)):
        reason = _reason(shapely.is_valid_reason(out[i]))
        fixed = _to_family(shapely.make_valid(out[i]), family)
        if fixed is None or fixed.is_empty:
            dropped.append(int(i))
            _count(report.drop_reasons, f"invalid geometry ({reason}) with nothing left")
            continue
        out[i] = fixed
        repaired.add(int(i))
        _count(report.repair_reasons, reason)
    for i in np.flatnonzero(type_ids == _RING):
        out[i] = _to_family(out[i], family)
    report.features_repaired += len(repaired - set(dropped))
    result = frame.set_geometry(gpd.GeoSeries(out, index=frame.index, crs=frame.crs))
    if dropped:
        result = result.drop(index=frame.index[dropped]).reset_index(drop=True)
    return result


def _reason(text: str) -> str:
    """A GEOS validity reason without its location: ``"Self-intersection"``."""
    return re.sub(r"\s*\[.*$", "", str(text)).strip() or "invalid geometry"


def _find_source(attribute: AttributeSpec, by_lower: dict[str, str], taken: set[str]) -> str | None:
    for candidate in (attribute.name, *attribute.aliases):
        column = by_lower.get(candidate.lower())
        if column is not None and column not in taken:
            return column
    return None


def conform_attributes(
    frame: gpd.GeoDataFrame, attributes: tuple[AttributeSpec, ...]
) -> gpd.GeoDataFrame:
    """Rename, type and check a layer's attributes against a kind's schema.

    Columns match attribute names and aliases case-insensitively (the canonical name first);
    matched columns are renamed to the canonical name and coerced to its type. Absent
    optional attributes are added as their default (null unless the schema gives one).
    Columns the kind does not name are kept unchanged, after the kind's attributes.

    Raises
    ------
    LayerValidationError
        For a missing required attribute (listing the columns found), values that are not
        of the attribute's type and values outside an attribute's allowed set.
    """
    columns = [str(column) for column in frame.columns if column != "geometry"]
    by_lower: dict[str, str] = {}
    for column in columns:
        by_lower.setdefault(column.lower(), column)
    taken: set[str] = set()
    values: dict[str, pd.Series] = {}
    for attribute in attributes:
        source = _find_source(attribute, by_lower, taken)
        if source is None:
            if attribute.required:
                also = (
                    f" (also accepted: {', '.join(attribute.aliases)})" if attribute.aliases else ""
                )
                raise LayerValidationError(
                    f"missing required column {attribute.name!r}{also}; columns found: "
                    f"{', '.join(columns) or 'none'}"
                )
            values[attribute.name] = _typed(
                pd.Series([attribute.default] * len(frame), index=frame.index, dtype=object),
                attribute,
                attribute.name,
            )
            continue
        taken.add(source)
        values[attribute.name] = _typed(frame[source], attribute, source)
    extras = [column for column in columns if column not in taken and column not in values]
    data = pd.DataFrame(values, index=frame.index)
    for column in extras:
        # The store numbers features itself in "fid" (GeoPackage's feature id column).
        data["source_fid" if column.lower() == "fid" else column] = frame[column]
    return gpd.GeoDataFrame(data, geometry=frame.geometry, crs=frame.crs)


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _is_placeholder(value: Any) -> bool:
    """INEGI's marks for a withheld or unavailable figure ("*" confidential, "N/D")."""
    return isinstance(value, str) and value.strip().upper() in _NUMBER_PLACEHOLDERS


def _refuse(column: str, problem: str, bad: list[Any]) -> LayerValidationError:
    shown = ", ".join(repr(value) for value in bad[:_SHOWN_VALUES])
    more = f" and {len(bad) - _SHOWN_VALUES:,} more" if len(bad) > _SHOWN_VALUES else ""
    return LayerValidationError(f"column {column!r} {problem}: {shown}{more}")


def _typed(series: pd.Series, attribute: AttributeSpec, column: str) -> pd.Series:
    """Coerce one column to an attribute's type; blank values become null."""
    typed = _typed_in_bulk(series, attribute)
    return typed if typed is not None else _typed_each(series, attribute, column)


def _typed_each(series: pd.Series, attribute: AttributeSpec, column: str) -> pd.Series:
    """:func:`_typed` value by value: the rules, and the errors that name the bad values."""
    raw = series.astype(object).tolist()
    if attribute.type == "str":
        texts = [None if _is_blank(v) else _as_text(v) for v in raw]
        if attribute.allowed is not None:
            texts = [None if t is None else t.strip().lower() for t in texts]
            bad = sorted({t for t in texts if t is not None and t not in attribute.allowed})
            if bad:
                allowed = ", ".join(sorted(attribute.allowed))
                raise _refuse(column, f"has values outside the allowed set ({allowed})", bad)
        return pd.Series(texts, index=series.index, dtype=object)
    if attribute.type == "bool":
        flags: list[bool | None] = []
        bad_flags: list[Any] = []
        for v in raw:
            flag = _as_bool(v)
            if flag is None and not _is_blank(v):
                bad_flags.append(v)
            flags.append(flag)
        if bad_flags:
            raise _refuse(
                column, "has values that are not true/false (or yes/no, si/no, 1/0)", bad_flags
            )
        return pd.Series(pd.array(flags, dtype="boolean"), index=series.index)
    numbers: list[float | None] = []
    bad_numbers: list[Any] = []
    for v in raw:
        missing = _is_blank(v) or _is_placeholder(v)
        number = None if missing else _as_number(v)
        unparsed = number is None and not missing
        fractional = number is not None and attribute.type == "int" and not number.is_integer()
        if unparsed or fractional:
            bad_numbers.append(v)
        numbers.append(number)
    if bad_numbers:
        what = "whole numbers" if attribute.type == "int" else "numbers"
        raise _refuse(column, f"has values that are not {what}", bad_numbers)
    if attribute.type == "int":
        huge = [
            v for v, n in zip(raw, numbers, strict=True) if n is not None and abs(n) > _INT64_MAX
        ]
        if huge:
            raise _refuse(
                column, f"has values too large for a whole number (over {_INT64_MAX:.3g})", huge
            )
        ints = [None if n is None else int(n) for n in numbers]
        return pd.Series(pd.array(ints, dtype="Int64"), index=series.index)
    floats = [np.nan if n is None else float(n) for n in numbers]
    return pd.Series(floats, index=series.index, dtype="float64")


_EXACT_FLOAT_INT = 2.0**53
"""Whole numbers up to this size are exact in float64: converting them back is lossless."""


def _typed_in_bulk(series: pd.Series, attribute: AttributeSpec) -> pd.Series | None:
    """:func:`_typed` for the columns readers give for clean data, as whole-array operations.

    A national road layer has millions of values per column: a Python call per value costs
    seconds. Text columns holding only text and blanks, numeric columns holding finite
    numbers (whole ones for a whole-number attribute) and boolean columns are converted
    here, with the same result the value-by-value rules give; anything else (mixed types,
    placeholders, a bad value to report) returns None and goes through those rules.
    """
    values = series.to_numpy()
    if attribute.type == "str":
        if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) not in (
            "string",
            "empty",
        ):
            return None
        present = pd.notna(values)
        stripped = pd.Series(values[present], dtype=object).str.strip()
        filled = (stripped != "").to_numpy()
        keep = np.zeros(values.size, dtype=bool)
        keep[present] = filled
        texts = np.full(values.size, None, dtype=object)
        if attribute.allowed is None:
            texts[keep] = values[keep]
        else:
            lowered = stripped[filled].str.lower().to_numpy()
            if not pd.Series(lowered, dtype=object).isin(list(attribute.allowed)).all():
                return None
            texts[keep] = lowered
        return pd.Series(texts, index=series.index, dtype=object)
    if attribute.type == "bool":
        if values.dtype != bool:
            return None
        return pd.Series(pd.array(values, dtype="boolean"), index=series.index)
    if values.dtype.kind not in "iuf":
        return None
    numbers = values.astype(np.float64)
    missing = np.isnan(numbers)
    given = numbers[~missing]
    if not np.isfinite(given).all():
        return None
    if attribute.type == "int":
        if not (np.all(given == np.floor(given)) and np.all(np.abs(given) <= _EXACT_FLOAT_INT)):
            return None
        ints = pd.array(np.where(missing, 0, numbers).astype(np.int64), dtype="Int64")
        ints[missing] = pd.NA
        return pd.Series(ints, index=series.index)
    return pd.Series(numbers, index=series.index, dtype="float64")


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating) and not _is_blank(value):
        if value in (0, 1):
            return bool(value)
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return float(value)
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def validate_raster(
    path: Path, report: ValidationReport, workdir: Path, *, limits: Limits | None = None
) -> Path:
    """Check a GeoTIFF's size and georeferencing and bring it to EPSG:4326.

    The size (width x height x bands) and the pixel size are checked from the header
    before any cell is read, so a sparse file claiming billions of cells is refused at
    once.

    Parameters
    ----------
    path : Path
        The GeoTIFF, already checked.
    report : ValidationReport
        Filled in place: ``crs_in``, ``bbox`` and a line with size, bands, type and nodata.
    workdir : Path
        Folder for the reprojected copy (``raster.tif``), when one is needed.

    Returns
    -------
    Path
        ``path`` itself if it is in EPSG:4326 already, else the reprojected copy. Cells are
        resampled by nearest neighbour, so values (and nodata) are never blended.

    limits : Limits, optional
        ``max_raster_cells`` is enforced here; default ``Limits()``.

    Raises
    ------
    LayerValidationError
        For an unreadable file, no CRS or a CRS not tied to the Earth, no geotransform, a
        zero or negative pixel size, or no bands.
    LimitExceededError
        For more cells than ``max_raster_cells``, as stored or once reprojected.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    name = report.source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        try:
            src = rasterio.open(path, driver="GTiff")
        except RasterioIOError as err:
            logger.info("cannot open raster %s: %s", path, err)
            raise LayerValidationError(f"{name!r} cannot be read as a GeoTIFF") from None
    limits = limits or Limits()
    with src:
        if src.count < 1:
            raise LayerValidationError(f"raster {name!r} has no bands")
        _check_cells(name, src.width, src.height, src.count, limits)
        if src.transform.is_identity and src.gcps[0]:
            # GDAL reads a zero pixel size in the GeoTIFF tags as a lone tie point
            raise LayerValidationError(
                f"raster {name!r} has no pixel size (it is zero, or the raster has only "
                f"{len(src.gcps[0])} ground control points); give it a geotransform"
            )
        if src.transform.is_identity:
            raise LayerValidationError(
                f"raster {name!r} has no geotransform (cell size and origin); "
                "georeference it before loading"
            )
        _check_pixel_size(name, src.transform)
        if src.crs is None:
            raise LayerValidationError(
                f"raster {name!r} has no CRS; save it as a GeoTIFF with its CRS"
            )
        centre = src.xy(src.height / 2, src.width / 2, offset="ul")
        crs = earth_crs(src.crs, f"raster {name!r}", (float(centre[0]), float(centre[1])))
        report.crs_in = crs_label(crs)
        dtype = src.dtypes[0]
        nodata = src.nodata
        if crs.to_epsg() == 4326:
            output = path
            width, height, bounds = src.width, src.height, src.bounds
        else:
            output = workdir / "raster.tif"
            workdir.mkdir(parents=True, exist_ok=True)
            with warnings.catch_warnings():
                # rasterio's warp composes affine transforms with ``*``, which affine >= 3
                # flags as pending deprecation; the result is the same.
                warnings.filterwarnings(
                    "ignore", message="Use `@` matmul", category=PendingDeprecationWarning
                )
                width, height, bounds = _warp_to_wgs84(src, output, name, limits)
            report.warnings.append(f"reprojected from {report.crs_in} to EPSG:4326 (nearest)")
        bands = src.count
    report.bbox = (float(bounds.left), float(bounds.bottom), float(bounds.right), float(bounds.top))
    if nodata is None:
        report.warnings.append("the raster has no nodata value")
    report.warnings.append(
        f"raster {width} x {height} cells, {bands} band{'s' if bands > 1 else ''}, "
        f"{dtype}, nodata {nodata}"
    )
    return output


def _check_cells(name: str, width: int, height: int, bands: int, limits: Limits) -> None:
    cells = int(width) * int(height) * int(bands)
    if cells > limits.max_raster_cells:
        raise LimitExceededError(
            f"raster {name!r} has {width:,} x {height:,} cells x {bands} band"
            f"{'s' if bands > 1 else ''} = {cells:,}, over the {limits.max_raster_cells:,} "
            "limit (max_raster_cells); crop or resample it"
        )


def _check_pixel_size(name: str, transform: Any) -> None:
    """Refuse a geotransform whose cells have no width or height, or run right to left."""
    a, e = float(transform.a), float(transform.e)
    if not (math.isfinite(a) and math.isfinite(e)) or a <= 0 or e == 0:
        raise LayerValidationError(
            f"raster {name!r} has a pixel size of {a:g} x {e:g}; it must be positive across "
            "(west to east) and non-zero down; fix its geotransform"
        )


def _warp_to_wgs84(src: Any, output: Path, name: str, limits: Limits) -> tuple[int, int, Any]:
    """Write every band of an open raster to ``output`` in EPSG:4326 (nearest neighbour)."""
    import rasterio
    from rasterio.errors import CRSError
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    try:
        transform, width, height = calculate_default_transform(
            src.crs, WGS84, src.width, src.height, *src.bounds
        )
    except CRSError:
        raise LayerValidationError(
            f"raster {name!r} cannot be reprojected from its CRS to EPSG:4326"
        ) from None
    _check_cells(name, width, height, src.count, limits)
    profile = src.profile.copy()
    profile.update(
        driver="GTiff",
        crs=WGS84,
        transform=transform,
        width=width,
        height=height,
        compress="deflate",
    )
    with rasterio.open(output, "w", **profile) as dst:
        for band in range(1, src.count + 1):
            reproject(
                source=rasterio.band(src, band),
                destination=rasterio.band(dst, band),
                src_transform=src.transform,
                src_crs=src.crs,
                dst_transform=transform,
                dst_crs=WGS84,
                src_nodata=src.nodata,
                dst_nodata=src.nodata,
                resampling=Resampling.nearest,
            )
        return int(width), int(height), dst.bounds
