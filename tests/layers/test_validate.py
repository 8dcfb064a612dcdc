"""Validation: CRS and coordinates, geometry repair and family, attribute schema."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from layers.errors import LayerValidationError
from layers.ingest import read_layer
from layers.kinds import AttributeSpec, LayerKind
from layers.report import ValidationReport
from layers.validate import _typed, _typed_each, _typed_in_bulk, validate_vector

VILLAHERMOSA = (-92.93, 17.99)


# --- Map projections worked by hand (Snyder, "Map Projections: A Working Manual", USGS
# Professional Paper 1395, 1987), used to build inputs independently of PROJ. -------------

GRS80 = (6378137.0, 1 / 298.257222101)
WGS84 = (6378137.0, 1 / 298.257223563)


def lambert_conformal_conic(
    lon: float,
    lat: float,
    *,
    ellipsoid: tuple[float, float],
    lat0: float,
    lon0: float,
    lat1: float,
    lat2: float,
    x0: float,
    y0: float,
) -> tuple[float, float]:
    """Ellipsoidal Lambert Conformal Conic, two standard parallels (Snyder eqs. 15-1 to 15-10)."""
    a, f = ellipsoid
    e = math.sqrt(f * (2 - f))

    def m(phi: float) -> float:
        return math.cos(phi) / math.sqrt(1 - (e * math.sin(phi)) ** 2)

    def t(phi: float) -> float:
        return math.tan(math.pi / 4 - phi / 2) / (
            ((1 - e * math.sin(phi)) / (1 + e * math.sin(phi))) ** (e / 2)
        )

    phi, phi0, phi1, phi2 = (math.radians(v) for v in (lat, lat0, lat1, lat2))
    n = (math.log(m(phi1)) - math.log(m(phi2))) / (math.log(t(phi1)) - math.log(t(phi2)))
    big_f = m(phi1) / (n * t(phi1) ** n)
    rho = a * big_f * t(phi) ** n
    rho0 = a * big_f * t(phi0) ** n
    theta = n * math.radians(lon - lon0)
    return x0 + rho * math.sin(theta), y0 + rho0 - rho * math.cos(theta)


def transverse_mercator(
    lon: float,
    lat: float,
    *,
    ellipsoid: tuple[float, float],
    lon0: float,
    k0: float,
    x0: float,
    y0: float,
) -> tuple[float, float]:
    """Ellipsoidal Transverse Mercator series (Snyder eqs. 8-9 to 8-10, 3-21); mm-accurate
    within a few degrees of the central meridian."""
    a, f = ellipsoid
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    phi = math.radians(lat)
    n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    t = math.tan(phi) ** 2
    c = ep2 * math.cos(phi) ** 2
    big_a = math.radians(lon - lon0) * math.cos(phi)
    m = a * (
        (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256) * phi
        - (3 * e2 / 8 + 3 * e2**2 / 32 + 45 * e2**3 / 1024) * math.sin(2 * phi)
        + (15 * e2**2 / 256 + 45 * e2**3 / 1024) * math.sin(4 * phi)
        - (35 * e2**3 / 3072) * math.sin(6 * phi)
    )
    x = (
        k0
        * n
        * (
            big_a
            + (1 - t + c) * big_a**3 / 6
            + (5 - 18 * t + t**2 + 72 * c - 58 * ep2) * big_a**5 / 120
        )
    )
    y = k0 * (
        m
        + n
        * math.tan(phi)
        * (
            big_a**2 / 2
            + (5 - t + 9 * c + 4 * c**2) * big_a**4 / 24
            + (61 - 58 * t + t**2 + 600 * c - 330 * ep2) * big_a**6 / 720
        )
    )
    return x0 + x, y0 + y


def mexico_lcc(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:6372, Mexico ITRF2008 / LCC (INEGI): GRS80, parallels 17.5 and 29.5 N."""
    return lambert_conformal_conic(
        lon, lat, ellipsoid=GRS80, lat0=12, lon0=-102, lat1=17.5, lat2=29.5, x0=2_500_000, y0=0
    )


