"""Fixtures shared by every test package."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from layers.store_api import LayerStore
from layers.stores import open_store

# Test modules import shared helpers by name (pytest imports test files by path).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from postgis_cluster import missing_reason, running_cluster

REPO = Path(__file__).resolve().parent.parent
BACKENDS = ("geopackage", "postgis")


@pytest.fixture
def store_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the settings at a fresh store in a temporary folder; return its path."""
    store = tmp_path / "store" / "store.gpkg"
    monkeypatch.setenv("TRAZO_STORE", str(store))
    monkeypatch.setenv("TRAZO_DATA_DIR", str(REPO / "data"))
    monkeypatch.chdir(tmp_path)
    return store


@pytest.fixture(scope="session")
def postgis_server() -> Iterator[str]:
    """A throwaway PostGIS cluster for the whole session (see tests/postgis_cluster.py).

    Skips when PostgreSQL or PostGIS cannot be installed here, but fails on CI, where
    ``make test`` installs them: a CI run never passes without its PostGIS tests.
    """
    reason = missing_reason()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the PostGIS tests cannot run on CI: {reason}")
        pytest.skip(reason)
    with running_cluster() as url:
        yield url


@pytest.fixture
def postgis_url(postgis_server: str) -> Iterator[str]:
    """The URL of a fresh, empty store schema; the schema is dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{postgis_server}&schema={schema}"
    with psycopg.connect(postgis_server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The location of a fresh store, once per backend."""
    if request.param == "postgis":
        url: str = request.getfixturevalue("postgis_url")
        return url
    return str(tmp_path / "store" / "store.gpkg")


@pytest.fixture
def any_store(store_location: str, tmp_path: Path) -> Iterator[LayerStore]:
    """A fresh store, once per backend, closed afterwards."""
    store = open_store(store_location, work_dir=tmp_path / "work")
    try:
        yield store
    finally:
        store.close()


def load_one_highway(store: LayerStore, folder: Path) -> LayerStore:
    """Ingest one highway along 92.9° W from 17° N to 18° N into ``store`` as ``highway``."""
    from layers.ingest import ingest

    line = {
        "type": "Feature",
        "properties": {"row_type": "highway"},
        "geometry": {"type": "LineString", "coordinates": [[-92.9, 17.0], [-92.9, 18.0]]},
    }
    source = folder / "highway.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [line]}))
    ingest(store, source, "rights_of_way", name="highway")
    return store


@pytest.fixture
def highway_store(any_store: LayerStore, tmp_path: Path) -> LayerStore:
    """A fresh store, once per backend, holding one highway (see :func:`load_one_highway`).

    A route between its ends is that highway: one degree of meridian at 17.5° N on the
    WGS 84 ellipsoid, 111132.954 - 559.822 cos 35° + 1.175 cos 70° = 110,674.8 m.
    """
    return load_one_highway(any_store, tmp_path)


@pytest.fixture
def highway_gpkg(tmp_path: Path) -> Path:
    """The path of a GeoPackage store holding the one highway of :func:`highway_store`."""
    from layers.store import Store

    store = Store(tmp_path / "store.gpkg")
    load_one_highway(store, tmp_path)
    return store.path
