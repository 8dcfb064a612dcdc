"""Layers over HTTP: uploads (good, bad, oversize), replace, delete, exports read back."""

from __future__ import annotations

import hashlib
import io
import json
import re
import select
import socket
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyogrio
import pytest
import rasterio
from fastapi.testclient import TestClient

from api._upload import FORM_OVERHEAD_BYTES
from api.app import create_app
from api.settings import ServiceSettings, StoreSettings
from layers.ingest import ingest
from layers.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
GIS = "g" * 24
VIEWER = "v" * 24
CAP = 256 * 1024  # the upload cap of the test apps


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A store holding one layer, ``localities``."""
    store = Store(tmp_path / "store" / "store.gpkg")
    ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
    return store


@pytest.fixture
def client(store: Store, private_tmp: Path) -> Iterator[TestClient]:
    settings = ServiceSettings(
        mode="production", api_keys={GIS: "gis", VIEWER: "viewer"}, max_upload_bytes=CAP
    )
    with TestClient(create_app(settings, StoreSettings(store=store.path))) as test_client:
        test_client.headers["X-API-Key"] = GIS
        yield test_client


def work_folders(folder: Path) -> list[Path]:
    """What is left in the temporary folder but this process's owner lock (layers.workdirs)."""
    return [path for path in folder.iterdir() if not path.name.startswith("trazo-owner-")]


def fingerprint(store: Store) -> list[tuple[Any, ...]]:
    """The catalog rows and a hash of every vector layer's content."""
    rows = []
    for info in store.list_layers():
        digest = ""
        if info.geometry_type is not None:
            digest = hashlib.sha256(store.read(info.name).to_json().encode()).hexdigest()
        rows.append((info.name, info.kind, info.loaded_at, info.source, info.feature_count, digest))
    return rows


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def line_geojson(row_type: str) -> bytes:
    feature = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[-93.0, 18.0], [-92.0, 18.0]]},
        "properties": {"row_type": row_type},
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def shapefile_without_shx() -> bytes:
    with zipfile.ZipFile(DATA / "tabasco_municipalities_shp.zip") as source:
        return zipped({n: source.read(n) for n in source.namelist() if not n.endswith(".shx")})


NAN_GEOJSON = (
    b'{"type":"FeatureCollection","features":[{"type":"Feature","geometry":'
    b'{"type":"Point","coordinates":[NaN,18.0]},"properties":{"name":"x","population":1}}]}'
)

