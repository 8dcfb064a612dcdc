"""The command line imports a command's dependencies only when that command runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bundled_stores import copy_store

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("dask", "distributed", "folium", "fastapi", "uvicorn", "numba", "highspy")
"""Packages a route or a layer listing never needs: the cluster, the maps, the service,
the compiled search kernels and the optimiser."""


def _at_exit(report: str, code: str) -> str:
    """``code`` with ``report`` run when its process exits: the ``trazo`` program ends its
    process as soon as the command is done, after the exit handlers (api.cli.exit_now)."""
    body = "\n".join(f"    {line}" for line in report.splitlines())
    return f"import atexit\n\n@atexit.register\ndef _report():\n{body}\n\n{code}"


def _imported_after(code: str) -> set[str]:
    report = "import json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    probe = _at_exit(report, code)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_building_the_command_line_imports_none_of_the_heavy_packages() -> None:
    code = "from typer.main import get_command\nfrom api.cli import app\nget_command(app)"
    assert _imported_after(code).isdisjoint(HEAVY)


def test_the_plan_group_imports_no_planner_cluster_map_or_service() -> None:
    code = (
        "from typer.main import get_command\nfrom api.cli import app\n"
        "get_command(app).get_command(None, 'plan')"
    )
    imported = _imported_after(code)
    assert imported.isdisjoint(HEAVY)
    assert "networkx" not in imported


@pytest.fixture(scope="module")
def warm_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with one road whose planning cache is built, as the first command builds it."""
    from layers.ingest import ingest
    from layers.store import Store
    from usecases.context import planning_context

    folder = tmp_path_factory.mktemp("warm")
    road = folder / "road.geojson"
    line = {"type": "LineString", "coordinates": [[-93.0, 17.0], [-93.0, 18.0]]}
    feature = {"type": "Feature", "properties": {"row_type": "highway"}, "geometry": line}
    road.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    store = Store(folder / "store.gpkg")
    ingest(store, road, "rights_of_way", name="roads")
    planning_context(store)
    return store.path


def _route(store: Path, run: str) -> str:
    """Code that plans a route on ``store`` with ``run`` (``app`` or ``main`` of api.cli)."""
    return (
        "import os, sys\n"
        f"os.environ['TRAZO_STORE'] = {str(store)!r}\n"
        f"from api.cli import {run}\n"
        "sys.argv = ['trazo', 'plan', 'route', '--from=-93.0,17.2', '--to=-93.0,17.8']\n"
        f"try:\n    {run}()\nexcept SystemExit as end:\n    assert not end.code, end.code\n"
    )


def test_a_route_on_a_warm_store_imports_neither_gdal_vectors_nor_numba(warm_store: Path) -> None:
    """With the planning cache built, a route reads the catalog and writes its proposal
    with sqlite3 alone: GDAL's vector library (pyogrio) is not even imported; its one
    search runs interpreted, without loading numba's compiled kernels."""
    imported = _imported_after(_route(warm_store, "main"))
    assert "planner" in imported  # it did plan
    assert "pyogrio" not in imported
    assert imported.isdisjoint(HEAVY)


FRAMES = ("pandas", "geopandas", "pyarrow")
"""What a layer is read into (a third of a second to import): a warm plan needs none of it."""

WARM_PLANS = {
    "route": ["route", "--from", "Villahermosa, Tabasco", "--to", "Cancún"],
    "backbone": [
        "backbone",
        "--terminals",
        "Balancán, Tabasco; Tenosique de Pino Suárez, Tabasco; Emiliano Zapata, Tabasco",
    ],
}


@pytest.mark.parametrize("plan", sorted(WARM_PLANS))
def test_a_warm_plan_on_the_bundled_layers_reads_no_frame(
    bundled_store: Path, tmp_path: Path, plan: str
) -> None:
    """Resolving places, attaching them, routing a greenfield link over the terrain beside
    the corridors near it, measuring the states and municipalities crossed and storing the
    proposal: with the planning cache built, a plan does all of it from arrays, and pandas
    and geopandas are never imported."""
    store = copy_store(bundled_store, tmp_path / "store")
    out = tmp_path / "plan.geojson"
    code = (
        "import os, sys\n"
        f"os.environ['TRAZO_STORE'] = {str(store)!r}\n"
        "from api.cli import main\n"
        f"sys.argv = ['trazo', 'plan', *{WARM_PLANS[plan]!r}, '--out', {str(out)!r}, '--replace']\n"
        "try:\n    main()\nexcept SystemExit as end:\n    assert not end.code, end.code\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
    imported = _imported_after(code)  # the second run: everything comes from the cache
    assert "planner" in imported
    assert imported.isdisjoint(FRAMES)
    if plan == "route":  # scipy (0.2-0.5 s) serves the build and a backbone's Steiner solver
        assert "scipy" not in imported
    segments = [f["properties"] for f in json.loads(out.read_text())["features"]]
    # it did route a greenfield link over the terrain (the corridors near it burned in)
    assert any(
        "corridor_share" in s["extra"] for s in segments if s["deployment_type"] == "greenfield"
    )


def _collector_after(code: str) -> dict[str, object]:
    report = (
        "import gc, json\n"
        "print(json.dumps({'frozen': gc.get_freeze_count(), 'enabled': gc.isenabled()}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", _at_exit(report, code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    answer: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return answer


def test_the_trazo_program_freezes_what_a_route_loaded_out_of_the_collectors_sight(
    warm_store: Path,
) -> None:
    """The network, the place index and the imports of a route's start-up are never
    scanned again by the garbage collector (nor at exit) in the ``trazo`` program; the
    collector runs again for what the command makes after its start-up."""
    after = _collector_after(_route(warm_store, "main"))
    # a network of one road and a route's imports are some 100,000 objects (without
    # pandas and geopandas, which a warm route does not import)
    assert isinstance(after["frozen"], int) and after["frozen"] > 50_000
    assert after["enabled"] is True


def test_commands_run_in_turn_in_one_process_freeze_nothing(warm_store: Path) -> None:
    """A process that runs command after command (a test runner invoking ``app``) keeps
    its collector as it was: frozen garbage would never be freed."""
    after = _collector_after(_route(warm_store, "app"))
    assert after == {"frozen": 0, "enabled": True}


@pytest.mark.parametrize(
    ("code", "status", "stderr"),
    [(None, 0, ""), (2, 2, ""), ("no store at /nowhere", 1, "no store at /nowhere\n")],
)
def test_the_trazo_program_ends_as_a_normal_exit_would(
    code: object, status: int, stderr: str
) -> None:
    """Its status, its exit handlers and all of its output, unflushed included, as a
    normal exit with ``code`` (``sys.exit(code)``) gives; only the teardown is skipped."""
    program = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('handlers ran'))\n"
        "sys.stdout.write('unflushed, ')\n"
        "from api.cli import exit_now\n"
        f"exit_now({code!r})\n"
        "print('never')\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True)
    normal = subprocess.run(
        [
            sys.executable,
            "-c",
            program.replace("from api.cli import exit_now", "exit_now = sys.exit"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        status,
        "unflushed, handlers ran\n",
        stderr,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        normal.returncode,
        normal.stdout,
        normal.stderr,
    )
