"""A corpus of hostile and odd inputs, made by code: each gets its 4xx and changes nothing.

Every file here is generated in the test (no binaries are checked in). Each upload is
sent to the service; the answer must be the expected 4xx with a message naming the
problem and no server path, and the store's content (catalog rows and a hash of every
layer) must be what it was.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import sqlite3
import struct
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
import rasterio
from affine import Affine
from fastapi.testclient import TestClient
from shapely.geometry import Point
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.settings import ServiceSettings, StoreSettings
from layers.ingest import ingest
from layers.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
GIS = "h" * 24
POINTS = [(-92.93, 17.99), (-93.21, 18.40)]

LOCAL_CS = 'LOCAL_CS["site grid",LOCAL_DATUM["site",0],UNIT["metre",1]]'
TINY_UNIT = (
    'PROJCS["tiny",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",-93],'
    'PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],'
    'PARAMETER["false_northing",0],UNIT["tiny",1e-300]]'
)


# ---------------------------------------------------------------------- file builders


def _geojson(properties: list[dict[str, Any]]) -> bytes:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(xy)},
            "properties": props,
        }
        for xy, props in zip(POINTS, properties, strict=True)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _points_gpkg(folder: Path, layer: str = "towns") -> Path:
    path = folder / "towns.gpkg"
    frame = gpd.GeoDataFrame(
        {"name": ["Villahermosa", "Paraíso"], "population": [340060, 26665]},
        geometry=[Point(xy) for xy in POINTS],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")
    return path


def gpkg_named_gpkg_export(folder: Path) -> bytes:
    return _points_gpkg(folder).read_bytes()


def gpkg_with_recursive_view(folder: Path) -> bytes:
    """A GeoPackage whose only feature layer is a view over an endless recursive CTE."""
    path = _points_gpkg(folder)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(
            """
            CREATE VIEW forever AS
              WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
              SELECT i AS fid, (SELECT geom FROM towns LIMIT 1) AS geom, i AS name FROM n;
            INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)
              VALUES ('forever', 'features', 'forever', 4326);
            INSERT INTO gpkg_geometry_columns
              (table_name, column_name, geometry_type_name, srs_id, z, m)
              VALUES ('forever', 'geom', 'POINT', 4326, 0, 0);
            DELETE FROM gpkg_geometry_columns WHERE table_name = 'towns';
            DELETE FROM gpkg_contents WHERE table_name = 'towns';
            """
        )
        conn.commit()
    finally:
        conn.close()
    return path.read_bytes()


def _shapefile_zip(folder: Path, prj: str | None, drop_dbf_records: int = 0) -> bytes:
    """A zipped two-point shapefile with ``prj`` as its .prj (lon/lat points if none)."""
    utm = [Point(500000.0, 1990000.0), Point(470000.0, 2030000.0)]
    frame = gpd.GeoDataFrame(
        {"name": ["Villahermosa", "Paraíso"], "population": [340060, 26665]},
        geometry=utm if prj is not None else [Point(xy) for xy in POINTS],
        crs="EPSG:32615" if prj is not None else "EPSG:4326",
    )
    shp = folder / "towns.shp"
    pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile")
    parts = {p.suffix: p.read_bytes() for p in folder.glob("towns.*")}
    parts.pop(".prj", None)
    parts.pop(".cpg", None)
    if prj is not None:
        parts[".prj"] = prj.encode()
    if drop_dbf_records:
        dbf = bytearray(parts[".dbf"])
        records = struct.unpack_from("<I", dbf, 4)[0] - drop_dbf_records
        header_len, record_len = struct.unpack_from("<HH", dbf, 8)
        struct.pack_into("<I", dbf, 4, records)
        parts[".dbf"] = bytes(dbf[: header_len + records * record_len]) + b"\x1a"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for suffix, payload in parts.items():
            archive.writestr(f"towns{suffix}", payload)
    return buffer.getvalue()


def shapefile_local_cs(folder: Path) -> bytes:
    return _shapefile_zip(folder, LOCAL_CS)


def shapefile_tiny_unit(folder: Path) -> bytes:
    return _shapefile_zip(folder, TINY_UNIT)


def shapefile_short_dbf(folder: Path) -> bytes:
    """Two shapes, one attribute record: GDAL would give the second shape no attributes."""
    return _shapefile_zip(folder, None, drop_dbf_records=1)


def _tif(folder: Path, **profile: Any) -> bytes:
    path = folder / "grid.tif"
    settings: dict[str, Any] = {
        "driver": "GTiff",
        "width": 4,
        "height": 4,
        "count": 1,
        "dtype": "uint8",
        "crs": "EPSG:4326",
        "transform": Affine(0.01, 0, -93.0, 0, -0.01, 18.0),
    }
    settings.update(profile)
    data = profile.pop("data", None)
    settings.pop("data", None)
    with rasterio.open(path, "w", **settings) as dst:
        if data is not None:
            dst.write(data)
    return path.read_bytes()


def tif_local_cs(folder: Path) -> bytes:
    return _tif(folder, crs=rasterio.crs.CRS.from_wkt(LOCAL_CS))


def tif_zero_pixel(folder: Path) -> bytes:
    return _tif(folder, transform=Affine(0.0, 0, -93.0, 0, -0.01, 18.0))


def tif_negative_pixel(folder: Path) -> bytes:
    return _tif(folder, transform=Affine(-0.01, 0, -93.0, 0, -0.01, 18.0))


def tif_sparse_bomb(folder: Path) -> bytes:
    """A few hundred KB of TIFF that claims 100,000 x 100,000 pixels (sparse, tiled)."""
    return _tif(
        folder,
        width=100_000,
        height=100_000,
        tiled=True,
        blockxsize=512,
        blockysize=512,
        sparse_ok=True,
        transform=Affine(0.0001, 0, -93.0, 0, -0.0001, 18.0),
    )


@dataclass(frozen=True)
class Case:
    """One bad upload: the file, the form, and what the service must answer."""

    filename: str
    content: Callable[[Path], bytes]
    kind: str
    name: str | None
    status: int
    message: str  # a fragment the message must hold


def _const(payload: bytes) -> Callable[[Path], bytes]:
    return lambda folder: payload


CASES: dict[str, Case] = {
    "population 1e20": Case(
        "big.csv",
        _const(b"name,population,lon,lat\nVillahermosa,1e20,-92.93,17.99\n"),
        "localities",
        None,
        422,
        "column 'population'",
    ),
    "property named geom": Case(
        "g.geojson",
        _const(_geojson([{"name": "a", "population": 1, "geom": 1}] * 2)),
        "localities",
        None,
        422,
        "'geom'",
    ),
    "foo beside FOO": Case(
        "f.geojson",
        _const(_geojson([{"name": "a", "population": 1, "foo": 1, "FOO": 2}] * 2)),
        "localities",
        None,
        422,
        "'foo' and 'FOO'",
    ),
    "default name gpkg_export": Case(
        "gpkg_export.gpkg", gpkg_named_gpkg_export, "localities", None, 422, "reserved"
    ),
    "name sqlite_x": Case(
        "towns.gpkg", gpkg_named_gpkg_export, "localities", "sqlite_x", 422, "reserved"
    ),
    "prj LOCAL_CS": Case("local.zip", shapefile_local_cs, "localities", None, 422, "CRS"),
    "prj unit 1e-300": Case("tiny.zip", shapefile_tiny_unit, "localities", None, 422, "CRS"),
    "tif local CRS": Case("local.tif", tif_local_cs, "raster", None, 422, "CRS"),
    "tif zero pixel size": Case("zero.tif", tif_zero_pixel, "raster", None, 422, "pixel size"),
    "tif negative pixel size": Case(
        "negative.tif", tif_negative_pixel, "raster", None, 422, "pixel size"
    ),
    "tif 100k x 100k": Case("bomb.tif", tif_sparse_bomb, "raster", None, 413, "max_raster_cells"),
    "gpkg recursive view": Case(
        "view.gpkg", gpkg_with_recursive_view, "localities", None, 422, "view"
    ),
    "dbf shorter than shp": Case("short.zip", shapefile_short_dbf, "localities", None, 422, ".dbf"),
}


# ---------------------------------------------------------------------- fixtures


def fingerprint(store: Store) -> list[tuple[Any, ...]]:
    """The catalog rows and a hash of every vector layer's content."""
    rows = []
    for info in store.list_layers():
        digest = ""
        if info.geometry_type is not None:
            digest = hashlib.sha256(store.read(info.name).to_json().encode()).hexdigest()
        rows.append((info.name, info.kind, info.loaded_at, info.source, info.feature_count, digest))
    return rows


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Store]]:
    folder = tmp_path_factory.mktemp("bad-inputs")
    store = Store(folder / "store.gpkg")
    ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
    settings = ServiceSettings(mode="production", api_keys={GIS: "gis"})
    with TestClient(create_app(settings, StoreSettings(store=store.path))) as client:
        client.headers["X-API-Key"] = GIS
        yield client, store


