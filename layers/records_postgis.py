"""Record tables (e.g. the service's jobs) and owner locks inside a PostGIS store's schema.

The PostGIS side of :mod:`layers.records_gpkg`: the service's record tables live in the
store's schema next to its catalog, and a writer of them takes one transaction-level
advisory lock per store, so record transactions of one store take turns as ``BEGIN
IMMEDIATE`` makes them in a GeoPackage. The locks that tell which service processes are
alive are session advisory locks, held on a connection of their own.
:class:`layers.store_postgis.PostgisStore` hands out both with its connections.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from layers.catalog import CATALOG_TABLE
from layers.errors import NotFoundError, StoreBusyError
from layers.store_api import NO_STORE_MESSAGE

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


def has_table(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    """Whether ``schema`` holds ``table`` (or a view of that name)."""
    found = conn.execute(
        "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))", (schema, table)
    ).fetchone()
    return found is not None and found[0] is not None


class _RecordSession:
    """Runs portable ``?``-placeholder SQL on a psycopg connection."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self._conn.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))


class PostgisRecords:
    """The record tables of a PostGIS store (see :class:`layers.store_api.RecordTables`).

    ``connection`` gives a pooled connection in a transaction, ``prepare`` creates the
    store's schema and tables (once) before a record table is created in it.

    Writers take one advisory lock per store, so record-table transactions of one store
    take turns, as ``BEGIN IMMEDIATE`` makes them in a GeoPackage.
    """

    def __init__(
        self,
        connection: Callable[[], AbstractContextManager[psycopg.Connection[Any]]],
        *,
        schema: str,
        lock_timeout: float,
        prepare: Callable[[], None],
    ) -> None:
        self._connection = connection
        self._schema = schema
        self._lock_timeout = lock_timeout
        self._prepare = prepare

    def exists(self, table: str) -> bool:
        """Whether ``table`` has been created."""
        with self._connection() as conn:
            return has_table(conn, self._schema, table)

    @contextlib.contextmanager
    def session(self) -> Iterator[_RecordSession]:
        """A read session."""
        with self._connection() as conn:
            yield _RecordSession(conn)

    @contextlib.contextmanager
    def transaction(
        self, *, create: tuple[str, Sequence[str], str] | None = None
    ) -> Iterator[_RecordSession]:
        """A transaction holding the store's record lock; creates ``create``'s table first."""
        from psycopg import sql

        if create is not None:
            self._prepare()
        with self._connection() as conn:
            conn.execute(
                sql.SQL("SET LOCAL lock_timeout = {}").format(
                    sql.Literal(f"{int(self._lock_timeout * 1000)}ms")
                )
            )
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext('records'))",
                (f"trazo:{self._schema}",),
            )
            if create is not None:
                table, ddl, description = create
                for statement in ddl:
                    conn.execute(statement)
                conn.execute(
                    sql.SQL("COMMENT ON TABLE {} IS {}").format(
                        sql.Identifier(table), sql.Literal(description)
                    )
                )
            elif not has_table(conn, self._schema, CATALOG_TABLE):
                raise NotFoundError(NO_STORE_MESSAGE, subject="layers")
            yield _RecordSession(conn)


class _HeldAdvisoryLock:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def release(self) -> None:
        self._conn.close()  # the server lets a session's advisory locks go with it


class PostgisOwners:
    """Owner locks as session advisory locks on (store schema, owner), held on a connection
    of their own for the owner's lifetime: a process that dies loses its connection, and
    with it the lock, on whichever host it ran."""

    def __init__(self, url: str, *, schema: str, location: str) -> None:
        self._url = url
        self._schema = schema
        self._location = location

    def _key(self, owner: str) -> tuple[str, str]:
        return (f"trazo:{self._schema}:owners", owner)

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg

        try:
            return psycopg.connect(self._url, autocommit=True, connect_timeout=10)
        except psycopg.Error as err:
            log.warning("cannot connect to the PostGIS store %s: %s", self._location, err)
            raise StoreBusyError("cannot connect to the PostGIS store; try again later") from err

    def hold(self, owner: str) -> _HeldAdvisoryLock | None:
        """Take ``owner``'s lock on a connection kept open; None if another holds it."""
        conn = self._connect()
        got = conn.execute(
            "SELECT pg_try_advisory_lock(hashtext(%s), hashtext(%s))", self._key(owner)
        ).fetchone()
        if got is None or not got[0]:
            conn.close()
            return None
        return _HeldAdvisoryLock(conn)

    def alive(self, owner: str) -> bool:
        """Whether some session (a live service process) holds ``owner``'s lock."""
        with self._connect() as conn:
            got = conn.execute(
                "SELECT pg_try_advisory_lock(hashtext(%s), hashtext(%s))", self._key(owner)
            ).fetchone()
            return not (got is not None and got[0])  # taken here: nobody had it
