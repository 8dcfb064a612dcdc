"""Attach places (cities, landings, localities) to the corridor graph.

A place joins the graph by a ``connector`` edge (greenfield build) to the nearest point
on the nearest corridor edge, measured in EPSG:6372. That edge is split there into two
edges that keep its attributes, with geometry cut at the point and ``length_km`` (and any
other additive attribute) shared in proportion to the geodesic lengths of the halves, so
they add up to the original. A point that projects onto an existing node does not split;
a point exactly on an edge becomes the node that splits it, with no connector.
Several places may fall on the same edge: later ones split the pieces of earlier splits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from shapely import LineString, Point

from layers.errors import (
    NoRouteError,
)
from planner.network.corridor_graph import (
    GRAPH_CRS,
    geodesic_km,
    to_analysis_crs,
)
from planner.network.land import (
    Land,
    Piece,
)

EdgeKey = tuple[Hashable, Hashable, Any]
ADDITIVE_ATTRIBUTES = ("length_km", "cost_usd")
LinkCost = Callable[[Sequence[Piece]], float]
"""Price of a drop made of land and water pieces (chooses among corridors across water)."""

WATER_SEARCH_KM = 10.0
"""A drop that would cross water also looks this much farther for a corridor over land."""


def _project(geoms: Any) -> Any:
    transformer = to_analysis_crs()
    return shapely.transform(
        geoms, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1]))
    )


class _EdgeIndex:
    """Nearest corridor edge to a point, kept valid while edges are split."""

    def __init__(self, graph: nx.MultiGraph) -> None:
        self.graph = graph
        self.keys: list[EdgeKey] = []
        geoms = []
        for u, v, k, d in graph.edges(keys=True, data=True):
            # places join land corridors: never a drop, never a cable out at sea
            if d.get("kind") == "connector" or d.get("geometry") is None:
                continue
            if d.get("deployment_type") == "subsea" or d.get("kind") == "subsea":
                continue
            self.keys.append((u, v, k))
            geoms.append(d["geometry"])
        if not self.keys:
            raise NoRouteError("the corridor graph has no edges to attach places to")
        self.tree = shapely.STRtree(_project(np.asarray(geoms, dtype=object)))
        self.pieces: dict[int, list[EdgeKey]] = {}

    def nearest(self, point_m: Point) -> tuple[EdgeKey, int]:
        """The current edge nearest ``point_m`` (EPSG:6372) and its original's position."""
        original = int(self.tree.query_nearest(point_m)[0])
        pieces = self.pieces.get(original, [self.keys[original]])
        if len(pieces) == 1:
            return pieces[0], original
        geoms = _project(
            np.asarray([self.graph.edges[e]["geometry"] for e in pieces], dtype=object)
        )
        return pieces[int(np.argmin(shapely.distance(geoms, point_m)))], original

    def near(self, point_m: Point, km: float) -> list[tuple[EdgeKey, int]]:
        """The current pieces of every original edge within ``km`` of ``point_m``."""
        originals = self.tree.query(point_m, predicate="dwithin", distance=km * 1000.0)
        found = []
        for original in sorted(int(o) for o in originals):
            for piece in self.pieces.get(original, [self.keys[original]]):
                found.append((piece, original))
        return found

    def replace(self, original: int, old: EdgeKey, new: Sequence[EdgeKey]) -> None:
        pieces = self.pieces.setdefault(original, [self.keys[original]])
        pieces.remove(old)
        pieces.extend(new)


def attach_point(
    graph: nx.MultiGraph,
    lon: float,
    lat: float,
    *,
    name: str,
    max_connector_km: float | None = None,
    land: Land | None = None,
    link_cost: LinkCost | None = None,
) -> Hashable:
    """Connect a place to the graph and return its new node.

    Parameters
    ----------
    graph
        A corridor graph from
        :func:`planner.network.corridor_graph.build_corridor_graph`; changed in place.
    lon, lat
        Position of the place (EPSG:4326).
    name
        Name stored on the new node (``name``) and its connector.
    max_connector_km
        Refuse places farther than this from every corridor.
    land
        When given, a drop never runs over water beyond the coastal tolerance: if the
        straight drop to the nearest corridor would, the corridors within
        :data:`WATER_SEARCH_KM` more are tried too and the cheapest drop by ``link_cost``
        is taken; a drop that still crosses water is a chain of land ``connector``
        pieces and ``subsea`` water pieces (with ``landings``) through ``shore`` nodes.
    link_cost
        Prices a drop from its pieces; default: its length in km.

    Returns
    -------
    Hashable
        The id of the place's node; it has ``x``, ``y``, ``name`` and ``kind="place"``.

    Raises
    ------
    NoRouteError
        If the graph has no edges or the nearest corridor is beyond ``max_connector_km``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> from planner.network.corridor_graph import build_corridor_graph
    >>> row = gpd.GeoDataFrame({"row_type": ["highway"]},
    ...     geometry=[LineString([(-93, 18), (-93, 19)])], crs="EPSG:4326")
    >>> g = build_corridor_graph({"row": row})
    >>> node = attach_point(g, -92.99, 18.5, name="Cárdenas")
    >>> g.number_of_edges()
    3
    """
    index = _EdgeIndex(graph)
    return _attach(graph, index, float(lon), float(lat), name, max_connector_km, land, link_cost)


