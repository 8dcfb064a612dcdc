"""A wheel of Trazo carries its data: an install that is not the checkout finds its defaults.

The wheel is built from a copy of the checkout (so no ``build/`` folder of an earlier build
can leak stale files into it) and installed without dependencies into a new virtual
environment that borrows the project environment's installed libraries. Everything then runs
from a folder outside the checkout, so only the installed package can answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
_NOT_SHIPPED = {".git", ".venv", "build", "out", "tests", "bench", "docs", ".trazo"}
_SCENARIOS = {p.stem for p in (REPO / "data" / "scenarios").glob("*.toml")}

_CHECK = """
import json
from pathlib import Path
import api, layers
from layers.bundle import read_manifest
from layers.bundled_data import BUNDLED_DATA_DIR
from layers.roads import ROADS_DIR
from planner.network.cost_model import load_cost_model
from planner.plans.demand import DEFAULT_HOUSEHOLD_INTERNET_PATH, DEFAULT_STATE_COVERAGE_PATH
from planner.network.places import ALIASES_FILE
from planner.plans.scenario import DEFAULT_SCENARIO_DIR
from api.settings import StoreSettings
defaults = [ALIASES_FILE, DEFAULT_HOUSEHOLD_INTERNET_PATH, DEFAULT_STATE_COVERAGE_PATH,
            *ROADS_DIR.glob("*.csv"), *(entry.path for entry in read_manifest(BUNDLED_DATA_DIR))]
print(json.dumps({
    "code": [str(Path(api.__file__).parent), str(Path(layers.__file__).parent)],
    "data": str(BUNDLED_DATA_DIR),
    "settings_data_dir": str(StoreSettings().data_dir),
    "scenario_dir": str(DEFAULT_SCENARIO_DIR),
    "missing": [str(p) for p in defaults if not p.is_file()],
    "road_tables": len(list(ROADS_DIR.glob("*.csv"))),
    "manifest_layers": len(read_manifest(BUNDLED_DATA_DIR)),
    "cost_model_price_year": load_cost_model().meta.price_year,
}))
"""


def _run(command: list[str], **options: Any) -> str:
    """Run ``command``; return its output, or fail the test with its error output."""
    done = subprocess.run(command, capture_output=True, text=True, **options)
    output = done.stdout[-2000:] + done.stderr[-2000:]
    assert done.returncode == 0, f"{command[:4]} failed:\n{output}"
    return done.stdout.strip()


def _borrowed_site_packages(target: Path) -> None:
    """Let the new environment import the project environment's libraries, not its Trazo.

    A ``.pth`` line only appends a folder to ``sys.path``; the ``.pth`` files inside that
    folder (among them the editable install's import hook) are not run, so ``api``,
    ``planner``, ``layers`` and ``maps`` can only come from the wheel.
    """
    purelib = Path(sysconfig.get_paths()["purelib"])
    (target / "project-libraries.pth").write_text(f"{purelib}\n")


@pytest.mark.slow
def test_a_wheel_installed_elsewhere_finds_its_bundled_data(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=lambda folder, names: [
            n
            for n in names
            if (Path(folder) == REPO and n in _NOT_SHIPPED)
            or n in {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
            or n.endswith(".egg-info")
        ],
    )
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    # Built as `pip install .` builds it: in an isolated environment with the build
    # requirements of pyproject.toml.
    _run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)])
    (wheel,) = wheels.glob("trazo-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    _run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)])
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]))
    _borrowed_site_packages(site)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAZO_", "PYTHON"))}
    found = json.loads(_run([str(python), "-c", _CHECK], cwd=elsewhere, env=clean_env))
    assert all(Path(folder).parent == site for folder in found["code"])
    assert found["data"] == str(site / "trazo_data")
    assert found["settings_data_dir"] == found["data"]
    assert found["scenario_dir"] == str(site / "trazo_data" / "scenarios")
    assert found["missing"] == []
    # data/roads/ holds three tables: OSM tags, OSM unpaved surfaces, RNC road classes.
    assert found["road_tables"] == 3
    assert found["manifest_layers"] == len(
        tomllib.loads((REPO / "data" / "manifest.toml").read_text())["layer"]
    )
    # data/cost_model.toml prices everything in 2024 US dollars ([meta] price_year).
    assert found["cost_model_price_year"] == 2024

    trazo = str(env_dir / "bin" / "trazo")
    listed = _run([trazo, "scenario", "list"], cwd=elsewhere, env=clean_env)
    assert {name for name in _SCENARIOS if name in listed} == _SCENARIOS
