"""Real GIS clients read a production server with a key, the ways the README tells users.

- OWSLib's OGC API – Features client (PyPI), key as HTTP Basic password;
- QGIS 3.22's OAPIF provider (Debian's ``python3-qgis``), headless in a subprocess of
  the system Python, key as HTTP Basic password as its Basic authentication sends it;
- GDAL 3.6's ``ogrinfo`` (Debian's ``gdal-bin``) with ``GDAL_HTTP_HEADERS`` and with
  ``GDAL_HTTP_USERPWD``, and the current GDAL (pyogrio's) with ``GDAL_HTTP_AUTH=BEARER``.

``.ci/install-qgis.sh`` (run by ``make test``) installs the Debian packages. Where they
cannot be installed the tests skip, except on CI (``CI=true``), where a skip is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pyogrio
import pytest
from owslib.ogcapi.features import Features
from owslib.util import Authentication

from layers.export import export_frame
from layers.ingest import ingest
from layers.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
BUNDLE = Path(__file__).resolve().parents[2] / "data" / "layers"
QGIS_SCRIPT = Path(__file__).resolve().parent / "qgis_oapif_read.py"
SYSTEM_PYTHON = "/usr/bin/python3"
OGRINFO = "/usr/bin/ogrinfo"
KEY = "q" * 24
VILLAHERMOSA = (-92.919416, 17.987838)


def _require(available: bool, what: str) -> None:
    """Skip without ``what`` locally; on CI its absence is a failure, not a skip."""
    if available:
        return
    message = f"{what} is not installed (run .ci/install-qgis.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("clients") / "store.gpkg")
    ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
    ingest(store, DATA / "southeast_railways.fgb", "rights_of_way", name="railways")
    # The bundled cables: capacity_tbps is a number with no value in any of the 10 cables.
    ingest(store, BUNDLE / "subsea_cables.fgb", "subsea_cables", name="subsea_cables")
    return store


@pytest.fixture(scope="module")
def base(module_live_server: Callable[[dict[str, str]], str], store: Store) -> str:
    """A production server, one viewer key, pages of at most 4 so every client pages."""
    return module_live_server(
        {
            "TRAZO_MODE": "production",
            "TRAZO_API_KEYS": json.dumps({KEY: "viewer"}),
            "TRAZO_STORE": str(store.path),
            "TRAZO_MAX_ITEMS_PER_PAGE": "4",
            "TRAZO_DEFAULT_ITEMS_PER_PAGE": "4",
        }
    )


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


# ---------------------------------------------------------------- OWSLib


def test_owslib_reads_collections_and_items_with_basic_auth(base: str) -> None:
    client = Features(base + "/", auth=Authentication("owslib", KEY))
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (client.conformance()["conformsTo"])
    )
    assert client.api()["openapi"] == "3.0.3"
    collections = [c["id"] for c in client.collections()["collections"]]
    assert collections == ["localities", "railways", "subsea_cables"]
    page = client.collection_items("localities", limit=4, bbox=[-92.95, 17.95, -92.85, 18.2])
    names = {f["properties"]["name"] for f in page["features"]}
    assert names == {"Villahermosa", "Ocuiltzapotlán", "Macultepec"}
    assert page["numberMatched"] == 3


def test_owslib_without_a_key_is_refused(base: str) -> None:
    with pytest.raises(RuntimeError, match="unauthorized"):
        Features(base + "/").collections()


# ---------------------------------------------------------------- QGIS


def _qgis_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False, timeout=60
    )
    return probe.returncode == 0


def _qgis_read(base: str, collection: str, key: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    command = [SYSTEM_PYTHON, str(QGIS_SCRIPT), base + "/", collection]
    if key is not None:
        command.append(key)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def qgis() -> None:
    _require(_qgis_available(), "QGIS's Python bindings (python3-qgis)")


def test_qgis_reads_every_locality_with_the_key_as_basic_password(qgis: None, base: str) -> None:
    result = _qgis_read(base, "localities", KEY)
    assert result["valid"] is True
    assert result["reported"] == result["read"] == 6
    assert {"name", "population", "state"} <= set(result["fields"])  # type: ignore[arg-type]
    first = result["first"]
    assert isinstance(first, dict)
    assert first["name"] == "Villahermosa" and first["population"] == 340060
    assert first["_xy"] == pytest.approx(VILLAHERMOSA, abs=1e-9)


def test_qgis_reads_lines(qgis: None, base: str, store: Store) -> None:
    result = _qgis_read(base, "railways", KEY)
    assert result["valid"] is True
    assert result["read"] == len(store.read("railways"))


# ---------------------------------------------------------------- GDAL 3.6 and current


@pytest.fixture(scope="module")
def ogrinfo() -> str:
    _require(Path(OGRINFO).exists(), "GDAL's command-line tools (gdal-bin)")
    return OGRINFO


def _ogrinfo(ogrinfo: str, *args: str, **config: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GDAL_")}
    env.update(config)
    env["GDAL_HTTP_TIMEOUT"] = "20"
    return subprocess.run(
        [ogrinfo, "-ro", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    "config",
    [
        {"GDAL_HTTP_HEADERS": f"X-API-Key: {KEY}"},
        {"GDAL_HTTP_USERPWD": f"gdal:{KEY}"},
    ],
    ids=["GDAL_HTTP_HEADERS", "GDAL_HTTP_USERPWD"],
)
def test_system_gdal_reads_the_service_with_a_key(
    ogrinfo: str, base: str, config: dict[str, str]
) -> None:
    done = _ogrinfo(ogrinfo, "-so", f"OAPIF:{base}/", "localities", **config)
    assert done.returncode == 0, done.stderr
    assert "Feature Count: 6" in done.stdout
    assert "Warning" not in done.stderr


def test_system_gdal_types_an_attribute_empty_in_every_feature(ogrinfo: str, base: str) -> None:
    """GDAL reads field types from the collection's JSON Schema (describedBy link): an
    attribute with no value in any feature stays a number instead of becoming text."""
    done = _ogrinfo(
        ogrinfo, "-so", f"OAPIF:{base}/", "subsea_cables", GDAL_HTTP_HEADERS=f"X-API-Key: {KEY}"
    )
    assert done.returncode == 0, done.stderr
    assert "capacity_tbps: Real" in done.stdout
    assert "ready_for_service: Integer" in done.stdout and "name: String" in done.stdout


def test_system_ogr2ogr_copies_a_collection_to_a_geopackage(
    ogrinfo: str, base: str, tmp_path: Path
) -> None:
    """The README's ogr2ogr recipe for GDAL 3.6: every page of the layer lands in the file."""
    target = tmp_path / "localities.gpkg"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GDAL_")}
    env["GDAL_HTTP_HEADERS"] = f"X-API-Key: {KEY}"
    command = [str(Path(ogrinfo).with_name("ogr2ogr")), "-f", "GPKG", str(target)]
    command += [f"OAPIF:{base}/", "localities"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    copied = pyogrio.read_dataframe(target)
    assert len(copied) == 6 and "Villahermosa" in set(copied["name"])


def test_system_gdal_without_a_key_is_refused(ogrinfo: str, base: str) -> None:
    done = _ogrinfo(ogrinfo, "-so", f"OAPIF:{base}/", "localities")
    assert done.returncode != 0 and "401" in done.stderr


def test_system_gdal_opens_an_exported_geopackage_without_a_warning(
    ogrinfo: str, store: Store, tmp_path: Path
) -> None:
    written = export_frame(store.read("localities"), "gpkg", tmp_path / "loc.gpkg", "loc")
    done = _ogrinfo(ogrinfo, "-so", str(written), "loc")
    assert done.returncode == 0 and "Feature Count: 6" in done.stdout
    assert done.stderr.strip() == ""


@pytest.fixture
def bearer_config() -> Iterator[None]:
    pyogrio.set_gdal_config_options(
        {"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": KEY, "GDAL_HTTP_TIMEOUT": "20"}
    )
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(
            {"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None, "GDAL_HTTP_TIMEOUT": None}
        )


def test_current_gdal_reads_with_a_bearer_token(bearer_config: None, base: str) -> None:
    info = pyogrio.read_info(f"OAPIF:{base}/", layer="subsea_cables")
    assert dict(zip(info["fields"], info["dtypes"], strict=True))["capacity_tbps"] == "float64"
    read = pyogrio.read_dataframe(f"OAPIF:{base}/", layer="localities")
    assert len(read) == 6
    villahermosa = read[read["name"] == "Villahermosa"].geometry.iloc[0]
    assert (villahermosa.x, villahermosa.y) == pytest.approx(VILLAHERMOSA, abs=1e-9)
