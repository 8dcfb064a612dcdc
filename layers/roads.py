"""Road layers as GIS staff have them: OpenStreetMap extracts and INEGI's Red Nacional de Caminos.

Both become ``rights_of_way`` features with a ``row_type`` and, for roads, a ``road_class``
(one of :data:`ROAD_CLASSES`) that the cost model prices separately. The mappings are data,
not code: ``data/roads/osm_tags.csv`` (OSM key/value to row type and road class),
``data/roads/osm_unpaved_surfaces.csv`` (OSM ``surface`` values that make a road
``unpaved``) and ``data/roads/rnc_road_class.csv`` (INEGI attribute rules, first match wins).

OpenStreetMap ``.osm.pbf`` files are read with GDAL's OSM driver through pyogrio, in Arrow
batches, so a national extract streams through in bounded memory and a progress callback
can report as it goes. GDAL is already how Trazo reads every other format (same hostile-input
handling, no second parser); the driver's ``lines`` layer holds every non-area way with its
``highway``, ``railway`` and ``man_made`` tags as columns and the rest (``power``,
``surface``, ``ref``, ``operator``) in ``other_tags``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.bundled_data import BUNDLED_DATA_DIR
from layers.errors import LayerValidationError, LimitExceededError
from layers.limits import Limits

ROAD_CLASSES = ("motorway", "primary", "secondary", "local", "unpaved")
"""Road classes: motorway or trunk, primary, secondary, tertiary or local paved road,
unpaved road or track (the values :data:`layers.kinds.ROAD_CLASSES` allows)."""

ROADS_DIR = BUNDLED_DATA_DIR / "roads"
OSM_SUFFIX = ".pbf"
OSM_BATCH_FEATURES = 65_536
"""Features per Arrow batch read from an OSM extract (bounded memory per step)."""

ProgressCallback = Callable[[int], None]
"""Called with the number of features read so far."""

# OSM tags kept as columns by GDAL's default osmconf.ini for the ``lines`` layer
_OSM_COLUMNS = ("osm_id", "name", "highway", "railway", "man_made", "other_tags")
_OTHER_TAGS = ("power", "surface", "ref", "operator")
# the INEGI attributes the RNC rules look at (official names, matched case-insensitively)
_RNC_COLUMNS = ("tipo_vial", "cond_pav", "recubri", "administra", "peaje", "carriles")


def _fold(value: Any) -> str:
    """Lower-case, accent-free, trimmed text ('' for nulls): 'Terracería' -> 'terraceria'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = unicodedata.normalize("NFKD", str(value).strip().lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@cache
def osm_tag_table(
    path: Path = ROADS_DIR / "osm_tags.csv",
) -> dict[tuple[str, str], tuple[str, str]]:
    """``{(key, value): (row_type, road_class)}`` from the OSM mapping table."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            (row["key"], row["value"]): (row["row_type"], row["road_class"])
            for row in csv.DictReader(handle)
        }


@cache
def osm_unpaved_surfaces(path: Path = ROADS_DIR / "osm_unpaved_surfaces.csv") -> frozenset[str]:
    """OSM ``surface`` values that make a road ``unpaved``."""
    with path.open(encoding="utf-8", newline="") as handle:
        return frozenset(row["surface"] for row in csv.DictReader(handle))


@cache
def rnc_rules(path: Path = ROADS_DIR / "rnc_road_class.csv") -> tuple[dict[str, str], ...]:
    """The RNC rules in order; ``*`` matches any value, ``min_carriles`` is a lane minimum."""
    with path.open(encoding="utf-8", newline="") as handle:
        rules = tuple(dict(row) for row in csv.DictReader(handle))
    for rule in rules:
        if rule["road_class"] not in ROAD_CLASSES:
            raise ValueError(f"{path.name}: unknown road class {rule['road_class']!r}")
    return rules


# ---------------------------------------------------------------------------- OSM


def is_osm_extract(path: Path) -> bool:
    """Whether ``path`` names an OpenStreetMap PBF extract (``*.osm.pbf`` or ``*.pbf``)."""
    return path.suffix.lower() == OSM_SUFFIX


def _other_tag(other_tags: pd.Series, key: str) -> pd.Series:
    """One tag's value from GDAL's ``other_tags`` hstore text (``"k"=>"v","k2"=>"v2"``)."""
    pattern = rf'"{re.escape(key)}"=>"((?:[^"\\]|\\.)*)"'
    return other_tags.astype("string").str.extract(pattern, expand=False)


def classify_osm(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """OSM ways mapped to rights of way; ways the tables do not name are left out.

    ``frame`` has GDAL's ``lines`` columns (``highway``, ``railway``, ``man_made``,
    ``other_tags``, ``name``, ``osm_id``) and a geometry. The result has ``row_type``,
    ``road_class`` (roads only), ``name``, ``osm_id``, ``ref`` and ``owner`` (OSM
    ``operator``).
    """
    table = osm_tag_table()
    other = frame.get("other_tags", pd.Series(None, index=frame.index, dtype=object))
    tags = {key: _other_tag(other, key) for key in _OTHER_TAGS}
    row_type = pd.Series(None, index=frame.index, dtype=object)
    road_class = pd.Series(None, index=frame.index, dtype=object)
    # later keys win only where earlier ones left nothing: a way tagged highway and
    # railway (a street with tram tracks) is a road
    for key in ("highway", "railway", "man_made", "power"):
        values = tags[key] if key == "power" else frame.get(key)
        if values is None:
            continue
        values = values.astype(object)
        for (tag_key, tag_value), (row, klass) in table.items():
            if tag_key != key:
                continue
            hit = (values == tag_value) & row_type.isna()
            row_type[hit] = row
            if klass:
                road_class[hit] = klass
    unpaved = tags["surface"].isin(osm_unpaved_surfaces()).fillna(False).to_numpy(dtype=bool)
    road_class[unpaved & road_class.notna().to_numpy()] = "unpaved"
    keep = row_type.notna().to_numpy()
    out = gpd.GeoDataFrame(
        {
            "row_type": row_type[keep].to_numpy(),
            "road_class": road_class[keep].to_numpy(),
            "name": frame["name"].to_numpy()[keep] if "name" in frame else None,
            "osm_id": frame["osm_id"].to_numpy()[keep] if "osm_id" in frame else None,
            "ref": tags["ref"][keep].astype(object).to_numpy(),
            "owner": tags["operator"][keep].astype(object).to_numpy(),
        },
        geometry=frame.geometry.to_numpy()[keep],
        crs=frame.crs,
    )
    return out.where(out.notna(), None)


def read_osm_extract(
    path: Path,
    display_name: str,
    limits: Limits,
    progress: ProgressCallback | None = None,
) -> gpd.GeoDataFrame:
    """Stream the ways of an OSM extract and keep those that are rights of way.

    Parameters
    ----------
    path
        A ``.osm.pbf`` file.
    display_name
        The user's file name, for messages.
    limits
        ``max_features`` bounds the ways read from the file.
    progress
        Called after every batch with the number of ways read so far.

    Raises
    ------
    LayerValidationError
        If GDAL cannot read the file as OSM, or it holds no road, rail, power line or
        pipeline.
    LimitExceededError
        If the file holds more ways than ``limits.max_features``.
    """
    import pyogrio

    read = 0
    kept: list[gpd.GeoDataFrame] = []
    with pyogrio.open_arrow(
        path,
        layer="lines",
        columns=list(_OSM_COLUMNS),
        batch_size=OSM_BATCH_FEATURES,
        use_pyarrow=True,
    ) as (meta, reader):
        geometry_name = meta.get("geometry_name") or "wkb_geometry"
        for batch in reader:
            read += batch.num_rows
            if read > limits.max_features:
                raise LimitExceededError(
                    f"{display_name!r} has more than {limits.max_features:,} ways, over the "
                    "limit (max_features)"
                )
            table = batch.to_pandas()
            geoms = shapely.from_wkb(table.pop(geometry_name).to_numpy())
            frame = gpd.GeoDataFrame(table, geometry=geoms, crs="EPSG:4326")
            kept.append(classify_osm(frame))
            if progress is not None:
                progress(read)
    if not kept or sum(len(k) for k in kept) == 0:
        raise LayerValidationError(
            f"{display_name!r} holds no roads, railways, power lines or pipelines "
            f"({read:,} ways read)"
        )
    return gpd.GeoDataFrame(pd.concat(kept, ignore_index=True), crs="EPSG:4326")


# ---------------------------------------------------------------------------- INEGI RNC


def is_rnc(frame: pd.DataFrame) -> bool:
    """Whether a frame is an INEGI Red Nacional de Caminos road layer without a ``row_type``.

    Recognised by the official ``TIPO_VIAL`` attribute (any case).
    """
    lower = {str(c).lower() for c in frame.columns}
    return "tipo_vial" in lower and "row_type" not in lower


def _matches(rule: str, values: pd.Series) -> np.ndarray:
    if rule == "*":
        return np.ones(len(values), dtype=bool)
    return (values == _fold(rule)).to_numpy(dtype=bool)


def classify_rnc(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """INEGI RNC roads as ``highway`` rights of way with a ``road_class``.

    The rules of ``data/roads/rnc_road_class.csv`` are tried in order on the official
    attributes ``TIPO_VIAL``, ``COND_PAV``, ``RECUBRI``, ``ADMINISTRA``, ``PEAJE`` and
    ``CARRILES`` (accents and case ignored); the first rule that matches gives the class.
    The official attributes are kept as they are; ``NOMBRE`` becomes ``name`` and
    ``ADMINISTRA`` the ``owner``.
    """
    by_lower = {str(c).lower(): c for c in frame.columns}
    folded = {
        name: (
            frame[by_lower[name]].map(_fold)
            if name in by_lower
            else pd.Series("", index=frame.index)
        )
        for name in _RNC_COLUMNS
    }
    lanes = pd.to_numeric(folded["carriles"], errors="coerce").fillna(0).to_numpy()
    road_class = np.full(len(frame), None, dtype=object)
    for rule in rnc_rules():
        hit = road_class == None  # noqa: E711 - elementwise test on an object array
        for name in ("tipo_vial", "cond_pav", "recubri", "administra", "peaje"):
            hit &= _matches(rule[name], folded[name])
        hit &= lanes >= float(rule["min_carriles"] or 0)
        road_class[hit] = rule["road_class"]
    out = frame.copy()
    out["row_type"] = "highway"
    out["road_class"] = road_class
    if "name" not in {c.lower() for c in out.columns} and "nombre" in by_lower:
        out["name"] = frame[by_lower["nombre"]]
    if "owner" not in {c.lower() for c in out.columns} and "administra" in by_lower:
        out["owner"] = frame[by_lower["administra"]]
    return out
