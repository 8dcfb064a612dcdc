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

import itertools
import math
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

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
    CorridorGraph,
    geodesic_km,
    project,
    to_analysis_crs,
)
from planner.network.edge_index import joins_places
from planner.network.edge_table import TableGraph
from planner.network.land import (
    Land,
    Piece,
)
from planner.network.overlay import OverlayGraph

if TYPE_CHECKING:
    import geopandas as gpd

EdgeKey = tuple[Hashable, Hashable, Any]
ADDITIVE_ATTRIBUTES = ("length_km", "cost_usd")
LinkCost = Callable[[Sequence[Piece]], float]
"""Price of a drop made of land and water pieces (chooses among corridors across water)."""

WATER_SEARCH_KM = 10.0
"""A drop that would cross water also looks this much farther for a corridor over land."""


def _project_points(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Points in EPSG:6372 for lon/lat arrays, in one transformer call."""
    x, y = to_analysis_crs().transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(shapely.points(np.asarray(x, float), np.asarray(y, float)), dtype=object)


_SHARED_INDEXES: weakref.WeakKeyDictionary[CorridorGraph, tuple[int, list[EdgeKey], Any]] = (
    weakref.WeakKeyDictionary()
)
"""Corridor edge index of each shared network (a graph that overlays copy), by its version."""


def _corridor_index(graph: nx.MultiGraph) -> tuple[Any, Any]:
    """The corridor edges places may join, and their spatial index in EPSG:6372.

    An overlay not yet changed (:func:`planner.network.overlay.overlay`, a request's copy
    of the shared network) has its base's edges in its base's order, so the index is
    built once per shared network and its version, not once per request.
    """
    if isinstance(graph, OverlayGraph) and graph.version == 0:
        base = graph.base
        if isinstance(base, TableGraph):
            return _table_index(base)
        shared = _SHARED_INDEXES.get(base)
        if shared is None or shared[0] != base.version:
            shared = (base.version, *_build_corridor_index(base))
            _SHARED_INDEXES[base] = shared
        return shared[1], shared[2]
    if isinstance(graph, TableGraph):
        return _table_index(graph)
    return _build_corridor_index(graph)


def _table_index(table: TableGraph) -> tuple[Any, Any]:
    """The index kept with a network read from its table (nothing walked or built here)."""
    keys, tree = table.corridor_index()
    if not len(keys):
        raise NoRouteError("the corridor graph has no edges to attach places to")
    return keys, tree


_LIVE_INDEXES: weakref.WeakKeyDictionary[nx.MultiGraph, tuple[int, _EdgeIndex]] = (
    weakref.WeakKeyDictionary()
)
"""The edge index that last attached places to a graph, by the graph's version right after.

A route attaches its two places one after the other: the second finds the index the first
left, which already knows the edge the first split, instead of projecting and indexing
every corridor of the nation again. An index is reused only while the graph's version is
the one it left (nothing else added or removed a node or an edge since), which is what
:func:`attach_points` does with one index for many places."""
_LIVE_INDEXES_GUARD = threading.Lock()


def _edge_index(graph: nx.MultiGraph) -> _EdgeIndex:
    """The index the last attachment to ``graph`` left, if still valid, else a new one."""
    version = getattr(graph, "version", None)
    if version is not None:
        with _LIVE_INDEXES_GUARD:
            held = _LIVE_INDEXES.get(graph)
        if held is not None and held[0] == version:
            return held[1]
    return _EdgeIndex(graph)


def _leave_index(graph: nx.MultiGraph, index: _EdgeIndex) -> None:
    """Keep ``index`` for the next attachment to ``graph`` (one that counts its changes)."""
    version = getattr(graph, "version", None)
    if version is not None:
        with _LIVE_INDEXES_GUARD:
            _LIVE_INDEXES[graph] = (version, index)


def _build_corridor_index(graph: nx.MultiGraph) -> tuple[list[EdgeKey], shapely.STRtree]:
    keys: list[EdgeKey] = []
    geoms = []
    for u, v, k, d in graph.edges(keys=True, data=True):
        if not joins_places(d):
            continue
        keys.append((u, v, k))
        geoms.append(d["geometry"])
    if not keys:
        raise NoRouteError("the corridor graph has no edges to attach places to")
    return keys, shapely.STRtree(project(np.asarray(geoms, dtype=object)))


class _EdgeIndex:
    """Nearest corridor edge to a point, kept valid while edges are split.

    The spatial index holds the corridor edges as they were when it was built (the
    *originals*); an original split by attachments is searched among its current pieces,
    whose EPSG:6372 lines are kept beside their keys (each projected once).
    """

    def __init__(self, graph: nx.MultiGraph) -> None:
        # a proxy: the index kept for a graph (_LIVE_INDEXES) must not keep the graph alive
        self.graph = weakref.proxy(graph)
        self.keys, self.tree = _corridor_index(graph)
        self.pieces: dict[int, list[EdgeKey]] = {}
        self.pieces_m: dict[int, list[Any]] = {}
        """The pieces' lines in EPSG:6372 (None until first needed), as :attr:`pieces`."""

    def nearest_originals(self, points_m: Any) -> npt.NDArray[np.intp]:
        """The original edge nearest each point (EPSG:6372), first of equals, in one query."""
        found = self.tree.query_nearest(points_m)
        first = np.r_[True, found[0, 1:] != found[0, :-1]]
        originals = np.empty(len(points_m), dtype=np.intp)
        originals[found[0, first]] = found[1, first]
        return originals

    def nearest(self, point_m: Point, original: int | None = None) -> tuple[EdgeKey, int]:
        """The current edge nearest ``point_m`` (EPSG:6372) and its original's position.

        ``original``, when known (:meth:`nearest_originals`), spares the index query.
        """
        if original is None:
            original = int(self.tree.query_nearest(point_m)[0])
        pieces = self.pieces.get(original)
        if pieces is None:
            return self.keys[original], original
        lines = self.pieces_m[original]
        missing = [i for i, line in enumerate(lines) if line is None]
        if missing:
            # projected when first asked for: most split corridors are not asked again
            found = project(np.asarray([self.graph.edges[pieces[i]]["geometry"] for i in missing]))
            for i, line in zip(missing, found, strict=True):
                lines[i] = line
        geoms = np.asarray(lines, dtype=object)
        return pieces[int(np.argmin(shapely.distance(geoms, point_m)))], original

    def near(self, point_m: Point, km: float) -> list[tuple[EdgeKey, int]]:
        """The current pieces of every original edge within ``km`` of ``point_m``."""
        originals = self.tree.query(point_m, predicate="dwithin", distance=km * 1000.0)
        found = []
        for original in sorted(int(o) for o in originals):
            for piece in self.pieces.get(original, [self.keys[original]]):
                found.append((piece, original))
        return found

    def line_m(self, original: int, piece: EdgeKey) -> Any:
        """The EPSG:6372 line of ``piece`` of ``original``, or None if not projected yet."""
        pieces = self.pieces.get(original)
        if pieces is None:
            return self.tree.geometries[original]
        return self.pieces_m[original][pieces.index(piece)]

    def replace(
        self,
        original: int,
        old: EdgeKey,
        new: Sequence[EdgeKey],
        new_m: Sequence[Any] | None = None,
    ) -> None:
        """Piece ``old`` of ``original`` is now the pieces ``new`` (EPSG:6372 lines
        ``new_m`` when known)."""
        pieces = self.pieces.get(original)
        if pieces is None:
            pieces = self.pieces[original] = [self.keys[original]]
            self.pieces_m[original] = [self.tree.geometries[original]]
        at = pieces.index(old)
        del pieces[at]
        del self.pieces_m[original][at]
        pieces.extend(new)
        self.pieces_m[original].extend(new_m if new_m is not None else [None] * len(new))


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
    index = _edge_index(graph)
    shares = _Shares()
    try:
        node = _attach(
            graph, index, shares, float(lon), float(lat), name, max_connector_km, land, link_cost
        )
    finally:
        shares.settle()
    _leave_index(graph, index)
    return node


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
    names: Iterable[Any] = (
        points[name_column].tolist() if name_column in points.columns else points.index.tolist()
    )
    return attach_coordinates(
        graph,
        shapely.get_coordinates(points.geometry.values),
        names,
        max_connector_km=max_connector_km,
        land=land,
        link_cost=link_cost,
    )


def attach_coordinates(
    graph: nx.MultiGraph,
    xy: npt.NDArray[np.float64],
    names: Iterable[Any],
    *,
    max_connector_km: float | None = None,
    land: Land | None = None,
    link_cost: LinkCost | None = None,
) -> list[Hashable]:
    """Attach lon/lat points (rows of ``xy``), named ``names``; return their node ids in order.

    :func:`attach_points` for points that are not a frame (places a plan resolved);
    ``land`` and ``link_cost`` as in :func:`attach_point`.
    """
    if len(xy) == 0:
        return []
    index = _edge_index(graph)
    # what does not depend on earlier attachments is done for all points at once: their
    # EPSG:6372 positions and the original corridor edge nearest each (the index holds the
    # originals; which piece of a split original is nearest is asked point by point)
    points_m = _project_points(xy[:, 0], xy[:, 1])
    originals = index.nearest_originals(points_m).tolist()
    shares = _Shares()
    try:
        nodes = [
            _attach(
                graph,
                index,
                shares,
                float(x),
                float(y),
                str(name),
                max_connector_km,
                land,
                link_cost,
                near=(point_m, original),
            )
            for (x, y), name, point_m, original in zip(
                xy.tolist(), names, points_m, originals, strict=True
            )
        ]
    finally:
        shares.settle()
    _leave_index(graph, index)
    return nodes


def _new_node(graph: nx.MultiGraph) -> int:
    start = int(graph.graph.get("next_node", 0))
    while start in graph:
        start += 1
    graph.graph["next_node"] = start + 1
    return start


def _attach(
    graph: nx.MultiGraph,
    index: _EdgeIndex,
    shares: _Shares,
    lon: float,
    lat: float,
    name: str,
    max_connector_km: float | None,
    land: Land | None = None,
    link_cost: LinkCost | None = None,
    near: tuple[Point, int] | None = None,
) -> Hashable:
    """Attach one place; ``near`` is its EPSG:6372 point and nearest original edge, if known."""
    if near is None:
        point_m = Point(*to_analysis_crs().transform(lon, lat))
        edge, original = index.nearest(point_m)
    else:
        point_m = near[0]
        edge, original = index.nearest(point_m, near[1])
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
    drop: LineString | None = None
    if land is not None and split_xy != (lon, lat):
        drop = LineString([(lon, lat), split_xy])
        pieces = land.pieces(drop)
        if len(pieces) > 1 or not pieces[0].on_land:
            edge, original, split_xy, segment, fraction, pieces = _drop_over_land(
                graph, index, lon, lat, point_m, connector_km, land, link_cost
            )
            drop = None
    joint = _split(graph, index, shares, original, edge, split_xy, segment, fraction)
    if split_xy == (lon, lat):
        # on the line itself: the place is the node there, no connector
        graph.nodes[joint].update(name=name, kind="place")
        return joint
    node = _new_node(graph)
    graph.add_node(node, x=lon, y=lat, name=name, kind="place")
    if pieces is None or (len(pieces) == 1 and pieces[0].on_land):
        if drop is None:
            drop = LineString([(lon, lat), split_xy])
            connector_km = _line_km(shapely.get_coordinates(drop))
        # the straight drop is the connector measured above
        _add_drop_edge(graph, node, joint, drop, name, km=connector_km)
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
    km: float | None = None,
) -> None:
    """One edge of a drop: a land ``connector`` or a ``subsea`` crossing with its landings.

    ``km`` is the line's geodesic length when already measured.
    """
    water = piece is not None and not piece.on_land
    data: dict[str, Any] = {
        "layer": None,
        "feature_id": None,
        "corridor": None,
        "kind": "connector",
        "deployment": "subsea" if water else "connector",
        "name": f"{'subsea link' if water else 'connector'} to {name}",
        "length_km": _line_km(shapely.get_coordinates(line)) if km is None else km,
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
    coords = shapely.get_coordinates(line)
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
    shares: _Shares,
    original: int,
    edge: EdgeKey,
    split_xy: tuple[float, float],
    segment: int,
    fraction: float,
) -> Hashable:
    """Split ``edge`` at ``split_xy`` (unless it is an end) and return the node there."""
    u, v, key = edge
    data = graph.edges[edge]
    coords: npt.NDArray[np.float64] = shapely.get_coordinates(data["geometry"])
    start, end = tuple(coords[0]), tuple(coords[-1])
    # the stored geometry may run v -> u
    node_at = {start: u, end: v} if _near(graph, u, start) else {start: v, end: u}
    if split_xy in node_at:
        return node_at[split_xy]
    cut = segment + 1 if fraction < 1.0 else segment + 2
    point = np.array([split_xy])
    head = np.concatenate((coords[:cut], point))
    tail = np.concatenate((point, coords[cut:]))
    head_kept, tail_kept = _new_points(head), _new_points(tail)
    head, tail = head[head_kept], tail[tail_kept]
    halves_xy = [head, tail]
    line_m = index.line_m(original, edge)
    if line_m is not None:
        # the halves in EPSG:6372: the piece's projected points and the split point's,
        # which is what projecting each half gives (the projection goes point by point)
        projected = shapely.get_coordinates(line_m)
        if len(projected) == len(coords):
            at = np.array([to_analysis_crs().transform(split_xy[0], split_xy[1])])
            halves_xy.append(np.concatenate((projected[:cut], at))[head_kept])
            halves_xy.append(np.concatenate((at, projected[cut:]))[tail_kept])
    # the halves' lines (and their projections) made in one call
    lines: npt.NDArray[np.object_] = np.asarray(
        shapely.linestrings(
            np.concatenate(halves_xy),
            indices=np.repeat(np.arange(len(halves_xy)), [len(xy) for xy in halves_xy]),
        )
    )
    pieces_m = list(lines[2:]) if len(lines) == 4 else None
    joint = _new_node(graph)
    graph.add_node(joint, x=split_xy[0], y=split_xy[1])
    graph.remove_edge(u, v, key)
    halves = dict(data)
    halves["geometry"] = lines[0]
    k1 = graph.add_edge(node_at[start], joint, **halves)
    halves["geometry"] = lines[1]
    k2 = graph.add_edge(joint, node_at[end], **halves)
    first, second = graph[node_at[start]][joint][k1], graph[joint][node_at[end]][k2]
    shares.add(data, first, second, head, tail)
    index.replace(
        original, edge, [(node_at[start], joint, k1), (joint, node_at[end], k2)], pieces_m
    )
    return joint


