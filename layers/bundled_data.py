"""Where the data that ships with Trazo (the repository's ``data/``) is once installed.

The folder is installed as the package ``trazo_data`` (pyproject.toml maps it to ``data/``),
so the same lookup works from a checkout installed with ``pip install -e .`` and from a wheel
installed anywhere. Defaults such as the cost model, the scenarios, the place aliases and the
census tables are paths inside it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DATA_PACKAGE = "trazo_data"
"""The import name under which ``data/`` is installed."""


def bundled_data_dir() -> Path:
    """Return the folder of the installed bundled data.

    Returns
    -------
    Path
        The folder holding ``manifest.toml``, ``cost_model.toml``, ``scenarios/`` and the
        other shipped files.
    """
    # Installed packages are plain folders (wheels are unpacked), so the resource root is a
    # real path that GDAL and tomllib can open by name.
    return Path(str(files(DATA_PACKAGE)))


BUNDLED_DATA_DIR = bundled_data_dir()
"""The installed bundled data folder, looked up once at import."""
