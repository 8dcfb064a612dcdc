"""Build once: planning inputs kept on disk, keyed by exactly what they were built from.

The priced network, the place index and the admin layers take seconds to build from the
store and milliseconds to load. :class:`BuildCache` keeps each in a folder beside the store
under a key that hashes everything the build depends on (see :func:`content_key`): the
layers' catalog entries as the store reports them, the cost model's values, the layer
selection and :func:`code_version`, the hash of the planner's source and
:data:`FORMAT_VERSION`. A layer load or replace, another cost model or a changed build
gives another key, so a stale entry is never read; it is removed once newer ones exist.

Each entry is a folder, written as a temporary folder and renamed into place, so a
reader sees a whole entry or none. A build holds an ``flock`` on the entry's lock file:
processes that want the same entry at once (CLI commands, service workers) wait for the
one building it and then load it, so it is built once.

An entry holds a Python pickle whose shapely geometries are written apart, as one WKB
array read back in a single vectorised call. A corridor graph in it (the planning
network's) is written as the arrays of :mod:`planner.network.edge_table` and read back
memory-mapped: every process that plans on the entry shares one copy of the network
through the system's page cache instead of unpickling its own. Entries are
written by Trazo itself into the store's own folder; never point the cache at a folder
others can write to.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import hashlib
import json
import logging
import pickle
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np
import shapely

from planner.network.corridor_graph import CorridorGraph
from planner.network.edge_table import TableError, TableGraph, read_table, write_table

logger = logging.getLogger(__name__)

FORMAT_VERSION = 3
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
    """Entries built once per key and kept as folders in ``folder``.

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
        self._local = threading.local()

    def entry(self, name: str, key: str) -> Path:
        """The folder of entry ``name`` under ``key``."""
        return self.folder / f"{name}-{key}"

    def scratch(self) -> Path:
        """A new folder for a build to write a table into (see :meth:`get`)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=_SCRATCH, dir=self.folder))
        self._made().append(folder)
        return folder

    def _made(self) -> list[Path]:
        """The scratch folders made by this thread's builds."""
        made: list[Path] | None = getattr(self._local, "made", None)
        if made is None:
            made = self._local.made = []
        return made

    def path(self, name: str, key: str) -> Path:
        """The pickle of entry ``name`` under ``key`` (in its folder, beside its tables)."""
        return self.entry(name, key) / _PICKLE

    def get(self, name: str, key: str, build: Callable[[], T]) -> T:
        """The entry ``name`` for ``key``: loaded if present, else built, stored and returned.

        A value built here is returned as it is read back from its entry, so the process
        that built it plans on the same memory-mapped network as every later one. A
        table the build wrote into a :meth:`scratch` folder moves into the entry as it is.
        """
        entry = self.entry(name, key)
        found = self._load(entry)
        if found is not None:
            return found
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._locked(entry.with_name(entry.name + ".lock")):
            found = self._load(entry)  # built by another process while we waited
            if found is not None:
                return found
            made = len(self._made())
            try:
                value = build()
                self._write(entry, value)
                del value
                _give_back_freed_memory()
            finally:
                # whatever of this build's scratch was not moved into the entry
                for left in self._made()[made:]:
                    shutil.rmtree(left, ignore_errors=True)
                del self._made()[made:]
            found = self._load(entry)
            if found is None:  # pragma: no cover - just written
                raise RuntimeError(f"cache entry {entry.name} unreadable right after writing")
        self._prune(name, entry)
        return found

    @staticmethod
    def _load(entry: Path) -> Any:
        try:
            with (entry / _PICKLE).open("rb") as handle:
                return _load_entry(handle, entry)
        except FileNotFoundError:
            return None
        except Exception as err:
            # a truncated file or one from another version of the code: rebuild, not fail
            logger.warning("ignoring unreadable cache entry %s: %r", entry.name, err)
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

    def _write(self, entry: Path, value: Any) -> None:
        """Write the entry into a temporary folder, then rename it into place."""
        temp = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=self.folder))
        try:
            with (temp / _PICKLE).open("wb") as handle, tempfile.TemporaryFile(dir=temp) as body:
                _dump_entry(value, handle, body, temp)
            if entry.exists():  # an unreadable entry of this key: replaced whole
                shutil.rmtree(entry, ignore_errors=True)
            temp.rename(entry)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        size = sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
        logger.info("cached %s (%.1f MB)", entry.name, size / 1e6)

    def _prune(self, name: str, current: Path) -> None:
        """Remove all but the newest ``keep`` other entries of ``name``.

        A process planning on a removed entry keeps its files: they are open or mapped,
        and the system frees them when it lets go.
        """
        others = [
            p
            for p in self.folder.glob(f"{name}-*")
            if p != current and p.suffix != ".lock" and p.is_dir()
        ]
        others.sort(key=lambda p: p.stat().st_mtime if p.exists() else 0.0, reverse=True)
        for old in others[self.keep :]:
            shutil.rmtree(old, ignore_errors=True)
            old.with_name(old.name + ".lock").unlink(missing_ok=True)


