"""Build once: planning inputs kept on disk, keyed by exactly what they were built from.

The priced network, the place index and the admin layers take seconds to build from the
store and milliseconds to load. :class:`BuildCache` keeps each in a folder beside the store
under a key that hashes everything the build depends on (see :func:`content_key`): the
layers' catalog entries as the store reports them, the cost model's values, the layer
selection and :func:`code_version`, the hash of the planner's source and
:data:`FORMAT_VERSION`. A layer load or replace, another cost model or a changed build
gives another key, so a stale entry is never read; it is removed once newer ones exist.

Entries are written to a temporary file and renamed into place, so a reader sees a whole
entry or none. A build holds an ``flock`` on the entry's lock file: processes that want
the same entry at once (CLI commands, service workers) wait for the one building it and
then load it, so it is built once.

An entry is a Python pickle whose shapely geometries are written apart, as one WKB array
read back in a single vectorised call (a network has a geometry per edge). Entries are
written by Trazo itself into the store's own folder; never point the cache at a folder
others can write to.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np
import shapely

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Bump when what is persisted changes shape in a way the source hash would not show."""

T = TypeVar("T")

_PACKAGES = ("planner", "layers")


@cache
def code_version() -> str:
    """Hash of the planner's and the layer kinds' source: a changed build is a new key."""
    digest = hashlib.sha256(f"format {FORMAT_VERSION}".encode())
    root = Path(__file__).resolve().parents[2]
    for package in _PACKAGES:
        for source in sorted((root / package).rglob("*.py")):
            digest.update(source.relative_to(root).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def content_key(**parts: Any) -> str:
    """A short stable hash of JSON-able ``parts`` (plus :func:`code_version`).

    Examples
    --------
    >>> content_key(layers=["a"]) == content_key(layers=["a"])
    True
    >>> content_key(layers=["a"]) == content_key(layers=["b"])
    False
    """
    text = json.dumps({**parts, "code": code_version()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class BuildCache:
    """Entries built once per key and kept as files in ``folder``.

    Parameters
    ----------
    folder
        Where entries live (created when first needed).
    keep
        Entries of one name kept besides the newest; older ones are removed.
    """

    def __init__(self, folder: Path, *, keep: int = 2) -> None:
        self.folder = folder
        self.keep = keep

    def path(self, name: str, key: str) -> Path:
        """The file of entry ``name`` under ``key``."""
        return self.folder / f"{name}-{key}.pickle"

    def get(self, name: str, key: str, build: Callable[[], T]) -> T:
        """The entry ``name`` for ``key``: loaded if present, else built, stored and returned."""
        path = self.path(name, key)
        found = self._load(path)
        if found is not None:
            return found
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._locked(path.with_suffix(".lock")):
            found = self._load(path)  # built by another process while we waited
            if found is not None:
                return found
            value = build()
            self._write(path, value)
        self._prune(name, path)
        return value

    @staticmethod
    def _load(path: Path) -> Any:
        try:
            with path.open("rb") as handle:
                return _load_entry(handle)
        except FileNotFoundError:
            return None
        except Exception as err:
            # a truncated file or one from another version of the code: rebuild, not fail
            logger.warning("ignoring unreadable cache entry %s: %r", path.name, err)
            return None

    @staticmethod
    @contextlib.contextmanager
    def _locked(lock: Path) -> Iterator[None]:
        with lock.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, path: Path, value: Any) -> None:
        fd, temp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle, tempfile.TemporaryFile(dir=self.folder) as body:
                _dump_entry(value, handle, body)
            Path(temp).replace(path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        logger.info("cached %s (%.1f MB)", path.name, path.stat().st_size / 1e6)

    def _prune(self, name: str, current: Path) -> None:
        """Remove all but the newest ``keep`` other entries of ``name`` (readers keep theirs)."""
        others = [p for p in self.folder.glob(f"{name}-*.pickle") if p != current]
        others.sort(key=lambda p: p.stat().st_mtime if p.exists() else 0.0, reverse=True)
        for old in others[self.keep :]:
            old.unlink(missing_ok=True)
            old.with_suffix(".lock").unlink(missing_ok=True)


# Unpickling a shapely geometry is one GEOS call each: a network's edge geometries are
# instead written once as a WKB array before the pickle that refers to them by position,
# and read back with one vectorised shapely.from_wkb.


class _GeometryPickler(pickle.Pickler):
    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.geometries: list[Any] = []

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, shapely.Geometry):
            self.geometries.append(obj)
            return len(self.geometries) - 1
        return None


class _GeometryUnpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], geometries: Any) -> None:
        super().__init__(file)
        self.geometries = geometries

    def persistent_load(self, pid: Any) -> Any:
        return self.geometries[pid]


def _dump_entry(value: Any, handle: IO[bytes], body: IO[bytes]) -> None:
    """Write ``value`` to ``handle``: its geometries' WKB array, then the pickle.

    The pickle goes to ``body`` (a scratch file) first, since the geometries are known
    only once it is written; memory holds neither the pickle nor a copy of it.
    """
    pickler = _GeometryPickler(body)
    pickler.dump(value)
    wkb = shapely.to_wkb(np.asarray(pickler.geometries, dtype=object))
    pickler.geometries.clear()
    pickle.dump(wkb, handle, protocol=pickle.HIGHEST_PROTOCOL)
    del wkb
    body.seek(0)
    shutil.copyfileobj(body, handle, 16 * 1024**2)


def _load_entry(handle: IO[bytes]) -> Any:
    geometries = shapely.from_wkb(pickle.load(handle))
    return _GeometryUnpickler(handle, geometries).load()
