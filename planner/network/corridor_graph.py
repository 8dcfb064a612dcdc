"""The routable corridor graph: line layers noded into a networkx ``MultiGraph``.

Rights-of-way and fiber routes become edges between nodes at line ends, crossings and
junctions. The graph is a ``MultiGraph`` on purpose: a highway and a pipeline between the
same two junctions are two real corridors with different costs and owners, and a diverse
pair may use both, so parallel edges are kept. (Searches that only need the cheapest of
them, like :mod:`planner.search.shortest_paths`, collapse them to the minimum weight.)

How lines are noded:

1. Multi-part lines are split into parts; consecutive repeated vertices are dropped.
2. Line ends closer than ``snap_tolerance_m`` (measured in EPSG:6372) are merged into one
   point, chained: a cluster takes the position of its first member.
3. A line end that is then still alone but lies within the tolerance of another line's
   interior is moved onto that line (a T junction), and that line is cut there.
4. Lines are cut wherever they cross, touch or overlap (STRtree candidate pairs, exact
   GEOS intersections in lon/lat, where the input lines are straight).
5. Piece ends within about a centimetre are one node (absorbs floating-point noise).

Every edge keeps where it came from (``layer``, ``feature_id``, ``corridor`` = (layer,
feature id), the shared-risk group), what it is (``kind``, ``deployment``: the
``row_type`` for rights of way, ``"fiber"`` for fiber routes), the attributes of its
kind (``row_type``, ``road_class``, ``status``, ``name``, ``owner`` or ``operator``, ``status``,
``lease_available``, ``fibers``, ``name``; ``None`` when unknown), its
geodesic ``length_km`` on the WGS84 ellipsoid and its ``geometry`` (EPSG:4326).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod, Transformer

from layers.errors import GraphBuildError

if TYPE_CHECKING:
    import geopandas as gpd

# Building reads frames (geopandas) and clusters ends (scipy's k-d tree and components);
# a plan on a network read from the planning cache does neither, so those are imported
# where the build uses them and a warm command never waits for them.

logger = logging.getLogger(__name__)

GRAPH_CRS = "EPSG:4326"
ANALYSIS_CRS = "EPSG:6372"
DEFAULT_SNAP_TOLERANCE_M = 50.0
_NODE_EPSILON_DEG = 1e-7  # about 1 cm: ends closer than this are one node
_GEOD = Geod(ellps="WGS84")
_ROW_ATTRIBUTES = ("row_type", "road_class", "status", "name", "owner")
_FIBER_ATTRIBUTES = ("operator", "status", "lease_available", "fibers", "name")

LineInput: TypeAlias = (
    "gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | Mapping[str, gpd.GeoDataFrame]"
)


_TRANSFORMERS = threading.local()


class CorridorGraph(nx.MultiGraph):
    """A ``MultiGraph`` that counts its structural changes in :attr:`version`.

    Every node or edge added or removed bumps the count, so a compiled snapshot of the
    graph (:func:`planner.search.shortest_paths.csr_of`) is reused while the count is
    unchanged and taken again after places are attached. Edge weights are set before an edge
    is searched and never changed in place afterwards.
    """

    version: int = 0

    def _changed(self) -> None:
        self.version = self.version + 1

    def add_node(self, node_for_adding: Any, **attr: Any) -> None:
        self._changed()
        super().add_node(node_for_adding, **attr)

    def add_nodes_from(self, nodes_for_adding: Any, **attr: Any) -> None:
        self._changed()
        super().add_nodes_from(nodes_for_adding, **attr)

    def remove_node(self, n: Any) -> None:
        self._changed()
        super().remove_node(n)

    def remove_nodes_from(self, nodes: Any) -> None:
        self._changed()
        super().remove_nodes_from(nodes)

    def add_edge(self, u_for_edge: Any, v_for_edge: Any, key: Any = None, **attr: Any) -> Any:
        self._changed()
        return super().add_edge(u_for_edge, v_for_edge, key, **attr)

    def add_edges_from(self, ebunch_to_add: Any, **attr: Any) -> Any:
        self._changed()
        return super().add_edges_from(ebunch_to_add, **attr)

    def remove_edge(self, u: Any, v: Any, key: Any = None) -> None:
        self._changed()
        super().remove_edge(u, v, key)

    def remove_edges_from(self, ebunch: Any) -> None:
        self._changed()
        super().remove_edges_from(ebunch)

    def clear(self) -> None:
        self._changed()
        super().clear()

    def clear_edges(self) -> None:
        self._changed()
        super().clear_edges()


def to_analysis_crs() -> Transformer:
    """The lon/lat to EPSG:6372 (Mexico LCC, metres) transformer used for distances.

    Building a transformer costs milliseconds and attaching each place needs one, so each
    thread keeps its own (pyproj transformers must not be shared across threads).
    """
    transformer: Transformer | None = getattr(_TRANSFORMERS, "to_analysis", None)
    if transformer is None:
        transformer = Transformer.from_crs(GRAPH_CRS, ANALYSIS_CRS, always_xy=True)
        _TRANSFORMERS.to_analysis = transformer
    return transformer


def project(geoms: Any) -> Any:
    """Lon/lat geometries in EPSG:6372 (:func:`to_analysis_crs`), one transformer call."""
    transformer = to_analysis_crs()
    return shapely.transform(
        geoms, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1]))
    )


def geodesic_km(
    lon: npt.ArrayLike, lat: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> Any:
    """Geodesic distance in km on the WGS84 ellipsoid between point arrays."""
    _, _, dist = _GEOD.inv(lon, lat, lon2, lat2)
    return np.asarray(dist, dtype=np.float64) / 1000.0


def build_corridor_graph(
    lines: LineInput, *, snap_tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M
) -> nx.MultiGraph:
    """Node line layers into a routable corridor graph.

    Parameters
    ----------
    lines
        Line layers in EPSG:4326 of kind ``rights_of_way`` (a ``row_type`` column) or
        ``fiber_routes`` (an ``operator`` column): one GeoDataFrame with a ``layer``
        column, a list of GeoDataFrames (each named by its ``layer`` column or
        ``attrs["name"]``, else ``layer<i>``) or a mapping from layer name to frame.
        A feature's id is its ``id`` column when present, else its index label.
    snap_tolerance_m
        Line ends closer than this (metres, EPSG:6372) are joined.

    Returns
    -------
    networkx.MultiGraph
        Integer nodes with ``x``, ``y`` (lon, lat); edges as described in the module doc.
        ``graph.graph`` holds ``crs``, ``analysis_crs``, ``length_units`` and
        ``snap_tolerance_m``.

    Raises
    ------
    GraphBuildError
        If a frame has no CRS or holds no lines at all.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> roads = gpd.GeoDataFrame(
    ...     {"row_type": ["highway", "rail"]},
    ...     geometry=[
    ...         LineString([(-93, 18), (-93, 19)]),
    ...         LineString([(-93.5, 18.5), (-92.5, 18.5)]),
    ...     ],
    ...     crs="EPSG:4326",
    ... )
    >>> g = build_corridor_graph({"row": roads})
    >>> g.number_of_nodes(), g.number_of_edges()
    (5, 4)
    """
    geoms, records = _collect(lines)
    pieces = node_parts(*layer_parts(geoms), snap_tolerance_m=snap_tolerance_m)
    return _assemble(pieces, records, snap_tolerance_m)


@dataclass
class Pieces:
    """The noded lines as arrays: the nodes, and each edge (a piece of a feature) in order.

    The networkx build (:func:`build_corridor_graph`) adds the edges in this order;
    :mod:`planner.network.table_build` writes them as a table without making a graph.
    """

    node_xy: npt.NDArray[np.float64]
    """Lon/lat of each node (the node id is the row)."""
    u: npt.NDArray[np.int64]
    v: npt.NDArray[np.int64]
    key: npt.NDArray[np.int64]
    """Key of each edge among those between its two nodes (0, 1, ... in order)."""
    feature: npt.NDArray[np.int64]
    """Row of the feature (over all layers, in order) each edge is a piece of."""
    length_km: npt.NDArray[np.float64]
    coords: npt.NDArray[np.float64]
    offsets: npt.NDArray[np.int64]
    """Edge ``i``'s vertices are ``coords[offsets[i]:offsets[i + 1]]``."""

    @property
    def n(self) -> int:
        return int(self.node_xy.shape[0])

    def lines(self) -> npt.NDArray[Any]:
        """The edges' geometries as LineStrings."""
        counts = np.diff(self.offsets)
        return _lines(self.coords, np.repeat(np.arange(counts.size), counts))


