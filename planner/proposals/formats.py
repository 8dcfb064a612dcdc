"""A proposal in its other forms: a GeoJSON document (out and back), a frame, a bill of quantities.

Proposals travel as RFC 7946 GeoJSON (:func:`proposal_to_geojson`, :func:`proposal_from_geojson`),
as a GeoDataFrame for GeoPackage/KML/CSV export (:func:`proposal_frame`) and as a bill of
quantities (:func:`bill_of_quantities`). The value objects themselves are in
:mod:`planner.proposals.proposal`; the metrics written with them come from
:mod:`planner.proposals.metrics`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely.geometry
from shapely import LineString
from shapely.geometry import shape

from planner.network.places import Place
from planner.proposals.metrics import ProposalMetrics, compute_metrics
from planner.proposals.proposal import (
    BOQ_KM_DECIMALS,
    MARKER_ROLES,
    USD_DECIMALS,
    Marker,
    Proposal,
    ProposalKind,
    Segment,
    utc_now,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

# pandas and geopandas are imported by the two table forms alone (proposal_frame,
# bill_of_quantities): storing a proposal or writing its GeoJSON, what every plan does,
# must not wait for them to import.


def _jsonable(value: Any) -> Any:
    """Return ``value`` with numpy/pandas scalars, NaN, paths and tuples made JSON-friendly."""
    kind = type(value)  # the plain types first: a proposal holds tens of thousands of them
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {str(k): _jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, datetime):  # pandas' Timestamp and NaT are datetimes too
        return value.isoformat()
    # any other value came from a frame (pandas is loaded then): its missing value is None
    from pandas import NA

    return None if value is NA else str(value)


def _segment_properties(seg: Segment) -> dict[str, Any]:
    return {
        "deployment_type": seg.deployment_type,
        "length_km": seg.length_km,
        "rate_usd_per_km": seg.rate_usd_per_km,
        "multipliers": dict(seg.multipliers),
        "cost_usd": seg.cost_usd,
        "role": seg.role,
        "source_layer": seg.source_layer,
        "corridor": seg.corridor,
        "reuses_corridor": seg.reuses_corridor,
        "reuses_fiber": seg.reuses_fiber,
        "name": seg.name,
        "extra": _jsonable(seg.extra),
    }


def _coordinate_lists(lines: list[LineString]) -> list[list[list[float]]]:
    """Each line's coordinates as JSON arrays (``[x, y]``, or ``[x, y, z]`` on a line with
    z), read from every line in one call: line by line, reading them cost a route of a
    thousand street segments more than writing the rest of its document."""
    if not lines:
        return []
    geometries = np.empty(len(lines), dtype=object)
    geometries[:] = lines
    has_z = shapely.has_z(geometries)
    any_z = bool(has_z.any())
    flat = shapely.get_coordinates(geometries, include_z=any_z).tolist()
    ends = np.cumsum(shapely.get_num_coordinates(geometries)).tolist()
    out = []
    start = 0
    for end, z in zip(ends, has_z.tolist(), strict=True):
        # read with z for all when any has one: a line without z drops the NaN it got
        out.append(flat[start:end] if z or not any_z else [c[:2] for c in flat[start:end]])
        start = end
    return out


def proposal_to_geojson(
    proposal: Proposal, metrics: ProposalMetrics | None = None
) -> dict[str, Any]:
    """Return a proposal as an RFC 7946 FeatureCollection.

    One Feature per segment, with properties ``deployment_type``, ``length_km`` (geodesic
    km, full precision), ``rate_usd_per_km`` and ``multipliers`` (when the segment is
    priced at a rate, ``cost_usd = length_km × rate_usd_per_km × each multiplier``),
    ``cost_usd`` (to the cent), ``role``, ``source_layer``, ``corridor``,
    ``reuses_corridor``, ``reuses_fiber``, ``name`` and ``extra``. Two foreign members (allowed
    by RFC 7946 section 6.1) carry the rest: ``"proposal"`` (name, kind, parameters,
    cost_model_source, notes, created_at, terminals, node_costs_usd, people_covered) and
    ``"metrics"``.

    Parameters
    ----------
    proposal : Proposal
    metrics : planner.proposals.metrics.ProposalMetrics, optional
        Metrics to embed; computed without state/municipality overlays when left out.

    Returns
    -------
    dict
        A JSON-serialisable FeatureCollection; :func:`proposal_from_geojson` reads it back
        with the same lengths and costs.
    """
    if metrics is None:
        metrics = compute_metrics(proposal)
    lines = _coordinate_lists([seg.geometry for seg in proposal.segments])
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coordinates},
            "properties": _segment_properties(seg),
        }
        for seg, coordinates in zip(proposal.segments, lines, strict=True)
    ]
    features += [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(marker.geometry),
            "properties": {"role": marker.role, **_jsonable(marker.properties)},
        }
        for marker in proposal.markers
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "proposal": {
            "name": proposal.name,
            "kind": proposal.kind,
            "created_at": proposal.created_at,
            "parameters": _jsonable(proposal.parameters),
            "cost_model_source": proposal.cost_model_source,
            "notes": list(proposal.notes),
            "terminals": [_jsonable(t.to_dict()) for t in proposal.terminals],
            "node_costs_usd": _jsonable(proposal.node_costs_usd),
            "people_covered": proposal.people_covered,
        },
        "metrics": metrics.to_dict(),
    }


def proposal_from_geojson(document: Mapping[str, Any]) -> Proposal:
    """Read a proposal back from :func:`proposal_to_geojson` output.

    Segment lengths and costs are read as stored, so the
    proposal's totals are the ones it was stored with; the ``"metrics"`` member is ignored,
    recompute it with :func:`planner.proposals.metrics.compute_metrics`.

    Parameters
    ----------
    document : mapping
        A FeatureCollection with a ``"proposal"`` member and LineString features.

    Returns
    -------
    Proposal

    Raises
    ------
    ValueError
        When the document is not a proposal FeatureCollection.
    """
    if document.get("type") != "FeatureCollection" or "proposal" not in document:
        raise ValueError(
            "not a Trazo proposal: expected a GeoJSON FeatureCollection with a 'proposal' member"
        )
    header = document["proposal"]
    segments = []
    markers = []
    for index, feature in enumerate(document.get("features", [])):
        geometry = shape(feature["geometry"])
        props = feature.get("properties") or {}
        if props.get("role") in MARKER_ROLES:
            markers.append(
                Marker(
                    geometry=geometry,
                    role=str(props["role"]),
                    properties={k: v for k, v in props.items() if k != "role"},
                )
            )
            continue
        if not isinstance(geometry, LineString):
            raise ValueError(
                f"feature {index} is a {geometry.geom_type}; proposal segments are LineStrings"
            )
        props = feature.get("properties") or {}
        length = props.get("length_km")
        segments.append(
            Segment(
                geometry=geometry,
                deployment_type=str(props["deployment_type"]),
                length_km=math.nan if length is None else float(length),
                cost_usd=float(props.get("cost_usd") or 0.0),
                rate_usd_per_km=props.get("rate_usd_per_km"),
                multipliers=props.get("multipliers") or {},
                source_layer=props.get("source_layer"),
                corridor=props.get("corridor"),
                reuses_corridor=bool(props.get("reuses_corridor", False)),
                reuses_fiber=bool(props.get("reuses_fiber", False)),
                role=str(props.get("role") or "primary"),
                name=props.get("name"),
                extra=props.get("extra") or {},
            )
        )
    return Proposal(
        kind=cast(ProposalKind, header["kind"]),
        name=str(header["name"]),
        segments=tuple(segments),
        terminals=[Place.from_dict(t) for t in header.get("terminals", [])],
        node_costs_usd=header.get("node_costs_usd") or {},
        parameters=header.get("parameters") or {},
        people_covered=header.get("people_covered"),
        cost_model_source=str(header.get("cost_model_source") or ""),
        notes=header.get("notes") or [],
        created_at=str(header.get("created_at") or utc_now()),
        markers=markers,
    )


_FRAME_COLUMNS = [
    "proposal",
    "kind",
    "segment",
    "role",
    "deployment_type",
    "length_km",
    "rate_usd_per_km",
    "multipliers",
    "cost_usd",
    "usd_per_km",
    "source_layer",
    "corridor",
    "reuses_corridor",
    "reuses_fiber",
    "name",
    "extra",
]


def proposal_frame(proposal: Proposal) -> gpd.GeoDataFrame:
    """Return the segments as an EPSG:4326 GeoDataFrame, one row per segment.

    Columns are plain types GeoPackage, KML and CSV can hold: ``proposal``, ``kind``,
    ``segment`` (0-based order), ``role``, ``deployment_type``, ``length_km``,
    ``rate_usd_per_km``, ``multipliers`` (a JSON object), ``cost_usd``, ``usd_per_km``,
    ``source_layer``, ``corridor``, ``reuses_corridor``, ``reuses_fiber``, ``name`` and
    ``extra`` (a JSON string).

    Parameters
    ----------
    proposal : Proposal

    Returns
    -------
    geopandas.GeoDataFrame
    """
    import geopandas as gpd
    import pandas as pd

    rows = [
        {
            "proposal": proposal.name,
            "kind": proposal.kind,
            "segment": index,
            "role": seg.role,
            "deployment_type": seg.deployment_type,
            "length_km": seg.length_km,
            "rate_usd_per_km": seg.rate_usd_per_km,
            "multipliers": json.dumps(seg.multipliers, sort_keys=True),
            "cost_usd": seg.cost_usd,
            "usd_per_km": None if seg.usd_per_km is None else round(seg.usd_per_km, USD_DECIMALS),
            "source_layer": seg.source_layer,
            "corridor": seg.corridor,
            "reuses_corridor": seg.reuses_corridor,
            "reuses_fiber": seg.reuses_fiber,
            "name": seg.name,
            "extra": json.dumps(_jsonable(seg.extra), ensure_ascii=False, sort_keys=True),
        }
        for index, seg in enumerate(proposal.segments)
    ]
    start = len(rows)
    for index, marker in enumerate(proposal.markers):
        props = marker.properties
        rows.append(
            {
                "proposal": proposal.name,
                "kind": proposal.kind,
                "segment": start + index,
                "role": marker.role,
                "deployment_type": _marker_technology(marker),
                "length_km": props.get("km", 0.0) if marker.role == "microwave_link" else 0.0,
                "cost_usd": props.get("cost_usd"),
                "usd_per_km": None,
                "source_layer": None,
                "corridor": None,
                "reuses_corridor": False,
                "reuses_fiber": False,
                "name": props.get("name") or props.get("site_id"),
                "extra": json.dumps(_jsonable(props), ensure_ascii=False, sort_keys=True),
            }
        )
    frame = pd.DataFrame(rows, columns=_FRAME_COLUMNS)
    geometries = [s.geometry for s in proposal.segments] + [m.geometry for m in proposal.markers]
    return gpd.GeoDataFrame(frame, geometry=geometries, crs="EPSG:4326")


def _marker_technology(marker: Marker) -> str:
    """The access technology a marker stands for, in the frame's ``deployment_type``."""
    if marker.role == "locality":
        return str(marker.properties.get("technology") or "")
    return "microwave" if marker.role == "microwave_link" else "fixed_wireless"


