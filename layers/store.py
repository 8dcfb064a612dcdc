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
import fcntl
import json
import logging
import math
import re
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import pyogrio
import pyogrio.errors

from layers.errors import (
    AlreadyExistsError,
    LayerValidationError,
    NotFoundError,
    StoreBusyError,
    StoreWriteError,
    disk_full_as_error,
)
from layers.kinds import LayerKind
from layers.report import ValidationReport

if TYPE_CHECKING:
    import geopandas as gpd

    from layers.owners import FileOwners
    from layers.records_gpkg import GeoPackageRecords

log = logging.getLogger(__name__)

ExportFormat = Literal["geojson", "gpkg", "kml", "csv", "tif"]
BBox = tuple[float, float, float, float]

CATALOG_TABLE = "trazo_catalog"
CATALOG_DATA_TYPE = "trazo_catalog"
PROPOSALS_TABLE = "trazo_proposals"
LAYER_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
#: Name beginnings GeoPackage (``gpkg``) and SQLite (``sqlite_``) keep for themselves.
RESERVED_NAME_PREFIXES = ("gpkg", "sqlite_")
#: The geometry column of every stored table (GDAL's GeoPackage default).
GEOMETRY_COLUMN = "geom"

_NAME_RE = re.compile(LAYER_NAME_PATTERN)
_PHYSICAL_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}__v[0-9a-f]{8}$")
_RASTER_FILE_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}__v[0-9a-f]{8}\.tif$")
_RASTER_TMP_RE = re.compile(r"^\.[a-z][a-z0-9_]{0,62}__v[0-9a-f]{8}\.tif\.tmp$")
_NAMES_IN_MESSAGE = 10
# A read looks the layer up, then opens its table; a replacement in between drops that
# table, and the read looks again. Two writers in a row may move it twice.
_READ_ATTEMPTS = 3
_MAX_FID = 2**31 - 1
_WRITE_BATCH = 20_000  # features GDAL writes per turn of the gate
_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}
_CASTABLE_DTYPES = frozenset(
    {
        "Int8",
        "Int16",
        "Int32",
        "Int64",
        "UInt8",
        "UInt16",
        "UInt32",
        "UInt64",
        "Float32",
        "Float64",
        "boolean",
        "int8",
        "int16",
        "int32",
        "int64",
        "float32",
        "bool",
    }
)

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
_CATALOG_FIELDS = (
    "name, kind, source, loaded_at, feature_count, geometry_type, "
    "min_lon, min_lat, max_lon, max_lat, report, columns, physical"
)


@dataclass(frozen=True)
class LayerInfo:
    """One catalog row: what a stored layer is and where it came from."""

    name: str
    kind: LayerKind
    source: str
    loaded_at: str  # ISO 8601 UTC
    feature_count: int  # raster: 0
    geometry_type: str | None  # raster: None
    bbox: tuple[float, float, float, float] | None  # EPSG:4326
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredProposal:
    """A proposal kept in the store: its GeoJSON document (segments, metrics, parameters)."""

    name: str
    kind: str
    created_at: str
    document: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Row:
    info: LayerInfo
    physical: str
    columns: dict[str, str]