def layer_parts(
    geoms: npt.NDArray[Any],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The vertices of the single lines in ``geoms``: ``(xy, part of each, feature of each part)``.

    Taken layer by layer and concatenated (part and feature rows shifted), it is what the
    layers' geometries together give.
    """
    parts, part_feature = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 1
    parts, part_feature = parts[keep], part_feature[keep]
    xy, part_of = shapely.get_coordinates(parts, return_index=True)
    return xy, part_of.astype(np.int64), part_feature.astype(np.int64)


def node_parts(
    xy: npt.NDArray[np.float64],
    part_of: npt.NDArray[np.int64],
    part_feature: npt.NDArray[np.int64],
    *,
    snap_tolerance_m: float,
) -> Pieces:
    """Node the parts (steps 1-5 of the module doc) into :class:`Pieces`."""
    if snap_tolerance_m < 0 or not math.isfinite(snap_tolerance_m):
        raise GraphBuildError("snap_tolerance_m must be a finite distance of 0 metres or more")
    xy, part_of, part_feature = _drop_repeats(xy, part_of, part_feature)
    if part_feature.size == 0:
        raise GraphBuildError(
            "the layers hold no lines to route on; load rights_of_way or fiber_routes"
        )
    starts = np.flatnonzero(np.r_[True, part_of[1:] != part_of[:-1]])
    ends = np.r_[starts[1:], part_of.size] - 1
    cuts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] = []
    dangling = _snap_ends(xy, starts, ends, snap_tolerance_m)
    parts = _lines(xy, part_of)
    cuts.append(_snap_to_lines(xy, parts, starts, ends, dangling, snap_tolerance_m))
    parts = _lines(xy, part_of)
    cuts.append(_intersections(parts))
    located = _locate_cuts(parts, cuts)
    del parts, cuts
    piece_xy, piece_of, piece_part = _cut(xy, part_of, located)
    del xy, part_of, located
    return _pieces(piece_xy, piece_of, part_feature[piece_part])


def _lines(xy: npt.NDArray[np.float64], index: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    """LineStrings from vertex rows grouped by ``index`` (consecutive, from 0)."""
    return np.asarray(shapely.linestrings(xy, indices=index), dtype=object)


def _collect(lines: LineInput) -> tuple[npt.NDArray[Any], list[dict[str, Any]]]:
    """Geometries and per-feature attribute records of every input frame."""
    import geopandas as gpd

    if isinstance(lines, gpd.GeoDataFrame):
        if "layer" in lines.columns:
            frames = [(str(name), frame) for name, frame in lines.groupby("layer", sort=False)]
        else:
            frames = [(str(lines.attrs.get("name", "layer0")), lines)]
    elif isinstance(lines, Mapping):
        frames = [(str(name), frame) for name, frame in lines.items()]
    else:
        frames = []
        for i, frame in enumerate(lines):
            if "layer" in frame.columns:
                frames.extend((str(n), f) for n, f in frame.groupby("layer", sort=False))
            else:
                frames.append((str(frame.attrs.get("name", f"layer{i}")), frame))
    geoms: list[npt.NDArray[Any]] = []
    records: list[dict[str, Any]] = []
    for name, frame in frames:
        if frame.crs is None:
            raise GraphBuildError(f"layer {name!r} has no CRS; set it with .set_crs('EPSG:4326')")
        if not frame.crs.equals(GRAPH_CRS):
            frame = frame.to_crs(GRAPH_CRS)
        geoms.append(np.asarray(frame.geometry.values, dtype=object))
        records.extend(_records(name, frame))
    if not geoms:
        raise GraphBuildError("no line layers given; load rights_of_way or fiber_routes")
    return np.concatenate(geoms), records


def _records(layer: str, frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """One attribute dict per feature (see :func:`feature_columns`)."""
    _, columns = feature_columns(layer, frame)
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def feature_columns(layer: str, frame: gpd.GeoDataFrame) -> tuple[str, dict[str, list[Any]]]:
    """The layer's kind and each feature's attributes as columns, in an edge's key order.

    ``layer``, ``feature_id``, ``kind``, ``corridor`` (layer, feature id), the attributes
    of the layer's kind (``None`` for absent or null values) and ``deployment``.
    """
    n = len(frame)
    ids = frame["id"].tolist() if "id" in frame.columns else frame.index.tolist()
    kind = "rights_of_way" if "row_type" in frame.columns else "fiber_routes"
    # only the attributes of the layer's kind: a million edges pay for every key
    wanted = _ROW_ATTRIBUTES if kind == "rights_of_way" else _FIBER_ATTRIBUTES
    columns: dict[str, list[Any]] = {
        "layer": [layer] * n,
        "feature_id": ids,
        "kind": [kind] * n,
        "corridor": [(layer, i) for i in ids],
    }
    for col in wanted:
        if col in frame.columns:
            columns[col] = frame[col].astype(object).where(frame[col].notna(), None).tolist()
        else:
            columns[col] = [None] * n
    columns["deployment"] = columns["row_type"] if kind == "rights_of_way" else ["fiber"] * n
    return kind, columns


def _drop_repeats(
    xy: npt.NDArray[np.float64], part_of: npt.NDArray[np.int64], part_feature: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Drop consecutive repeated vertices and parts left with fewer than two."""
    same = np.zeros(part_of.size, dtype=bool)
    same[1:] = (part_of[1:] == part_of[:-1]) & np.all(xy[1:] == xy[:-1], axis=1)
    xy, part_of = xy[~same], part_of[~same]
    counts = np.bincount(part_of, minlength=part_feature.size)
    good = counts >= 2
    keep = good[part_of]
    renumber = np.cumsum(good) - 1
    return xy[keep], renumber[part_of[keep]], part_feature[good]


def _snap_ends(
    xy: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    tolerance_m: float,
) -> npt.NDArray[np.int64]:
    """Merge line ends within ``tolerance_m``; return the vertex rows of lone ends."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    rows = np.concatenate([starts, ends])
    px, py = to_analysis_crs().transform(xy[rows, 0], xy[rows, 1])
    tree = cKDTree(np.column_stack([px, py]))
    pairs = tree.query_pairs(r=tolerance_m, output_type="ndarray") if tolerance_m > 0 else None
    n = rows.size
    if pairs is None or pairs.size == 0:
        pairs = np.empty((0, 2), dtype=np.int64)
    adjacency = coo_array(
        (np.ones(pairs.shape[0]), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    ).tocsr()
    _, label = connected_components(adjacency, directed=False)
    first = np.full(int(label.max()) + 1, n, dtype=np.int64)
    np.minimum.at(first, label, np.arange(n))
    xy[rows] = xy[rows[first[label]]]
    _, inverse, counts = np.unique(xy[rows], axis=0, return_inverse=True, return_counts=True)
    lone = counts[inverse.ravel()] == 1
    return rows[lone]


def _snap_to_lines(
    xy: npt.NDArray[np.float64],
    parts: npt.NDArray[Any],
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    dangling: npt.NDArray[np.int64],
    tolerance_m: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Move lone ends onto a line within tolerance; return the cuts that makes."""
    empty = (np.empty(0, dtype=np.int64), np.empty((0, 2)))
    if dangling.size == 0:
        return empty
    projected = project(parts)
    px, py = to_analysis_crs().transform(xy[dangling, 0], xy[dangling, 1])
    points = shapely.points(px, py)
    owner = np.searchsorted(starts, dangling, side="right") - 1
    tree = shapely.STRtree(projected)
    qi, pi = tree.query(points, predicate="dwithin", distance=tolerance_m)
    other = pi != owner[qi]
    qi, pi = qi[other], pi[other]
    if qi.size == 0:
        return empty
    dist = shapely.distance(points[qi], projected[pi])
    order = np.lexsort((dist, qi))
    qi, pi = qi[order], pi[order]
    first = np.r_[True, qi[1:] != qi[:-1]]
    qi, pi = qi[first], pi[first]
    ends_xy = shapely.points(xy[dangling[qi]])
    pos = shapely.line_locate_point(parts[pi], ends_xy)
    onto = shapely.get_coordinates(shapely.line_interpolate_point(parts[pi], pos))
    xy[dangling[qi]] = onto
    return pi.astype(np.int64), onto


def _intersections(
    parts: npt.NDArray[Any],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Points where parts cross, touch or start/stop overlapping, for both parts."""
    tree = shapely.STRtree(parts)
    a, b = tree.query(parts, predicate="intersects")
    upper = a < b
    a, b = a[upper], b[upper]
    a, b = _skip_plain_joints(parts, a, b)
    if a.size == 0:
        return np.empty(0, dtype=np.int64), np.empty((0, 2))
    del tree
    found: list[list[npt.NDArray[Any]]] = [[], [], [], [], [], []]
    # in chunks: each pair's intersection is a GEOS geometry, a few hundred bytes that a
    # national road layer's millions of pairs would all hold at once
    for start in range(0, a.size, _CHUNK):
        chunk = slice(start, start + _CHUNK)
        for i, array in enumerate(_meeting_points(parts[a[chunk]], parts[b[chunk]])):
            found[i].append(array + start if i % 2 else array)
    points, point_pairs, starts, start_pairs, stops, stop_pairs = (
        np.concatenate(arrays) for arrays in found
    )
    # in the order of one call over every pair: points, overlap starts, overlap stops
    where = np.concatenate([points, starts, stops])
    owner = np.concatenate([point_pairs, start_pairs, stop_pairs])
    return np.concatenate([a[owner], b[owner]]), np.concatenate([where, where])


_CHUNK = 100_000
"""Pairs of lines (or cut points) handled at once where each makes a GEOS geometry."""


def _meeting_points(first: npt.NDArray[Any], second: npt.NDArray[Any]) -> list[Any]:
    """Where each pair of lines meets: crossing or touching points, the ends of overlap
    runs where they start, where they stop, each with the pair it belongs to."""
    inter = shapely.intersection(first, second)
    pieces, pair = shapely.get_parts(inter, return_index=True)
    del inter
    # GEOS can return empty parts (e.g. LINESTRING EMPTY) in a collection: they have no ends
    solid = ~shapely.is_empty(pieces)
    pieces, pair = pieces[solid], pair[solid].astype(np.int64)
    kinds = shapely.get_type_id(pieces)
    point = kinds == 0
    line = kinds == 1
    out = [shapely.get_coordinates(pieces[point]).reshape(-1, 2), pair[point]]
    lines = pieces[line]
    # ends of an overlap run, not of each of its segments: drop ends seen twice
    ends = np.concatenate(
        [
            shapely.get_coordinates(shapely.get_point(lines, 0)),
            shapely.get_coordinates(shapely.get_point(lines, -1)),
        ]
    ).reshape(-1, 2)
    owner_of_end = np.concatenate([pair[line], pair[line]])
    once = np.zeros(owner_of_end.size, dtype=bool)
    if owner_of_end.size:
        key = np.column_stack([owner_of_end, ends])
        _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
        once = counts[inverse.ravel()] == 1
    half = lines.size
    for part in (slice(0, half), slice(half, 2 * half)):
        out += [ends[part][once[part]], owner_of_end[part][once[part]]]
    return out


def _skip_plain_joints(
    parts: npt.NDArray[Any], a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Drop pairs of two-vertex parts that only share an end (nothing to cut there).

    Two straight segments sharing an end meet nowhere else unless they overlap, which
    needs them to point the same way from the shared end.
    """
    two = shapely.get_num_points(parts) == 2
    both = two[a] & two[b]
    if not both.any():
        return a, b
    ends = np.stack([shapely.get_coordinates(shapely.get_point(parts, i)) for i in (0, -1)], 1)
    pa, pb = ends[a[both]], ends[b[both]]
    keep_both = np.ones(pa.shape[0], dtype=bool)
    for i in (0, 1):
        for j in (0, 1):
            shared = np.all(pa[:, i] == pb[:, j], axis=1)
            da, db = pa[:, 1 - i] - pa[:, i], pb[:, 1 - j] - pb[:, j]
            cross = da[:, 0] * db[:, 1] - da[:, 1] * db[:, 0]
            dot = np.einsum("ij,ij->i", da, db)
            keep_both &= ~(shared & ~((cross == 0) & (dot > 0)))
    keep = np.ones(a.size, dtype=bool)
    keep[np.flatnonzero(both)] = keep_both
    return a[keep], b[keep]


def _locate_cuts(
    parts: npt.NDArray[Any],
    cuts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]],
) -> tuple[Any, ...]:
    """Each cut's part, point and position along the part, and each part's length."""
    cut_part = np.concatenate([c[0] for c in cuts])
    cut_xy = np.concatenate([c[1] for c in cuts]).reshape(-1, 2)
    length = shapely.length(parts)
    cut_pos = np.empty(cut_part.size)
    for start in range(0, cut_part.size, _CHUNK):  # a GEOS point per cut: in chunks
        chunk = slice(start, start + _CHUNK)
        cut_pos[chunk] = shapely.line_locate_point(
            parts[cut_part[chunk]], shapely.points(cut_xy[chunk])
        )
    return cut_part, cut_xy, cut_pos, length


