"""The embedded layer store: one GeoPackage holding every vector layer and a catalog.

Layout
------
``Store(Path(".trazo/store.gpkg"))`` keeps:

* every vector layer as a GeoPackage feature table named ``<layer>__v<8 hex>`` (the suffix
  is the version written by one load; QGIS and ``ogrinfo`` show these tables, and
  ``gpkg_contents.identifier`` carries the plain layer name);
* the catalog table ``trazo_catalog``, one row per layer: name, kind, source, loaded_at,
  feature_count, geometry_type, bbox (``min_lon`` … ``max_lat``), the validation report as
  JSON, the column dtypes as JSON and ``physical``, the table or raster file holding the
  current version. It is a plain SQLite table readable with ``sqlite3``; it is registered
  in ``gpkg_contents`` under its own data type ``trazo_catalog`` so that GDAL (and so
  QGIS) list only the layers, not the catalog;
* rasters as GeoTIFF files ``<layer>__v<8 hex>.tif`` in the folder ``store.rasters``
  beside the GeoPackage, catalogued in the same table.

Atomic writes
-------------
A load writes a new physical table (or raster file) under a fresh versioned name, reads
it back and checks it, and only then switches the catalog row to it in one SQLite
transaction; the previous version is dropped afterwards. Until that transaction commits,
readers and the catalog see only the previous version, so a failed or interrupted load
leaves every layer as it was. Whatever a crashed load left behind is referenced by no
catalog row, is never read, and is removed by the next write, delete or open.

Concurrency
-----------
The GeoPackage is in WAL mode, so readers (other threads, processes, GDAL clients) are
not blocked by a write and keep reading the previous version until the catalog switch.
Writers exclude each other with an ``flock`` on ``<store>.lock``.

Python's ``sqlite3`` (catalog, proposals, jobs) and GDAL (features) reach the file
through the gate of :mod:`layers.gpkg_access`, never both at once in one process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

# pyogrio (GDAL's vector library, and with it geopandas and pandas) is imported by the
# methods that read or write features: a command that only reads the catalog and writes a
# proposal through sqlite3 (a route on a warm planning cache) never loads it.
from layers.catalog import (
    CATALOG_FIELDS,
    CATALOG_TABLE,
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
    disk_full_as_error,
)
from layers.gpkg_access import (
    create_private_table,
    gdal_access,
    immediate,
    sqlite_connection,
    sqlite_transaction,
)
from layers.kinds import LayerKind
from layers.records_gpkg import GeoPackageRecords
from layers.report import ValidationReport
from layers.store_api import fingerprint_of

if TYPE_CHECKING:
    import geopandas as gpd

    from layers.owners import FileOwners

log = logging.getLogger(__name__)

CATALOG_DATA_TYPE = "trazo_catalog"

_RASTER_FILE_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}__v[0-9a-f]{8}\.tif$")
_RASTER_TMP_RE = re.compile(r"^\.[a-z][a-z0-9_]{0,62}__v[0-9a-f]{8}\.tif\.tmp$")
# A read looks the layer up, then opens its table; a replacement in between drops that
# table, and the read looks again. Two writers in a row may move it twice.
_READ_ATTEMPTS = 3
_MAX_FID = 2**31 - 1
_WRITE_BATCH = 20_000  # features GDAL writes per turn of the gate

_CATALOG_DDL = f"""
CREATE TABLE IF NOT EXISTS {CATALOG_TABLE} (
    name TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    feature_count INTEGER NOT NULL,
    geometry_type TEXT,
    min_lon REAL,
    min_lat REAL,
    max_lon REAL,
    max_lat REAL,
    report TEXT NOT NULL,
    columns TEXT NOT NULL,
    physical TEXT NOT NULL UNIQUE
)
"""
_PROPOSALS_DDL = f"""
CREATE TABLE IF NOT EXISTS {PROPOSALS_TABLE} (
    name TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    document TEXT NOT NULL
)
"""


class Store:
    """A GeoPackage file of layers plus rasters in a folder beside it.

    Parameters
    ----------
    path
        The GeoPackage file. It and its catalog are created by the first write; reading a
        store that does not exist yet finds no layers.
    lock_timeout
        Seconds a write waits for another write to finish before raising
        :class:`StoreBusyError`.

    Examples
    --------
    >>> import tempfile
    >>> store = Store(Path(tempfile.mkdtemp()) / "store.gpkg")
    >>> store.list_layers()
    []
    """

    def __init__(self, path: Path, *, lock_timeout: float = 120.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._clean_on_open()

    # ------------------------------------------------------------------ locations

    @property
    def rasters_dir(self) -> Path:
        """The folder holding this store's raster files."""
        return self.path.with_name(f"{self.path.stem}.rasters")

    @property
    def lock_path(self) -> Path:
        """The lock file writers hold while they write."""
        return self.path.with_name(f"{self.path.name}.lock")

    # ------------------------------------------------------------------ catalog reads

    def list_layers(self) -> list[LayerInfo]:
        """Return every stored layer, sorted by name."""
        return [row.info for row in self._rows()]

    def info(self, name: str) -> LayerInfo:
        """Return the catalog row of layer ``name``; ``NotFoundError`` if there is none."""
        return self._row(name).info

    def raster_path(self, name: str) -> Path:
        """Return the GeoTIFF file of raster layer ``name``.

        The file is replaced, not rewritten, when the layer is replaced: open it soon after
        asking, or copy it with :meth:`export`.
        """
        return self.rasters_dir / raster_row(self._row(name)).physical

    # ------------------------------------------------------------------ vector reads

    def read(self, name: str, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        """Return layer ``name`` in EPSG:4326, indexed by its stable feature id ``fid``.

        ``bbox`` (min lon, min lat, max lon, max lat) keeps the features whose geometry
        intersects it; a box whose min lon exceeds its max lon crosses the antimeridian.
        """
        box = check_bbox(bbox)
        if box is not None and len(bbox_halves(box)) > 1:
            fids = self._matching_fids(name, box)
            if not fids:
                return self._read_vector(name, {"max_features": 1}).iloc[:0]
            return self._read_vector(name, {"fids": fids})
        return self._read_vector(name, {"bbox": box})

    def count(self, name: str, bbox: BBox | None = None) -> int:
        """Return how many features of ``name`` intersect ``bbox`` (all if ``None``)."""
        box = check_bbox(bbox)
        row = self._vector_row(name)
        if box is None:
            return row.info.feature_count
        return len(self._matching_fids(name, box))

    def read_page(
        self, name: str, bbox: BBox | None = None, limit: int = 10, offset: int = 0
    ) -> gpd.GeoDataFrame:
        """Return at most ``limit`` features after skipping ``offset``, in ``fid`` order.

        The features are those :meth:`read` would return for the same ``bbox``; paging
        through them with ``offset += limit`` visits each exactly once while the layer is
        not replaced.
        """
        check_page(limit, offset)
        box = check_bbox(bbox)
        if box is None and limit > 0:
            # A GeoPackage table reads in rowid (fid) order: skip rather than list every fid,
            # which costs a full scan per page of a national layer.
            return self._read_vector(name, {"skip_features": offset, "max_features": limit})
        fids = self._matching_fids(name, box)[offset : offset + limit]
        if not fids:
            # pyogrio reads everything for max_features=0: read one row, keep the schema.
            return self._read_vector(name, {"max_features": 1}).iloc[:0]
        return self._read_vector(name, {"fids": fids})

    def feature(self, name: str, fid: int) -> gpd.GeoDataFrame:
        """Return the one-row frame of feature ``fid`` of ``name``; ``NotFoundError`` if absent."""
        import pyogrio.errors

        # The store numbers features 1, 2, ...; GDAL takes fids as 32-bit integers, and a
        # larger one would overflow rather than find nothing.
        if not 0 <= int(fid) <= _MAX_FID:
            self._vector_row(name)
            raise NotFoundError(f"layer {name!r} has no feature with fid {fid}")
        try:
            frame = self._read_vector(name, {"fids": [int(fid)]})
        except pyogrio.errors.FeatureError:
            frame = None
        if frame is None or len(frame) == 0:
            raise NotFoundError(f"layer {name!r} has no feature with fid {fid}")
        return frame

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
        """Store ``frame`` (EPSG:4326) as vector layer ``name``, atomically.

        Raises ``AlreadyExistsError`` if the layer exists and ``replace`` is false. On any
        failure the store is left exactly as it was.
        """
        kind = check_vector_write(name, kind, frame)
        _check_columns(name, frame)
        with disk_full_as_error(f"layer {name!r}"), self._write_lock():
            self._ensure_store()
            self._refuse_existing(name, replace)
            self._clean_orphans()
            physical = new_physical(name)
            try:
                info, columns = self._write_staging(name, kind, frame, report, physical)
                old = self._switch(info, physical, columns, raster=False)
            except BaseException:
                self._discard_table(physical)
                raise
            if old is not None:
                self._discard(old)
        log.info("stored layer %s (%d features) as %s", name, info.feature_count, physical)
        return info

    def write_raster(
        self, name: str, tif: Path, report: ValidationReport, *, replace: bool = False
    ) -> LayerInfo:
        """Store GeoTIFF ``tif`` as raster layer ``name``, atomically (the file is copied)."""
        check_layer_name(name)
        tif = Path(tif)
        if not tif.is_file():
            raise NotFoundError(f"raster file {tif.name} does not exist")
        with disk_full_as_error(f"raster {name!r}"), self._write_lock():
            self._ensure_store()
            self._refuse_existing(name, replace)
            self._clean_orphans()
            physical = f"{new_physical(name)}.tif"
            self.rasters_dir.mkdir(parents=True, exist_ok=True)
            final = self.rasters_dir / physical
            tmp = self.rasters_dir / f".{physical}.tmp"
            try:
                shutil.copyfile(tif, tmp)
                bbox = raster_bbox(tmp, name)
                tmp.replace(final)
                info = raster_info(name, report, bbox)
                old = self._switch(info, physical, {}, raster=True)
            except BaseException:
                for leftover in (tmp, final):
                    leftover.unlink(missing_ok=True)
                raise
            if old is not None:
                self._discard(old)
        log.info("stored raster %s as %s", name, physical)
        return info

    def delete(self, name: str) -> None:
        """Remove layer ``name``; ``NotFoundError`` if there is none."""
        with self._write_lock():
            row = self._row(name)
            with self._transaction() as conn:
                conn.execute(f"DELETE FROM {CATALOG_TABLE} WHERE name = ?", (name,))
            self._discard(row)
            self._clean_orphans()
        log.info("deleted layer %s", name)

    def export(self, name: str, fmt: ExportFormat, out: Path) -> Path:
        """Write layer ``name`` to ``out`` (see :func:`layers.export.export_layer`)."""
        from layers.export import export_layer

        return export_layer(self, name, fmt, Path(out))

    # ------------------------------------------------------------------ proposals

    def write_proposal(
        self, name: str, kind: str, document: dict[str, Any], *, replace: bool = False
    ) -> StoredProposal:
        """Store a proposal's GeoJSON document under ``name`` in one transaction.

        Raises ``AlreadyExistsError`` when the name is taken and ``replace`` is false.
        """
        check_layer_name(name)
        text = json.dumps(document, ensure_ascii=False, allow_nan=False)
        created = str(document.get("proposal", {}).get("created_at") or utc_now())
        with self._write_lock():
            self._ensure_store()
            with self._transaction() as conn:
                create_private_table(
                    conn,
                    PROPOSALS_TABLE,
                    (_PROPOSALS_DDL,),
                    "Trazo proposals: one GeoJSON document per proposal",
                )
                taken = conn.execute(
                    f"SELECT 1 FROM {PROPOSALS_TABLE} WHERE name = ?", (name,)
                ).fetchone()
                if taken and not replace:
                    raise AlreadyExistsError(
                        f"proposal {name!r} already exists", subject="proposal"
                    )
                conn.execute(
                    f"INSERT OR REPLACE INTO {PROPOSALS_TABLE} VALUES (?, ?, ?, ?)",
                    (name, kind, created, text),
                )
        return StoredProposal(name, kind, created, document)

    def list_proposals(self) -> list[StoredProposal]:
        """Return every stored proposal (documents included), sorted by name."""
        return [proposal_from_record(record) for record in self._proposal_records()]

    def proposal_names(self) -> list[str]:
        """Return the names of every stored proposal, sorted (no documents read)."""
        return [str(row[0]) for row in self._proposal_records(columns="name")]

    def proposal(self, name: str) -> StoredProposal:
        """Return proposal ``name``; ``NotFoundError`` if there is none."""
        return found_proposal(
            name, self._proposal_records(name), lambda: [r[0] for r in self._proposal_records()]
        )

    def delete_proposal(self, name: str) -> None:
        """Remove proposal ``name``; ``NotFoundError`` if there is none."""
        self.proposal(name)
        with self._write_lock(), self._transaction() as conn:
            conn.execute(f"DELETE FROM {PROPOSALS_TABLE} WHERE name = ?", (name,))

    # ------------------------------------------------------------------ store-wide

    @property
    def location(self) -> str:
        """The GeoPackage's path, as text."""
        return str(self.path)

    def fingerprint(self) -> str:
        """A digest of the stored layers' versions (see :class:`layers.store_api.LayerStore`)."""
        return fingerprint_of((r.info.name, r.info.kind.value, r.physical) for r in self._rows())

    def record_tables(self) -> GeoPackageRecords:
        """The service's record tables inside this GeoPackage."""
        return GeoPackageRecords(self.path)

    def service_owners(self) -> FileOwners:
        """Service processes' locks: files in the ``jobs`` folder beside the GeoPackage."""
        from layers.owners import FileOwners

        return FileOwners(self.side_folder("jobs"))

    def side_folder(self, purpose: str) -> Path:
        """The folder ``<stem>.<purpose>`` beside the GeoPackage (not created here)."""
        return self.path.with_name(f"{self.path.stem}.{purpose}")

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own connection."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _proposal_records(
        self, name: str | None = None, columns: str = "name, kind, created_at, document"
    ) -> list[tuple[Any, ...]]:
        """Stored proposals' ``columns`` (all, sorted by name, or the one named)."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (PROPOSALS_TABLE,),
            ).fetchone()
            if found is None:
                return []
            query = f"SELECT {columns} FROM {PROPOSALS_TABLE}"
            if name is None:
                return list(conn.execute(query + " ORDER BY name").fetchall())
            return list(conn.execute(query + " WHERE name = ?", (name,)).fetchall())

    # ------------------------------------------------------------------ internals: sqlite

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return sqlite_connection(self.path)

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return sqlite_transaction(self.path)

    def _has_catalog(self, conn: sqlite3.Connection) -> bool:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (CATALOG_TABLE,)
        ).fetchone()
        return found is not None

    def _rows(self, name: str | None = None) -> list[CatalogRow]:
        if not self.path.exists():
            return []
        with self._connect() as conn:
            if not self._has_catalog(conn):
                return []
            query = f"SELECT {CATALOG_FIELDS} FROM {CATALOG_TABLE}"
            if name is None:
                records = conn.execute(query + " ORDER BY name").fetchall()
            else:
                records = conn.execute(query + " WHERE name = ?", (name,)).fetchall()
        return [row_from_record(record) for record in records]

    def _row(self, name: str) -> CatalogRow:
        return found_row(name, self._rows(name), lambda: [r.info.name for r in self._rows()])

    def _vector_row(self, name: str) -> CatalogRow:
        return vector_row(self._row(name))

    # ------------------------------------------------------------------ internals: reads

    def _read_vector(self, name: str, options: dict[str, Any]) -> gpd.GeoDataFrame:
        """Read the current version of ``name`` with pyogrio ``options``.

        If a write replaced the layer between looking it up and reading it, the old table
        may be gone: look it up again once.
        """
        import pyogrio
        import pyogrio.errors

        for attempt in range(_READ_ATTEMPTS):
            row = self._vector_row(name)
            try:
                with gdal_access(self.path):
                    frame = pyogrio.read_dataframe(
                        self.path, layer=row.physical, fid_as_index=True, **options
                    )
            except pyogrio.errors.DataLayerError:
                if attempt < _READ_ATTEMPTS - 1 and self._row(name).physical != row.physical:
                    continue
                raise
            return restore_dtypes(frame, row.columns)
        raise AssertionError("unreachable")  # pragma: no cover

    def _matching_fids(self, name: str, bbox: BBox | None) -> list[int]:
        import pyogrio.errors
        import pyogrio.raw

        if bbox is not None and len(halves := bbox_halves(bbox)) > 1:
            # A feature touching both sides of the antimeridian is counted once.
            return sorted({fid for half in halves for fid in self._matching_fids(name, half)})
        for attempt in range(_READ_ATTEMPTS):
            row = self._vector_row(name)
            try:
                with gdal_access(self.path):
                    _, fids, *_ = pyogrio.raw.read(
                        self.path,
                        layer=row.physical,
                        bbox=bbox,
                        columns=[],
                        read_geometry=bbox is not None,
                        return_fids=True,
                    )
            except pyogrio.errors.DataLayerError:
                if attempt < _READ_ATTEMPTS - 1 and self._row(name).physical != row.physical:
                    continue
                raise
            return sorted(int(fid) for fid in fids)
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ internals: writes

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a") as handle:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreBusyError(
                            "another load is writing to the store; try again when it ends"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _ensure_store(self) -> None:
        """Create the GeoPackage with its catalog (once), in WAL mode. Hold the lock."""
        if not self.path.exists():
            self._create_store()
        with self._connect() as conn:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            if not self._has_catalog(conn):
                with immediate(conn):
                    create_private_table(
                        conn,
                        CATALOG_TABLE,
                        (_CATALOG_DDL,),
                        "Trazo layer catalog: one row per stored layer",
                        data_type=CATALOG_DATA_TYPE,
                    )

    def _create_store(self) -> None:
        """Create an empty GeoPackage at ``self.path`` via a temporary file.

        GDAL writes the GeoPackage header tables with a placeholder layer, which is then
        dropped; the file appears at its final path only once complete.
        """
        import geopandas as gpd
        import pyogrio
        from shapely.geometry import Point

        tmp = self.path.with_name(f".{self.path.stem}.{uuid.uuid4().hex[:8]}.tmp.gpkg")
        try:
            seed = gpd.GeoDataFrame(geometry=[Point(0.0, 0.0)], crs="EPSG:4326")
            pyogrio.write_dataframe(seed, tmp, layer="seed__v00000000", driver="GPKG")
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                with immediate(conn):
                    _drop_feature_table(conn, "seed__v00000000")
            finally:
                conn.close()
            tmp.replace(self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def _refuse_existing(self, name: str, replace: bool) -> None:
        if not replace and self._rows(name):
            raise AlreadyExistsError(f"layer {name!r} already exists", subject="layer")

    def _write_staging(
        self,
        name: str,
        kind: LayerKind,
        frame: gpd.GeoDataFrame,
        report: ValidationReport,
        physical: str,
    ) -> tuple[LayerInfo, dict[str, str]]:
        """Write ``frame`` to the new table ``physical`` and check it by reading it back."""
        import pyogrio

        data = frame.reset_index(drop=True)
        # In batches, leaving the gate between them: while GDAL writes, Python's sqlite3
        # (every catalog lookup of every request) waits, so one long write of a big layer
        # would stall the service. The table is in no catalog row until the switch, so
        # nobody reads it half-written.
        geometry_type, promote = _gpkg_geometry_type(data)
        for start in range(0, max(len(data), 1), _WRITE_BATCH):
            with gdal_access(self.path):
                pyogrio.write_dataframe(
                    data.iloc[start : start + _WRITE_BATCH],
                    self.path,
                    layer=physical,
                    driver="GPKG",
                    append=start > 0,
                    geometry_type=geometry_type,
                    promote_to_multi=promote,
                )
        with gdal_access(self.path):
            meta = pyogrio.read_info(self.path, layer=physical)
        check_written(name, len(data), int(meta["features"]))
        stored_type = str(meta["geometry_type"]) if meta["geometry_type"] else None
        return vector_info(name, kind, data, report, stored_type)

    def _switch(
        self, info: LayerInfo, physical: str, columns: dict[str, str], *, raster: bool
    ) -> CatalogRow | None:
        """Point the catalog row of ``info.name`` at ``physical`` in one transaction.

        Returns the row it replaced, whose data the caller then discards.
        """
        with self._transaction() as conn:
            old_records = conn.execute(
                f"SELECT {CATALOG_FIELDS} FROM {CATALOG_TABLE} WHERE name = ?", (info.name,)
            ).fetchall()
            conn.execute(
                f"INSERT OR REPLACE INTO {CATALOG_TABLE} ({CATALOG_FIELDS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                catalog_values(info, physical, columns),
            )
            if not raster:
                # gpkg_contents.identifier must be unique: free the name, then take it.
                conn.execute(
                    "UPDATE gpkg_contents SET identifier = table_name WHERE identifier = ?",
                    (info.name,),
                )
                conn.execute(
                    "UPDATE gpkg_contents SET identifier = ?, description = ? WHERE table_name = ?",
                    (info.name, f"Trazo {info.kind.value} layer {info.name}", physical),
                )
        return row_from_record(old_records[0]) if old_records else None

    def _discard(self, row: CatalogRow) -> None:
        """Remove the data of a row no longer in the catalog; failures are left as orphans."""
        if row.info.kind is LayerKind.RASTER:
            try:
                (self.rasters_dir / row.physical).unlink(missing_ok=True)
            except OSError:
                log.warning("could not remove old raster %s; removed later", row.physical)
        else:
            self._discard_table(row.physical)

    def _discard_table(self, physical: str) -> None:
        if not self.path.exists():
            return
        try:
            with self._transaction() as conn:
                _drop_feature_table(conn, physical)
        except sqlite3.Error:
            log.warning("could not drop table %s; it is removed later", physical, exc_info=True)

    def _orphans(self) -> tuple[list[str], list[Path]]:
        """Physical tables and raster files no catalog row points at."""
        tables: list[str] = []
        referenced: set[str] = set()
        if self.path.exists():
            with self._connect() as conn:
                if self._has_catalog(conn):
                    referenced = {
                        r[0] for r in conn.execute(f"SELECT physical FROM {CATALOG_TABLE}")
                    }
                candidates = {
                    r[0]
                    for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                }
                candidates |= {r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents")}
            tables = sorted(
                t for t in candidates if PHYSICAL_RE.fullmatch(t) and t not in referenced
            )
        files: list[Path] = []
        if self.rasters_dir.is_dir():
            for entry in self.rasters_dir.iterdir():
                is_raster = _RASTER_FILE_RE.fullmatch(entry.name) is not None
                is_tmp = _RASTER_TMP_RE.fullmatch(entry.name) is not None
                if (is_raster and entry.name not in referenced) or is_tmp:
                    files.append(entry)
        return tables, sorted(files)

    def _clean_orphans(self) -> None:
        """Drop what interrupted writes left behind. Hold the write lock."""
        tables, files = self._orphans()
        for table in tables:
            log.info("removing %s, left by an interrupted load", table)
            self._discard_table(table)
        for path in files:
            log.info("removing %s, left by an interrupted load", path.name)
            path.unlink(missing_ok=True)

    def _clean_on_open(self) -> None:
        """Clean orphans now if no write is under way; never wait, never fail."""
        if not self.path.exists():
            return
        try:
            with self.lock_path.open("a") as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return
                try:
                    self._clean_orphans()
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        except (OSError, sqlite3.Error):
            log.debug("skipped cleaning %s on open", self.path, exc_info=True)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _drop_feature_table(conn: sqlite3.Connection, table: str) -> None:
    """Drop a GeoPackage feature table with its R-tree and metadata rows (in a transaction).

    Triggers on the table go with it. Table names come from this module, never from users.
    """
    geometry_columns = [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE lower(table_name) = lower(?)",
            (table,),
        )
    ]
    for column in geometry_columns:
        conn.execute(f"DROP TABLE IF EXISTS {_quote_ident(f'rtree_{table}_{column}')}")
    conn.execute(f"DROP TABLE IF EXISTS {_quote_ident(table)}")
    existing = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for meta in (
        "gpkg_contents",
        "gpkg_geometry_columns",
        "gpkg_extensions",
        "gpkg_ogr_contents",
        "gpkg_data_columns",
        "gpkg_metadata_reference",
    ):
        if meta in existing:
            conn.execute(f"DELETE FROM {meta} WHERE lower(table_name) = lower(?)", (table,))


def _check_columns(name: str, frame: gpd.GeoDataFrame) -> None:
    """GeoPackage column names ignore case: refuse two that differ only in case."""
    seen: dict[str, str] = {}
    for column in (str(c) for c in frame.columns if c != frame.geometry.name):
        first = seen.setdefault(column.lower(), column)
        if first != column:
            raise LayerValidationError(
                f"layer {name!r} has columns {first!r} and {column!r}, which differ only in "
                "case; GeoPackage column names ignore case, so rename one of them"
            )


def _gpkg_geometry_type(frame: gpd.GeoDataFrame) -> tuple[str, bool]:
    """:func:`layers.catalog.layer_geometry_type` as GDAL's GeoPackage writer takes it:
    ``Unknown`` for a layer without geometries, `` Z`` for 3D."""
    geometry_type, promote = layer_geometry_type(frame)
    if geometry_type is None or geometry_type == "Unknown":
        return "Unknown", False
    z = " Z" if len(frame) and bool(frame.geometry.has_z.any()) else ""
    return geometry_type + z, promote