def check_layer_name(name: str) -> str:
    """Return ``name`` if it is a valid layer name, else raise ``LayerValidationError``.

    Valid names are 1–63 characters: a lower-case ASCII letter, then lower-case letters,
    digits and underscores.

    Examples
    --------
    >>> check_layer_name("localities_tabasco")
    'localities_tabasco'
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        shown = name[:80] if isinstance(name, str) else name
        raise LayerValidationError(
            f"layer name {shown!r} is not allowed: use 1-63 characters, a lower-case letter "
            "first, then lower-case letters, digits or underscores (e.g. 'localities_tabasco')"
        )
    if name.startswith(RESERVED_NAME_PREFIXES):
        raise LayerValidationError(
            f"layer name {name!r} is not allowed: names starting with 'gpkg' or 'sqlite_' are "
            "reserved by GeoPackage and SQLite; choose another name",
            subject="layer_name",
        )
    return name


def _check_bbox(bbox: BBox | None) -> BBox | None:
    if bbox is None:
        return None
    values = tuple(float(v) for v in bbox)
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(
            f"bbox must be 4 finite numbers (min lon, min lat, max lon, max lat), got {bbox!r}"
        )
    min_x, min_y, max_x, max_y = values
    if min_y > max_y:
        raise ValueError(f"bbox {bbox!r} is inverted: give (min lon, min lat, max lon, max lat)")
    return (min_x, min_y, max_x, max_y)


def _halves(bbox: BBox) -> list[BBox]:
    """``bbox`` as plain boxes: a box with min lon > max lon crosses the antimeridian and
    is the union of its part east of ``min lon`` and its part west of ``max lon``."""
    min_x, min_y, max_x, max_y = bbox
    if min_x <= max_x:
        return [bbox]
    return [(min_x, min_y, 180.0, max_y), (-180.0, min_y, max_x, max_y)]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
    the record tables (:mod:`layers.records_gpkg`) all write through it.
    """
    with sqlite_connection(path) as conn, immediate(conn):
        yield conn