def _cut(
    xy: npt.NDArray[np.float64], part_of: npt.NDArray[np.int64], located: tuple[Any, ...]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Split parts at cut points; return piece vertices, piece of each and part of each piece."""
    cut_part, cut_xy, cut_pos, length = located
    inside = (cut_pos > 0) & (cut_pos < length[cut_part])
    cut_part, cut_xy, cut_pos = cut_part[inside], cut_xy[inside], cut_pos[inside]
    # a few arrays the size of all vertices at a time (each let go once used): a national
    # road layer has millions of vertices
    same = part_of[1:] == part_of[:-1]
    seg = np.zeros(part_of.size)
    seg[1:] = np.where(same, np.hypot(*(xy[1:] - xy[:-1]).T), 0.0)
    starts = np.flatnonzero(np.r_[True, ~same])
    del same
    csum = np.cumsum(seg)
    del seg
    vpos = csum - csum[starts][part_of]
    del csum, starts
    # rows: vertices (flag 1) and cuts (flag 0 = start of next piece, 2 = end of previous)
    part = np.concatenate([part_of, cut_part])
    pos = np.concatenate([vpos, cut_pos])
    del vpos
    is_cut = np.r_[np.zeros(part_of.size, dtype=np.int64), np.ones(cut_part.size, dtype=np.int64)]
    order = np.lexsort((is_cut, pos, part))
    part, pos, is_cut = part[order], pos[order], is_cut[order]
    coords = np.concatenate([xy, cut_xy])[order]
    del order
    before = np.cumsum(is_cut) - is_cut
    first_row = np.searchsorted(part, part, side="left")
    local = before - before[first_row]
    del before, first_row
    c = is_cut == 1
    del is_cut
    all_part = np.concatenate([part, part[c]])
    del part
    all_piece = np.concatenate([local, local[c] + 1])
    del local
    all_pos = np.concatenate([pos, pos[c]])
    del pos
    all_flag = np.concatenate([np.where(c, 2, 1), np.zeros(int(c.sum()), dtype=np.int64)])
    all_xy = np.concatenate([coords, coords[c]])
    del coords, c
    order = np.lexsort((all_flag, all_pos, all_piece, all_part))
    del all_flag, all_pos
    all_part, all_piece, all_xy = all_part[order], all_piece[order], all_xy[order]
    del order
    new_piece = np.r_[True, (all_part[1:] != all_part[:-1]) | (all_piece[1:] != all_piece[:-1])]
    del all_piece
    piece = np.cumsum(new_piece) - 1
    repeat = np.zeros(piece.size, dtype=bool)
    repeat[1:] = (~new_piece[1:]) & np.all(all_xy[1:] == all_xy[:-1], axis=1)
    del new_piece
    keep = ~repeat
    del repeat
    all_xy, piece, all_part = all_xy[keep], piece[keep], all_part[keep]
    counts = np.bincount(piece)
    ok = counts[piece] >= 2
    all_xy, piece, all_part = all_xy[ok], piece[ok], all_part[ok]
    del ok, keep
    _, piece = np.unique(piece, return_inverse=True)
    piece = piece.ravel().astype(np.int64)
    first = np.r_[True, piece[1:] != piece[:-1]]
    return all_xy, piece, all_part[first]


def _pieces(
    xy: npt.NDArray[np.float64],
    piece_of: npt.NDArray[np.int64],
    piece_feature: npt.NDArray[np.int64],
) -> Pieces:
    """Join piece ends into nodes; drop zero-length loops; key parallel edges."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    first = np.flatnonzero(np.r_[True, piece_of[1:] != piece_of[:-1]])
    last = np.r_[first[1:], piece_of.size] - 1
    ends = np.concatenate([xy[first], xy[last]])
    pairs = cKDTree(ends).query_pairs(r=_NODE_EPSILON_DEG, output_type="ndarray")
    m = ends.shape[0]
    adjacency = coo_array(
        (np.ones(pairs.shape[0]), (pairs[:, 0], pairs[:, 1])), shape=(m, m)
    ).tocsr()
    _, label = connected_components(adjacency, directed=False)
    n_nodes = int(label.max()) + 1
    node_first = np.full(n_nodes, m, dtype=np.int64)
    np.minimum.at(node_first, label, np.arange(m))
    node_xy = ends[node_first]
    n_pieces = first.size
    u, v = label[:n_pieces].astype(np.int64), label[n_pieces:].astype(np.int64)
    same = np.zeros(piece_of.size, dtype=bool)
    same[1:] = piece_of[1:] == piece_of[:-1]
    seg_km = np.zeros(piece_of.size)
    seg_km[1:] = geodesic_km(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    seg_km[~same] = 0.0
    length_km = np.add.reduceat(seg_km, first)
    del seg_km, same
    keep = ~((u == v) & (length_km <= 1e-9))
    counts = np.diff(np.r_[first, piece_of.size])[keep]
    coords = xy[keep[piece_of]]
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    u, v, piece_feature, length_km = u[keep], v[keep], piece_feature[keep], length_km[keep]
    # explicit keys (0, 1, ... per node pair) spare networkx a key search per edge
    key = pair_keys(u, v, n_nodes)
    return Pieces(node_xy, u, v, key, piece_feature.astype(np.int64), length_km, coords, offsets)


def pair_keys(
    u: npt.NDArray[np.int64], v: npt.NDArray[np.int64], n_nodes: int
) -> npt.NDArray[np.int64]:
    """Multigraph keys 0, 1, ... per node pair, in the order the edges come (as networkx's).

    ``u`` and ``v`` are the edges' end nodes, numbered below ``n_nodes``; either direction
    is the same pair.
    """
    pair = np.minimum(u, v) * max(n_nodes, 1) + np.maximum(u, v)
    order = np.argsort(pair, kind="stable")
    sorted_pair = pair[order]
    run_start = np.r_[True, sorted_pair[1:] != sorted_pair[:-1]]
    first_of_run = np.maximum.accumulate(np.where(run_start, np.arange(pair.size), 0))
    key = np.empty(pair.size, dtype=np.int64)
    key[order] = np.arange(pair.size) - first_of_run
    return key


def new_graph(snap_tolerance_m: float) -> CorridorGraph:
    """An empty corridor graph with the graph attributes every build sets."""
    return CorridorGraph(
        crs=GRAPH_CRS,
        analysis_crs=ANALYSIS_CRS,
        length_units="km",
        snap_tolerance_m=snap_tolerance_m,
    )


def _assemble(
    pieces: Pieces, records: list[dict[str, Any]], snap_tolerance_m: float
) -> nx.MultiGraph:
    """Turn pieces into nodes and edges of a MultiGraph."""
    graph = new_graph(snap_tolerance_m)
    graph.add_nodes_from(
        (i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(pieces.node_xy.tolist())
    )
    graph.add_edges_from(
        (a, b, k, {**records[f], "length_km": km, "geometry": g})
        for a, b, k, f, km, g in zip(
            pieces.u.tolist(),
            pieces.v.tolist(),
            pieces.key.tolist(),
            pieces.feature.tolist(),
            pieces.length_km.tolist(),
            pieces.lines(),
            strict=True,
        )
    )
    graph.graph["next_node"] = pieces.n
    logger.info(
        "corridor graph: %d nodes, %d edges from %d features",
        pieces.n,
        pieces.u.size,
        len(records),
    )
    return graph
