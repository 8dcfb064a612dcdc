"""The real Mexican layers Trazo ships in ``data/``, described by ``data/manifest.toml``."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from layers.errors import LayerValidationError
from layers.ingest import ingest
from layers.kinds import LayerKind
from layers.limits import Limits
from layers.report import ValidationReport
from layers.store_api import LayerStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledLayer:
    """One entry of the data manifest: a shipped file and how to load and credit it."""

    name: str
    kind: LayerKind
    path: Path
    title: str
    attribution: str
    license: str
    notes: str = ""
    caveat: str | None = None


def read_manifest(data_dir: Path) -> list[BundledLayer]:
    """Read ``data_dir/manifest.toml`` into bundled-layer entries, in load order.

    Raises ``LayerValidationError`` when the manifest is missing, malformed, or names a
    file that is not there.
    """
    manifest = Path(data_dir) / "manifest.toml"
    try:
        table = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LayerValidationError(f"no data manifest at {manifest}") from None
    except tomllib.TOMLDecodeError as err:
        raise LayerValidationError(f"data manifest {manifest} is not valid TOML: {err}") from None
    entries = []
    for row in table.get("layer", []):
        try:
            entry = BundledLayer(
                name=row["name"],
                kind=LayerKind(row["kind"]),
                path=Path(data_dir) / row["file"],
                title=row.get("title", row["name"]),
                attribution=row.get("attribution", ""),
                license=row.get("license", ""),
                notes=row.get("notes", ""),
                caveat=row.get("caveat"),
            )
        except (KeyError, ValueError) as err:
            raise LayerValidationError(
                f"data manifest entry {row!r} is incomplete: {err}"
            ) from None
        if not entry.path.is_file():
            raise LayerValidationError(
                f"bundled layer {entry.name!r}: file {entry.path} is missing"
            )
        entries.append(entry)
    return entries


def load_bundle(
    store: LayerStore,
    data_dir: Path,
    *,
    limits: Limits | None = None,
    on_loaded: Callable[[BundledLayer, ValidationReport], None] | None = None,
) -> list[ValidationReport]:
    """Load every bundled layer into ``store``, replacing earlier copies of them.

    Each file goes through the same validation as a user's upload.
    """
    reports = []
    for entry in read_manifest(data_dir):
        report = ingest(
            store,
            entry.path,
            entry.kind,
            name=entry.name,
            replace=True,
            limits=limits or Limits(),
            caveat=entry.caveat,
        )
        logger.info("loaded bundled layer %s (%d features)", entry.name, report.features_kept)
        if on_loaded is not None:
            on_loaded(entry, report)
        reports.append(report)
    return reports
