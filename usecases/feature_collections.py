"""The store seen as OGC feature collections: vector layers and proposals.

Every stored vector layer is a collection whose id is the layer name and whose feature ids
are the store's stable ``fid``. Every stored proposal is a collection ``proposal-<name>``
(layer names never hold ``-``, so the two never clash) whose features are the segments of
its GeoJSON document, numbered 1..n in document order. Raster layers are not feature
collections; they download as GeoTIFF from ``/layers/<name>.tif``.

Framework-free: the OGC API – Features routes (:mod:`api.routes_features`) translate these
answers to HTTP (links, formats, status codes); nothing here knows about a request.
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

from layers.catalog import LayerInfo, StoredProposal
from layers.errors import NotFoundError
from layers.kinds import LayerKind
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
    feature_count: int


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


def property_types(store: LayerStore, collection_id: str) -> dict[str, str]:
    """Each property of a collection and its JSON type (``string``, ``number``, …).

    Layers give the stored column types (an attribute empty in every feature still has
    one); proposals the types of their segments' values.
    """
    proposal = _proposal_name(collection_id)
    if proposal is not None:
        types: dict[str, str] = {}
        for source in store.proposal(proposal).document.get("features") or []:
            for key, value in (source.get("properties") or {}).items():
                if value is not None:
                    types.setdefault(str(key), _json_type_of_value(value))
        return types
    _vector_layer(store, collection_id)
    empty = store.read_page(collection_id, None, 0, 0)
    geometry = empty.geometry.name
    return {
        str(column): _json_type_of_dtype(empty[column].dtype)
        for column in empty.columns
        if column != geometry
    }


def _json_type_of_dtype(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "string"


def _json_type_of_value(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"


def frame_features(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """GeoJSON features of a frame indexed by fid, with JSON-safe property values.

    Values are converted a column at a time (a page may hold 10,000 features).
    """
    geometry = frame.geometry.name
    columns = [str(c) for c in frame.columns if c != geometry]
    values = [_column_values(frame[c]) for c in columns]
    records = [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
    if not columns:
        records = [{} for _ in range(len(frame))]
    return [
        {"type": "Feature", "id": int(fid), "geometry": geom, "properties": record}
        for fid, geom, record in zip(
            frame.index, _geometries(frame.geometry.to_numpy()), records, strict=True
        )
    ]


def _column_values(column: pd.Series) -> list[Any]:
    """One column as JSON values: numbers stay numbers, missing values become null."""
    missing = column.isna().to_numpy()
    if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_numeric_dtype(column.dtype):
        raw = column.astype(object).to_numpy()
        return [None if gone else _json_value(v) for v, gone in zip(raw, missing, strict=True)]
    if pd.api.types.is_string_dtype(column.dtype) and not pd.api.types.is_object_dtype(
        column.dtype
    ):
        raw = column.to_numpy(dtype=object)
        return [None if gone else str(v) for v, gone in zip(raw, missing, strict=True)]
    return [_json_value(v) for v in column.to_numpy(dtype=object)]


def _geometries(shapes: Any) -> list[dict[str, Any] | None]:
    """GeoJSON geometries; points (most large layers) without a per-feature ``mapping``."""
    kinds = shapely.get_type_id(shapes)
    empty = shapely.is_missing(shapes) | shapely.is_empty(shapes)
    xs = shapely.get_x(shapes)
    ys = shapely.get_y(shapes)
    result: list[dict[str, Any] | None] = []
    for index, geom in enumerate(shapes):
        if empty[index]:
            result.append(None)
        elif kinds[index] == 0 and not shapely.has_z(geom):
            result.append({"type": "Point", "coordinates": [float(xs[index]), float(ys[index])]})
        else:
            result.append(_geometry(geom))
    return result


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
        feature_count=info.feature_count,
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
        feature_count=len(features),
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
