"""The PostGIS layer store: the GeoPackage store's contract on a shared PostgreSQL database.

Layout
------
``PostgisStore("postgresql://user@host:5432/db?schema=trazo")`` keeps everything in one
schema (``schema=`` in the URL, default ``trazo``; Trazo strips it before connecting):

* every vector layer as a table ``<layer>__v<8 hex>`` (one load's version) with ``fid``
  (bigint primary key, 1…n in load order), the attribute columns and ``geom``
  (``geometry(<type>, 4326)`` with a GiST index), plus a plain view ``<layer>`` on the
  current version. QGIS and ``ogrinfo PG:…`` open the views by their layer names;
* ``trazo_catalog``, one row per layer, with the same columns as the GeoPackage catalog;
* ``trazo_proposals`` (one GeoJSON document per proposal) and the service's record
  tables (``trazo_jobs``);
* rasters as GeoTIFF bytes in ``trazo_rasters``, so every server of a team sees the same
  raster; :meth:`PostgisStore.raster_path` writes a version once to a local cache folder
  (``<work dir>/rasters``) for GDAL to open.

Atomic writes
-------------
A load runs in one transaction: create the version's table, ``COPY`` the features in,
index and count them, point the catalog row and the view at it, commit. PostgreSQL's DDL
is transactional, so until the commit nobody sees the new table, and a failed load, or a
killed one (its connection drops, the server rolls back), leaves every layer as it was.
The previous version is dropped after the commit; what a failure there leaves is dropped
by the next write.

Concurrency
-----------
Readers use MVCC and never wait for a load. Writers of one layer take a transaction-level
advisory lock on (schema, layer) and so serialise; a writer that cannot get it within the
lock timeout gets :class:`layers.errors.StoreBusyError` naming the layer. Writers of
different layers run at once.

Driver
------
psycopg 3 (with ``psycopg_pool``): the maintained PostgreSQL adapter, with server-side
``COPY`` for fast loads and plain SQL for everything PostGIS does (``ST_Intersects`` on
the GiST index for bbox filters). Geometries travel as (E)WKB and are decoded with
shapely; GDAL's PG driver is not needed (and is not in pyogrio's wheels).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layers.catalog import (
    CATALOG_FIELDS,
    CATALOG_TABLE,
    GEOMETRY_COLUMN,
    PHYSICAL_RE,
    PROPOSALS_TABLE,
    BBox,
    CatalogRow,
    ExportFormat,
    LayerInfo,
    StoredProposal,
    bbox_halves,
    catalog_values,
    check_bbox,
    check_layer_name,
    check_page,
    check_vector_write,
    check_written,
    found_proposal,
    found_row,
    layer_geometry_type,
    new_physical,
    proposal_from_record,
    raster_bbox,
    raster_info,
    raster_row,
    restore_dtypes,
    row_from_record,
    utc_now,
    vector_info,
    vector_row,
)
from layers.errors import (
    AlreadyExistsError,
    LayerValidationError,
    NotFoundError,
    StoreBusyError,
    StoreWriteError,
    TrazoError,
)
from layers.kinds import LayerKind
from layers.postgis_location import redact, split_location
from layers.records_postgis import PostgisOwners, PostgisRecords, has_table
from layers.report import ValidationReport
from layers.store_api import fingerprint_of

if TYPE_CHECKING:
    import geopandas as gpd
    import psycopg
    import psycopg_pool

log = logging.getLogger(__name__)

RASTERS_TABLE = "trazo_rasters"
RESERVED_PREFIX = "trazo_"

_DROP_LOCK_TIMEOUT = "5s"

_CATALOG_DDL = f"""
CREATE TABLE IF NOT EXISTS {CATALOG_TABLE} (
    name text PRIMARY KEY,
    kind text NOT NULL,
    source text NOT NULL,
    loaded_at text NOT NULL,
    feature_count bigint NOT NULL,
    geometry_type text,
    min_lon double precision,
    min_lat double precision,
    max_lon double precision,
    max_lat double precision,
    report text NOT NULL,
    columns text NOT NULL,
    physical text NOT NULL UNIQUE
)
"""
_PROPOSALS_DDL = f"""
CREATE TABLE IF NOT EXISTS {PROPOSALS_TABLE} (
    name text PRIMARY KEY,
    kind text NOT NULL,
    created_at text NOT NULL,
    document text NOT NULL
)
"""
_RASTERS_DDL = f"""
CREATE TABLE IF NOT EXISTS {RASTERS_TABLE} (
    physical text PRIMARY KEY,
    data bytea NOT NULL
)
"""


def _pg_type(dtype: Any) -> str:
    """The PostgreSQL column type for a pandas dtype."""
    kind = getattr(dtype, "kind", "O")
    if kind in "iu":
        return "bigint"
    if kind == "f":
        return "double precision"
    if kind == "b":
        return "boolean"
    if kind == "M":
        return "timestamptz" if getattr(dtype, "tz", None) is not None else "timestamp"
    return "text"


class PostgisStore:
    """Layers, rasters, proposals and record tables in one schema of a PostGIS database.

    Parameters
    ----------
    location
        ``postgresql://user:password@host:port/database?schema=name`` (any libpq URL;
        ``schema`` defaults to ``trazo``). The database needs the ``postgis`` extension,
        or a user allowed to create it.
    work_dir
        A local folder for files that belong with this store on this machine (the raster
        cache, scenario outputs, the service's job locks).
    lock_timeout
        Seconds a write waits for another write of the same layer before raising
        :class:`layers.errors.StoreBusyError`.
    pool_size
        Most connections this object keeps open at once.
    """

    def __init__(
        self,
        location: str,
        *,
        work_dir: Path,
        lock_timeout: float = 120.0,
        pool_size: int = 8,
    ) -> None:
        self._url, self.schema = split_location(location)
        self._location = location
        self.work_dir = Path(work_dir)
        self.lock_timeout = lock_timeout
        self.pool_size = pool_size
        self._pool: psycopg_pool.ConnectionPool | None = None
        self._ready = False

    # ------------------------------------------------------------------ plumbing

    @property
    def location(self) -> str:
        """The store URL without its password."""
        return redact(self._location)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the connection pool; a copy opens its own (worker processes)."""
        state = dict(self.__dict__)
        state["_pool"] = None
        state["_ready"] = False
        return state

    def close(self) -> None:
        """Close this object's connections."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> PostgisStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        # The store's schema first, then whatever the role already searches (PostGIS).
        conn.execute(
            "SELECT set_config('search_path', %s || ', ' || current_setting('search_path'), false)",
            (f'"{self.schema}"',),
        )
        conn.commit()

    def _get_pool(self) -> psycopg_pool.ConnectionPool:
        if self._pool is None:
            import psycopg
            import psycopg_pool

            # One plain connection first: a wrong host, user or password fails at once with
            # libpq's reason, instead of a pool retrying until its timeout.
            try:
                psycopg.connect(self._url, connect_timeout=10).close()
            except psycopg.Error as err:
                reason = (
                    str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
                )
                log.warning("cannot connect to the PostGIS store %s: %s", self.location, reason)
                raise StoreBusyError(
                    "cannot connect to the PostGIS store; check that the server is up and the "
                    "URL, user and password are right (the log has the database's reason)"
                ) from err
            self._pool = psycopg_pool.ConnectionPool(
                self._url,
                min_size=1,
                max_size=self.pool_size,
                configure=self._configure,
                open=False,
                name=f"trazo-{self.schema}",
            )
            try:
                self._pool.open(wait=True, timeout=30.0)
            except psycopg_pool.PoolTimeout as err:
                self._pool.close()
                self._pool = None
                log.warning("no connection to the PostGIS store %s in 30 s", self.location)
                raise StoreBusyError(
                    "cannot connect to the PostGIS store; check that the server is up and the "
                    "URL, user and password are right"
                ) from err
        return self._pool

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in a transaction (committed on success, else rolled back)."""
        import psycopg
        import psycopg_pool

        try:
            with self._get_pool().connection(timeout=self.lock_timeout) as conn:
                yield conn
        except psycopg_pool.PoolTimeout as err:
            raise StoreBusyError("the PostGIS store has no free connection; try again") from err
        except psycopg.OperationalError as err:
            if isinstance(err, psycopg.errors.LockNotAvailable | psycopg.errors.QueryCanceled):
                reason = err.diag.message_primary
                raise StoreBusyError(f"the PostGIS store is busy; try again ({reason})") from err
            log.warning("the PostGIS store %s is unavailable: %s", self.location, err)
            raise StoreBusyError("the PostGIS store is unavailable; try again later") from err

    def _ensure(self) -> None:
        """Create the schema, PostGIS (if allowed) and the store's tables, once."""
        if self._ready:
            return
        import psycopg

        with self._connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('trazo:create'))")
            has_postgis = conn.execute(
                "SELECT 1 FROM pg_extension WHERE extname = 'postgis'"
            ).fetchone()
            if has_postgis is None:
                try:
                    with conn.transaction():
                        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                except psycopg.Error as err:
                    raise StoreWriteError(
                        "PostGIS is not installed in this database and this user may not "
                        "install it; ask its owner to run CREATE EXTENSION postgis"
                    ) from err
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            for ddl in (_CATALOG_DDL, _PROPOSALS_DDL, _RASTERS_DDL):
                conn.execute(ddl)
        self._ready = True

    def _has_table(self, conn: psycopg.Connection[Any], table: str) -> bool:
        return has_table(conn, self.schema, table)

    def _lock_layer(self, conn: psycopg.Connection[Any], name: str) -> None:
        """Take the write lock of layer ``name`` for this transaction, or time out."""
        deadline = time.monotonic() + self.lock_timeout
        while True:
            got = conn.execute(
                "SELECT pg_try_advisory_xact_lock(hashtext(%s), hashtext(%s))",
                (f"trazo:{self.schema}", name),
            ).fetchone()
            if got is not None and got[0]:
                return
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"another load is writing layer {name!r}; try again when it ends"
                )
            time.sleep(0.05)

    # ------------------------------------------------------------------ catalog reads

    def list_layers(self) -> list[LayerInfo]:
        """Return every stored layer, sorted by name."""
        with self._connection() as conn:
            return [row.info for row in self._rows(conn)]

    def info(self, name: str) -> LayerInfo:
        """Return the catalog row of layer ``name``; ``NotFoundError`` if there is none."""
        with self._connection() as conn:
            return self._row(conn, name).info

    def fingerprint(self) -> str:
        """A digest of the stored layers' versions (see :class:`layers.store_api.LayerStore`)."""
        with self._connection() as conn:
            rows = self._rows(conn)
        return fingerprint_of((r.info.name, r.info.kind.value, r.physical) for r in rows)

    def raster_path(self, name: str) -> Path:
        """Return a local GeoTIFF of raster layer ``name`` (cached per version)."""
        with self._connection() as conn:
            row = raster_row(self._row(conn, name))
            cached = self.side_folder("rasters") / row.physical
            if cached.is_file():
                return cached
            found = conn.execute(
                f"SELECT data FROM {RASTERS_TABLE} WHERE physical = %s", (row.physical,)
            ).fetchone()
        if found is None:  # replaced meanwhile: the new version
            return self.raster_path(name)
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            tmp.write_bytes(bytes(found[0]))
            tmp.replace(cached)
        finally:
            tmp.unlink(missing_ok=True)
        return cached

    # ------------------------------------------------------------------ vector reads

    def read(self, name: str, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        """Return layer ``name`` in EPSG:4326, indexed by its stable feature id ``fid``."""
        box = check_bbox(bbox)
        return self._select(name, box, limit=None, offset=0)

    def count(self, name: str, bbox: BBox | None = None) -> int:
        """Return how many features of ``name`` intersect ``bbox`` (all if ``None``)."""
        box = check_bbox(bbox)
        if box is None:
            return self._vector_info(name).feature_count
        for attempt in range(2):
            with self._connection() as conn:
                row = self._vector_row(conn, name)
                try:
                    with conn.transaction():
                        found = conn.execute(
                            f'SELECT count(*) FROM "{row.physical}" WHERE {_intersects(box)}',
                            [v for half in bbox_halves(box) for v in half],
                        ).fetchone()
                    return int(found[0]) if found else 0
                except _undefined_table() as err:
                    if attempt:
                        raise StoreWriteError(f"layer {name!r} could not be read") from err
        raise AssertionError("unreachable")  # pragma: no cover

    def read_page(
        self, name: str, bbox: BBox | None = None, limit: int = 10, offset: int = 0
    ) -> gpd.GeoDataFrame:
        """Return at most ``limit`` features after skipping ``offset``, in ``fid`` order."""
        check_page(limit, offset)
        box = check_bbox(bbox)
        return self._select(name, box, limit=limit, offset=offset)

    def feature(self, name: str, fid: int) -> gpd.GeoDataFrame:
        """Return the one-row frame of feature ``fid`` of ``name``; ``NotFoundError`` if absent."""
        frame = self._select(name, None, limit=1, offset=0, fid=int(fid))
        if len(frame) == 0:
            raise NotFoundError(f"layer {name!r} has no feature with fid {fid}")
        return frame

    def _vector_info(self, name: str) -> LayerInfo:
        with self._connection() as conn:
            return self._vector_row(conn, name).info

    def _select(
        self,
        name: str,
        box: BBox | None,
        *,
        limit: int | None,
        offset: int,
        fid: int | None = None,
    ) -> gpd.GeoDataFrame:
        """Read features of the current version of ``name`` in ``fid`` order.

        The catalog lookup and the read share one transaction; if a replace dropped the
        version between them, look it up again once.
        """
        from psycopg import sql

        for attempt in range(2):
            with self._connection() as conn:
                row = self._vector_row(conn, name)
                columns = list(row.columns)
                fields = sql.SQL(", ").join(
                    [sql.Identifier("fid")]
                    + [sql.Identifier(c) for c in columns]
                    + [sql.SQL(f"ST_AsBinary({GEOMETRY_COLUMN})")]
                )
                where: list[sql.Composable] = []
                params: list[Any] = []
                if box is not None:
                    where.append(sql.SQL(_intersects(box)))
                    params.extend(v for half in bbox_halves(box) for v in half)
                if fid is not None:
                    where.append(sql.SQL("fid = %s"))
                    params.append(fid)
                query = sql.SQL("SELECT {} FROM {}").format(fields, sql.Identifier(row.physical))
                if where:
                    query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
                query += sql.SQL(" ORDER BY fid")
                if limit is not None:
                    query += sql.SQL(" LIMIT %s OFFSET %s")
                    params.extend([limit, offset])
                try:
                    with conn.transaction(), conn.cursor(binary=True) as cursor:
                        records = cursor.execute(query, params).fetchall()
                except _undefined_table() as err:
                    if attempt:
                        raise StoreWriteError(f"layer {name!r} could not be read") from err
                    continue
            return _frame(records, columns, row.columns)
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ writes

    def write_layer(
        self,
        name: str,
        kind: LayerKind,
        frame: gpd.GeoDataFrame,
        report: ValidationReport,
        *,
        replace: bool = False,
    ) -> LayerInfo:
        """Store ``frame`` (EPSG:4326) as vector layer ``name`` in one transaction.

        Raises ``AlreadyExistsError`` if the layer exists and ``replace`` is false. On any
        failure the store is left exactly as it was.
        """
        kind = check_vector_write(name, kind, frame)
        _check_name(name)
        _check_columns(name, frame)
        data = frame.reset_index(drop=True)
        self._ensure()
        physical = new_physical(name)
        with self._connection() as conn:
            self._lock_layer(conn, name)
            self._refuse_existing(conn, name, replace)
            geometry_type = self._write_table(conn, name, physical, data)
            info, columns = vector_info(name, kind, data, report, geometry_type)
            self._switch(conn, info, physical, columns)
            self._point_view(conn, name, physical, kind)
        self._clean_orphans()
        log.info("stored layer %s (%d features) as %s", name, info.feature_count, physical)
        return info

    def _write_table(
        self, conn: psycopg.Connection[Any], name: str, physical: str, data: gpd.GeoDataFrame
    ) -> str | None:
        """Create ``physical``, copy ``data`` into it, index and check it (in ``conn``'s txn);
        return the geometry type of its column."""
        import shapely
        from psycopg import sql

        geometry = data.geometry
        attributes = [str(c) for c in data.columns if c != geometry.name]
        geometry_type, promote = layer_geometry_type(data)
        definitions: list[sql.Composable] = [sql.SQL("fid bigint PRIMARY KEY")]
        definitions += [
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_pg_type(data[c].dtype)))
            for c in attributes
        ]
        definitions.append(sql.SQL(f"{GEOMETRY_COLUMN} geometry(Geometry, 4326)"))
        conn.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                sql.Identifier(physical), sql.SQL(", ").join(definitions)
            )
        )
        geoms = geometry.to_numpy()
        if promote:
            geoms = _promote_to_multi(geoms)
        ewkb = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
        values = [_python_values(data[c]) for c in attributes]
        target = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(physical),
            sql.SQL(", ").join(
                [sql.Identifier("fid")]
                + [sql.Identifier(c) for c in attributes]
                + [sql.Identifier(GEOMETRY_COLUMN)]
            ),
        )
        with conn.cursor().copy(target) as copy:
            for index, row in enumerate(zip(*values, ewkb, strict=True), start=1):
                copy.write_row((index, *row))
        if geometry_type not in (None, "Unknown"):
            has_z = bool(shapely.has_z(geoms[~shapely.is_missing(geoms)]).any())
            typmod = f"{geometry_type}{'Z' if has_z else ''}"
            conn.execute(
                sql.SQL(
                    f"ALTER TABLE {{}} ALTER COLUMN {GEOMETRY_COLUMN} TYPE geometry({typmod}, 4326)"
                ).format(sql.Identifier(physical))
            )
        conn.execute(
            sql.SQL(f"CREATE INDEX {{}} ON {{}} USING gist ({GEOMETRY_COLUMN})").format(
                sql.Identifier(f"{physical}_geom"), sql.Identifier(physical)
            )
        )
        found = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(physical))
        ).fetchone()
        check_written(name, len(data), int(found[0]) if found else 0)
        return geometry_type

    def write_raster(
        self, name: str, tif: Path, report: ValidationReport, *, replace: bool = False
    ) -> LayerInfo:
        """Store GeoTIFF ``tif`` as raster layer ``name`` in one transaction (bytes copied)."""
        check_layer_name(name)
        _check_name(name)
        tif = Path(tif)
        if not tif.is_file():
            raise NotFoundError(f"raster file {tif.name} does not exist")
        bbox = raster_bbox(tif, name)
        payload = tif.read_bytes()
        self._ensure()
        physical = f"{new_physical(name)}.tif"
        with self._connection() as conn:
            self._lock_layer(conn, name)
            self._refuse_existing(conn, name, replace)
            conn.execute(
                f"INSERT INTO {RASTERS_TABLE} (physical, data) VALUES (%s, %s)",
                (physical, payload),
            )
            info = raster_info(name, report, bbox)
            self._switch(conn, info, physical, {})
            self._point_view(conn, name, None, LayerKind.RASTER)
        self._clean_orphans()
        log.info("stored raster %s as %s", name, physical)
        return info

    def delete(self, name: str) -> None:
        """Remove layer ``name``; ``NotFoundError`` if there is none."""
        with self._connection() as conn:
            self._lock_layer(conn, name)
            row = self._row(conn, name)
            conn.execute(f"DELETE FROM {CATALOG_TABLE} WHERE name = %s", (name,))
            self._point_view(conn, name, None, row.info.kind)
        self._clean_orphans()
        log.info("deleted layer %s", name)

    def export(self, name: str, fmt: ExportFormat, out: Path) -> Path:
        """Write layer ``name`` to ``out`` (see :func:`layers.export.export_layer`)."""
        from layers.export import export_layer

        return export_layer(self, name, fmt, Path(out))

    # ------------------------------------------------------------------ internals: writes

    def _refuse_existing(self, conn: psycopg.Connection[Any], name: str, replace: bool) -> None:
        if replace:
            return
        found = conn.execute(f"SELECT 1 FROM {CATALOG_TABLE} WHERE name = %s", (name,)).fetchone()
        if found is not None:
            raise AlreadyExistsError(f"layer {name!r} already exists", subject="layer")

    def _switch(
        self,
        conn: psycopg.Connection[Any],
        info: LayerInfo,
        physical: str,
        columns: dict[str, str],
    ) -> None:
        """Point the catalog row of ``info.name`` at ``physical`` (in ``conn``'s transaction)."""
        conn.execute(
            f"INSERT INTO {CATALOG_TABLE} ({CATALOG_FIELDS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in CATALOG_FIELDS.split(", ")[1:]),
            catalog_values(info, physical, columns),
        )

    def _point_view(
        self, conn: psycopg.Connection[Any], name: str, physical: str | None, kind: LayerKind
    ) -> None:
        """Make the view ``name`` show ``physical`` (vector layers), or remove it."""
        from psycopg import sql

        conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(sql.Identifier(name)))
        if physical is None or kind is LayerKind.RASTER:
            return
        conn.execute(
            sql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
                sql.Identifier(name), sql.Identifier(physical)
            )
        )
        conn.execute(
            sql.SQL("COMMENT ON VIEW {} IS {}").format(
                sql.Identifier(name), sql.Literal(f"Trazo {kind.value} layer {name}")
            )
        )

    def _clean_orphans(self) -> None:
        """Drop layer tables and raster rows no catalog row points at; never wait long.

        Each list comes from one statement, so a load committing meanwhile is either
        wholly in the catalog or its table is not yet visible: nothing current is dropped.
        Failures are logged; the next write tries again.
        """
        import psycopg
        from psycopg import sql

        try:
            with self._connection() as conn:
                tables = [
                    r[0]
                    for r in conn.execute(
                        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename "
                        f"NOT IN (SELECT physical FROM {CATALOG_TABLE})",
                        (self.schema,),
                    )
                    if PHYSICAL_RE.fullmatch(r[0])
                ]
                conn.execute(
                    f"DELETE FROM {RASTERS_TABLE} "
                    f"WHERE physical NOT IN (SELECT physical FROM {CATALOG_TABLE})"
                )
            for table in tables:
                with self._connection() as conn:
                    conn.execute(f"SET LOCAL lock_timeout = '{_DROP_LOCK_TIMEOUT}'")
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        except (TrazoError, psycopg.Error):
            log.warning("could not drop replaced versions now; the next write drops them")

    # ------------------------------------------------------------------ proposals

    def write_proposal(
        self, name: str, kind: str, document: dict[str, Any], *, replace: bool = False
    ) -> StoredProposal:
        """Store a proposal's GeoJSON document under ``name`` in one transaction."""
        check_layer_name(name)
        text = json.dumps(document, ensure_ascii=False, allow_nan=False)
        created = str(document.get("proposal", {}).get("created_at") or utc_now())
        self._ensure()
        with self._connection() as conn:
            inserted = conn.execute(
                f"INSERT INTO {PROPOSALS_TABLE} (name, kind, created_at, document) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO NOTHING",
                (name, kind, created, text),
            ).rowcount
            if inserted == 0:
                if not replace:
                    raise AlreadyExistsError(
                        f"proposal {name!r} already exists", subject="proposal"
                    )
                conn.execute(
                    f"UPDATE {PROPOSALS_TABLE} SET kind = %s, created_at = %s, document = %s "
                    "WHERE name = %s",
                    (kind, created, text, name),
                )
        return StoredProposal(name, kind, created, document)

    def list_proposals(self) -> list[StoredProposal]:
        """Return every stored proposal (documents included), sorted by name."""
        return [proposal_from_record(r) for r in self._proposal_records()]

    def proposal_names(self) -> list[str]:
        """Return the names of every stored proposal, sorted (no documents read)."""
        with self._connection() as conn:
            if not self._has_table(conn, PROPOSALS_TABLE):
                return []
            rows = conn.execute(f"SELECT name FROM {PROPOSALS_TABLE} ORDER BY name").fetchall()
        return [str(row[0]) for row in rows]

    def proposal(self, name: str) -> StoredProposal:
        """Return proposal ``name``; ``NotFoundError`` if there is none."""
        return found_proposal(
            name, self._proposal_records(name), lambda: [r[0] for r in self._proposal_records()]
        )

    def delete_proposal(self, name: str) -> None:
        """Remove proposal ``name``; ``NotFoundError`` if there is none."""
        self.proposal(name)
        with self._connection() as conn:
            conn.execute(f"DELETE FROM {PROPOSALS_TABLE} WHERE name = %s", (name,))

    def _proposal_records(self, name: str | None = None) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            if not self._has_table(conn, PROPOSALS_TABLE):
                return []
            query = f"SELECT name, kind, created_at, document FROM {PROPOSALS_TABLE}"
            if name is None:
                return list(conn.execute(query + " ORDER BY name").fetchall())
            return list(conn.execute(query + " WHERE name = %s", (name,)).fetchall())

    # ------------------------------------------------------------------ records, folders

    def record_tables(self) -> PostgisRecords:
        """The service's record tables in this store's schema."""
        return PostgisRecords(
            self._connection,
            schema=self.schema,
            lock_timeout=self.lock_timeout,
            prepare=self._ensure,
        )

    def service_owners(self) -> PostgisOwners:
        """Service processes' locks: session advisory locks in this database."""
        return PostgisOwners(self._url, schema=self.schema, location=self.location)

    def side_folder(self, purpose: str) -> Path:
        """The folder ``<work dir>/<purpose>`` (not created here)."""
        return self.work_dir / purpose

    # ------------------------------------------------------------------ internals: catalog

    def _rows(self, conn: psycopg.Connection[Any], name: str | None = None) -> list[CatalogRow]:
        if not self._has_table(conn, CATALOG_TABLE):
            return []
        query = f"SELECT {CATALOG_FIELDS} FROM {CATALOG_TABLE}"
        if name is None:
            records = conn.execute(query + " ORDER BY name").fetchall()
        else:
            records = conn.execute(query + " WHERE name = %s", (name,)).fetchall()
        return [row_from_record(tuple(r)) for r in records]

    def _row(self, conn: psycopg.Connection[Any], name: str) -> CatalogRow:
        return found_row(
            name, self._rows(conn, name), lambda: [r.info.name for r in self._rows(conn)]
        )

    def _vector_row(self, conn: psycopg.Connection[Any], name: str) -> CatalogRow:
        return vector_row(self._row(conn, name))