def bill_of_quantities(proposal: Proposal, metrics: ProposalMetrics | None = None) -> pd.DataFrame:
    """Return the proposal's bill of quantities, rounded for people.

    One row per deployment type (km, effective USD/km, USD; most expensive first), one per
    node cost (USD only) and a final ``total`` row whose USD equals the proposal's capex and
    whose USD/km is capex over total km, nodes included. Kilometres are given to the metre
    (3 decimals) and dollars to the cent; segments are kept at that precision, so the rows
    add up exactly to the total, and the total is the proposal's ``capex_usd_total``.

    Parameters
    ----------
    proposal : Proposal
    metrics : planner.proposals.metrics.ProposalMetrics, optional
        Metrics of this proposal; computed when left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``item``, ``category`` (``"segment"``, ``"node"`` or ``"total"``), ``km``,
        ``usd_per_km`` and ``usd``.
    """
    import pandas as pd

    if metrics is None:
        metrics = compute_metrics(proposal)

    def row(item: str, category: str, km: float, usd: float) -> dict[str, Any]:
        per_km = round(usd / km, USD_DECIMALS) if km > 0 else math.nan
        return {
            "item": item,
            "category": category,
            "km": round(km, BOQ_KM_DECIMALS) if math.isfinite(km) else math.nan,
            "usd_per_km": per_km,
            "usd": round(usd, USD_DECIMALS),
        }

    rows = [
        row(deployment, "segment", km, metrics.capex_by_deployment.get(deployment, 0.0))
        for deployment, km in sorted(
            metrics.km_by_deployment.items(),
            key=lambda item: (-metrics.capex_by_deployment.get(item[0], 0.0), item[0]),
        )
    ]
    rows += [row(node, "node", math.nan, usd) for node, usd in proposal.node_costs_usd.items()]
    rows.append(row("total", "total", metrics.total_km, metrics.capex_usd_total))
    return pd.DataFrame(rows, columns=["item", "category", "km", "usd_per_km", "usd"])