class _Shares:
    """The additive attributes of split edges, shared out between the halves in one go.

    A half takes its share of its edge's ``length_km`` and ``cost_usd`` in proportion to
    the geodesic lengths of the halves. Measured split by split, that was one geodesic
    call per split (a last mile splits a few thousand edges); the halves are measured
    together when the places are attached, and shared out in the order they were split,
    so a half split again shares out the value it was given. Nothing reads them in
    between: attaching looks only at geometry.
    """

    def __init__(self) -> None:
        self.splits: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
        self.lines: list[npt.NDArray[np.float64]] = []

    def add(
        self,
        edge: dict[str, Any],
        first: dict[str, Any],
        second: dict[str, Any],
        head: npt.NDArray[np.float64],
        tail: npt.NDArray[np.float64],
    ) -> None:
        """``edge`` was split into the halves ``first`` (along ``head``) and ``second``."""
        self.splits.append((edge, first, second))
        self.lines += [head, tail]

    def settle(self) -> None:
        """Share out every split's additive attributes, in the order of the splits."""
        if not self.splits:
            return
        km = _lines_km(*self.lines)
        for (edge, first, second), km_head, km_tail in zip(
            self.splits, km[0::2], km[1::2], strict=True
        ):
            share = km_head / (km_head + km_tail) if km_head + km_tail > 0 else 0.5
            for name in ADDITIVE_ATTRIBUTES:
                value = edge.get(name)
                if isinstance(value, int | float):
                    first[name], second[name] = value * share, value * (1.0 - share)
        self.splits.clear()
        self.lines.clear()