# ---------------------------------------------------------------------- helpers


def _undefined_table() -> type[Exception]:
    import psycopg

    return psycopg.errors.UndefinedTable


def _check_name(name: str) -> None:
    """PostGIS keeps the store's own tables under ``trazo_``: layers may not take it."""
    if name.startswith(RESERVED_PREFIX):
        raise LayerValidationError(
            f"layer name {name!r} is reserved: names starting with {RESERVED_PREFIX!r} "
            "are the store's own tables in PostGIS; choose another name"
        )


def _check_columns(name: str, frame: gpd.GeoDataFrame) -> None:
    """PostgreSQL keeps 63 bytes of an identifier: refuse longer column names."""
    for column in (str(c) for c in frame.columns if c != frame.geometry.name):
        if len(column.encode()) > 63:
            raise LayerValidationError(
                f"layer {name!r} has a column name longer than 63 bytes ({column[:40]!r}…), "
                "more than PostgreSQL keeps; shorten it"
            )


def _python_values(series: Any) -> list[Any]:
    """The column's values as plain Python objects, missing ones as None."""
    import pandas as pd

    values = series.astype(object).where(series.notna(), None).tolist()
    kind = getattr(series.dtype, "kind", "O")
    if kind in "iub" or kind == "f":
        return values
    if kind == "M":
        return [None if v is None else pd.Timestamp(v).to_pydatetime() for v in values]
    return [None if v is None else str(v) for v in values]