REPOSITORY = str(Path(__file__).resolve().parents[2])


def _no_server_path(message: str) -> None:
    # the server's folders: temporary files, this checkout and home directories
    for fragment in (tempfile.gettempdir() + "/", REPOSITORY, "/home/", "/root/", "trazo-"):
        assert fragment not in message, message


@pytest.mark.parametrize("case_id", list(CASES))
def test_a_bad_upload_gets_its_4xx_and_changes_nothing(
    case_id: str, served: tuple[TestClient, Store], tmp_path: Path
) -> None:
    client, store = served
    case = CASES[case_id]
    payload = case.content(tmp_path)
    before = fingerprint(store)
    data = {"kind": case.kind} | ({"name": case.name} if case.name else {})
    started = time.monotonic()
    response = client.post(
        "/layers", data=data, files={"file": (case.filename, payload)}, params={"replace": True}
    )
    assert time.monotonic() - started < 20
    assert response.status_code == case.status, response.text
    body = response.json()
    assert case.message in body["message"], body
    _no_server_path(body["message"])
    assert fingerprint(store) == before


def test_an_item_id_past_int32_is_404(served: tuple[TestClient, Store]) -> None:
    client, _ = served
    for fid in (2147483648, 2**63, 10**30):
        response = client.get(f"/collections/localities/items/{fid}")
        assert response.status_code == 404, response.text
        assert str(fid) in response.json()["message"]


