"""The one store interface every backend implements, and what callers may rely on.

Two implementations exist: :class:`layers.store.Store` (one GeoPackage file, for one
planner on one machine) and :class:`layers.store_postgis.PostgisStore` (a PostGIS schema,
for teams). :func:`layers.stores.open_store` picks one from a location string. Code outside
``layers/`` talks to a :class:`LayerStore` only; nothing there knows which backend it has.

The contract, held by both (the same test-suite runs against both):

* a catalog of layers with kind, source, load time, feature count, geometry type, bbox and
  the load's validation report;
* writes are atomic: a load (or replace) becomes visible all at once or not at all, and a
  failed or killed load leaves every stored layer as it was; readers never see a half
  written layer;
* two writers of one layer serialise (the second waits up to the store's lock timeout,
  then gets :class:`layers.errors.StoreBusyError` naming the layer);
* feature ids (``fid``) are stable for a layer version, start at 1 and page in ``fid``
  order; ``bbox`` keeps the features whose geometry intersects it (min lon > max lon
  crosses the antimeridian: the part east of min lon and the part west of max lon);
* proposals (GeoJSON documents) and the service's record tables (jobs) live in the store,
  and so do the locks that tell which service processes are alive.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    import geopandas as gpd

    from layers.catalog import BBox, ExportFormat, LayerInfo, StoredProposal
    from layers.kinds import LayerKind
    from layers.owners import ServiceOwners
    from layers.report import ValidationReport

NO_STORE_MESSAGE = "the store holds no layers to plan on"
"""What both backends say when a store that was never written to is asked for records."""


class RecordCursor(Protocol):
    """What one statement on a record table gives back."""

    @property
    def rowcount(self) -> int:
        """How many rows an UPDATE or DELETE changed."""
        ...

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None."""
        ...

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every remaining row."""
        ...


class RecordSession(Protocol):
    """A connection inside a record-table transaction.

    Statements are portable SQL (SQLite and PostgreSQL both run them) with ``?``
    placeholders; ``IS NOT DISTINCT FROM`` compares values that may be NULL.
    """

    def execute(self, sql: str, params: Sequence[Any] = ()) -> RecordCursor:
        """Run one statement."""
        ...


class RecordTables(Protocol):
    """Plain tables a service keeps in the store beside the layers (e.g. its jobs).

    They are private: GDAL and QGIS do not list them as layers.
    """

    def exists(self, table: str) -> bool:
        """Whether ``table`` has been created."""
        ...

    def transaction(
        self, *, create: tuple[str, Sequence[str], str] | None = None
    ) -> AbstractContextManager[RecordSession]:
        """A write transaction; writers of record tables of one store take turns.

        ``create`` is ``(table, DDL statements, description)``: the table is created
        (idempotently) first. Raises :class:`layers.errors.StoreBusyError` when the store
        stays busy, :class:`layers.errors.NotFoundError` when the store has nothing yet
        and ``create`` is not given.
        """
        ...

    def session(self) -> AbstractContextManager[RecordSession]:
        """A read-only session."""
        ...


class LayerWriter(Protocol):
    """The two writes of a :class:`LayerStore`: all that loading a file needs of a store."""

    def write_layer(
        self,
        name: str,
        kind: LayerKind,
        frame: gpd.GeoDataFrame,
        report: ValidationReport,
        *,
        replace: bool = False,
    ) -> LayerInfo:
        """Store ``frame`` (EPSG:4326) as vector layer ``name``, atomically."""
        ...

    def write_raster(
        self, name: str, tif: Path, report: ValidationReport, *, replace: bool = False
    ) -> LayerInfo:
        """Store GeoTIFF ``tif`` as raster layer ``name``, atomically."""
        ...


@runtime_checkable
class LayerStore(LayerWriter, Protocol):
    """A store of layers, rasters, proposals and record tables (see the module docstring)."""

    def __hash__(self) -> int:
        """Stores are hashed by identity (caches key on the open store)."""
        ...

    @property
    def location(self) -> str:
        """Where the store is: a file path, or a PostgreSQL URL without its password."""
        ...

    # catalog
    def list_layers(self) -> list[LayerInfo]:
        """Every stored layer, sorted by name."""
        ...

    def info(self, name: str) -> LayerInfo:
        """The catalog row of ``name``; ``NotFoundError`` if there is none."""
        ...

    def fingerprint(self) -> str:
        """A digest of the stored layers' versions: equal while no layer changes.

        Any load, replace or delete changes it; caches of work derived from the layers
        (a priced network) key on it.
        """
        ...

    # vector reads
    def read(self, name: str, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        """Layer ``name`` in EPSG:4326 indexed by ``fid``; ``bbox`` keeps intersecting ones."""
        ...

    def count(self, name: str, bbox: BBox | None = None) -> int:
        """How many features of ``name`` intersect ``bbox`` (all if None)."""
        ...

    def read_page(
        self, name: str, bbox: BBox | None = None, limit: int = 10, offset: int = 0
    ) -> gpd.GeoDataFrame:
        """At most ``limit`` features after ``offset``, in ``fid`` order."""
        ...

    def feature(self, name: str, fid: int) -> gpd.GeoDataFrame:
        """The one-row frame of feature ``fid``; ``NotFoundError`` if absent."""
        ...

    # rasters
    def raster_path(self, name: str) -> Path:
        """A local GeoTIFF file holding raster layer ``name``."""
        ...

    # writes: see LayerWriter
    def delete(self, name: str) -> None:
        """Remove layer ``name``; ``NotFoundError`` if there is none."""
        ...

    def export(self, name: str, fmt: ExportFormat, out: Path) -> Path:
        """Write layer ``name`` to a file (geojson, gpkg, kml, csv; tif for rasters)."""
        ...

    # proposals
    def write_proposal(
        self, name: str, kind: str, document: dict[str, Any], *, replace: bool = False
    ) -> StoredProposal:
        """Store a proposal's GeoJSON document under ``name``."""
        ...

    def list_proposals(self) -> list[StoredProposal]:
        """Every stored proposal, sorted by name."""
        ...

    def proposal_names(self) -> list[str]:
        """The names of every stored proposal, sorted (no documents read)."""
        ...

    def proposal(self, name: str) -> StoredProposal:
        """Proposal ``name``; ``NotFoundError`` if there is none."""
        ...

    def delete_proposal(self, name: str) -> None:
        """Remove proposal ``name``; ``NotFoundError`` if there is none."""
        ...

    # service records and local files
    def record_tables(self) -> RecordTables:
        """The store's private record tables (the service keeps its jobs there)."""
        ...

    def service_owners(self) -> ServiceOwners:
        """The locks service processes hold while they run (see :mod:`layers.owners`)."""
        ...

    def side_folder(self, purpose: str) -> Path:
        """A local folder for files that belong with this store (``purpose`` names it).

        Not created here. For a GeoPackage it sits beside the file; for PostGIS under the
        store's local work folder.
        """
        ...

    def close(self) -> None:
        """Release connections this object holds (a no-op for a GeoPackage)."""
        ...

    def __enter__(self) -> Self:
        """The store itself; it is closed when the block ends."""
        ...

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        ...


def fingerprint_of(versions: Iterable[tuple[str, str, str]]) -> str:
    """The digest of a store's layer versions ``(name, kind, physical version)``.

    Both backends name each load's data with a fresh version, so the digest changes with
    every load, replace and delete, and is the same for the same catalog.

    Examples
    --------
    >>> fingerprint_of([("a", "states", "a__v1")]) == fingerprint_of([("a", "states", "a__v1")])
    True
    """
    text = json.dumps(sorted(versions), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
