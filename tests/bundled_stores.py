"""The bundled store shared by a test run, and copies of it for tests that change it.

Loading the bundled national layers validates and writes 190,000 localities and a dozen
corridor layers, and building their planning cache prices the national network (about 15 s
of one core together); copying the loaded GeoPackage, its rasters and its planning cache
takes a fraction of a second. :func:`built_once` builds such a folder once per run, however
many pytest-xdist workers ask for it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

BUILT = ".built"
"""Written into a :func:`built_once` folder last: a folder without it is a failed build."""


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """The folder ``name`` filled by ``build``, built once per test run.

    Under pytest-xdist every worker of a run shares the parent of its own temporary
    folder; the first worker to ask builds the folder there under a file lock while the
    others wait for it, then all read it (pytest-xdist's documented recipe for session
    fixtures). Without xdist the session is the run, and the folder is its own.

    Parameters
    ----------
    tmp_path_factory
        The session's temporary folder factory.
    name
        The folder's name, unique among the run's shared folders.
    build
        Fills the (empty) folder it is given; it may raise, and every worker asking for
        the folder then sees the failure and tries again (a failure is not cached).

    Returns
    -------
    Path
        The built folder. Read it, never write to it: other workers read it at once.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        folder = tmp_path_factory.mktemp(name, numbered=False)
        build(folder)
        return folder
    shared = tmp_path_factory.getbasetemp().parent
    folder = shared / name
    with FileLock(shared / f"{name}.lock"):
        if not (folder / BUILT).exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (folder / BUILT).touch()
    return folder


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
