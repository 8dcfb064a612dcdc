"""Record tables (e.g. the service's jobs) inside a store's GeoPackage, with sqlite3.

Each table is registered in ``gpkg_contents`` under a data type of its own name, like the
layer catalog, so GDAL (and so QGIS) does not list it as a layer. Writes are
``BEGIN IMMEDIATE`` transactions on the WAL-mode file: readers never wait. Every
connection goes through the store's gate (:func:`layers.store.sqlite_connection`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from layers.errors import NotFoundError, StoreBusyError, StoreWriteError
from layers.store import sqlite_connection
from layers.store_api import NO_STORE_MESSAGE


class _Session:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(params))


class GeoPackageRecords:
    """The record tables of the GeoPackage at ``path`` (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def exists(self, table: str) -> bool:
        """Whether ``table`` has been created."""
        if not self.path.exists():
            return False
        with self.session() as session:
            found = session.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
        return found is not None

    @contextlib.contextmanager
    def session(self) -> Iterator[_Session]:
        """A read session."""
        with self._errors(), self._connect() as conn:
            yield _Session(conn)

    @contextlib.contextmanager
    def transaction(
        self, *, create: tuple[str, Sequence[str], str] | None = None
    ) -> Iterator[_Session]:
        """A ``BEGIN IMMEDIATE`` transaction, creating ``create``'s table first if given."""
        with self._errors(), self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if create is not None:
                    self._create(conn, *create)
                yield _Session(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @staticmethod
    @contextlib.contextmanager
    def _errors() -> Iterator[None]:
        """SQLite's errors as the store's: busy (locked) or failed, never a bare sqlite3 one."""
        try:
            yield
        except sqlite3.OperationalError as err:
            raise StoreBusyError(
                f"the store is busy with another write; try again in a few seconds ({err})"
            ) from err
        except sqlite3.Error as err:
            raise StoreWriteError(f"the store's records could not be used: {err}") from err

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        if not self.path.exists():
            raise NotFoundError(NO_STORE_MESSAGE, subject="layers")
        return sqlite_connection(self.path)

    @staticmethod
    def _create(conn: sqlite3.Connection, table: str, ddl: Sequence[str], description: str) -> None:
        for statement in ddl:
            conn.execute(statement)
        conn.execute(
            "INSERT OR IGNORE INTO gpkg_contents "
            "(table_name, data_type, identifier, description) VALUES (?, ?, ?, ?)",
            (table, table, table, description),
        )