def attach_points(
    graph: nx.MultiGraph,
    points: gpd.GeoDataFrame,
    *,
    name_column: str = "name",
    max_connector_km: float | None = None,
    land: Land | None = None,
    link_cost: LinkCost | None = None,
) -> list[Hashable]:
    """Attach every point of ``points`` (any CRS); return their node ids in row order.

    Names come from ``name_column`` when present, else the row's index label; ``land``
    and ``link_cost`` as in :func:`attach_point`.
    """
    if points.crs is not None and not points.crs.equals(GRAPH_CRS):
        points = points.to_crs(GRAPH_CRS)
    if len(points) == 0:
        return []
    index = _EdgeIndex(graph)
    xy = shapely.get_coordinates(points.geometry.values)
    names: Iterable[Any] = (
        points[name_column].tolist() if name_column in points.columns else points.index.tolist()
    )
    return [
        _attach(graph, index, float(x), float(y), str(name), max_connector_km, land, link_cost)
        for (x, y), name in zip(xy.tolist(), names, strict=True)
    ]


def _new_node(graph: nx.MultiGraph) -> int:
    start = int(graph.graph.get("next_node", 0))
    while start in graph:
        start += 1
    graph.graph["next_node"] = start + 1
    return start


def _attach(
    graph: nx.MultiGraph,
    index: _EdgeIndex,
    lon: float,
    lat: float,
    name: str,
    max_connector_km: float | None,
    land: Land | None = None,
    link_cost: LinkCost | None = None,
) -> Hashable:
    transformer = to_analysis_crs()
    point_m = Point(*transformer.transform(lon, lat))
    edge, original = index.nearest(point_m)
    data = graph.edges[edge]
    line: LineString = data["geometry"]
    split_xy, segment, fraction = _nearest_on_line(line, lon, lat)
    connector_km = float(geodesic_km(lon, lat, split_xy[0], split_xy[1]))
    if max_connector_km is not None and connector_km > max_connector_km:
        raise NoRouteError(
            f"{name!r} at ({lon:.5f}, {lat:.5f}) is {connector_km:.1f} km from the nearest "
            f"corridor, beyond max_connector_km={max_connector_km}; raise the limit or load "
            "more rights-of-way"
        )
    pieces: list[Piece] | None = None
    if land is not None and split_xy != (lon, lat):
        pieces = land.pieces(LineString([(lon, lat), split_xy]))
        if len(pieces) > 1 or not pieces[0].on_land:
            edge, original, split_xy, segment, fraction, pieces = _drop_over_land(
                graph, index, lon, lat, point_m, connector_km, land, link_cost
            )
    joint = _split(graph, index, original, edge, split_xy, segment, fraction)
    if split_xy == (lon, lat):
        # on the line itself: the place is the node there, no connector
        graph.nodes[joint].update(name=name, kind="place")
        return joint
    node = _new_node(graph)
    graph.add_node(node, x=lon, y=lat, name=name, kind="place")
    if pieces is None or (len(pieces) == 1 and pieces[0].on_land):
        _add_drop_edge(graph, node, joint, LineString([(lon, lat), split_xy]), name)
        return node
    here: Hashable = node
    for i, piece in enumerate(pieces):
        end = piece.geometry.coords[-1]
        if i == len(pieces) - 1:
            there: Hashable = joint
        else:
            there = _new_node(graph)
            graph.add_node(there, x=float(end[0]), y=float(end[1]), kind="shore")
        _add_drop_edge(graph, here, there, piece.geometry, name, piece)
        here = there
    return node


def _add_drop_edge(
    graph: nx.MultiGraph,
    a: Hashable,
    b: Hashable,
    line: LineString,
    name: str,
    piece: Piece | None = None,
) -> None:
    """One edge of a drop: a land ``connector`` or a ``subsea`` crossing with its landings."""
    water = piece is not None and not piece.on_land
    data: dict[str, Any] = {
        "layer": None,
        "feature_id": None,
        "corridor": None,
        "kind": "connector",
        "deployment": "subsea" if water else "connector",
        "name": f"{'subsea link' if water else 'connector'} to {name}",
        "length_km": _line_km(np.asarray(line.coords)),
        "geometry": line,
    }
    if piece is not None and water:
        data["deployment_type"] = "subsea"
        data["landings"] = piece.landings
    graph.add_edge(a, b, **data)