def gdal_access(path: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the gate of GeoPackage ``path`` for GDAL (pyogrio) while the block runs."""
    return library_gate(path).hold("gdal")


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
        row = self._row(name)
        if row.info.kind is not LayerKind.RASTER:
            raise NotFoundError(
                f"layer {name!r} is a {row.info.kind.value} vector layer, not a raster; "
                "use read() or export() instead"
            )
        return self.rasters_dir / row.physical

    # ------------------------------------------------------------------ vector reads

    def read(self, name: str, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        """Return layer ``name`` in EPSG:4326, indexed by its stable feature id ``fid``.

        ``bbox`` (min lon, min lat, max lon, max lat) keeps the features whose geometry
        intersects it; a box whose min lon exceeds its max lon crosses the antimeridian.
        """
        box = _check_bbox(bbox)
        if box is not None and len(_halves(box)) > 1:
            fids = self._matching_fids(name, box)
            if not fids:
                return self._read_vector(name, {"max_features": 1}).iloc[:0]
            return self._read_vector(name, {"fids": fids})
        return self._read_vector(name, {"bbox": box})

    def count(self, name: str, bbox: BBox | None = None) -> int:
        """Return how many features of ``name`` intersect ``bbox`` (all if ``None``)."""
        box = _check_bbox(bbox)
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
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must be >= 0, got {limit} and {offset}")
        box = _check_bbox(bbox)
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
        check_layer_name(name)
        kind = LayerKind(kind)
        if kind is LayerKind.RASTER:
            raise LayerValidationError(
                "raster layers are stored with write_raster(), not write_layer()"
            )
        self._check_frame(name, frame)
        with disk_full_as_error(f"layer {name!r}"), self._write_lock():
            self._ensure_store()
            self._refuse_existing(name, replace)
            self._clean_orphans()
            physical = self._new_physical(name)
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
            physical = f"{self._new_physical(name)}.tif"
            self.rasters_dir.mkdir(parents=True, exist_ok=True)
            final = self.rasters_dir / physical
            tmp = self.rasters_dir / f".{physical}.tmp"
            try:
                shutil.copyfile(tif, tmp)
                bbox = _raster_bbox(tmp, name)
                tmp.replace(final)
                info = LayerInfo(
                    name=name,
                    kind=LayerKind.RASTER,
                    source=report.source,
                    loaded_at=_now(),
                    feature_count=0,
                    geometry_type=None,
                    bbox=bbox,
                    report=_report_dict(report),
                )
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
        """Write layer ``name`` to ``out`` and return the file written.

        Vector layers export to ``geojson`` (RFC 7946), ``gpkg``, ``kml`` or ``csv`` (WKT
        geometry, plus ``lon``/``lat`` for point layers); raster layers to ``tif``. ``out``
        is a file path, or an existing folder to write ``<name>.<ext>`` into. An existing
        file is replaced only once the new one is complete.
        """
        from layers import export as _export

        row = self._row(name)
        raster = row.info.kind is LayerKind.RASTER
        _export.check_request(fmt, Path(out), name, raster=raster)
        if raster:
            return _export.export_raster(self.rasters_dir / row.physical, fmt, Path(out), name)
        return _export.export_frame(
            self.read(name), fmt, Path(out), name, geometry_type=row.info.geometry_type
        )

    # ------------------------------------------------------------------ proposals

    def write_proposal(
        self, name: str, kind: str, document: dict[str, Any], *, replace: bool = False
    ) -> StoredProposal:
        """Store a proposal's GeoJSON document under ``name`` in one transaction.

        Raises ``AlreadyExistsError`` when the name is taken and ``replace`` is false.
        """
        check_layer_name(name)
        text = json.dumps(document, ensure_ascii=False, allow_nan=False)
        created = str(document.get("proposal", {}).get("created_at") or _now())
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
        return [self._proposal_from(record) for record in self._proposal_records()]

    def proposal(self, name: str) -> StoredProposal:
        """Return proposal ``name``; ``NotFoundError`` if there is none."""
        records = self._proposal_records(name)
        if not records:
            names = [record[0] for record in self._proposal_records()]
            known = f"stored: {', '.join(names[:_NAMES_IN_MESSAGE])}" if names else "none stored"
            raise NotFoundError(f"no proposal named {name!r} ({known})", subject="proposal")
        return self._proposal_from(records[0])

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
        from layers.store_api import fingerprint_of

        return fingerprint_of((r.info.name, r.info.kind.value, r.physical) for r in self._rows())

    def record_tables(self) -> GeoPackageRecords:
        """The service's record tables inside this GeoPackage."""
        from layers.records_gpkg import GeoPackageRecords

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

    def _proposal_records(self, name: str | None = None) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        with self._connect() as conn:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (PROPOSALS_TABLE,),
            ).fetchone()
            if found is None:
                return []
            query = f"SELECT name, kind, created_at, document FROM {PROPOSALS_TABLE}"
            if name is None:
                return list(conn.execute(query + " ORDER BY name").fetchall())
            return list(conn.execute(query + " WHERE name = ?", (name,)).fetchall())

    @staticmethod
    def _proposal_from(record: tuple[Any, ...]) -> StoredProposal:
        name, kind, created, text = record
        return StoredProposal(str(name), str(kind), str(created), json.loads(text))

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

    def _rows(self, name: str | None = None) -> list[_Row]:
        if not self.path.exists():
            return []
        with self._connect() as conn:
            if not self._has_catalog(conn):
                return []
            query = f"SELECT {_CATALOG_FIELDS} FROM {CATALOG_TABLE}"
            if name is None:
                records = conn.execute(query + " ORDER BY name").fetchall()
            else:
                records = conn.execute(query + " WHERE name = ?", (name,)).fetchall()
        return [_row_from_record(record) for record in records]

    def _row(self, name: str) -> _Row:
        rows = self._rows(name)
        if rows:
            return rows[0]
        names = [row.info.name for row in self._rows()]
        if not names:
            raise NotFoundError(
                f"no layer named {name!r}; the store has no layers yet", subject="layers"
            )
        if len(names) <= _NAMES_IN_MESSAGE:
            known = "stored layers: " + ", ".join(names)
        else:
            known = f"{len(names)} layers are stored"
        raise NotFoundError(f"no layer named {name!r}; {known}", subject="layer")

    def _vector_row(self, name: str) -> _Row:
        row = self._row(name)
        if row.info.kind is LayerKind.RASTER:
            raise NotFoundError(
                f"layer {name!r} is a raster; use raster_path() or export(..., 'tif')"
            )
        return row

    # ------------------------------------------------------------------ internals: reads

    def _read_vector(self, name: str, options: dict[str, Any]) -> gpd.GeoDataFrame:
        """Read the current version of ``name`` with pyogrio ``options``.

        If a write replaced the layer between looking it up and reading it, the old table
        may be gone: look it up again once.
        """
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
            return _restore_dtypes(frame, row.columns)
        raise AssertionError("unreachable")  # pragma: no cover

    def _matching_fids(self, name: str, bbox: BBox | None) -> list[int]:
        if bbox is not None and len(halves := _halves(bbox)) > 1:
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

    @staticmethod
    def _new_physical(name: str) -> str:
        return f"{name}__v{uuid.uuid4().hex[:8]}"

    @staticmethod
    def _check_frame(name: str, frame: gpd.GeoDataFrame) -> None:
        crs = getattr(frame, "crs", None)
        if crs is None or crs.to_epsg() != 4326:
            raise LayerValidationError(
                f"layer {name!r} must be in EPSG:4326 to be stored, not {crs}; "
                "load it through the ingest pipeline, which reprojects it"
            )
        geometry = frame.geometry.name
        columns = [str(c) for c in frame.columns if c != geometry]
        clashes = [c for c in columns if c.lower() == "fid"]
        if clashes:
            raise LayerValidationError(
                f"layer {name!r} has a column {clashes[0]!r}, which the store uses for feature "
                "ids; rename it (e.g. to 'source_id')"
            )
        clashes = [c for c in columns if c.lower() == GEOMETRY_COLUMN]
        if clashes:
            raise LayerValidationError(
                f"layer {name!r} has a column {clashes[0]!r}, which the store uses for "
                "geometries; rename it (e.g. to 'source_geom')"
            )
        seen: dict[str, str] = {}
        for column in columns:
            first = seen.setdefault(column.lower(), column)
            if first != column:
                raise LayerValidationError(
                    f"layer {name!r} has columns {first!r} and {column!r}, which differ only in "
                    "case; GeoPackage column names ignore case, so rename one of them"
                )

    def _write_staging(
        self,
        name: str,
        kind: LayerKind,
        frame: gpd.GeoDataFrame,
        report: ValidationReport,
        physical: str,
    ) -> tuple[LayerInfo, dict[str, str]]:
        """Write ``frame`` to the new table ``physical`` and check it by reading it back."""
        data = frame.reset_index(drop=True)
        # In batches, leaving the gate between them: while GDAL writes, Python's sqlite3
        # (every catalog lookup of every request) waits, so one long write of a big layer
        # would stall the service. The table is in no catalog row until the switch, so
        # nobody reads it half-written.
        geometry_type, promote = _layer_geometry_type(data)
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
        if int(meta["features"]) != len(data):
            raise StoreWriteError(
                f"layer {name!r} was not stored: {len(data)} features were written but "
                f"{meta['features']} read back; the store is unchanged"
            )
        bbox: BBox | None = None
        if len(data) and not data.geometry.is_empty.all() and data.geometry.notna().any():
            bounds = data.total_bounds
            bbox = (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))
        info = LayerInfo(
            name=name,
            kind=kind,
            source=report.source,
            loaded_at=_now(),
            feature_count=len(data),
            geometry_type=str(meta["geometry_type"]) if meta["geometry_type"] else None,
            bbox=bbox,
            report=_report_dict(report),
        )
        geometry = data.geometry.name
        columns = {str(c): str(data[c].dtype) for c in data.columns if c != geometry}
        return info, columns

    def _switch(
        self, info: LayerInfo, physical: str, columns: dict[str, str], *, raster: bool
    ) -> _Row | None:
        """Point the catalog row of ``info.name`` at ``physical`` in one transaction.

        Returns the row it replaced, whose data the caller then discards.
        """
        bbox = info.bbox or (None, None, None, None)
        with self._transaction() as conn:
            old_records = conn.execute(
                f"SELECT {_CATALOG_FIELDS} FROM {CATALOG_TABLE} WHERE name = ?", (info.name,)
            ).fetchall()
            conn.execute(
                f"INSERT OR REPLACE INTO {CATALOG_TABLE} ({_CATALOG_FIELDS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    info.name,
                    info.kind.value,
                    info.source,
                    info.loaded_at,
                    info.feature_count,
                    info.geometry_type,
                    *bbox,
                    json.dumps(info.report),
                    json.dumps(columns),
                    physical,
                ),
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
        return _row_from_record(old_records[0]) if old_records else None

    def _discard(self, row: _Row) -> None:
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
                t for t in candidates if _PHYSICAL_RE.fullmatch(t) and t not in referenced
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


