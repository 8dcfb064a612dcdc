"""The bundled store shared by a test session, and copies of it for tests that change it.

Loading the bundled national layers validates and writes 190,000 localities and a dozen
corridor layers (about 10 s of one core); copying the loaded GeoPackage, its rasters and its
planning cache takes a fraction of a second.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SIDE_FOLDERS = ("rasters", "cache")
"""Folders ``<stem>.<purpose>`` beside a GeoPackage store that belong to its content: the
raster files and the planning cache (keyed by layer content, so valid in a copy)."""


def copy_store(source: Path, folder: Path) -> Path:
    """Copy the GeoPackage store ``source`` with its rasters and planning cache into ``folder``.

    Parameters
    ----------
    source
        The GeoPackage of a store no one is writing to.
    folder
        Where the copy goes (created if missing).

    Returns
    -------
    Path
        The copy's GeoPackage, with the same file name as ``source``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    # SQLite's backup API copies a consistent snapshot, write-ahead log included.
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    for purpose in SIDE_FOLDERS:
        side = source.with_name(f"{source.stem}.{purpose}")
        if side.is_dir():
            shutil.copytree(side, target.with_name(f"{target.stem}.{purpose}"))
    return target


@dataclass(frozen=True)
class PlannedScenarios:
    """Every bundled scenario planned once on a copy of the bundled store.

    ``results`` maps a scenario's name to its ``ScenarioResult``; ``workspace`` is the
    ``ScenarioWorkspace`` they were planned in (its ``base`` context plans more on the same
    network); ``store`` holds their proposals and ``out`` their files.
    """

    store: Path
    out: Path
    results: dict[str, Any]
    workspace: Any
