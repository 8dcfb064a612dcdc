"""Reading every supported format into a kind's schema, and refusals at read time."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from layers._safety import SafeInput
from layers.errors import LayerValidationError, LimitExceededError
from layers.ingest import read_layer
from layers.limits import Limits
from layers.read import detect_format, read_input, summarise_gdal_message

# Known values of the fixtures, read off the source files (see tests/data/layers/README.md).
MUNICIPALITIES = {"27004": "Centro", "27013": "Nacajuca"}
RAIL_UIDENTS = {82406, 82506, 82706}
VILLAHERMOSA = ("Villahermosa", 340060, -92.919416, 17.987838)


def _geojson_bbox(path: Path) -> tuple[float, float, float, float]:
    """Bounding box of a GeoJSON file, from its coordinates parsed with ``json`` alone."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if isinstance(coords[0], (int, float)):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for item in coords:
                walk(item)

    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        walk(feature["geometry"]["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


@pytest.mark.parametrize(
    ("file", "fmt", "crs_in"),
    [
        ("tabasco_municipalities.geojson", "GeoJSON", "EPSG:4326"),
        ("tabasco_municipalities.gpkg", "GPKG", "EPSG:4326"),
        ("tabasco_municipalities_shp.zip", "ESRI Shapefile (zip)", "EPSG:6372"),
    ],
)
def test_municipality_formats(file: str, fmt: str, crs_in: str, data_dir: Path) -> None:
    layer = read_layer(data_dir / file, "municipalities")
    frame = layer.frame
    assert frame is not None
    assert dict(zip(frame["cvegeo"], frame["name"], strict=True)) == MUNICIPALITIES
    assert set(frame["state"]) == {"Tabasco"}
    assert set(frame["cve_ent"]) == {"27"}
    assert frame["population"].isna().all()
    assert list(frame.columns[:5]) == ["cvegeo", "name", "cve_ent", "state", "population"]
    assert set(frame.geom_type) <= {"Polygon", "MultiPolygon"}
    assert frame.crs.to_epsg() == 4326
    report = layer.report
    assert (report.format, report.crs_in) == (fmt, crs_in)
    assert (report.features_read, report.features_kept, report.features_dropped) == (2, 2, 0)
    # The shapefile was projected to EPSG:6372; back in lon/lat it lands where the source is.
    assert report.bbox == pytest.approx(
        _geojson_bbox(data_dir / "tabasco_municipalities.geojson"), abs=1e-6
    )


@pytest.mark.parametrize(
    ("file", "fmt"), [("southeast_railways.kml", "KML"), ("southeast_railways.fgb", "FlatGeobuf")]
)
def test_railway_formats(file: str, fmt: str, data_dir: Path) -> None:
    layer = read_layer(data_dir / file, "rights_of_way")
    frame = layer.frame
    assert frame is not None
    assert set(frame["uident"]) == RAIL_UIDENTS
    assert set(frame["row_type"]) == {"rail"}
    assert frame["owner"].isna().all()
    assert set(frame.geom_type) == {"LineString"}
    assert not frame.has_z.any()
    assert layer.report.format == fmt
    assert layer.report.features_kept == 3
    # The KML reader's bookkeeping columns and GDAL-written placemark ids are not kept.
    assert not {"tessellate", "altitudeMode", "id"} & set(frame.columns)


@pytest.mark.parametrize(
    ("file", "source", "fmt"),
    [
        ("tabasco_localities.csv", "tabasco_localities.csv", "CSV"),
        (
            "tabasco_localities_csv.zip",
            "tabasco_localities_csv.zip/tabasco_localities.csv",
            "CSV (zip)",
        ),
    ],
)
def test_localities_csv(file: str, source: str, fmt: str, data_dir: Path) -> None:
    layer = read_layer(data_dir / file, "localities")
    frame = layer.frame
    assert frame is not None
    assert len(frame) == 6
    name, population, lon, lat = VILLAHERMOSA
    first = frame.iloc[0]
    assert (first["name"], first["population"], first["municipality"]) == (
        name,
        population,
        "Centro",
    )
    assert (first.geometry.x, first.geometry.y) == (lon, lat)
    assert frame["population"].dtype == "Int64"
    assert "lon" not in frame.columns and "lat" not in frame.columns
    assert "longitud_dms" in frame.columns  # unknown columns are kept
    assert (layer.report.source, layer.report.format) == (source, fmt)
    assert layer.report.crs_in == "EPSG:4326"


def test_geotiff(data_dir: Path) -> None:
    with read_layer(data_dir / "villahermosa_elevation.tif", "raster") as layer:
        assert layer.frame is None
        assert layer.raster == (data_dir / "villahermosa_elevation.tif").resolve()
        report = layer.report
        assert (report.format, report.crs_in, report.kind) == ("GTiff", "EPSG:4326", "raster")
        assert report.bbox is not None
        left, bottom, right, top = report.bbox
        # 56 x 45 cells of 0.008983 degrees, around Villahermosa (-92.93, 17.99).
        assert right - left == pytest.approx(56 * 0.008983)
        assert top - bottom == pytest.approx(45 * 0.008983)
        assert left < -92.93 < right and bottom < 17.99 < top
        assert "raster 56 x 45 cells, 1 band, int16, nodata -32768.0" in report.warnings


@pytest.mark.parametrize(
    ("lon", "lat"),
    [("lon", "lat"), ("Longitude", "Latitude"), ("LNG", "LAT"), ("longitud", "latitud")],
)
def test_csv_coordinate_column_names(
    lon: str, lat: str, write_text: Callable[[str, str], Path]
) -> None:
    path = write_text(
        "pueblos.csv", f"nom_loc,{lon},{lat},pobtot\nVillahermosa,-92.919416,17.987838,340060\n"
    )
    frame = read_layer(path, "localities").frame
    assert frame is not None
    assert (frame.geometry.iloc[0].x, frame.geometry.iloc[0].y) == (-92.919416, 17.987838)


def test_csv_xy_columns_without_crs_are_taken_as_lonlat_with_a_warning(
    write_text: Callable[[str, str], Path],
) -> None:
    path = write_text(
        "pueblos.csv", "name,population,X,Y\nVillahermosa,340060,-92.919416,17.987838\n"
    )
    layer = read_layer(path, "localities")
    assert layer.report.crs_in is None
    assert any("no CRS" in warning for warning in layer.report.warnings)


def test_csv_rows_without_numeric_coordinates_are_refused(
    write_text: Callable[[str, str], Path],
) -> None:
    path = write_text(
        "pueblos.csv",
        "name,population,lon,lat\n"
        "Villahermosa,340060,-92.919416,17.987838\n"
        "Sin coordenadas,10,,17.9\n"
        "Texto,10,-92.9,norte\n",
    )
    with pytest.raises(
        LayerValidationError,
        match=r"2 rows have an empty or non-numeric coordinate in columns 'lon'/'lat' "
        r"\(first on line 3\)",
    ):
        read_layer(path, "localities")


def test_csv_without_coordinate_columns_is_refused(write_text: Callable[[str, str], Path]) -> None:
    path = write_text("pueblos.csv", "name,population,este,norte\nVillahermosa,1,2,3\n")
    with pytest.raises(
        LayerValidationError,
        match=r"needs longitude and latitude columns.*columns found: name, population, este, norte",
    ):
        read_layer(path, "localities")


def test_latin1_csv_is_read_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "pueblos.csv"
    path.write_bytes(
        "name,population,lon,lat\nOcuiltzapotlán,17972,-92.862493,18.135367\n".encode("cp1252")
    )
    layer = read_layer(path, "localities")
    assert layer.frame is not None
    assert layer.frame["name"].iloc[0] == "Ocuiltzapotlán"
    assert any("Windows-1252" in warning for warning in layer.report.warnings)


def _copy_zip_without(source: Path, target: Path, suffix: str) -> Path:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            if not info.filename.endswith(suffix):
                copy.writestr(info, original.read(info))
    return target


@pytest.mark.parametrize("part", [".shx", ".dbf", ".shp"])
def test_zipped_shapefile_missing_a_part_is_refused(
    part: str, data_dir: Path, tmp_path: Path
) -> None:
    archive = _copy_zip_without(
        data_dir / "tabasco_municipalities_shp.zip", tmp_path / "muni.zip", part
    )
    with pytest.raises(LayerValidationError, match=rf"missing its \{part} part"):
        read_layer(archive, "municipalities")


def test_too_many_features_is_refused_before_reading(data_dir: Path) -> None:
    with pytest.raises(
        LimitExceededError, match=r"has 2 features, over the 1 limit \(max_features\)"
    ):
        read_layer(
            data_dir / "tabasco_municipalities.gpkg",
            "municipalities",
            limits=Limits(max_features=1),
        )


def test_too_many_vertices_is_refused(data_dir: Path) -> None:
    with pytest.raises(
        LimitExceededError, match=r"vertices, over the 100 limit \(max_vertices_per_geometry\)"
    ):
        read_layer(
            data_dir / "tabasco_municipalities.geojson",
            "municipalities",
            limits=Limits(max_vertices_per_geometry=100),
        )


@pytest.fixture
def two_layer_gpkg(data_dir: Path, tmp_path: Path) -> Path:
    frame = gpd.read_file(data_dir / "tabasco_municipalities.geojson")
    path = tmp_path / "tabasco.gpkg"
    frame.iloc[:1].to_file(path, layer="centro", driver="GPKG")
    frame.iloc[1:].to_file(path, layer="nacajuca", driver="GPKG")
    return path


def test_gpkg_with_several_layers_requires_a_choice(two_layer_gpkg: Path) -> None:
    with pytest.raises(
        LayerValidationError, match=r"holds 2 layers \(centro, nacajuca\); choose one"
    ):
        read_layer(two_layer_gpkg, "municipalities")


def test_gpkg_layer_can_be_chosen(two_layer_gpkg: Path) -> None:
    frame = read_layer(two_layer_gpkg, "municipalities", source_layer="nacajuca").frame
    assert frame is not None
    assert list(frame["name"]) == ["Nacajuca"]
    with pytest.raises(
        LayerValidationError, match="has no layer 'balancan'; its layers are: centro, nacajuca"
    ):
        read_layer(two_layer_gpkg, "municipalities", source_layer="balancan")


def test_corrupt_gpkg_is_refused_without_server_paths(tmp_path: Path) -> None:
    path = tmp_path / "roto.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + b"\x00\xff" * 200)
    with pytest.raises(
        LayerValidationError, match=r"'roto\.gpkg' cannot be read as GPKG"
    ) as caught:
        read_layer(path, "municipalities")
    assert str(tmp_path) not in str(caught.value)


def test_sqlite_database_that_is_not_a_geopackage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tabla.gpkg"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(LayerValidationError, match=r"'tabla\.gpkg'"):
        read_layer(path, "municipalities")


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        (
            "layer.geojson",
            "<OGRVRTDataSource><OGRVRTLayer name='x'><SrcDataSource>/etc/passwd"
            "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>",
            "VRT XML",
        ),
        ("layer.csv", "<OGRVRTDataSource/>", "VRT XML"),
        ("layer.geojson", "type,coordinates\nPoint,1", "starts with '{'"),
        (
            "layer.kml",
            "<kml><Document><NetworkLink><Link><href>http://x/a.kml</href></Link></NetworkLink></Document></kml>",
            "NetworkLink",
        ),
        (
            "layer.kml",
            '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaa">]><kml/>',
            "XML (entity|DOCTYPE)",
        ),
        ("layer.fgb", "not flatgeobuf", "FlatGeobuf"),
        ("layer.txt", "hello", "unsupported file type '.txt'"),
    ],
)
def test_content_must_match_the_format(
    name: str, content: str, match: str, write_text: Callable[[str, str], Path]
) -> None:
    path = write_text(name, content)
    with pytest.raises(LayerValidationError, match=match):
        detect_format(path, name)