def _layer_geometry_type(frame: gpd.GeoDataFrame) -> tuple[str, bool]:
    """The GeoPackage geometry type of the whole layer, and whether to promote to multi.

    Decided once for all batches of a write (as pyogrio would for one write), so that a
    batch of Polygons after one of MultiPolygons does not meet a column of another type.
    """
    types = {str(t) for t in frame.geometry.geom_type.dropna().unique()}
    z = " Z" if len(frame) and bool(frame.geometry.has_z.any()) else ""
    if len(types) == 1:
        return types.pop() + z, False
    singles = {t for t in types if t in _MULTI}
    if len(types) == 2 and len(singles) == 1 and _MULTI[next(iter(singles))] in types:
        return _MULTI[next(iter(singles))] + z, True
    return "Unknown", False


def _report_dict(report: ValidationReport) -> dict[str, Any]:
    """The report as stored: JSON types (the bbox a list), as it reads back."""
    result: dict[str, Any] = json.loads(json.dumps(report.to_dict()))
    return result


def _row_from_record(record: tuple[Any, ...]) -> _Row:
    (
        name,
        kind,
        source,
        loaded_at,
        feature_count,
        geometry_type,
        min_lon,
        min_lat,
        max_lon,
        max_lat,
        report,
        columns,
        physical,
    ) = record
    bbox = None if min_lon is None else (min_lon, min_lat, max_lon, max_lat)
    info = LayerInfo(
        name=name,
        kind=LayerKind(kind),
        source=source,
        loaded_at=loaded_at,
        feature_count=int(feature_count),
        geometry_type=geometry_type,
        bbox=bbox,
        report=json.loads(report),
    )
    return _Row(info=info, physical=physical, columns=json.loads(columns))


