"""Use cases on stored proposals: export one as a file, draw one on an offline map.

The command line writes the file or the map where it is told; the HTTP service writes
them into a temporary folder and sends them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from layers.errors import LayerValidationError
from layers.store_api import LayerStore

ExportFormat = Literal["geojson", "gpkg", "kml", "csv"]
"""geojson, gpkg or kml: the segments; csv: the bill of quantities by deployment type."""


def write_proposal_file(
    document: Mapping[str, Any], fmt: ExportFormat, path: Path, name: str
) -> Path:
    """Write a stored proposal's document to ``path`` as ``fmt``; return the path.

    The CSV is the bill of quantities (its total row is the capex); GeoPackage and KML
    hold the segments as layer ``name``.
    """
    if fmt == "geojson":
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        return path
    from layers.export import export_frame
    from planner.proposals.formats import bill_of_quantities, proposal_frame, proposal_from_geojson

    proposal = proposal_from_geojson(dict(document))
    if fmt == "csv":
        bill_of_quantities(proposal).to_csv(path, index=False)
        return path
    return export_frame(proposal_frame(proposal), fmt, path, name)


def layer_credits(data_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Credits and titles of the bundled layers in ``data_dir``; none when unreadable."""
    from maps.render import manifest_attributions

    try:
        return manifest_attributions(data_dir)
    except (LayerValidationError, OSError):
        return {}, {}


def draw_proposal_map(
    store: LayerStore,
    document: Mapping[str, Any] | None,
    path: Path,
    *,
    data_dir: Path,
    **options: Any,
) -> Path:
    """Write one self-contained HTML map of the stored layers and a proposal to ``path``.

    ``options`` go to :func:`maps.render.store_map` (a second proposal to compare, a
    title, a focus box, ...); the bundled layers' credits come from ``data_dir``.
    """
    from maps.render import save_map, store_map

    credits, labels = layer_credits(data_dir)
    return save_map(
        store_map(store, document, attributions=credits, labels=labels, **options), path
    )