def test_gpkg_and_tiff_are_recognised_by_magic_without_extension(
    data_dir: Path, tmp_path: Path
) -> None:
    gpkg = tmp_path / "sin_extension"
    shutil.copy(data_dir / "tabasco_municipalities.gpkg", gpkg)
    assert detect_format(gpkg, "sin_extension") == "GPKG"
    tif = tmp_path / "elevacion"
    shutil.copy(data_dir / "villahermosa_elevation.tif", tif)
    assert detect_format(tif, "elevacion") == "GTiff"


def test_read_input_reports_reader_warnings_instead_of_raising(data_dir: Path) -> None:
    raw = read_input(
        SafeInput(data_dir / "southeast_railways.fgb", "southeast_railways.fgb"), Limits()
    )
    assert raw.frame is not None and raw.format == "FlatGeobuf"
    assert raw.warnings == []


def test_summarise_gdal_message_hides_server_paths() -> None:
    message = summarise_gdal_message(
        "/srv/trazo/tmp/trazo-load-abc/in/layer.gpkg: not a database; also /etc/gdal/x.conf",
        Path("/srv/trazo/tmp/trazo-load-abc/in/layer.gpkg"),
        "municipios.gpkg",
    )
    assert message == "municipios.gpkg: not a database; also <path>"


def test_geojson_written_by_hand_reads(write_geojson: Callable[..., Path]) -> None:
    path = write_geojson(
        [
            (
                {"type": "Point", "coordinates": [-92.919416, 17.987838]},
                {"NOM_LOC": "Villahermosa", "POBTOT": 340060},
            )
        ]
    )
    frame = read_layer(path, "localities").frame
    assert frame is not None
    assert shapely.equals(frame.geometry.iloc[0], shapely.Point(-92.919416, 17.987838))
    assert (frame["name"].iloc[0], frame["population"].iloc[0]) == ("Villahermosa", 340060)
