"""Exports of stored layers: each format read back, file placement and refusals.

Coordinates are hand-rounded places in Tabasco; expected values come from those literals.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from affine import Affine
from shapely.geometry import LineString, Point

from layers.errors import ExportError, NotFoundError, UnsafeInputError
from layers.export import export_frame
from layers.kinds import LayerKind
from layers.report import ValidationReport
from layers.store import Store


def report(name: str) -> ValidationReport:
    return ValidationReport(name, "localities", "tabasco.csv", "CSV", "EPSG:4326")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "store" / "store.gpkg")
    points = gpd.GeoDataFrame(
        {
            "name": ["Villahermosa", "Paraíso"],
            "population": np.array([340060, 26665], dtype="int64"),
            "connected": pd.array([True, None], dtype="boolean"),
        },
        geometry=[Point(-92.93, 17.99), Point(-93.21, 18.4)],
        crs="EPSG:4326",
    )
    lines = gpd.GeoDataFrame(
        {"row_type": ["highway"], "name": ["Carretera 180 (tramo)"]},
        geometry=[LineString([(-93.0, 18.0), (-92.5, 18.0)])],
        crs="EPSG:4326",
    )
    store.write_layer("localities", LayerKind.LOCALITIES, points, report("localities"))
    store.write_layer("roads", LayerKind.RIGHTS_OF_WAY, lines, report("roads"))
    tif = store.path.parent / "dem_in.tif"
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        width=2,
        height=2,
        count=1,
        dtype="uint8",
        crs="EPSG:4326",
        transform=Affine(0.5, 0.0, -93.0, 0.0, -0.5, 18.5),
    ) as dst:
        dst.write(np.array([[[1, 2], [3, 4]]], dtype="uint8"))
    store.write_raster("elevation", tif, report("elevation"))
    return store


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_geojson_is_rfc7946(store: Store, out: Path) -> None:
    written = store.export("localities", "geojson", out / "loc.geojson")

    assert written == out / "loc.geojson"
    doc = json.loads(written.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    features = doc["features"]
    # lon first, then lat
    assert [f["geometry"]["coordinates"] for f in features] == [[-92.93, 17.99], [-93.21, 18.4]]
    assert [f["properties"]["name"] for f in features] == ["Villahermosa", "Paraíso"]
    assert [f["properties"]["connected"] for f in features] == [True, None]
    back = pyogrio.read_dataframe(written)
    assert back.crs.to_epsg() == 4326
    assert back["population"].tolist() == [340060, 26665]


def test_geojson_lines(store: Store, out: Path) -> None:
    doc = json.loads(store.export("roads", "geojson", out / "r.geojson").read_text())
    geometry = doc["features"][0]["geometry"]
    assert geometry == {"type": "LineString", "coordinates": [[-93.0, 18.0], [-92.5, 18.0]]}


def test_gpkg_round_trip(store: Store, out: Path) -> None:
    written = store.export("localities", "gpkg", out / "loc.gpkg")

    assert pyogrio.list_layers(written).tolist() == [["localities", "Point"]]
    back = pyogrio.read_dataframe(written, layer="localities")
    assert list(back.columns) == ["name", "population", "connected", "geometry"]
    assert back["name"].tolist() == ["Villahermosa", "Paraíso"]
    assert back["population"].tolist() == [340060, 26665]
    assert [(p.x, p.y) for p in back.geometry] == [(-92.93, 17.99), (-93.21, 18.4)]
    assert back.crs.to_epsg() == 4326


def test_kml_readable(store: Store, out: Path) -> None:
    written = store.export("localities", "kml", out / "loc.kml")

    text = written.read_text(encoding="utf-8")
    assert "<name>Villahermosa</name>" in text
    assert "-92.93,17.99" in text
    back = pyogrio.read_dataframe(written)
    assert back["Name"].tolist() == ["Villahermosa", "Paraíso"]
    assert [(p.x, p.y) for p in back.geometry] == [(-92.93, 17.99), (-93.21, 18.4)]


def test_csv_points_have_wkt_and_lon_lat(store: Store, out: Path) -> None:
    written = store.export("localities", "csv", out / "loc.csv")

    with written.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["name", "population", "connected", "lon", "lat", "wkt"]
    assert rows[0] == {
        "name": "Villahermosa",
        "population": "340060",
        "connected": "True",
        "lon": "-92.93",
        "lat": "17.99",
        "wkt": "POINT (-92.93 17.99)",
    }
    assert rows[1]["connected"] == ""
    assert rows[1]["wkt"] == "POINT (-93.21 18.4)"
    # GDAL's CSV driver takes the wkt column as the geometry
    back = pyogrio.read_dataframe(written)
    assert [(p.x, p.y) for p in back.geometry] == [(-92.93, 17.99), (-93.21, 18.4)]


def test_csv_starts_with_a_utf8_byte_order_mark_for_excel(store: Store, out: Path) -> None:
    raw = store.export("localities", "csv", out / "loc.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfname,")
    # "Paraíso" in UTF-8 (í = C3 AD), which Excel shows right only after the mark.
    assert "Paraíso".encode() in raw and b"Para\xc3\xadso" in raw


def test_gpkg_is_version_1_2_for_gdal_3_6(store: Store, out: Path) -> None:
    written = store.export("localities", "gpkg", out / "loc.gpkg")
    header = written.read_bytes()[:100]
    # SQLite header: application_id at byte 68 ("GPKG"), user_version at byte 60
    # (10200 for GeoPackage 1.2; GDAL 3.7+ would write 10400 for 1.4 unasked).
    assert header[68:72] == b"GPKG"
    assert int.from_bytes(header[60:64], "big") == 10200


def test_one_type_per_attribute_across_formats(out: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["AMX-1", "Maya-1"], "capacity_tbps": [None, 12.5], "year": [2014, 2000]},
        geometry=[Point(-86.8, 21.1), Point(-87.0, 20.6)],
        crs="EPSG:4326",
    )
    gpkg = pyogrio.read_info(export_frame(frame, "gpkg", out / "c.gpkg", "c"))
    geojson = pyogrio.read_info(export_frame(frame, "geojson", out / "c.geojson", "c"))
    for info in (gpkg, geojson):
        # Text, real and integer (GeoJSON readers size integers to their values).
        kinds = {f: np.dtype(t).kind for f, t in zip(info["fields"], info["dtypes"], strict=True)}
        assert kinds == {"name": "O", "capacity_tbps": "f", "year": "i"}
    written = export_frame(frame, "csv", out / "c.csv", "c", geometry_type="Point")
    with written.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["capacity_tbps"] for row in rows] == ["", "12.5"]


def test_csv_lines_have_wkt_only(store: Store, out: Path) -> None:
    written = store.export("roads", "csv", out / "roads.csv")

    with written.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "row_type": "highway",
            "name": "Carretera 180 (tramo)",
            "wkt": "LINESTRING (-93 18, -92.5 18)",
        }
    ]


def test_csv_keeps_full_precision(out: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["x"]}, geometry=[Point(-92.123456789, 17.987654321)], crs="EPSG:4326"
    )
    written = export_frame(frame, "csv", out / "p.csv", "p", geometry_type="Point")
    with written.open(newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["wkt"] == "POINT (-92.123456789 17.987654321)"
    assert float(row["lon"]) == -92.123456789


@pytest.mark.parametrize(
    ("fmt", "ext"), [("geojson", "geojson"), ("gpkg", "gpkg"), ("kml", "kml"), ("csv", "csv")]
)
def test_export_into_a_folder_names_the_file_after_the_layer(
    store: Store, out: Path, fmt: str, ext: str
) -> None:
    written = store.export("localities", fmt, out)  # type: ignore[arg-type]
    assert written == out / f"localities.{ext}"
    assert written.is_file()
    assert sorted(p.name for p in out.iterdir()) == [f"localities.{ext}"]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "kml", "csv"])
def test_export_replaces_an_existing_file(store: Store, out: Path, fmt: str) -> None:
    target = out / f"old.{fmt}"
    target.write_text("old content")

    store.export("roads", fmt, target)  # type: ignore[arg-type]

    assert target.read_bytes() != b"old content"
    assert len(pyogrio.read_dataframe(target)) == 1
    assert [p.name for p in out.iterdir()] == [target.name]


def test_failed_export_keeps_the_existing_file(
    store: Store, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = out / "loc.geojson"
    target.write_text("previous export")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(pyogrio, "write_dataframe", broken)
    with pytest.raises(OSError, match="disk full"):
        store.export("localities", "geojson", target)

    assert target.read_text() == "previous export"
    assert [p.name for p in out.iterdir()] == ["loc.geojson"]


def test_missing_output_folder_refused_before_reading(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the layer was read")

    monkeypatch.setattr(Store, "read", no_read)
    with pytest.raises(ExportError, match="does not exist; create it first"):
        store.export("localities", "geojson", tmp_path / "nowhere" / "loc.geojson")


def test_unknown_format_lists_the_formats(store: Store, out: Path) -> None:
    with pytest.raises(ExportError, match="use one of: geojson, gpkg, kml, csv"):
        store.export("localities", "shp", out / "x.shp")  # type: ignore[arg-type]


@pytest.mark.parametrize("target", ["/vsimem/x.geojson", "/vsis3/bucket/x.geojson"])
def test_virtual_paths_refused(store: Store, target: str) -> None:
    with pytest.raises(UnsafeInputError, match="local file path"):
        store.export("localities", "geojson", Path(target))


def test_raster_export_copies_the_geotiff(store: Store, out: Path) -> None:
    written = store.export("elevation", "tif", out)

    assert written == out / "elevation.tif"
    assert written.read_bytes() == store.raster_path("elevation").read_bytes()
    with rasterio.open(written) as src:
        assert src.read(1).tolist() == [[1, 2], [3, 4]]
        assert tuple(src.bounds) == (-93.0, 17.5, -92.0, 18.5)


def test_raster_and_vector_formats_do_not_mix(store: Store, out: Path) -> None:
    with pytest.raises(ExportError, match=r"raster layer 'elevation'.*use one of: tif"):
        store.export("elevation", "geojson", out)
    with pytest.raises(ExportError, match="raster layers export only to 'tif'"):
        store.export("localities", "tif", out)


def test_unknown_layer(store: Store, out: Path) -> None:
    with pytest.raises(NotFoundError, match="no layer named 'nope'"):
        store.export("nope", "csv", out)