def test_a_full_disk_is_a_413_without_server_paths(
    served: tuple[TestClient, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while the store writes: the disk cannot be filled here, so it is raised."""
    client, store = served
    before = fingerprint(store)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(store.path))

    monkeypatch.setattr("pyogrio.write_dataframe", full)  # as the store calls it
    csv = (DATA / "tabasco_localities.csv").read_bytes()
    response = client.post(
        "/layers", data={"kind": "localities"}, files={"file": ("more.csv", csv)}
    )
    assert response.status_code == 413, response.text
    assert "no space left" in response.json()["message"]
    _no_server_path(response.json()["message"])
    assert fingerprint(store) == before


@pytest.mark.parametrize("case_id", list(CASES))
def test_the_cli_refuses_each_bad_file_in_one_line_with_exit_2(
    case_id: str, store_env: Path, tmp_path: Path
) -> None:
    case = CASES[case_id]
    store = Store(store_env)
    ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
    before = fingerprint(store)
    source = tmp_path / "in" / case.filename
    source.parent.mkdir()
    source.write_bytes(case.content(tmp_path))
    args = ["layers", "load", str(source), "--kind", case.kind, "--replace"]
    args += ["--name", case.name] if case.name else []
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and case.message in lines[0], result.output
    assert fingerprint(store) == before
