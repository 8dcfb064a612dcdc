"""The store seen as OGC feature collections: vector layers and proposals.

Every stored vector layer is a collection whose id is the layer name and whose feature ids
are the store's stable ``fid``. Every stored proposal is a collection ``proposal-<name>``
(layer names never hold ``-``, so the two never clash) whose features are the segments of
its GeoJSON document, numbered 1..n in document order. Raster layers are not feature
collections; they download as GeoTIFF from ``/layers/<name>.tif``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box, mapping, shape

from layers.errors import NotFoundError
from layers.kinds import LayerKind
from layers.store import LayerInfo, StoredProposal
from layers.store_api import LayerStore

if TYPE_CHECKING:
    import geopandas as gpd

PROPOSAL_PREFIX = "proposal-"
_MAX_FID = 2**63 - 1

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class CollectionInfo:
    """What the service says about one collection."""

    id: str
    title: str
    description: str
    bbox: BBox | None


def list_collections(store: LayerStore) -> list[CollectionInfo]:
    """Every vector layer (by name), then every proposal."""
    layers = [
        _layer_info(info) for info in store.list_layers() if info.kind is not LayerKind.RASTER
    ]
    return layers + [_proposal_info(p) for p in store.list_proposals()]


def collection(store: LayerStore, collection_id: str) -> CollectionInfo:
    """The collection ``collection_id``; ``NotFoundError`` if there is none."""
    proposal = _proposal_name(collection_id)
    if proposal is not None:
        return _proposal_info(store.proposal(proposal))
    return _layer_info(_vector_layer(store, collection_id))


def items(
    store: LayerStore, collection_id: str, bbox: BBox | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of GeoJSON features in id order, and how many features match ``bbox``."""
    proposal = _proposal_name(collection_id)
    if proposal is not None:
        numbered = _proposal_features(store.proposal(proposal), bbox)
        return numbered[offset : offset + limit], len(numbered)
    _vector_layer(store, collection_id)
    matched = store.count(collection_id, bbox)
    if offset >= matched:
        return [], matched
    return frame_features(store.read_page(collection_id, bbox, limit, offset)), matched


def feature(store: LayerStore, collection_id: str, feature_id: str) -> dict[str, Any]:
    """Feature ``feature_id`` of a collection; ``NotFoundError`` if either is unknown."""
    fid = _fid(collection_id, feature_id)
    proposal = _proposal_name(collection_id)
    if proposal is not None:
        features = _proposal_features(store.proposal(proposal), None)
        if fid > len(features):
            raise NotFoundError(
                f"proposal {proposal!r} has {len(features)} segments; no feature {fid}"
            )
        return features[fid - 1]
    _vector_layer(store, collection_id)
    return frame_features(store.feature(collection_id, fid))[0]


def frame_features(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """GeoJSON features of a frame indexed by fid, with JSON-safe property values."""
    geometry = frame.geometry.name
    columns = [c for c in frame.columns if c != geometry]
    records = frame[columns].to_dict(orient="records") if columns else [{}] * len(frame)
    shapes = frame.geometry.to_numpy()
    return [
        {
            "type": "Feature",
            "id": int(fid),
            "geometry": _geometry(geom),
            "properties": {str(k): _json_value(v) for k, v in record.items()},
        }
        for fid, geom, record in zip(frame.index, shapes, records, strict=True)
    ]


def _geometry(geom: Any) -> dict[str, Any] | None:
    if geom is None or shapely.is_missing(geom) or geom.is_empty:
        return None
    result: dict[str, Any] = mapping(geom)
    return result


def _json_value(value: Any) -> Any:
    """A property value as JSON: numpy scalars unwrapped, NaN and NA as null, dates as text."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _proposal_name(collection_id: str) -> str | None:
    if collection_id.startswith(PROPOSAL_PREFIX):
        return collection_id[len(PROPOSAL_PREFIX) :]
    return None


def _vector_layer(store: LayerStore, name: str) -> LayerInfo:
    info = store.info(name)
    if info.kind is LayerKind.RASTER:
        raise NotFoundError(
            f"layer {name!r} is a raster, not a feature collection; download it from "
            f"/layers/{name}.tif"
        )
    return info


def _fid(collection_id: str, feature_id: str) -> int:
    if not feature_id.isascii() or not feature_id.isdigit() or len(feature_id) > 19:
        raise NotFoundError(
            f"collection {collection_id!r} has no feature {feature_id[:40]!r}; feature ids "
            "are whole numbers from 1"
        )
    fid = int(feature_id)
    if not 1 <= fid <= _MAX_FID:
        raise NotFoundError(f"collection {collection_id!r} has no feature {fid}")
    return fid


def _layer_info(info: LayerInfo) -> CollectionInfo:
    geometry = info.geometry_type or "no geometry type"
    return CollectionInfo(
        id=info.name,
        title=info.name,
        description=(
            f"{info.kind.value} layer: {info.feature_count:,} features ({geometry}), "
            f"loaded {info.loaded_at} from {info.source}"
        ),
        bbox=info.bbox,
    )


def _proposal_info(proposal: StoredProposal) -> CollectionInfo:
    features = proposal.document.get("features") or []
    geometries = [shape(f["geometry"]) for f in features if f.get("geometry")]
    bbox: BBox | None = None
    if geometries:
        min_x, min_y, max_x, max_y = shapely.total_bounds(geometries)
        bbox = (float(min_x), float(min_y), float(max_x), float(max_y))
    return CollectionInfo(
        id=f"{PROPOSAL_PREFIX}{proposal.name}",
        title=f"{proposal.name} ({proposal.kind} proposal)",
        description=(
            f"{proposal.kind} proposal {proposal.name}: {len(features):,} features, "
            f"created {proposal.created_at}"
        ),
        bbox=bbox,
    )


def _proposal_features(proposal: StoredProposal, bbox: BBox | None) -> list[dict[str, Any]]:
    """The proposal's segments as features with ids 1..n, those intersecting ``bbox``."""
    area = box(*bbox) if bbox is not None else None
    numbered = []
    for index, source in enumerate(proposal.document.get("features") or [], start=1):
        geometry = source.get("geometry")
        if area is not None and (not geometry or not shape(geometry).intersects(area)):
            continue
        numbered.append(
            {
                "type": "Feature",
                "id": index,
                "geometry": geometry,
                "properties": dict(source.get("properties") or {}),
            }
        )
    return numbered
