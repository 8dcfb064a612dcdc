"""The attachment of places as it was before it was made fast, for the tests only.

Point by point, exactly as :mod:`planner.network.attach` did it before its per-point work
was vectorised: each place projected alone, the nearest corridor edge asked of the index
alone, the pieces of a split edge projected again at every query, each drop measured and
cut against the whole land (:data:`planner.network.land.TILE_DEGREES` emptied). A test
attaches the same places both ways and compares every node and edge.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from unittest import mock

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from shapely import LineString, Point

from planner.network import land as land_module
from planner.network.attach import ADDITIVE_ATTRIBUTES, WATER_SEARCH_KM, EdgeKey, LinkCost
from planner.network.corridor_graph import GRAPH_CRS, geodesic_km, to_analysis_crs
from planner.network.land import Land, Piece


@contextmanager
def whole_land() -> Iterator[None]:
    """Cut every line against the whole land, never a tile of it."""
    with mock.patch.object(land_module, "TILE_DEGREES", ()):
        yield


def reference_attach_points(
    graph: nx.MultiGraph,
    points: gpd.GeoDataFrame,
    *,
    land: Land | None = None,
    link_cost: LinkCost | None = None,
) -> list[Hashable]:
    """:func:`planner.network.attach.attach_points` as it was (names from ``name``)."""
    points = points.to_crs(GRAPH_CRS)
    index = _EdgeIndex(graph)
    xy = shapely.get_coordinates(points.geometry.values)
    with whole_land():
        return [
            _attach(graph, index, float(x), float(y), str(name), land, link_cost)
            for (x, y), name in zip(xy.tolist(), points["name"].tolist(), strict=True)
        ]


def _project(geoms: Any) -> Any:
    transformer = to_analysis_crs()
    return shapely.transform(
        geoms, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1]))
    )


class _EdgeIndex:
    def __init__(self, graph: nx.MultiGraph) -> None:
        self.graph = graph
        self.keys: list[EdgeKey] = []
        geoms = []
        for u, v, k, d in graph.edges(keys=True, data=True):
            if d.get("kind") == "connector" or d.get("geometry") is None:
                continue
            if d.get("deployment_type") == "subsea" or d.get("kind") == "subsea":
                continue
            self.keys.append((u, v, k))
            geoms.append(d["geometry"])
        self.tree = shapely.STRtree(_project(np.asarray(geoms, dtype=object)))
        self.pieces: dict[int, list[EdgeKey]] = {}

    def nearest(self, point_m: Point) -> tuple[EdgeKey, int]:
        original = int(self.tree.query_nearest(point_m)[0])
        pieces = self.pieces.get(original, [self.keys[original]])
        if len(pieces) == 1:
            return pieces[0], original
        geoms = _project(
            np.asarray([self.graph.edges[e]["geometry"] for e in pieces], dtype=object)
        )
        return pieces[int(np.argmin(shapely.distance(geoms, point_m)))], original

    def near(self, point_m: Point, km: float) -> list[tuple[EdgeKey, int]]:
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
    land: Land | None,
    link_cost: LinkCost | None,
) -> Hashable:
    transformer = to_analysis_crs()
    point_m = Point(*transformer.transform(lon, lat))
    edge, original = index.nearest(point_m)
    line: LineString = graph.edges[edge]["geometry"]
    split_xy, segment, fraction = _nearest_on_line(line, lon, lat)
    connector_km = float(geodesic_km(lon, lat, split_xy[0], split_xy[1]))
    pieces: list[Piece] | None = None
    if land is not None and split_xy != (lon, lat):
        pieces = land.pieces(LineString([(lon, lat), split_xy]))
        if len(pieces) > 1 or not pieces[0].on_land:
            edge, original, split_xy, segment, fraction, pieces = _drop_over_land(
                graph, index, lon, lat, point_m, connector_km, land, link_cost
            )
    joint = _split(graph, index, original, edge, split_xy, segment, fraction)
    if split_xy == (lon, lat):
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
    price = link_cost or _pieces_km
    best: tuple[float, EdgeKey, int, tuple[float, float], int, float, list[Piece]] | None = None
    for edge, original in index.near(point_m, nearest_km * 1.05 + WATER_SEARCH_KM):
        split_xy, segment, fraction = _nearest_on_line(graph.edges[edge]["geometry"], lon, lat)
        if split_xy == (lon, lat):
            return edge, original, split_xy, segment, fraction, [Piece(LineString(), True)]
        pieces = land.pieces(LineString([(lon, lat), split_xy]))
        cost = price(pieces)
        if best is None or cost < best[0]:
            best = (cost, edge, original, split_xy, segment, fraction, pieces)
    assert best is not None
    return best[1], best[2], best[3], best[4], best[5], best[6]


def _nearest_on_line(
    line: LineString, lon: float, lat: float
) -> tuple[tuple[float, float], int, float]:
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
    u, v, key = edge
    data = graph.edges[edge]
    coords: npt.NDArray[np.float64] = np.asarray(data["geometry"].coords)
    start, end = tuple(coords[0]), tuple(coords[-1])
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