def _new_points(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Which points of ``coords`` differ from the one before (the first always does)."""
    keep = np.empty(len(coords), dtype=bool)
    keep[0] = True
    np.any(coords[1:] != coords[:-1], axis=1, out=keep[1:])
    return keep


def _pieces_km(pieces: Sequence[Piece]) -> float:
    return sum(_line_km(shapely.get_coordinates(p.geometry)) for p in pieces)


def _near(graph: nx.MultiGraph, node: Hashable, xy: tuple[float, float]) -> bool:
    attrs = graph.nodes[node]
    return bool(abs(attrs["x"] - xy[0]) < 1e-6 and abs(attrs["y"] - xy[1]) < 1e-6)


def _line_km(coords: npt.NDArray[np.float64]) -> float:
    return float(np.sum(geodesic_km(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])))


def _lines_km(*lines: npt.NDArray[np.float64]) -> list[float]:
    """:func:`_line_km` of each of ``lines`` (coordinate arrays), in one geodesic call."""
    starts = np.concatenate([line[:-1] for line in lines])
    ends = np.concatenate([line[1:] for line in lines])
    km = geodesic_km(starts[:, 0], starts[:, 1], ends[:, 0], ends[:, 1])
    bounds = np.cumsum([0] + [len(line) - 1 for line in lines])
    return [float(np.sum(km[a:b])) for a, b in itertools.pairwise(bounds)]
