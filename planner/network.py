"""The planning network: the corridor graph priced by a cost model, made whole, with places.

Every edge of the corridor graph gets a ``deployment_type`` and a ``cost_usd`` from the cost
model. Corridor networks that never touch (a pipeline that stops short of a highway, an
island of rail) are joined to the rest by greenfield *bridges*: straight new-trench edges
priced at the flat greenfield rate, so a proposal may leave a corridor, cross country and
join another. A bridge or long connector that a proposal uses is later re-routed over the
terrain (:mod:`planner.realize`), which can only make it dearer than the flat estimate.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
from scipy.spatial import cKDTree
from shapely import LineString

from planner.attach import attach_point, attach_points
from planner.cost_model import CostModel
from planner.graph import build_corridor_graph, geodesic_km, to_analysis_crs
from planner.places import Place

logger = logging.getLogger(__name__)

REUSED_DEPLOYMENTS = frozenset({"fiber_lease", "rail", "highway", "pipeline", "power_aerial"})
"""Deployment types that ride an existing corridor (and so reuse a right of way)."""

DEFAULT_CONNECTOR_KM = 5.0
"""Drops up to this length are short ``connector`` builds; longer ones are greenfield."""

DEFAULT_MAX_BRIDGE_KM = 150.0
"""Corridor networks farther apart than this are not bridged (an island, another country)."""


@dataclass
class PlanningNetwork:
    """A priced, routable corridor graph and what it was built from.

    Attributes
    ----------
    graph
        ``MultiGraph`` with ``deployment_type``, ``cost_usd``, ``length_km`` and
        ``geometry`` (EPSG:4326) on every edge and ``x``, ``y`` (lon, lat) on every node.
    cost_model
        The cost model that priced it.
    elevation
        Elevation GeoTIFF for re-routing greenfield links over terrain, if available.
    layers
        Names of the corridor layers in the graph.
    bridges
        Number of greenfield bridges added to join separate corridor networks.
    """

    graph: nx.MultiGraph
    cost_model: CostModel
    elevation: Path | None = None
    layers: tuple[str, ...] = ()
    bridges: int = 0
    places: dict[str, Hashable] = field(default_factory=dict)


def build_network(
    corridors: Mapping[str, gpd.GeoDataFrame],
    cost_model: CostModel,
    *,
    elevation: Path | None = None,
    snap_tolerance_m: float = 50.0,
    max_bridge_km: float = DEFAULT_MAX_BRIDGE_KM,
) -> PlanningNetwork:
    """Build the priced planning network from corridor layers.

    Parameters
    ----------
    corridors
        Layer name to EPSG:4326 line frame, of kind ``rights_of_way`` or ``fiber_routes``.
    cost_model
        Prices every edge.
    elevation
        Elevation raster used later to re-route greenfield links over the terrain.
    snap_tolerance_m
        Line ends closer than this are joined (see :func:`planner.graph.build_corridor_graph`).
    max_bridge_km
        Longest greenfield bridge added between separate corridor networks.

    Returns
    -------
    PlanningNetwork
    """
    graph = build_corridor_graph(dict(corridors), snap_tolerance_m=snap_tolerance_m)
    for _, _, data in graph.edges(data=True):
        price_edge(data, cost_model)
    bridges = bridge_components(graph, cost_model, max_bridge_km=max_bridge_km)
    logger.info(
        "planning network: %d nodes, %d edges, %d bridges",
        graph.number_of_nodes(),
        graph.number_of_edges(),
        bridges,
    )
    return PlanningNetwork(
        graph=graph,
        cost_model=cost_model,
        elevation=elevation,
        layers=tuple(corridors),
        bridges=bridges,
    )


def price_edge(data: dict[str, Any], cost_model: CostModel) -> None:
    """Set ``deployment_type``, ``cost_usd`` and reuse flags on one corridor edge in place."""
    kind = data.get("kind")
    if kind == "fiber_routes":
        leasable = bool(data.get("lease_available")) and data.get("status") != "planned"
        deployment = cost_model.deployment_for_row_type(
            str(data.get("row_type") or "other"), is_fiber=True, lease_available=leasable
        )
    elif kind == "rights_of_way":
        deployment = cost_model.deployment_for_row_type(str(data.get("row_type") or "other"))
    else:
        deployment = str(data.get("deployment_type") or data.get("deployment") or "greenfield")
    data["deployment_type"] = deployment
    data["cost_usd"] = cost_model.edge_cost_usd(deployment, float(data["length_km"]))
    data["reuses_fiber"] = deployment == "fiber_lease"
    data["reuses_corridor"] = deployment in REUSED_DEPLOYMENTS


def bridge_components(
    graph: nx.MultiGraph, cost_model: CostModel, *, max_bridge_km: float = DEFAULT_MAX_BRIDGE_KM
) -> int:
    """Join separate corridor networks with greenfield bridges; return how many were added.

    Networks are taken from the largest down; each is joined to the nearest node of the
    networks already joined (nearest in EPSG:6372), when that is within ``max_bridge_km``.
    """
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    if len(components) < 2:
        return 0
    to_metric = to_analysis_crs()
    nodes = np.array(list(graph.nodes))
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes])
    mx, my = to_metric.transform(xy[:, 0], xy[:, 1])
    metric = np.column_stack([mx, my])
    row_of = {node: i for i, node in enumerate(nodes.tolist())}
    joined = [row_of[n] for n in components[0]]
    added = 0
    for component in components[1:]:
        rows = np.array([row_of[n] for n in component])
        distance, nearest = cKDTree(metric[joined]).query(metric[rows])
        best = int(np.argmin(distance))
        if distance[best] / 1000.0 > max_bridge_km:
            continue
        a, b = nodes[rows[best]].item(), nodes[joined[int(nearest[best])]].item()
        add_greenfield_edge(graph, a, b, cost_model, kind="bridge")
        joined.extend(rows.tolist())
        added += 1
    return added


def add_greenfield_edge(
    graph: nx.MultiGraph, a: Hashable, b: Hashable, cost_model: CostModel, *, kind: str
) -> None:
    """Add a straight greenfield edge between two nodes, priced at the flat rate."""
    start = (graph.nodes[a]["x"], graph.nodes[a]["y"])
    end = (graph.nodes[b]["x"], graph.nodes[b]["y"])
    km = float(geodesic_km(start[0], start[1], end[0], end[1]))
    data: dict[str, Any] = {
        "layer": None,
        "feature_id": None,
        "corridor": None,
        "kind": kind,
        "deployment_type": "greenfield",
        "name": f"greenfield {kind}",
        "length_km": km,
        "geometry": LineString([start, end]),
    }
    price_edge(data, cost_model)
    graph.add_edge(a, b, **data)


def attach_place(
    network: PlanningNetwork,
    place: Place,
    *,
    connector_km: float = DEFAULT_CONNECTOR_KM,
    max_connector_km: float | None = None,
) -> Hashable:
    """Connect a place to the network at the nearest point of the nearest corridor.

    The drop from the place to the corridor is a ``connector`` build up to
    ``connector_km`` long and a ``greenfield`` build beyond. A place attached before is
    not attached twice.

    Returns
    -------
    Hashable
        The place's node.
    """
    key = place_key(place)
    if key in network.places:
        return network.places[key]
    node = attach_point(
        network.graph, place.lon, place.lat, name=place.name, max_connector_km=max_connector_km
    )
    _register(network, key, node, place.name, connector_km)
    return node


def attach_places(
    network: PlanningNetwork,
    places: Sequence[Place],
    *,
    connector_km: float = DEFAULT_CONNECTOR_KM,
    max_connector_km: float | None = None,
) -> list[Hashable]:
    """Attach many places at once (one spatial index for all); return their nodes in order."""
    fresh = {place_key(p): p for p in places if place_key(p) not in network.places}
    if fresh:
        frame = gpd.GeoDataFrame(
            {"name": [p.name for p in fresh.values()]},
            geometry=gpd.points_from_xy(
                [p.lon for p in fresh.values()], [p.lat for p in fresh.values()]
            ),
            crs="EPSG:4326",
        )
        new_nodes = attach_points(network.graph, frame, max_connector_km=max_connector_km)
        for (key, place), node in zip(fresh.items(), new_nodes, strict=True):
            _register(network, key, node, place.name, connector_km)
    return [network.places[place_key(p)] for p in places]


def _register(
    network: PlanningNetwork, key: str, node: Hashable, name: str, connector_km: float
) -> None:
    """Record a place's node and price its drop to the corridor."""
    graph = network.graph
    graph.nodes[node]["place"] = name
    for _, _, data in graph.edges(node, data=True):
        if data.get("kind") == "connector" and "cost_usd" not in data:
            data["deployment_type"] = (
                "connector" if data["length_km"] <= connector_km else "greenfield"
            )
            price_edge(data, network.cost_model)
    network.places[key] = node


def place_key(place: Place) -> str:
    """A stable key for a place: its name and position."""
    return f"{place.name}@{place.lon:.6f},{place.lat:.6f}"