def _give_back_freed_memory() -> None:
    """Return what a build freed to the system before the process goes on to plan.

    A build makes and drops millions of small objects (GEOS geometries, attribute
    values); glibc keeps the freed pages for reuse, so the process that built a
    million-segment network went on planning with about 600 MB of them held, on top
    of what planning needs. ``malloc_trim`` hands them back (elsewhere: nothing to do).
    """
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim(0)


_PICKLE = "entry.pickle"
_SCRATCH = ".scratch-"


# Unpickling a shapely geometry is one GEOS call each: an entry's geometries are instead
# written once as a WKB array before the pickle that refers to them by position, and read
# back with one vectorised shapely.from_wkb. A corridor graph is written as the arrays of
# planner.network.edge_table in a folder of the entry and read back memory-mapped.


class _EntryPickler(pickle.Pickler):
    def __init__(self, file: IO[bytes], folder: Path) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.geometries: list[Any] = []
        self.folder = folder
        self.tables = 0

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, shapely.Geometry):
            self.geometries.append(obj)
            return len(self.geometries) - 1
        if (
            isinstance(obj, TableGraph)
            and obj.folder.parent == self.folder.parent
            and obj.folder.name.startswith(_SCRATCH)
        ):
            # written by the build (BuildCache.scratch): moved in, not written again
            name = f"graph{self.tables}"
            obj.folder.rename(self.folder / name)
            self.tables += 1
            return ("table", name)
        if type(obj) is CorridorGraph:
            name = f"graph{self.tables}"
            try:
                write_table(obj, self.folder / name)
            except TableError:
                shutil.rmtree(self.folder / name, ignore_errors=True)
                return None  # pickled as it is
            self.tables += 1
            return ("table", name)
        return None


class _EntryUnpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], geometries: Any, folder: Path) -> None:
        super().__init__(file)
        self.geometries = geometries
        self.folder = folder

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple):
            return read_table(self.folder / pid[1])
        return self.geometries[pid]


def _dump_entry(value: Any, handle: IO[bytes], body: IO[bytes], folder: Path) -> None:
    """Write ``value`` to ``handle``: its geometries' WKB array, then the pickle.

    The pickle goes to ``body`` (a scratch file) first, since the geometries are known
    only once it is written; memory holds neither the pickle nor a copy of it. Corridor
    graphs go to tables in ``folder``.
    """
    pickler = _EntryPickler(body, folder)
    pickler.dump(value)
    wkb = shapely.to_wkb(np.asarray(pickler.geometries, dtype=object))
    pickler.geometries.clear()
    pickle.dump(wkb, handle, protocol=pickle.HIGHEST_PROTOCOL)
    del wkb
    body.seek(0)
    shutil.copyfileobj(body, handle, 16 * 1024**2)


def _load_entry(handle: IO[bytes], folder: Path) -> Any:
    geometries = shapely.from_wkb(pickle.load(handle))
    return _EntryUnpickler(handle, geometries, folder).load()
