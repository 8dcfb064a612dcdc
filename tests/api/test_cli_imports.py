"""The command line imports a command's dependencies only when that command runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("dask", "distributed", "folium", "fastapi", "uvicorn", "numba", "highspy")
"""Packages a route or a layer listing never needs: the cluster, the maps, the service,
the compiled search kernels and the optimiser."""


def _imported_after(code: str) -> set[str]:
    report = "import json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    probe = f"{code}\n{report}"
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


def test_a_route_on_a_warm_store_imports_neither_gdal_vectors_nor_numba(tmp_path: Path) -> None:
    """With the planning cache built, a route reads the catalog and writes its proposal
    with sqlite3 alone: GDAL's vector library (pyogrio) is not even imported; its one
    search runs interpreted, without loading numba's compiled kernels."""
    from layers.ingest import ingest
    from layers.store import Store
    from usecases.context import planning_context

    road = tmp_path / "road.geojson"
    line = {"type": "LineString", "coordinates": [[-93.0, 17.0], [-93.0, 18.0]]}
    feature = {"type": "Feature", "properties": {"row_type": "highway"}, "geometry": line}
    road.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    store = Store(tmp_path / "store.gpkg")
    ingest(store, road, "rights_of_way", name="roads")
    planning_context(store)  # builds the cache, as the first command would
    code = (
        "import os, sys\n"
        f"os.environ['TRAZO_STORE'] = {str(store.path)!r}\n"
        "from api.cli import app\n"
        "sys.argv = ['trazo', 'plan', 'route', '--from=-93.0,17.2', '--to=-93.0,17.8']\n"
        "try:\n    app()\nexcept SystemExit as end:\n    assert not end.code, end.code\n"
    )
    imported = _imported_after(code)
    assert "planner" in imported  # it did plan
    assert "pyogrio" not in imported
    assert imported.isdisjoint(HEAVY)
