"""Every access to a store's GeoPackage file: Python's ``sqlite3`` and GDAL, gated.

Two SQLite libraries reach the file in one process: Python's ``sqlite3`` (catalog,
proposals, jobs) and the copy linked into GDAL (features, through pyogrio). SQLite's
locks are POSIX advisory locks, which never conflict within one process and are all
dropped when *any* descriptor of the file is closed; each library works around that only
for its own connections (SQLite's "How To Corrupt" page, section 2.2). So when one library
opened the file while the other had it open, it took itself for the only user, truncated
the WAL index under the other's memory map (SIGBUS) or checkpointed under its readers.
Every access to the file therefore goes through :func:`sqlite_connection` or
:func:`gdal_access`, which hold a process-wide gate per file (:class:`LibraryGate`):
any number of threads of one library may be inside at once (SQLite arbitrates among
its own connections), never both libraries. Serialising both libraries behind one
readers/writer lock would be simpler but would make every read of one library wait for
every read of the other; moving all access to one library is not possible, since GDAL
offers no SQL transactions through pyogrio and Python's ``sqlite3`` cannot write
GeoPackage features. Between processes the usual SQLite locking (and the write flock)
applies, as each process then has its own descriptors.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import quote

SqliteLibrary = Literal["sqlite3", "gdal"]


class LibraryGate:
    """Lets threads of one SQLite library at a time have one GeoPackage open in a process.

    Any number of threads using the same library may hold the gate together; a thread of
    the other library waits until they have all left. Once a thread of the other library
    waits, newcomers of the library inside wait behind it; when the gate empties, the
    threads of the other library that were waiting go in together, so neither library
    starves the other and each turn still admits a whole batch.

    A thread inside may enter again for the same library (nested store calls); entering
    for the other library from inside would wait for itself, and raises instead.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._inside: SqliteLibrary | None = None
        self._holders = 0
        self._turn: SqliteLibrary | None = None
        self._batch = 0  # waiters of ``_turn`` let in ahead of the other library
        self._waiting: dict[SqliteLibrary, int] = {"sqlite3": 0, "gdal": 0}
        self._local = threading.local()

    @contextlib.contextmanager
    def hold(self, library: SqliteLibrary) -> Iterator[None]:
        """Keep the file for ``library`` while the ``with`` block runs."""
        held: SqliteLibrary | None = getattr(self._local, "library", None)
        if held == library:
            yield
            return
        if held is not None:
            raise RuntimeError(f"{library} access to a GeoPackage nested in {held} access")
        other: SqliteLibrary = "gdal" if library == "sqlite3" else "sqlite3"
        with self._cond:
            self._waiting[library] += 1
            try:
                while not self._may_enter(library, other):
                    self._cond.wait()
            finally:
                self._waiting[library] -= 1
            self._inside = library
            self._holders += 1
            self._turn = None
            self._batch = max(self._batch - 1, 0)
        self._local.library = library
        try:
            yield
        finally:
            self._local.library = None
            with self._cond:
                self._holders -= 1
                if self._holders == 0:
                    self._inside = None
                    self._turn = other if self._waiting[other] else None
                    self._batch = self._waiting[other]
                self._cond.notify_all()

    def _may_enter(self, library: SqliteLibrary, other: SqliteLibrary) -> bool:
        if self._holders == 0:
            return self._turn in (None, library)
        if self._inside != library:
            return False
        return not self._waiting[other] or self._batch > 0


_GATES: dict[str, LibraryGate] = {}
_GATES_LOCK = threading.Lock()


def library_gate(path: Path) -> LibraryGate:
    """The process-wide gate of the GeoPackage at ``path`` (one per real file)."""
    key = str(Path(path).resolve())
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            gate = _GATES[key] = LibraryGate()
        return gate


@contextlib.contextmanager
def sqlite_connection(path: Path, *, timeout: float = 30.0) -> Iterator[sqlite3.Connection]:
    """An autocommit ``sqlite3`` connection to the existing GeoPackage ``path``, gated.

    Every use of Python's ``sqlite3`` on a store file goes through here (see the module
    notes on concurrency); the connection is closed when the block ends.
    """
    uri = f"file:{quote(str(Path(path).absolute()))}?mode=rw"
    with library_gate(path).hold("sqlite3"):
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()


def gdal_access(path: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the gate of GeoPackage ``path`` for GDAL (pyogrio) while the block runs."""
    return library_gate(path).hold("gdal")


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A ``BEGIN IMMEDIATE`` transaction on autocommit connection ``conn``.

    It takes the file's write lock at once (writers take turns, readers never wait in WAL
    mode), commits when the block ends and rolls back if it raises.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def create_private_table(
    conn: sqlite3.Connection,
    table: str,
    ddl: Sequence[str],
    description: str,
    data_type: str | None = None,
) -> None:
    """Create ``table`` (idempotently) and register it under a data type of its own.

    GDAL (and so QGIS) lists only the ``features`` and ``tiles`` of ``gpkg_contents``, so
    a table registered as ``data_type`` (default: its own name) is kept but not shown as a
    layer. Run inside a write transaction.
    """
    for statement in ddl:
        conn.execute(statement)
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents "
        "(table_name, data_type, identifier, description) VALUES (?, ?, ?, ?)",
        (table, data_type or table, table, description),
    )


@contextlib.contextmanager
def sqlite_transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A write transaction (:func:`immediate`) on a gated connection to GeoPackage ``path``.

    The one transaction helper of the store's SQLite tables: the catalog, proposals and
    the record tables (:mod:`layers.records_gpkg`) all write through it. Also importable
    from :mod:`layers.store`, where it was first.
    """
    with sqlite_connection(path) as conn, immediate(conn):
        yield conn