def _promote_to_multi(geoms: Any) -> Any:
    import shapely

    out = geoms.copy()
    for index, geom in enumerate(out):
        if geom is None:
            continue
        kind = geom.geom_type
        if kind == "Polygon":
            out[index] = shapely.MultiPolygon([geom])
        elif kind == "LineString":
            out[index] = shapely.MultiLineString([geom])
        elif kind == "Point":
            out[index] = shapely.MultiPoint([geom])
    return out


def _frame(
    records: list[tuple[Any, ...]], columns: list[str], dtypes: dict[str, str]
) -> gpd.GeoDataFrame:
    """Build the frame :meth:`layers.store.Store.read` would return from selected rows."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    index = pd.Index([r[0] for r in records], name="fid", dtype="int64")
    table = {
        column: pd.Series([r[i + 1] for r in records], index=index, dtype=object)
        for i, column in enumerate(columns)
    }
    geoms = shapely.from_wkb([None if r[-1] is None else bytes(r[-1]) for r in records])
    frame = gpd.GeoDataFrame(
        pd.DataFrame(table, index=index),
        geometry=gpd.GeoSeries(geoms, index=index),
        crs="EPSG:4326",
    )
    for column in columns:
        dtype = dtypes.get(column, "object")
        try:
            frame[column] = frame[column].astype(dtype)
        except (TypeError, ValueError):
            frame[column] = frame[column].infer_objects()
    return restore_dtypes(frame, dtypes)


def _intersects(box: BBox) -> str:
    """SQL keeping geometries that intersect ``box``; one across 180° is its two halves.

    The placeholders take the halves' numbers in order (see :func:`layers.catalog.bbox_halves`).
    """
    tests = [
        f"ST_Intersects({GEOMETRY_COLUMN}, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
        for _ in bbox_halves(box)
    ]
    return "(" + " OR ".join(tests) + ")"
