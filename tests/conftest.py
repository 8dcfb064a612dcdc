"""Fixtures shared by every test package."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from layers.store_api import LayerStore
from layers.stores import open_store

# Test modules import shared helpers by name (pytest imports test files by path).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bundled_stores import PlannedScenarios, built_once, copy_store
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

    Loaded once per run, whichever pytest-xdist worker asks first (the others wait for it:
    :func:`bundled_stores.built_once`). Read it, never write to it. A test that stores
    proposals or changes layers takes its own copy (:func:`bundled_stores.copy_store`),
    which carries the priced network built here.
    """

    def load(folder: Path) -> None:
        from layers.bundle import load_bundle
        from layers.store import Store
        from usecases.context import planning_context

        store = Store(folder / "store.gpkg")
        load_bundle(store, REPO / "data")
        planning_context(store)  # builds the priced network and place index into store.cache/

    return built_once(tmp_path_factory, "bundled", load) / "store.gpkg"


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


@contextmanager
def _fresh_schema(server: str) -> Iterator[str]:
    """The URL of a new, empty store schema on ``server``; the schema is dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{server}&schema={schema}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def postgis_url(postgis_server: str) -> Iterator[str]:
    """The URL of a fresh, empty store schema; the schema is dropped afterwards."""
    with _fresh_schema(postgis_server) as url:
        yield url


@pytest.fixture(scope="module")
def module_postgis_url(postgis_server: str) -> Iterator[str]:
    """:func:`postgis_url` shared by a module's tests, for stores they only read."""
    with _fresh_schema(postgis_server) as url:
        yield url


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


SHARED_FIXTURES = {"planned_scenarios": 3, "demo_run": 2, "bundled_store": 1}
"""Fixtures that take half a minute to minutes to build, by weight: every bundled scenario
planned, ``trazo demo`` run, the national bundle loaded. Each is built once per run; the
tests that read the planned scenarios (in memory) form one xdist group, and the groups
holding these tests are handed out first, heaviest first, so that no worker starts one
near the end while the other has nothing left to do."""


def _group(item: pytest.Item) -> str:
    """The xdist group of a test: its file, or ``planned_scenarios`` for their readers."""
    if "planned_scenarios" in getattr(item, "fixturenames", ()):
        return "planned_scenarios"
    return item.nodeid.split("::", 1)[0]


def _weight(item: pytest.Item) -> int:
    names = getattr(item, "fixturenames", ())
    return max((w for name, w in SHARED_FIXTURES.items() if name in names), default=0)


# tryfirst: pytest-xdist reads the xdist_group marks in its own collection hook, which may
# be called before this one (it is, when the worker registers it after this conftest).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests ``slow`` by the fixtures they use, group them for xdist, heaviest first.

    ``make test`` runs ``--dist loadgroup --no-loadscope-reorder``: a test file is one
    group (its module fixtures, servers and stores, are set up once), except that every
    test reading the planned scenarios joins one ``planned_scenarios`` group, whatever its
    file. Groups are handed to the workers in the order of ``items``, which this sorts by
    the weight of their heaviest shared fixture, then by size (tests in a group keep their
    order).
    """
    groups: dict[str, list[pytest.Item]] = {}
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on_postgis = callspec is not None and callspec.params.get("store_location") == "postgis"
        if names & SLOW_FIXTURES or on_postgis:
            item.add_marker(pytest.mark.slow)
        group = _group(item)
        item.add_marker(pytest.mark.xdist_group(group))
        groups.setdefault(group, []).append(item)
    ordered = sorted(groups.values(), key=lambda tests: (-max(map(_weight, tests)), -len(tests)))
    items[:] = [item for tests in ordered for item in tests]


UNGROUPED = pytest.StashKey[str]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Note an xdist worker whose groups did not take: its tests then fail at set-up.

    pytest-xdist tells the controller a test's group by appending ``@group`` to its node
    id; pytest 9.2 no longer lets it (pytest-xdist issue 1386), and the tests are then
    spread one by one: every worker loads the bundle and plans the scenarios itself, and
    the suite takes twice as long with nothing failing. constraints.txt pins a pytest on
    which the groups work; this stops a run on one where they do not.
    """
    config = session.config
    if os.environ.get("PYTEST_XDIST_WORKER") is None or not config.getvalue("loadgroup"):
        return
    ungrouped = [item.nodeid for item in session.items if "@" not in item.nodeid]
    if ungrouped:
        config.stash[UNGROUPED] = (
            f"pytest-xdist did not group {len(ungrouped)} tests (--dist loadgroup): this "
            "pytest and pytest-xdist do not work together; install constraints.txt's versions"
        )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if UNGROUPED in item.config.stash:
        pytest.fail(item.config.stash[UNGROUPED], pytrace=False)
