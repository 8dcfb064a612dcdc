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
