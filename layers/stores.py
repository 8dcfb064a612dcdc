"""Open a store by its location, and copy a whole store between backends.

A location is either a GeoPackage path (``.trazo/store.gpkg``) or a PostgreSQL URL
(``postgresql://user:password@host:5432/db?schema=trazo``); :func:`open_store` returns the
matching :class:`layers.store_api.LayerStore`. Nothing else in Trazo looks at which one
it got.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layers.errors import AlreadyExistsError, StoreCopyError
from layers.kinds import LayerKind
from layers.postgis_location import is_postgres_location, split_location
from layers.report import ValidationReport
from layers.store import Store
from layers.store_api import LayerStore
from layers.store_postgis import PostgisStore

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)


def default_work_dir(location: str) -> Path:
    """Where a PostGIS store keeps its local files by default: ``.trazo/pg-<schema>-<hash>``."""
    url, schema = split_location(location)
    digest = hashlib.sha256(f"{url}|{schema}".encode()).hexdigest()[:8]
    return Path(".trazo") / f"pg-{schema}-{digest}"


def open_store(
    location: str | Path, *, work_dir: Path | None = None, lock_timeout: float = 120.0
) -> LayerStore:
    """Open the store at ``location``: a GeoPackage path or a PostgreSQL URL.

    Parameters
    ----------
    location
        ``path/to/store.gpkg`` or ``postgresql://user:password@host:port/db?schema=name``.
    work_dir
        PostGIS only: the local folder for the raster cache, scenario outputs and job
        locks (default :func:`default_work_dir`). A GeoPackage keeps these beside itself.
    lock_timeout
        Seconds a write waits for another write before giving up.

    Examples
    --------
    >>> import tempfile
    >>> open_store(Path(tempfile.mkdtemp()) / "store.gpkg").list_layers()
    []
    """
    text = str(location)
    if is_postgres_location(text):
        folder = work_dir if work_dir is not None else default_work_dir(text)
        return PostgisStore(text, work_dir=Path(folder).absolute(), lock_timeout=lock_timeout)
    path = Path(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    return Store(path, lock_timeout=lock_timeout)


@dataclass(frozen=True)
class CopiedItem:
    """One layer or proposal copied, with the digest both stores gave for it."""

    name: str
    what: str  # a layer kind, or "proposal"
    features: int
    digest: str


def frame_digest(frame: gpd.GeoDataFrame) -> str:
    """A digest of a layer's content: fids, attribute values (by column name) and WKB.

    Equal for equal features whichever store they were read from; any changed value,
    coordinate, fid or column changes it.
    """
    import shapely

    digest = hashlib.sha256()
    digest.update(json.dumps([int(f) for f in frame.index]).encode())
    geometry = frame.geometry.name
    for column in sorted(str(c) for c in frame.columns if c != geometry):
        values = [_plain(v) for v in frame[column].astype(object).tolist()]
        digest.update(json.dumps([column, values], default=str).encode())
    for wkb in shapely.to_wkb(frame.geometry.to_numpy(), hex=True):
        digest.update((wkb or "null").encode())
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """A JSON-ready form of one cell; missing values (None, NaN, NA, NaT) are all None."""
    import pandas as pd

    if value is None or (not isinstance(value, str | bytes) and pd.isna(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return value


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _document_digest(document: dict[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def copy_store(
    source: LayerStore,
    target: LayerStore,
    *,
    replace: bool = False,
    on_item: Callable[[CopiedItem], None] | None = None,
) -> list[CopiedItem]:
    """Copy every layer, raster and proposal of ``source`` into ``target``, verified.

    Each layer is written with the target's own atomic write, then read back: its
    feature count and :func:`frame_digest` (rasters: the file's SHA-256; proposals: the
    document's) must equal the source's, else :class:`StoreCopyError`. Without
    ``replace``, nothing is copied when any name already exists in ``target``. The
    service's job history is not copied.
    """
    layers = source.list_layers()
    proposals = source.list_proposals()
    if not replace:
        taken = sorted({i.name for i in target.list_layers()} & {i.name for i in layers})
        taken += sorted({p.name for p in target.list_proposals()} & {p.name for p in proposals})
        if taken:
            raise AlreadyExistsError(
                f"the destination already holds {', '.join(taken[:10])}", subject="copy"
            )
    copied: list[CopiedItem] = []
    for info in layers:
        report = ValidationReport.from_dict(info.report)
        if info.kind is LayerKind.RASTER:
            tif = source.raster_path(info.name)
            expected = _file_digest(tif)
            target.write_raster(info.name, tif, report, replace=True)
            got = _file_digest(target.raster_path(info.name))
            item = CopiedItem(info.name, info.kind.value, 0, expected)
        else:
            frame = source.read(info.name)
            expected = frame_digest(frame)
            target.write_layer(info.name, info.kind, frame, report, replace=True)
            back = target.read(info.name)
            got = frame_digest(back)
            if len(back) != len(frame):
                raise StoreCopyError(
                    f"layer {info.name!r}: {len(frame)} features copied but {len(back)} read back"
                )
            item = CopiedItem(info.name, info.kind.value, len(back), expected)
        if got != expected:
            raise StoreCopyError(
                f"layer {info.name!r} reads back differently from the destination "
                f"(content hash {got[:12]} instead of {expected[:12]})"
            )
        copied.append(item)
        if on_item is not None:
            on_item(item)
    for stored in proposals:
        target.write_proposal(stored.name, stored.kind, stored.document, replace=True)
        expected = _document_digest(stored.document)
        got = _document_digest(target.proposal(stored.name).document)
        if got != expected:
            raise StoreCopyError(f"proposal {stored.name!r} reads back differently")
        item = CopiedItem(stored.name, "proposal", 0, expected)
        copied.append(item)
        if on_item is not None:
            on_item(item)
    log.info("copied %d items from %s to %s", len(copied), source.location, target.location)
    return copied