def _restore_dtypes(frame: gpd.GeoDataFrame, columns: dict[str, str]) -> gpd.GeoDataFrame:
    """Give back the dtypes GeoPackage cannot keep (nullable ints and booleans read as float)."""
    for column, dtype in columns.items():
        if column in frame.columns and str(frame[column].dtype) != dtype:
            if dtype not in _CASTABLE_DTYPES:
                continue
            try:
                frame[column] = frame[column].astype(dtype)
            except (TypeError, ValueError):
                log.debug("kept column %s as %s", column, frame[column].dtype)
    return frame


def _raster_bbox(tif: Path, name: str) -> BBox | None:
    """Open ``tif`` with rasterio to check it is a readable GeoTIFF; return its EPSG:4326 bbox."""
    import rasterio
    import rasterio.errors
    from rasterio.warp import transform_bounds

    try:
        with rasterio.open(tif) as src:
            if src.driver != "GTiff":
                raise StoreWriteError(f"raster {name!r} is {src.driver}, not a GeoTIFF")
            if src.crs is None:
                return None
            left, bottom, right, top = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    except rasterio.errors.RasterioError as exc:
        log.warning("raster %s could not be read back from %s: %s", name, tif, exc)
        raise StoreWriteError(f"raster {name!r} could not be read back as a GeoTIFF") from exc
    return (float(left), float(bottom), float(right), float(top))
