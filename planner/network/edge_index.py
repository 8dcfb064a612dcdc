"""The nearest corridor edge to a point, answered from arrays kept with the network.

Attaching a place asks which corridor edge lies nearest to it (EPSG:6372 metres). A
``shapely.STRtree`` answers that, but building it over a million projected edges costs
each process seconds. :class:`EdgeIndex` answers the same questions from the edges'
EPSG:6372 bounds, computed once when the network is written
(:mod:`planner.network.edge_table`), with a k-d tree over the bounds' centres: an edge
lies at least its centre's distance less its half diagonal from a point, so only the
edges whose centres fall within the best distance found plus the largest half diagonal
need their exact distance (GEOS, as the tree measures it). Edges much longer than the
rest (a bridge, a long highway piece) are kept apart and checked by their bounds, so
they do not widen every search. Where two edges are exactly equally near (parallel
corridors on one line, a place nearest a shared end) the ``STRtree``'s order of equals
has always chosen the edge a place joins; only then is the tree built, so the answer
is the one it gives.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from planner.network.corridor_graph import project, to_analysis_crs

_FIRST_GUESSES = 8
"""Nearest centres whose exact distance bounds the search."""


def joins_places(data: Mapping[str, Any]) -> bool:
    """Whether places may join this edge: a land corridor, never a drop or a cable at sea."""
    return (
        data.get("kind") != "connector"
        and data.get("geometry") is not None
        and data.get("deployment_type") != "subsea"
        and data.get("kind") != "subsea"
    )


def attachable(records: Sequence[dict[str, Any]]) -> npt.NDArray[np.bool_]:
    """Which of ``records`` places may join (:func:`joins_places`)."""
    return np.fromiter((joins_places(d) for d in records), dtype=bool, count=len(records))


def projected_bounds(lines: Sequence[Any]) -> npt.NDArray[np.float64]:
    """EPSG:6372 bounds ``(minx, miny, maxx, maxy)`` of each lon/lat line."""
    if not lines:
        return np.empty((0, 4))
    coords, which = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    x, y = to_analysis_crs().transform(coords[:, 0], coords[:, 1])
    n = len(lines)
    starts = np.flatnonzero(np.r_[True, which[1:] != which[:-1]])
    out = np.empty((n, 4))
    out[which[starts], 0] = np.minimum.reduceat(x, starts)
    out[which[starts], 1] = np.minimum.reduceat(y, starts)
    out[which[starts], 2] = np.maximum.reduceat(x, starts)
    out[which[starts], 3] = np.maximum.reduceat(y, starts)
    return out


def _box_distance(bounds: npt.NDArray[np.float64], x: float, y: float) -> Any:
    dx = np.maximum(np.maximum(bounds[:, 0] - x, x - bounds[:, 2]), 0.0)
    dy = np.maximum(np.maximum(bounds[:, 1] - y, y - bounds[:, 3]), 0.0)
    return np.hypot(dx, dy)


class _Geometries:
    """EPSG:6372 line of each of ``size`` indexed edges, projected when first asked for."""

    def __init__(
        self,
        line: Callable[[int], Any],
        size: int,
        lines_at: Callable[[npt.NDArray[np.intp]], Any] | None = None,
    ) -> None:
        self._line = line
        self._lines_at = lines_at
        self._done = np.full(size, None, dtype=object)

    def __getitem__(self, i: int) -> Any:
        found = self._done[i]
        if found is None:
            found = self._done[i] = project(self._line(int(i)))
        return found

    def many(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.object_]:
        rows = np.asarray(rows, dtype=np.intp)
        chosen = self._done[rows]
        missing = np.unique(rows[chosen == None])  # noqa: E711 - elementwise test of objects
        if missing.size:
            # one transformer call for all (it projects point by point: the same lines)
            if self._lines_at is not None:
                lines = np.asarray(self._lines_at(missing), dtype=object)
            else:
                lines = np.asarray([self._line(int(i)) for i in missing], dtype=object)
            self._done[missing] = project(lines)
            chosen = self._done[rows]
        return chosen


class EdgeIndex:
    """The ``query_nearest`` / ``query`` / ``geometries`` of a ``shapely.STRtree`` of lines.

    Parameters
    ----------
    bounds
        EPSG:6372 bounds of each line, one row each.
    line
        The lon/lat line of entry ``i`` (projected when its exact distance is needed).
    lines
        Every entry's lon/lat line, in order (for the tree of equally near entries).
    lines_at
        The lon/lat lines of the entries at given positions, made at once (default: one
        by one with ``line``).
    """

    def __init__(
        self,
        bounds: npt.NDArray[np.float64],
        line: Callable[[int], Any],
        lines: Callable[[], Any],
        lines_at: Callable[[npt.NDArray[np.intp]], Any] | None = None,
    ) -> None:
        bounds = np.asarray(bounds, dtype=np.float64)
        self.geometries = _Geometries(line, len(bounds), lines_at)
        self._lines = lines
        self._strtree: shapely.STRtree | None = None
        centre = (bounds[:, :2] + bounds[:, 2:]) / 2.0
        half = np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) / 2.0
        # the longest hundredth (and anything over 4x the rest's longest) checked by bounds
        cut = float(np.quantile(half, 0.99)) if half.size else 0.0
        short = half <= cut
        self.short = np.flatnonzero(short)
        self.long = np.flatnonzero(~short)
        self.long_bounds = bounds[self.long]
        self.bounds = bounds
        self.reach = float(half[short].max()) if self.short.size else 0.0
        self.tree = cKDTree(centre[short]) if self.short.size else None
        self.centre = centre

    def __len__(self) -> int:
        return int(self.short.size + self.long.size)

    def _within(self, x: float, y: float, distance: float) -> npt.NDArray[np.intp]:
        """Entries whose line may lie within ``distance`` of ``(x, y)``."""
        # a little slack: GEOS and these bounds round distances differently in the last bit
        distance = distance * (1.0 + 1e-9) + 1e-6
        found = []
        if self.tree is not None:
            hits = self.tree.query_ball_point((x, y), distance + self.reach)
            found.append(self.short[np.asarray(hits, dtype=np.intp)])
        if self.long.size:
            near = _box_distance(self.long_bounds, x, y) <= distance
            found.append(self.long[near])
        return np.sort(np.concatenate(found)) if found else np.empty(0, dtype=np.intp)

    def _nearest_one(self, point: Any) -> npt.NDArray[np.intp]:
        x, y = shapely.get_x(point), shapely.get_y(point)
        guesses = []
        if self.tree is not None:
            k = min(_FIRST_GUESSES, self.short.size)
            _, first = self.tree.query((x, y), k=k)
            guesses.append(self.short[np.atleast_1d(first)])
        if self.long.size:
            box = _box_distance(self.long_bounds, x, y)
            guesses.append(self.long[np.argsort(box, kind="stable")[:_FIRST_GUESSES]])
        rows = np.unique(np.concatenate(guesses))
        best = float(np.min(shapely.distance(self.geometries.many(rows), point)))
        rows = self._within(x, y, best)
        dist = shapely.distance(self.geometries.many(rows), point)
        nearest = rows[dist == dist.min()]
        if nearest.size > 1:
            # equally near (parallel corridors, a shared end): the tree's order of equals
            # decides which one a place joins, so it is asked, as before
            nearest = self.strtree().query_nearest(point)
        return nearest

    def strtree(self) -> shapely.STRtree:
        """The ``STRtree`` of every line in EPSG:6372, built when first needed."""
        if self._strtree is None:
            self._strtree = shapely.STRtree(project(self._lines()))
        return self._strtree

    def query_nearest(self, points: Any) -> Any:
        """Like ``STRtree.query_nearest``: the nearest entries (all equally near, in order).

        One point gives an array of entries; an array of points a ``(2, k)`` array of
        (point, entry) pairs.
        """
        if isinstance(points, shapely.Geometry):
            return self._nearest_one(points)
        points = np.asarray(points, dtype=object)
        pairs = [(i, int(row)) for i, rows in enumerate(self._nearest_many(points)) for row in rows]
        return np.asarray(pairs, dtype=np.intp).reshape(-1, 2).T

    def _nearest_many(self, points: npt.NDArray[np.object_]) -> list[npt.NDArray[np.intp]]:
        """:meth:`_nearest_one` of each of ``points``, each step taken for all at once.

        The same answers: the exact distances of the same first guesses bound each
        point's search, every entry whose bounds lie within it is measured, and equally
        near entries are left to the ``STRtree``. Entries found by their centre whose
        bounds lie beyond the bound are not measured: they cannot be nearest.
        """
        n = len(points)
        if n == 0:
            return []
        x, y = shapely.get_x(points), shapely.get_y(points)
        xy = np.column_stack([x, y])
        guesses = []
        if self.tree is not None:
            k = min(_FIRST_GUESSES, self.short.size)
            _, first = self.tree.query(xy, k=k)
            guesses.append(self.short[np.asarray(first).reshape(n, -1)])
        box = self._long_box_distances(x, y)
        if self.long.size:
            guesses.append(self.long[np.argsort(box, axis=1, kind="stable")[:, :_FIRST_GUESSES]])
        rows = np.concatenate(guesses, axis=1)
        who = np.repeat(np.arange(n), rows.shape[1])
        best = self._distances(rows.ravel(), points[who]).reshape(n, -1).min(axis=1)
        # the slack of _within: GEOS and the bounds round differently in the last bit
        within = best * (1.0 + 1e-9) + 1e-6
        found_who, found_rows = [], []
        if self.tree is not None:
            hits = self.tree.query_ball_point(xy, within + self.reach)
            counts = np.fromiter(map(len, hits), dtype=np.intp, count=n)
            near = np.fromiter(itertools.chain.from_iterable(hits), np.intp, int(counts.sum()))
            found_who.append(np.repeat(np.arange(n), counts))
            found_rows.append(self.short[near])
        if self.long.size:
            point, entry = np.nonzero(box <= within[:, None])
            found_who.append(point)
            found_rows.append(self.long[entry])
        who = np.concatenate(found_who)
        rows = np.concatenate(found_rows)
        bounds = self.bounds[rows]
        dx = np.maximum(np.maximum(bounds[:, 0] - x[who], x[who] - bounds[:, 2]), 0.0)
        dy = np.maximum(np.maximum(bounds[:, 1] - y[who], y[who] - bounds[:, 3]), 0.0)
        keep = np.hypot(dx, dy) <= within[who]
        order = np.argsort(who[keep], kind="stable")
        who, rows = who[keep][order], rows[keep][order]
        dist = self._distances(rows, points[who])
        counts = np.bincount(who, minlength=n)
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        least = np.minimum.reduceat(dist, starts)
        nearest = dist == least[who]
        out = np.split(rows[nearest], np.cumsum(np.bincount(who[nearest], minlength=n))[:-1])
        tied = np.flatnonzero(np.array([len(rows) > 1 for rows in out]))
        if tied.size:
            # equally near: the tree's order of equals decides, as for one point
            which, entries = self.strtree().query_nearest(points[tied])
            for k, i in enumerate(tied.tolist()):
                out[i] = entries[which == k]
        return out

    def _long_box_distances(self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> Any:
        """:func:`_box_distance` from each point to each long entry, one row per point."""
        bounds = self.long_bounds
        dx = np.maximum(np.maximum(bounds[:, 0] - x[:, None], x[:, None] - bounds[:, 2]), 0.0)
        dy = np.maximum(np.maximum(bounds[:, 1] - y[:, None], y[:, None] - bounds[:, 3]), 0.0)
        return np.hypot(dx, dy)

    def _distances(self, rows: npt.NDArray[np.intp], points: npt.NDArray[np.object_]) -> Any:
        """GEOS distance from entry ``rows[i]`` to ``points[i]``, for every ``i``."""
        return shapely.distance(self.geometries.many(rows), points)

    def query(self, point: Any, predicate: str = "dwithin", distance: float = 0.0) -> Any:
        """Like ``STRtree.query(point, predicate="dwithin", distance=...)``: entries within."""
        if predicate != "dwithin":
            raise ValueError("only the 'dwithin' predicate is supported")
        rows = self._within(shapely.get_x(point), shapely.get_y(point), distance)
        if not rows.size:
            return rows
        return rows[shapely.dwithin(self.geometries.many(rows), point, distance)]
