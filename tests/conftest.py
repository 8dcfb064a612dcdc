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

from bundled_stores import PlannedScenarios, copy_store
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
def bundled_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled national layers (data/manifest.toml) loaded once, with their planning cache.

    Shared by the whole session: read it, never write to it. A test that stores proposals
    or changes layers takes its own copy (:func:`bundled_stores.copy_store`), which carries
    the priced network built here.
    """
    from layers.bundle import load_bundle
    from layers.store import Store
    from usecases.context import planning_context

    path = tmp_path_factory.mktemp("bundled") / "store.gpkg"
    store = Store(path)
    load_bundle(store, REPO / "data")
    planning_context(store)  # builds the priced network and place index into store.cache/
    return path


@pytest.fixture(scope="session")
def planned_scenarios(
    bundled_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> PlannedScenarios:
    """The bundled scenarios run as `trazo scenario run all` runs them, once per session.

    For tests that only read the results (maps, the Tabasco checks). The RNEI backbone (230
    terminals) runs with a 2 s Steiner search: its layout and structure are under test
    here, not its last dollar.
    """
    from layers.store import Store
    from planner.plans.scenario import list_scenarios
    from usecases.scenario import ScenarioWorkspace, run_scenario

    folder = tmp_path_factory.mktemp("planned")
    store = Store(copy_store(bundled_store, folder))
    workspace = ScenarioWorkspace(store)
    results = {}
    for spec in list_scenarios():
        if spec.name == "rnei":
            steps = tuple(s.model_copy(update={"time_budget_s": 2.0}) for s in spec.steps)
            spec = spec.model_copy(update={"steps": steps})
        results[spec.name] = run_scenario(spec, store, folder / "out", workspace=workspace)
    return PlannedScenarios(store.path, folder / "out", results, workspace)


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


SLOW_FIXTURES = frozenset(
    {
        "bundled_store",
        "planned_scenarios",
        "demo_run",
        "postgis_server",
        "live_server",
        "module_live_server",
    }
)
"""Fixtures that cost seconds to minutes: the national bundle loaded (or loaded and planned,
or loaded by ``trazo demo``), a PostgreSQL cluster, a uvicorn server process. Every test
that uses one is ``slow``."""


BUNDLE_FIXTURES = frozenset({"bundled_store", "planned_scenarios"})
"""Session fixtures that take a minute or more to build: every test that uses one runs in
the same xdist worker, so the bundle is loaded and the scenarios planned once per run."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests ``slow`` by the fixtures they use, and group them for xdist workers.

    ``make test`` runs ``--dist loadgroup``: a test file is one group (its module fixtures,
    servers and stores, are set up once), except that every test on the national bundle
    joins one ``bundle`` group, whatever its file.
    """
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on_postgis = callspec is not None and callspec.params.get("store_location") == "postgis"
        if names & SLOW_FIXTURES or on_postgis:
            item.add_marker(pytest.mark.slow)
        group = "bundle" if names & BUNDLE_FIXTURES else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
