"""A load past its time limit (``TRAZO_LIMIT_MAX_LOAD_SECONDS``) is refused and leaves
nothing: 413 over HTTP, one line and exit 2 on the command line, the store's content and
the temporary folder as they were.

The limit is set to a nanosecond, so every load is past it at its first check: nothing
here times anything. The same file loads with the default limit, so the refusal comes from
the limit and not from the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.settings import LimitSettings, ServiceSettings, StoreSettings
from layers.errors import LimitExceededError
from layers.ingest import ingest, read_layer
from layers.limits import Limits
from layers.store import Store
from layers.workdirs import WORK_PREFIXES

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
GIS = "g" * 24
NANOSECOND = 1e-9
# a zipped shapefile: the load unpacks it into a work folder before reading
SOURCE = DATA / "tabasco_municipalities_shp.zip"


def content_hash(store: Store) -> str:
    """One digest of the catalog and every stored layer's features."""
    digest = hashlib.sha256()
    for info in store.list_layers():
        digest.update(repr((info.name, info.kind, info.loaded_at, info.feature_count)).encode())
        digest.update(store.read(info.name).to_json().encode())
    return digest.hexdigest()


def work_folders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(WORK_PREFIXES))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A store holding the municipalities the refused loads try to replace."""
    store = Store(tmp_path / "store" / "store.gpkg")
    ingest(store, SOURCE, "municipalities", name="municipalities")
    return store


def test_the_same_file_loads_within_the_default_limit(private_tmp: Path) -> None:
    layer = read_layer(SOURCE, "municipalities", limits=Limits())
    # Centro and Nacajuca (tests/data/layers/README.md), reprojected from EPSG:6372
    assert layer.frame is not None and sorted(layer.frame["cvegeo"]) == ["27004", "27013"]
    assert Limits().max_load_seconds == 300.0
    assert work_folders(private_tmp) == []


def test_read_layer_past_the_limit_names_it_and_removes_its_work_folder(
    private_tmp: Path,
) -> None:
    with pytest.raises(LimitExceededError, match=r"1e-09 s load time limit \(max_load_seconds\)"):
        read_layer(SOURCE, "municipalities", limits=Limits(max_load_seconds=NANOSECOND))
    assert work_folders(private_tmp) == []


@pytest.fixture
def client(store: Store, private_tmp: Path) -> Iterator[TestClient]:
    settings = ServiceSettings(mode="production", api_keys={GIS: "gis"})
    limits = LimitSettings(max_load_seconds=NANOSECOND)
    app = create_app(settings, StoreSettings(store=store.path), limits=limits)
    with TestClient(app) as client:
        client.headers["X-API-Key"] = GIS
        yield client


def test_http_answers_413_and_changes_nothing(
    client: TestClient, store: Store, private_tmp: Path
) -> None:
    before = content_hash(store)
    response = client.post(
        "/layers",
        data={"kind": "municipalities", "name": "municipalities"},
        files={"file": (SOURCE.name, SOURCE.read_bytes())},
        params={"replace": True},
    )
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["code"] == "limit_exceeded"
    assert "load time limit (max_load_seconds)" in body["message"]
    assert "nothing was stored" in body["message"]
    assert str(private_tmp) not in body["message"]
    assert content_hash(store) == before
    assert work_folders(private_tmp) == []


def test_the_cli_prints_one_line_exits_2_and_changes_nothing(
    store_env: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(store_env)
    ingest(store, SOURCE, "municipalities", name="municipalities")
    before = content_hash(store)
    monkeypatch.setenv("TRAZO_LIMIT_MAX_LOAD_SECONDS", str(NANOSECOND))
    args = ["layers", "load", str(SOURCE), "--kind", "municipalities"]
    result = CliRunner().invoke(cli, [*args, "--name", "municipalities", "--replace"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "load time limit (max_load_seconds)" in lines[0], result.output
    assert content_hash(store) == before
    assert work_folders(private_tmp) == []


def test_the_setting_refuses_a_limit_of_zero() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        LimitSettings(max_load_seconds=0)