# name: (file name, bytes, form fields, status, code, words the message must hold)
BAD_UPLOADS: dict[str, tuple[str, bytes, dict[str, str], int, str, str]] = {
    "zip-slip": (
        "slip.zip",
        zipped({"../evil.txt": b"x", "a.geojson": b"{}"}),
        {"kind": "localities"},
        400,
        "unsafe_input",
        "zip-slip",
    ),
    "zip bomb": (
        "bomb.zip",
        zipped({"a.geojson": b" " * (2 * 1024**2)}),
        {"kind": "localities"},
        413,
        "limit_exceeded",
        "zip bomb",
    ),
    "shapefile without .shx": (
        "municipios.zip",
        shapefile_without_shx(),
        {"kind": "municipalities"},
        422,
        "invalid_layer",
        "missing its .shx part",
    ),
    "NaN coordinates": (
        "nan.geojson",
        NAN_GEOJSON,
        {"kind": "localities"},
        422,
        "invalid_layer",
        "NaN or infinite coordinates",
    ),
    "empty coordinate": (
        "nan.csv",
        b"name,population,lon,lat\nX,1,nan,18\n",
        {"kind": "localities"},
        422,
        "invalid_layer",
        "non-numeric coordinate",
    ),
    "longitude out of range": (
        "far.csv",
        b"name,population,lon,lat\nX,1,-500,18\n",
        {"kind": "localities"},
        422,
        "invalid_layer",
        "outside lon/lat ranges",
    ),
    "bad row_type": (
        "roads.geojson",
        line_geojson("road"),
        {"kind": "rights_of_way"},
        422,
        "invalid_layer",
        "'row_type' has values outside the allowed set",
    ),
    "wrong kind": (
        "rails.geojson",
        line_geojson("rail"),
        {"kind": "localities"},
        422,
        "invalid_layer",
        "takes points",
    ),
    "unknown kind": (
        "rails.geojson",
        line_geojson("rail"),
        {"kind": "roads"},
        422,
        "invalid_layer",
        "unknown layer kind 'roads'",
    ),
    "missing kind": (
        "rails.geojson",
        line_geojson("rail"),
        {},
        422,
        "invalid_layer",
        "no 'kind' field",
    ),
    "bad name": (
        "rails.geojson",
        line_geojson("rail"),
        {"kind": "rights_of_way", "name": "Rails 2"},
        422,
        "invalid_layer",
        "is not allowed",
    ),
    "unknown suffix": (
        "rails.exe",
        line_geojson("rail"),
        {"kind": "rights_of_way"},
        422,
        "invalid_layer",
        "cannot tell the format of 'rails.exe'",
    ),
    "bare shapefile": (
        "rails.shp",
        b"\x00" * 100,
        {"kind": "rights_of_way"},
        422,
        "invalid_layer",
        "zip a shapefile's .shp, .shx and .dbf together",
    ),
    "not a zip": (
        "rails.zip",
        b"not a zip",
        {"kind": "rights_of_way"},
        422,
        "invalid_layer",
        "not a readable zip archive",
    ),
    "file over the cap": (
        "big.geojson",
        b" " * (CAP + 1),
        {"kind": "localities"},
        413,
        "limit_exceeded",
        "TRAZO_MAX_UPLOAD_BYTES",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_is_refused_and_the_store_is_unchanged(
    case: str, client: TestClient, store: Store, private_tmp: Path
) -> None:
    filename, payload, fields, status, code, words = BAD_UPLOADS[case]
    before = fingerprint(store)
    response = client.post("/layers", files={"file": (filename, payload)}, data=fields)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert words in response.json()["message"]
    assert fingerprint(store) == before
    assert work_folders(private_tmp) == []


def _multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> bytes:
    chunks = []
    for name, filename, payload in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        chunks.append(payload + b"\r\n")
    return b"".join(chunks)


CSV = (DATA / "tabasco_localities.csv").read_bytes()
BAD_FORMS: dict[str, tuple[bytes, dict[str, str], str]] = {
    "not multipart": (b'{"kind": "localities"}', {"Content-Type": "application/json"}, "multipart"),
    "no file": (
        _multipart([("kind", None, b"localities")]) + b"--b0undary--\r\n",
        {},
        "no 'file' part",
    ),
    "two files": (
        _multipart([("file", "a.csv", CSV), ("file", "b.csv", CSV)]) + b"--b0undary--\r\n",
        {},
        "exactly one file",
    ),
    "truncated body": (
        _multipart([("kind", None, b"localities"), ("file", "a.csv", CSV)]),
        {},
        "ended before its closing boundary",
    ),
    "long text field": (
        _multipart([("name", None, b"x" * 5000)]) + b"--b0undary--\r\n",
        {},
        "longer than 1024 bytes",
    ),
    "garbage": (b"\x00\xff" * 100, {}, "not valid multipart/form-data"),
}


@pytest.mark.parametrize("case", list(BAD_FORMS))
def test_malformed_forms_are_refused(
    case: str, client: TestClient, store: Store, private_tmp: Path
) -> None:
    body, headers, words = BAD_FORMS[case]
    before = fingerprint(store)
    headers = {"Content-Type": "multipart/form-data; boundary=b0undary", **headers}
    response = client.post("/layers", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert words in response.json()["message"]
    assert fingerprint(store) == before
    assert work_folders(private_tmp) == []


def test_declared_length_over_the_cap_is_refused_before_reading(
    client: TestClient, store: Store
) -> None:
    before = fingerprint(store)
    body = _multipart([("kind", None, b"localities"), ("file", "a.csv", CSV)])
    response = client.post(
        "/layers",
        content=body,
        headers={
            "Content-Type": "multipart/form-data; boundary=b0undary",
            "Content-Length": str(10**9),
        },
    )
    assert response.status_code == 413
    assert "953.7 MiB" in response.json()["message"]
    assert fingerprint(store) == before


def test_a_form_a_little_over_the_cap_in_total_but_not_in_its_file_passes(
    client: TestClient,
) -> None:
    padding = _multipart([("comment", None, b"x" * 1000)] * 3)
    body = padding + _multipart([("kind", None, b"localities"), ("file", "small.csv", CSV)])
    response = client.post(
        "/layers",
        content=body + b"--b0undary--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert response.status_code == 201, response.text
    assert len(body) < CAP + FORM_OVERHEAD_BYTES


@pytest.mark.parametrize(
    ("file", "kind", "features"),
    [
        ("tabasco_municipalities.geojson", "municipalities", 2),
        ("tabasco_municipalities.gpkg", "municipalities", 2),
        ("tabasco_municipalities_shp.zip", "municipalities", 2),
        ("southeast_railways.kml", "rights_of_way", 3),
        ("southeast_railways.fgb", "rights_of_way", 3),
        ("tabasco_localities_csv.zip", "localities", 6),
        ("villahermosa_elevation.tif", "raster", 0),
    ],
)
def test_every_supported_format_uploads(
    file: str, kind: str, features: int, client: TestClient, store: Store, private_tmp: Path
) -> None:
    payload = (DATA / file).read_bytes()
    response = client.post(
        "/layers", files={"file": (file, payload)}, data={"kind": kind, "name": "uploaded"}
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["name"] == "uploaded" and report["kind"] == kind
    assert report["features_kept"] == features
    assert response.headers["location"] == "/layers/uploaded"
    info = store.info("uploaded")
    assert info.kind == kind and info.feature_count == features
    assert work_folders(private_tmp) == []


def test_the_client_file_name_names_the_layer_but_is_never_a_path(
    client: TestClient, store: Store
) -> None:
    response = client.post(
        "/layers",
        files={"file": ("../../Localidades Tabasco.CSV", CSV)},
        data={"kind": "localities"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "localidades_tabasco"
    assert store.info("localidades_tabasco").source == "localidades_tabasco.csv"


def test_replacing_needs_replace_true(client: TestClient, store: Store) -> None:
    before = fingerprint(store)
    files = {"file": ("municipios.geojson", (DATA / "tabasco_municipalities.geojson").read_bytes())}
    response = client.post(
        "/layers", files=files, data={"kind": "localities", "name": "localities"}
    )
    assert response.status_code == 422  # validated before the name is checked: polygons
    response = client.post(
        "/layers", files={"file": ("l.csv", CSV)}, data={"kind": "localities", "name": "localities"}
    )
    assert response.status_code == 409
    assert "?replace=true" in response.json()["message"]
    assert fingerprint(store) == before
    response = client.post(
        "/layers?replace=true",
        files={"file": ("l.csv", CSV)},
        data={"kind": "localities", "name": "localities"},
    )
    assert response.status_code == 201
    assert store.info("localities").source == "l.csv"


@pytest.mark.parametrize(
    ("method", "path", "key", "status"),
    [
        ("post", "/layers", None, 401),
        ("post", "/layers", VIEWER, 403),
        ("delete", "/layers/localities", VIEWER, 403),
        ("get", "/layers", None, 401),
        ("get", "/layers/localities.gpkg", None, 401),
    ],
)
def test_roles(
    method: str, path: str, key: str | None, status: int, client: TestClient, store: Store
) -> None:
    before = fingerprint(store)
    headers = {"X-API-Key": key} if key else {}
    client.headers.pop("X-API-Key")
    kwargs: dict[str, Any] = {}
    if method == "post":
        kwargs = {"files": {"file": ("l.csv", CSV)}, "data": {"kind": "localities"}}
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status
    assert fingerprint(store) == before


def test_delete_removes_the_layer_and_its_collection(client: TestClient, store: Store) -> None:
    assert client.delete("/layers/localities").status_code == 204
    assert store.list_layers() == []
    assert client.get("/collections/localities").status_code == 404
    response = client.delete("/layers/localities")
    assert response.status_code == 404 and "no layer named 'localities'" in response.text


def test_list_and_describe(client: TestClient) -> None:
    rows = client.get("/layers").json()
    assert [row["name"] for row in rows] == ["localities"]
    row = client.get("/layers/localities").json()
    assert row["feature_count"] == 6 and row["geometry_type"] == "Point"
    assert client.get("/layers/nothing").status_code == 404
    assert client.get("/layers/Not-A-Name").status_code == 422


@pytest.mark.parametrize(
    ("fmt", "media"),
    [
        ("geojson", "application/geo+json"),
        ("gpkg", "application/geopackage+sqlite3"),
        ("kml", "application/vnd.google-earth.kml+xml"),
        ("csv", "text/csv; charset=utf-8"),
    ],
)
def test_vector_exports_read_back(
    fmt: str, media: str, client: TestClient, store: Store, tmp_path: Path, private_tmp: Path
) -> None:
    response = client.get(f"/layers/localities.{fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(rf'attachment; filename="localities\.{fmt}"', disposition)
    path = tmp_path / f"localities.{fmt}"
    path.write_bytes(response.content)
    options = {"X_POSSIBLE_NAMES": "lon", "Y_POSSIBLE_NAMES": "lat"} if fmt == "csv" else {}
    read = pyogrio.read_dataframe(path, **options)
    expected = store.read("localities")
    name_column = next(c for c in read.columns if c.lower() == "name")  # KML: "Name"
    assert sorted(read[name_column]) == sorted(expected["name"])
    if fmt != "csv":
        assert sorted(read.geometry.x) == pytest.approx(sorted(expected.geometry.x), abs=1e-9)
    assert work_folders(private_tmp) == []


def test_raster_exports_as_geotiff_only(client: TestClient, tmp_path: Path) -> None:
    tif = (DATA / "villahermosa_elevation.tif").read_bytes()
    response = client.post(
        "/layers", files={"file": ("dem.tif", tif)}, data={"kind": "raster", "name": "dem"}
    )
    assert response.status_code == 201, response.text
    response = client.get("/layers/dem.tif")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/tiff; application=geotiff"
    path = tmp_path / "dem.tif"
    path.write_bytes(response.content)
    with rasterio.open(path) as raster, rasterio.open(DATA / "villahermosa_elevation.tif") as src:
        assert raster.shape == src.shape and (raster.read(1) == src.read(1)).all()
    assert client.get("/layers/dem.gpkg").status_code == 422
    assert client.get("/layers/localities.tif").status_code == 422
    assert client.get("/layers/localities.shp").status_code == 422
    assert client.get("/layers/nothing.gpkg").status_code == 404


# ---------------------------------------------------------------------- the real server


def _send_until_answered(base: str, head: bytes, chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send ``head`` then ``chunks`` until the server answers; return the answer, bytes sent."""
    address = urlsplit(base)
    sent = 0
    with socket.create_connection((address.hostname, address.port), timeout=20) as conn:
        conn.sendall(head)
        for chunk in chunks:
            readable, _, _ = select.select([conn], [], [], 0)
            if readable:
                break
            try:
                conn.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(chunk)
        conn.settimeout(20)
        answer = b""
        while b"\r\n\r\n" not in answer:
            try:
                data = conn.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    return answer, sent


@pytest.fixture
def server(live_server: Callable[[dict[str, str]], str], store: Store) -> str:
    return live_server(
        {
            "TRAZO_MODE": "production",
            "TRAZO_API_KEYS": json.dumps({GIS: "gis"}),
            "TRAZO_STORE": str(store.path),
            "TRAZO_MAX_UPLOAD_BYTES": str(1024**2),
        }
    )


def _head(base: str, extra: str, key: str | None = GIS) -> bytes:
    host = urlsplit(base).netloc
    auth = f"X-API-Key: {key}\r\n" if key else ""
    return (
        f"POST /layers HTTP/1.1\r\nHost: {host}\r\n{auth}"
        f"Content-Type: multipart/form-data; boundary=b0undary\r\n{extra}\r\n"
    ).encode()


def _gigabyte_form(chunk: int = 64 * 1024) -> Iterator[bytes]:
    yield _multipart([("kind", None, b"localities")])
    yield b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
    for _ in range(1024**3 // chunk):
        yield b"x" * chunk


def test_server_refuses_a_declared_gigabyte_without_reading_it(server: str, store: Store) -> None:
    before = fingerprint(store)
    head = _head(server, f"Content-Length: {10**9}\r\n")
    answer, sent = _send_until_answered(server, head, iter([_multipart([])]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 1024
    assert fingerprint(store) == before


def test_server_stops_reading_a_chunked_gigabyte_at_the_cap(server: str, store: Store) -> None:
    before = fingerprint(store)
    head = _head(server, "Transfer-Encoding: chunked\r\n")
    framed = (b"%x\r\n%s\r\n" % (len(part), part) for part in _gigabyte_form())
    answer, sent = _send_until_answered(server, head, framed)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 32 * 1024**2  # the 1 MiB cap plus what socket buffers hold, not 1 GiB
    assert fingerprint(store) == before


def test_server_refuses_an_anonymous_gigabyte_before_reading_it(server: str) -> None:
    head = _head(server, f"Content-Length: {10**9}\r\n", key=None)
    answer, _ = _send_until_answered(server, head, iter([b"x" * 1024]))
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