def utm_15n(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:32615, WGS 84 / UTM zone 15N."""
    return transverse_mercator(lon, lat, ellipsoid=WGS84, lon0=-93, k0=0.9996, x0=500_000, y0=0)


def test_hand_projections_agree_with_published_values() -> None:
    # A check of the formulas themselves: the UTM origin row and the LCC false origin.
    assert utm_15n(-93, 0) == (500_000, 0)
    assert mexico_lcc(-102, 12) == pytest.approx((2_500_000, 0), abs=1e-6)


def _report(kind: str = "localities") -> ValidationReport:
    return ValidationReport("t", kind, "t.gpkg", "GPKG", None)


def _points(xys: list[tuple[float, float]], crs: Any, **columns: list[Any]) -> gpd.GeoDataFrame:
    data = {"name": [f"p{i}" for i in range(len(xys))], "population": [1] * len(xys)}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(x, y) for x, y in xys], crs=crs)


# --- CRS and coordinates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("epsg", "project", "driver", "suffix"),
    [(6372, mexico_lcc, "GPKG", "gpkg"), (32615, utm_15n, "FlatGeobuf", "fgb")],
)
def test_projected_point_lands_on_villahermosa(
    epsg: int,
    project: Callable[[float, float], tuple[float, float]],
    driver: str,
    suffix: str,
    tmp_path: Path,
) -> None:
    x, y = project(*VILLAHERMOSA)
    path = tmp_path / f"villahermosa.{suffix}"
    _points([(x, y)], f"EPSG:{epsg}").to_file(path, driver=driver)
    layer = read_layer(path, "localities")
    assert layer.frame is not None
    point = layer.frame.geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx(VILLAHERMOSA, abs=1e-6)
    assert layer.report.crs_in == f"EPSG:{epsg}"
    assert layer.frame.crs.to_epsg() == 4326


_to_lcc = Transformer.from_crs("EPSG:4326", "EPSG:6372", always_xy=True)


@settings(max_examples=60, deadline=None)
@given(
    lon=st.floats(min_value=-118.0, max_value=-86.0),
    lat=st.floats(min_value=14.0, max_value=33.0),
)
def test_reprojecting_there_and_back_is_identity(lon: float, lat: float) -> None:
    x, y = _to_lcc.transform(lon, lat)
    clean = validate_vector(_points([(x, y)], "EPSG:6372"), "localities", _report())
    point = clean.geometry.iloc[0]
    assert abs(point.x - lon) < 1e-7
    assert abs(point.y - lat) < 1e-7


def test_nan_coordinates_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "vias.gpkg"
    with np.errstate(invalid="ignore"):
        broken = shapely.linestrings(
            [(-93.0, 18.0), (math.nan, 18.2), (-92.8, 18.3)], handle_nan="allow"
        )
    frame = gpd.GeoDataFrame(
        {"row_type": ["rail", "rail"]},
        geometry=[
            shapely.LineString([(-93.0, 18.0), (-92.9, 18.1)]),
            broken,
        ],
        crs="EPSG:4326",
    )
    frame.to_file(path, driver="GPKG")
    with pytest.raises(
        LayerValidationError,
        match=r"1 features have NaN or infinite coordinates \(first: feature 1\)",
    ):
        read_layer(path, "rights_of_way")


def test_infinite_coordinates_are_refused() -> None:
    frame = _points([(-93.0, 18.0), (math.inf, 18.0)], "EPSG:4326")
    with pytest.raises(LayerValidationError, match="NaN or infinite coordinates"):
        validate_vector(frame, "localities", _report())


@pytest.mark.parametrize(
    "xy",
    [(-92.93, 95.0), (-192.93, 17.99), (2_500_000.0, 1_000_000.0)],
    ids=["latitude over 90", "longitude under -180", "metres in a GeoJSON"],
)
def test_out_of_range_lonlat_is_refused(
    xy: tuple[float, float], write_geojson: Callable[..., Path]
) -> None:
    path = write_geojson(
        [
            ({"type": "Point", "coordinates": list(VILLAHERMOSA)}, {"name": "a", "population": 1}),
            ({"type": "Point", "coordinates": list(xy)}, {"name": "b", "population": 1}),
        ]
    )
    with pytest.raises(
        LayerValidationError, match=r"outside lon/lat ranges after reprojection from EPSG:4326"
    ):
        read_layer(path, "localities")


def test_swapped_lat_lon_is_refused_with_a_hint(write_text: Callable[[str, str], Path]) -> None:
    # Villahermosa, Toluca and Tijuana with the coordinate columns exchanged.
    path = write_text(
        "pueblos.csv",
        "name,population,lon,lat\n"
        "Villahermosa,340060,17.987838,-92.919416\n"
        "Toluca,910608,19.2826,-99.6557\n"
        "Tijuana,1810645,32.5149,-117.0382\n",
    )
    with pytest.raises(
        LayerValidationError, match=r"coordinates look like lat,lon.*swap the columns"
    ):
        read_layer(path, "localities")


def test_swapped_geometries_are_refused_when_most_fall_in_swapped_mexico() -> None:
    swapped = [(17.99, -92.93), (19.28, -99.66), (20.97, -89.62)]
    frame = _points([*swapped, (-92.93, 17.99)], None)
    with pytest.raises(LayerValidationError, match=r"3 of 4 features .* swap the columns"):
        validate_vector(frame, "localities", _report())


def test_no_crs_in_lonlat_ranges_is_taken_as_wgs84_with_a_warning() -> None:
    report = _report()
    clean = validate_vector(_points([VILLAHERMOSA], None), "localities", report)
    assert clean.crs.to_epsg() == 4326
    assert report.crs_in is None
    assert report.warnings == ["the file has no CRS; its coordinates were taken as EPSG:4326"]


def test_no_crs_with_projected_coordinates_is_refused(
    data_dir: Path, tmp_path: Path, write_text: Callable[[str, str], Path]
) -> None:
    import zipfile

    source = data_dir / "tabasco_municipalities_shp.zip"
    archive = tmp_path / "sin_prj.zip"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(archive, "w") as copy:
        for info in original.infolist():
            if not info.filename.endswith(".prj"):
                copy.writestr(info, original.read(info))
    match = r"no CRS and coordinates outside lon/lat ranges .*give the file a \.prj / CRS"
    with pytest.raises(LayerValidationError, match=match):
        read_layer(archive, "municipalities")
    csv = write_text("xy.csv", "name,population,x,y\nVillahermosa,340060,3492000.5,655000.25\n")
    with pytest.raises(LayerValidationError, match=match):
        read_layer(csv, "localities")


# --- Geometries ----------------------------------------------------------------------------


def _polygons(geoms: list[Any], crs: Any = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"cvegeo": [f"2700{i}" for i in range(len(geoms))], "name": ["m"] * len(geoms)},
        geometry=geoms,
        crs=crs,
    )


def test_bow_tie_is_repaired_into_two_triangles() -> None:
    # Corners of a 0.1-degree square near Villahermosa joined across the diagonals: the
    # edges cross at (-92.95, 18.05), leaving two triangles of base 0.1 and height 0.05.
    bow_tie = shapely.Polygon([(-93.0, 18.0), (-92.9, 18.1), (-92.9, 18.0), (-93.0, 18.1)])
    square = shapely.box(-93.2, 18.2, -93.1, 18.3)
    report = _report("municipalities")
    clean = validate_vector(_polygons([bow_tie, square]), "municipalities", report)
    repaired = clean.geometry.iloc[0]
    assert repaired.geom_type == "MultiPolygon"
    parts = list(repaired.geoms)
    assert len(parts) == 2
    assert sorted(part.area for part in parts) == pytest.approx([0.0025, 0.0025])
    assert {tuple(np.round(part.centroid.coords[0], 6)) for part in parts} == {
        (round(-93.0 + 0.05 / 3, 6), 18.05),
        (round(-92.9 - 0.05 / 3, 6), 18.05),
    }
    assert report.repair_reasons == {"Self-intersection": 1}
    assert (report.features_repaired, report.features_kept, report.features_dropped) == (1, 2, 0)
    assert clean.geometry.iloc[1].equals(square)


def test_polygon_that_collapses_when_repaired_is_dropped() -> None:
    flat = shapely.Polygon([(-93.0, 18.0), (-92.9, 18.0), (-92.8, 18.0), (-93.0, 18.0)])
    report = _report("municipalities")
    clean = validate_vector(
        _polygons([flat, shapely.box(-93, 18, -92.9, 18.1)]), "municipalities", report
    )
    assert len(clean) == 1
    assert report.features_dropped == 1
    assert report.features_repaired == 0
    [(reason, count)] = report.drop_reasons.items()
    assert reason.startswith("invalid geometry (") and count == 1


def test_empty_and_null_geometries_are_dropped_and_reported(
    write_geojson: Callable[..., Path],
) -> None:
    path = write_geojson(
        [
            ({"type": "Point", "coordinates": list(VILLAHERMOSA)}, {"name": "a", "population": 1}),
            (None, {"name": "sin geometría", "population": 2}),
            ({"type": "MultiPoint", "coordinates": []}, {"name": "vacía", "population": 3}),
        ]
    )
    report = read_layer(path, "localities").report
    assert report.drop_reasons == {"null geometry": 1, "empty geometry": 1}
    assert (report.features_read, report.features_kept, report.features_dropped) == (3, 1, 2)


def test_layer_with_nothing_left_is_refused(write_geojson: Callable[..., Path]) -> None:
    path = write_geojson([(None, {"name": "a", "population": 1})])
    with pytest.raises(LayerValidationError, match=r"no features left to load \(1 read"):
        read_layer(path, "localities")


@pytest.mark.parametrize(
    ("kind", "geoms", "match"),
    [
        (
            "rights_of_way",
            [
                shapely.Point(-93, 18),
                shapely.Point(-92, 18),
                shapely.LineString([(-93, 18), (-92, 18)]),
            ],
            r"'rights_of_way' takes lines \(LineString, MultiLineString\); found LineString: 1, "
            r"Point: 2 \(2 features do not fit\)",
        ),
        (
            "localities",
            [shapely.box(-93, 18, -92, 19)],
            r"'localities' takes points .*found Polygon: 1",
        ),
        (
            "municipalities",
            [shapely.LineString([(-93, 18), (-92, 18)])],
            r"'municipalities' takes polygons .*found LineString: 1",
        ),
    ],
)
def test_wrong_geometry_type_for_the_kind_is_refused(
    kind: str, geoms: list[Any], match: str
) -> None:
    n = len(geoms)
    frame = gpd.GeoDataFrame(
        {
            "row_type": ["rail"] * n,
            "name": ["x"] * n,
            "population": [1] * n,
            "cvegeo": ["27004"] * n,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    with pytest.raises(LayerValidationError, match=match):
        validate_vector(frame, kind, _report(kind))


def test_mixed_single_and_multi_parts_of_the_family_are_accepted() -> None:
    geoms = [
        shapely.box(-93, 18, -92.9, 18.1),
        shapely.MultiPolygon(
            [shapely.box(-92, 18, -91.9, 18.1), shapely.box(-91, 18, -90.9, 18.1)]
        ),
    ]
    report = _report("municipalities")
    clean = validate_vector(_polygons(geoms), "municipalities", report)
    assert list(clean.geom_type) == ["Polygon", "MultiPolygon"]
    assert report.features_repaired == 0


def test_geometry_collection_is_reduced_to_the_family() -> None:
    collection = shapely.GeometryCollection(
        [
            shapely.LineString([(-93, 18), (-92, 18)]),
            shapely.Point(-93, 18),
            shapely.LineString([(-91, 18), (-90, 18)]),
        ]
    )
    frame = gpd.GeoDataFrame({"row_type": ["rail"]}, geometry=[collection], crs="EPSG:4326")
    report = _report("rights_of_way")
    clean = validate_vector(frame, "rights_of_way", report)
    assert clean.geometry.iloc[0].equals(
        shapely.MultiLineString([[(-93, 18), (-92, 18)], [(-91, 18), (-90, 18)]])
    )
    assert report.repair_reasons == {"GeometryCollection reduced to line parts": 1}


def test_z_is_dropped() -> None:
    frame = _points([VILLAHERMOSA], "EPSG:4326")
    frame = frame.set_geometry([shapely.Point(-92.93, 17.99, 12.0)], crs="EPSG:4326")
    report = _report()
    clean = validate_vector(frame, "localities", report)
    assert not clean.has_z.any()
    assert "Z coordinates were dropped" in report.warnings


# --- Attributes ----------------------------------------------------------------------------


def _lines(**columns: list[Any]) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    geoms = [shapely.LineString([(-93 + i, 18), (-92.5 + i, 18.5)]) for i in range(n)]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4326")


def test_missing_required_column_is_named_with_the_columns_found() -> None:
    with pytest.raises(
        LayerValidationError,
        match=r"missing required column 'row_type'; columns found: name, tipo",
    ):
        validate_vector(_lines(name=["a"], tipo=["rail"]), "rights_of_way", _report())


def test_missing_required_column_lists_its_aliases() -> None:
    frame = _points([VILLAHERMOSA], "EPSG:4326").drop(columns="population")
    with pytest.raises(
        LayerValidationError,
        match=r"missing required column 'population' \(also accepted: pobtot, poblacion\)",
    ):
        validate_vector(frame, "localities", _report())


def test_values_outside_the_allowed_set_are_named() -> None:
    frame = _lines(row_type=["Rail", "road", "train", "road", None])
    with pytest.raises(
        LayerValidationError,
        match=r"column 'row_type' has values outside the allowed set "
        r"\(highway, other, pipeline, power, rail\): 'road', 'train'$",
    ):
        validate_vector(frame, "rights_of_way", _report())


def test_at_most_five_bad_values_are_shown() -> None:
    frame = _lines(operator=["x"] * 7, status=[f"s{i}" for i in range(7)])
    with pytest.raises(LayerValidationError, match=r"'s0', 's1', 's2', 's3', 's4' and 2 more$"):
        validate_vector(frame, "fiber_routes", _report())


def test_names_match_case_insensitively_and_through_aliases() -> None:
    frame = gpd.GeoDataFrame(
        {
            "NOM_LOC": ["Villahermosa"],
            "PobTot": ["340060"],
            "CVE_MUN_GEO": ["27004"],
            "otra": ["x"],
        },
        geometry=[shapely.Point(*VILLAHERMOSA)],
        crs="EPSG:4326",
    )
    clean = validate_vector(frame, "localities", _report())
    assert list(clean.columns) == [
        "name",
        "population",
        "cvegeo",
        "state",
        "cve_ent",
        "municipality",
        "cve_mun",
        "connected",
        "otra",
        "geometry",
    ]
    row = clean.iloc[0]
    assert (row["name"], row["population"], row["cve_mun"], row["otra"]) == (
        "Villahermosa",
        340060,
        "27004",
        "x",
    )
    assert row["state"] is None and pd.isna(row["connected"])


def test_allowed_values_are_stored_lower_case() -> None:
    clean = validate_vector(_lines(ROW_TYPE=["Pipeline", " POWER "]), "rights_of_way", _report())
    assert list(clean["row_type"]) == ["pipeline", "power"]
    assert "ROW_TYPE" not in clean.columns


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            ["true", "False", "YES", "no", "sí", "Si", "1", "0", "t", "F", "y", "N", "", None],
            [
                True,
                False,
                True,
                False,
                True,
                True,
                True,
                False,
                True,
                False,
                True,
                False,
                None,
                None,
            ],
        ),
        ([True, False, 1, 0], [True, False, True, False]),
    ],
)
def test_bool_values(raw: list[Any], expected: list[bool | None]) -> None:
    frame = _lines(operator=["x"] * len(raw), status=["planned"] * len(raw), lease_available=raw)
    clean = validate_vector(frame, "fiber_routes", _report())
    assert clean["lease_available"].dtype == "boolean"
    assert [None if pd.isna(v) else bool(v) for v in clean["lease_available"]] == expected


def test_bad_bool_values_are_refused() -> None:
    frame = _lines(operator=["x"] * 2, status=["planned"] * 2, lease_available=["yes", "maybe"])
    with pytest.raises(LayerValidationError, match=r"'lease_available' .*not true/false.*'maybe'"):
        validate_vector(frame, "fiber_routes", _report())


def test_numbers_are_coerced_and_checked() -> None:
    frame = _lines(
        operator=["x"] * 3, status=["existing"] * 3, fibers=["48", " 96 ", ""], name=[1, 2.0, None]
    )
    clean = validate_vector(frame, "fiber_routes", _report())
    assert clean["fibers"].dtype == "Int64"
    assert list(clean["fibers"].astype(object).where(clean["fibers"].notna(), None)) == [
        48,
        96,
        None,
    ]
    assert list(clean["name"]) == ["1", "2", None]


@pytest.mark.parametrize("bad", ["doce", "12.5", "1e400"])
def test_non_integer_values_are_refused(bad: str) -> None:
    frame = _lines(operator=["x"] * 2, status=["existing"] * 2, fibers=["12", bad])
    with pytest.raises(
        LayerValidationError, match=rf"'fibers' has values that are not whole numbers: '{bad}'"
    ):
        validate_vector(frame, "fiber_routes", _report())


def test_float_values() -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["Cancún", "Tulum"], "capacity_tbps": ["12.5", None]},
        geometry=[shapely.Point(-86.85, 21.16), shapely.Point(-87.46, 20.21)],
        crs="EPSG:4326",
    )
    clean = validate_vector(frame, LayerKind.SUBSEA_LANDINGS, _report())
    assert clean["capacity_tbps"].iloc[0] == 12.5
    assert math.isnan(clean["capacity_tbps"].iloc[1])
    assert clean["ready_for_service"].isna().all()


def test_report_bbox_is_the_kept_features_bounds() -> None:
    report = _report()
    validate_vector(_points([(-93.0, 17.5), (-92.5, 18.25)], "EPSG:4326"), "localities", report)
    assert report.bbox == (-93.0, 17.5, -92.5, 18.25)


@pytest.mark.parametrize("placeholder", ["*", "N/D", " n/d "])
def test_inegi_placeholders_in_numbers_become_null(placeholder: str) -> None:
    # INEGI publishes "*" for a withheld figure and "N/D" for one not available.
    frame = _points(
        [VILLAHERMOSA, VILLAHERMOSA], "EPSG:4326", name=["a", "b"], population=["12", placeholder]
    )
    clean = validate_vector(frame, LayerKind.LOCALITIES, _report())
    assert clean["population"].tolist()[0] == 12
    assert clean["population"].isna().tolist() == [False, True]


def test_a_source_fid_column_is_kept_under_another_name() -> None:
    frame = _points([VILLAHERMOSA], "EPSG:4326", name=["a"], population=[1], fid=[77])
    clean = validate_vector(frame, LayerKind.LOCALITIES, _report())
    assert "fid" not in clean.columns
    assert clean["source_fid"].tolist() == [77]


# -- typing attribute columns in bulk gives what the value-by-value rules give

_CELLS = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.sampled_from(["", "  ", "highway", " Rail ", "PIPELINE", "*", "N/D", "sí", "no", "1"]),
    st.text(max_size=6),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


def _column(cells: list[Any], dtype: str) -> pd.Series:
    """A column as a reader gives it: a numeric or boolean dtype when the cells allow one."""
    if dtype == "object":
        return pd.Series(cells, dtype=object)
    return pd.Series(np.asarray(cells, dtype=dtype))


@pytest.mark.parametrize(
    "spec",
    [
        AttributeSpec("name", "str"),
        AttributeSpec("row_type", "str", allowed=frozenset({"highway", "rail", "pipeline"})),
        AttributeSpec("population", "int"),
        AttributeSpec("fibers", "float"),
        AttributeSpec("lease_available", "bool"),
    ],
    ids=lambda spec: f"{spec.type}{'-allowed' if spec.allowed else ''}",
)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_bulk_typing_equals_the_rules_value_by_value(spec: AttributeSpec, data: Any) -> None:
    dtype = data.draw(st.sampled_from(["object", "float64", "int64", "bool"]))
    if dtype == "object":
        strategy: Any = _CELLS
    elif dtype == "float64":
        strategy = st.floats(allow_nan=True, allow_infinity=True)
    elif dtype == "int64":
        strategy = st.integers(min_value=-(2**63), max_value=2**63 - 1)
    else:
        strategy = st.booleans()
    cells = data.draw(st.lists(strategy, max_size=12))
    if dtype == "object" and data.draw(st.booleans()):
        cells = [c for c in cells if c is None or isinstance(c, str)]  # a clean text column
    column = _column(cells, dtype)
    try:
        expected: pd.Series | Exception = _typed_each(column, spec, "c")
    except LayerValidationError as err:
        expected = err
    try:
        got: pd.Series | Exception = _typed(column, spec, "c")
    except LayerValidationError as err:
        got = err
    if isinstance(expected, Exception):
        assert isinstance(got, LayerValidationError)
        assert str(got) == str(expected)
    else:
        assert isinstance(got, pd.Series)
        pd.testing.assert_series_equal(got, expected)
        assert [type(v) for v in got.tolist()] == [type(v) for v in expected.tolist()]


def test_clean_columns_are_typed_in_bulk() -> None:
    # the bulk path takes the columns readers give for clean data (a national layer's
    # millions of values never go through Python one by one)
    texts = pd.Series(["Carretera 180", None, "  ", "Vía"], dtype=object)
    assert _typed_in_bulk(texts, AttributeSpec("name", "str")).tolist() == [
        "Carretera 180",
        None,
        None,
        "Vía",
    ]
    lanes = pd.Series([2.0, np.nan, 4.0])
    assert _typed_in_bulk(lanes, AttributeSpec("lanes", "int")).tolist() == [2, pd.NA, 4]
    classes = pd.Series([" Highway", "RAIL"], dtype=object)
    spec = AttributeSpec("row_type", "str", allowed=frozenset({"highway", "rail"}))
    assert _typed_in_bulk(classes, spec).tolist() == ["highway", "rail"]
    # a bad value is left to the value-by-value rules, which name it
    assert _typed_in_bulk(pd.Series([1.5]), AttributeSpec("lanes", "int")) is None