def _drop_over_land(
    graph: nx.MultiGraph,
    index: _EdgeIndex,
    lon: float,
    lat: float,
    point_m: Point,
    nearest_km: float,
    land: Land,
    link_cost: LinkCost | None,
) -> tuple[EdgeKey, int, tuple[float, float], int, float, list[Piece]]:
    """The cheapest drop among corridors a little farther than the nearest across water."""
    price = link_cost or _pieces_km
    best: tuple[float, EdgeKey, int, tuple[float, float], int, float, list[Piece]] | None = None
    # the search radius is in EPSG:6372 metres, a little generous against its scale error
    for edge, original in index.near(point_m, nearest_km * 1.05 + WATER_SEARCH_KM):
        split_xy, segment, fraction = _nearest_on_line(graph.edges[edge]["geometry"], lon, lat)
        if split_xy == (lon, lat):
            return edge, original, split_xy, segment, fraction, [Piece(LineString(), True)]
        pieces = land.pieces(LineString([(lon, lat), split_xy]))
        cost = price(pieces)
        if best is None or cost < best[0]:
            best = (cost, edge, original, split_xy, segment, fraction, pieces)
    if best is None:  # pragma: no cover - the nearest edge is always within the radius
        raise NoRouteError(f"no corridor near ({lon:.5f}, {lat:.5f})")
    return best[1], best[2], best[3], best[4], best[5], best[6]


def _nearest_on_line(
    line: LineString, lon: float, lat: float
) -> tuple[tuple[float, float], int, float]:
    """Nearest point of ``line`` to ``point_m`` as lon/lat, segment index and fraction.

    Distances are measured in a local equirectangular frame centred on the point
    (longitude scaled by the cosine of its latitude): an affine map of lon/lat, so the
    stored straight lon/lat segments stay straight and the point found lies on them.
    """
    coords = np.asarray(line.coords)
    scale = np.array([math.cos(math.radians(lat)), 1.0])
    local = (coords - np.array([lon, lat])) * scale
    a, b = local[:-1], local[1:]
    p = np.zeros(2)
    ab = b - a
    denom = np.einsum("ij,ij->i", ab, ab)
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.where(denom > 0, denom, 1.0), 0.0, 1.0)
    near = a + t[:, None] * ab
    segment = int(np.argmin(np.hypot(*(near - p).T)))
    fraction = float(t[segment])
    lo, hi = coords[segment], coords[segment + 1]
    if fraction <= 0.0:
        xy = lo
    elif fraction >= 1.0:
        xy = hi
    else:
        xy = lo + fraction * (hi - lo)
    return (float(xy[0]), float(xy[1])), segment, fraction


def _split(
    graph: nx.MultiGraph,
    index: _EdgeIndex,
    original: int,
    edge: EdgeKey,
    split_xy: tuple[float, float],
    segment: int,
    fraction: float,
) -> Hashable:
    """Split ``edge`` at ``split_xy`` (unless it is an end) and return the node there."""
    u, v, key = edge
    data = graph.edges[edge]
    coords: npt.NDArray[np.float64] = np.asarray(data["geometry"].coords)
    start, end = tuple(coords[0]), tuple(coords[-1])
    # the stored geometry may run v -> u
    node_at = {start: u, end: v} if _near(graph, u, start) else {start: v, end: u}
    if split_xy in node_at:
        return node_at[split_xy]
    cut = segment + 1 if fraction < 1.0 else segment + 2
    head = np.vstack([coords[:cut], [split_xy]])
    tail = np.vstack([[split_xy], coords[cut:]])
    head = head[np.r_[True, np.any(head[1:] != head[:-1], axis=1)]]
    tail = tail[np.r_[True, np.any(tail[1:] != tail[:-1], axis=1)]]
    km_head = _line_km(head)
    km_tail = _line_km(tail)
    share = km_head / (km_head + km_tail) if km_head + km_tail > 0 else 0.5
    joint = _new_node(graph)
    graph.add_node(joint, x=split_xy[0], y=split_xy[1])
    graph.remove_edge(u, v, key)
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}
    for name, value in data.items():
        if name in ADDITIVE_ATTRIBUTES and isinstance(value, int | float):
            first[name], second[name] = value * share, value * (1.0 - share)
        else:
            first[name] = second[name] = value
    first["geometry"], second["geometry"] = LineString(head), LineString(tail)
    k1 = graph.add_edge(node_at[start], joint, **first)
    k2 = graph.add_edge(joint, node_at[end], **second)
    index.replace(original, edge, [(node_at[start], joint, k1), (joint, node_at[end], k2)])
    return joint


def _pieces_km(pieces: Sequence[Piece]) -> float:
    return sum(_line_km(np.asarray(p.geometry.coords)) for p in pieces)


def _near(graph: nx.MultiGraph, node: Hashable, xy: tuple[float, float]) -> bool:
    attrs = graph.nodes[node]
    return bool(abs(attrs["x"] - xy[0]) < 1e-6 and abs(attrs["y"] - xy[1]) < 1e-6)


def _line_km(coords: npt.NDArray[np.float64]) -> float:
    return float(np.sum(geodesic_km(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])))
