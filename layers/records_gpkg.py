"""Record tables (e.g. the service's jobs) inside a store's GeoPackage, with sqlite3.

Each table is registered in ``gpkg_contents`` under a data type of its own name, like the
layer catalog, so GDAL (and so QGIS) does not list it as a layer. Writes are
the store's own ``BEGIN IMMEDIATE`` transactions on the WAL-mode file
(:func:`layers.gpkg_access.sqlite_transaction`): readers never wait, and every connection
goes through the store's gate (:func:`layers.gpkg_access.sqlite_connection`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from layers.errors import NotFoundError, StoreBusyError, StoreWriteError
from layers.gpkg_access import create_private_table, sqlite_connection, sqlite_transaction
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
        """A write transaction (the store's own), creating ``create``'s table first if given."""
        with self._errors(), self._transaction() as conn:
            if create is not None:
                create_private_table(conn, *create)
            yield _Session(conn)

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

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        if not self.path.exists():
            raise NotFoundError(NO_STORE_MESSAGE, subject="layers")
        return sqlite_transaction(self.path)
