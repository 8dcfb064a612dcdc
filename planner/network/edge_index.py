"""The nearest corridor edge to a point, answered from arrays kept with the network.

Attaching a place asks which corridor edge lies nearest to it (EPSG:6372 metres). A
``shapely.STRtree`` answers that, but building it over a million projected edges costs
each process seconds. :class:`EdgeIndex` answers the same questions from the edges'
EPSG:6372 bounds, computed once when the network is written
(:mod:`planner.network.edge_table`), with a grid over the bounds' centres: an edge lies
at least its centre's distance less its half diagonal from a point, so only the edges
whose centres fall within the best distance found plus the largest half diagonal need
their exact distance (GEOS, as the tree measures it). Any index that finds those centres
gives the same answer; a grid is one sort to make and plain arrays to keep, so the
network's writer stores it beside the network (:func:`write_edge_index`) and every
process maps it (:func:`read_edge_index`) instead of building a k-d tree over a million
centres (a third of a second each time). Edges much longer than the
rest (a bridge, a long highway piece) are kept apart and checked by their bounds, so
they do not widen every search. Where two edges are exactly equally near (parallel
corridors on one line, a place nearest a shared end) the ``STRtree``'s order of equals
has always chosen the edge a place joins; only then is the tree built, so the answer
is the one it gives.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from planner.network.corridor_graph import project, to_analysis_crs

_FIRST_GUESSES = 8
"""Nearest centres whose exact distance bounds the search."""

_MANY_POINTS = 32
"""Points asked at once from which each step is taken for all of them (plus one for
every thousand entries: a k-d tree of the centres is built for them)."""


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


class _Grid:
    """The short entries' bounds centres bucketed by square cell: a k-d tree as flat arrays.

    ``order`` lists the entries cell by cell (cells numbered row by row, ``cy * nx + cx``),
    ``start[cell]:start[cell + 1]`` are the cell's entries in ``order``, and ``x``/``y``
    their centres in that order. Built with one sort, kept as ``.npy`` files and read back
    memory-mapped, so a process asks it questions without building anything.
    """

    def __init__(self, arrays: Mapping[str, Any]) -> None:
        self.order = arrays["order"]
        self.x = arrays["x"]
        self.y = arrays["y"]
        self.start = arrays["start"]
        x0, y0, cell, nx, ny = (float(v) for v in arrays["frame"])
        self.x0, self.y0, self.cell, self.nx, self.ny = x0, y0, cell, int(nx), int(ny)

    @staticmethod
    def arrays(
        rows: npt.NDArray[np.intp], centre: npt.NDArray[np.float64], reach: float
    ) -> dict[str, Any]:
        """The grid of entries ``rows`` with centres ``centre`` (what :meth:`__init__` reads)."""
        lo, hi = centre.min(axis=0), centre.max(axis=0)
        extent = np.maximum(hi - lo, 1.0)
        # about two entries a cell, never finer than the reach a search adds anyway
        cell = max(float(np.sqrt(extent[0] * extent[1] * 2.0 / rows.size)), reach, 1.0)
        nx, ny = (int(v) for v in np.floor(extent / cell) + 1)
        cx = np.minimum(((centre[:, 0] - lo[0]) / cell).astype(np.int64), nx - 1)
        cy = np.minimum(((centre[:, 1] - lo[1]) / cell).astype(np.int64), ny - 1)
        key = cy * nx + cx
        order = np.argsort(key, kind="stable")
        start = np.zeros(nx * ny + 1, dtype=np.int64)
        np.cumsum(np.bincount(key, minlength=nx * ny), out=start[1:])
        return {
            "order": rows[order].astype(np.int64),
            "x": np.ascontiguousarray(centre[order, 0]),
            "y": np.ascontiguousarray(centre[order, 1]),
            "start": start,
            "frame": np.asarray([lo[0], lo[1], cell, nx, ny], dtype=np.float64),
        }

    def _cells(self, x: float, y: float, r: float) -> npt.NDArray[np.intp] | None:
        """Positions (in ``order``) of the entries in the cells the square ``r`` around
        ``(x, y)`` touches; None when it touches none."""
        cx0 = max(int(np.floor((x - r - self.x0) / self.cell)), 0)
        cx1 = min(int(np.floor((x + r - self.x0) / self.cell)), self.nx - 1)
        cy0 = max(int(np.floor((y - r - self.y0) / self.cell)), 0)
        cy1 = min(int(np.floor((y + r - self.y0) / self.cell)), self.ny - 1)
        if cx0 > cx1 or cy0 > cy1:
            return None
        first = np.arange(cy0, cy1 + 1, dtype=np.int64) * self.nx
        begin = self.start[first + cx0]
        count = self.start[first + cx1 + 1] - begin
        total = int(count.sum())
        # the runs begin[i] .. begin[i] + count[i] - 1, one after another
        offset = np.repeat(begin - np.r_[0, np.cumsum(count)[:-1]], count)
        return np.arange(total, dtype=np.int64) + offset

    def within(self, x: float, y: float, r: float) -> npt.NDArray[np.intp]:
        """Entries whose centre lies within ``r`` of ``(x, y)`` (as ``query_ball_point``)."""
        at = self._cells(x, y, r)
        if at is None or not at.size:
            return np.empty(0, dtype=np.intp)
        near = np.hypot(self.x[at] - x, self.y[at] - y) <= r
        return np.asarray(self.order[at[near]], dtype=np.intp)

    def some_nearest(self, x: float, y: float, k: int) -> npt.NDArray[np.intp]:
        """Up to ``k`` entries near ``(x, y)``: the nearest centres of the first square,
        doubling from one cell, that holds ``k`` (or all there are)."""
        r = self.cell
        span = self.cell * (self.nx + self.ny) + abs(x - self.x0) + abs(y - self.y0)
        while True:
            at = self._cells(x, y, r)
            if (at is not None and at.size >= k) or r > span:
                break
            r *= 2.0
        if at is None or not at.size:
            return np.empty(0, dtype=np.intp)
        d = np.hypot(self.x[at] - x, self.y[at] - y)
        nearest = np.argsort(d, kind="stable")[:k]
        return np.asarray(self.order[at[nearest]], dtype=np.intp)


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
    arrays
        The index's arrays as :func:`index_arrays` makes them from ``bounds`` (read back
        by :func:`read_edge_index`); made here when not given.
    lines_at
        The lon/lat lines of the entries at given positions, made at once (default: one
        by one with ``line``).
    """

    def __init__(
        self,
        bounds: npt.NDArray[np.float64] | None,
        line: Callable[[int], Any],
        lines: Callable[[], Any],
        *,
        arrays: Mapping[str, Any] | None = None,
        lines_at: Callable[[npt.NDArray[np.intp]], Any] | None = None,
    ) -> None:
        if arrays is None:
            arrays = index_arrays(np.asarray(bounds, dtype=np.float64))
        self.long = arrays["long"]
        self.long_bounds = arrays["long_bounds"]
        self.reach = float(arrays["reach"][0])
        self.grid = _Grid(arrays) if arrays["order"].size else None
        self._size = int(arrays["order"].size + self.long.size)
        self.geometries = _Geometries(line, self._size, lines_at)
        self._lines = lines
        self._strtree: shapely.STRtree | None = None
        self.bounds = None if bounds is None else np.asarray(bounds, dtype=np.float64)
        """Every entry's bounds when given (many points at once skip lines beyond them)."""
        self._centres: Any = None

    def __len__(self) -> int:
        return self._size

    def _within(self, x: float, y: float, distance: float) -> npt.NDArray[np.intp]:
        """Entries whose line may lie within ``distance`` of ``(x, y)``."""
        # a little slack: GEOS and these bounds round distances differently in the last bit
        distance = distance * (1.0 + 1e-9) + 1e-6
        found = []
        if self.grid is not None:
            found.append(self.grid.within(x, y, distance + self.reach))
        if self.long.size:
            near = _box_distance(self.long_bounds, x, y) <= distance
            found.append(self.long[near])
        return np.sort(np.concatenate(found)) if found else np.empty(0, dtype=np.intp)

    def _nearest_one(self, point: Any) -> npt.NDArray[np.intp]:
        x, y = shapely.get_x(point), shapely.get_y(point)
        guesses = []
        if self.grid is not None:
            guesses.append(self.grid.some_nearest(x, y, _FIRST_GUESSES))
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
        if len(points) >= _MANY_POINTS + len(self) // 1000:
            found = self._nearest_many(points)
        else:
            found = [self._nearest_one(point) for point in points]
        pairs = [(i, int(row)) for i, rows in enumerate(found) for row in rows]
        return np.asarray(pairs, dtype=np.intp).reshape(-1, 2).T

    def _centre_tree(self) -> Any:
        """A k-d tree of the grid's centres, in the grid's order (built when first asked)."""
        if self._centres is None:
            from scipy.spatial import cKDTree

            assert self.grid is not None
            self._centres = cKDTree(np.column_stack([self.grid.x, self.grid.y]))
        return self._centres

    def _nearest_many(self, points: npt.NDArray[np.object_]) -> list[npt.NDArray[np.intp]]:
        """:meth:`_nearest_one` of each of ``points``, each step taken for all at once.

        The same answers: the exact distance of a few entries near each point bounds its
        search, every entry whose centre lies within reach of that bound is measured
        (but those whose bounds, when known, lie beyond it: they cannot be nearest), and
        equally near entries are left to the ``STRtree``. Which first guesses bound the
        search changes only how many entries are measured, not the nearest.
        """
        n = len(points)
        x, y = shapely.get_x(points), shapely.get_y(points)
        xy = np.column_stack([x, y])
        guesses = []
        order = np.asarray(self.grid.order, dtype=np.intp) if self.grid is not None else None
        if order is not None:
            k = min(_FIRST_GUESSES, order.size)
            _, first = self._centre_tree().query(xy, k=k)
            guesses.append(order[np.asarray(first).reshape(n, -1)])
        box = self._long_box_distances(x, y)
        if self.long.size:
            long = np.asarray(self.long, dtype=np.intp)
            guesses.append(long[np.argsort(box, axis=1, kind="stable")[:, :_FIRST_GUESSES]])
        rows = np.concatenate(guesses, axis=1)
        who = np.repeat(np.arange(n), rows.shape[1])
        best = self._distances(rows.ravel(), points[who]).reshape(n, -1).min(axis=1)
        # the slack of _within: GEOS and the bounds round differently in the last bit
        within = best * (1.0 + 1e-9) + 1e-6
        found_who, found_rows = [], []
        if order is not None:
            hits = self._centre_tree().query_ball_point(xy, within + self.reach)
            counts = np.fromiter(map(len, hits), dtype=np.intp, count=n)
            near = np.fromiter(itertools.chain.from_iterable(hits), np.intp, int(counts.sum()))
            found_who.append(np.repeat(np.arange(n), counts))
            found_rows.append(order[near])
        if self.long.size:
            point, entry = np.nonzero(box <= within[:, None])
            found_who.append(point)
            found_rows.append(long[entry])
        who = np.concatenate(found_who)
        rows = np.concatenate(found_rows)
        if self.bounds is not None:
            bounds = self.bounds[rows]
            dx = np.maximum(np.maximum(bounds[:, 0] - x[who], x[who] - bounds[:, 2]), 0.0)
            dy = np.maximum(np.maximum(bounds[:, 1] - y[who], y[who] - bounds[:, 3]), 0.0)
            keep = np.hypot(dx, dy) <= within[who]
            who, rows = who[keep], rows[keep]
        order_by_point = np.argsort(who, kind="stable")
        who, rows = who[order_by_point], rows[order_by_point]
        dist = self._distances(rows, points[who])
        counts = np.bincount(who, minlength=n)
        least = np.minimum.reduceat(dist, np.r_[0, np.cumsum(counts)[:-1]])
        nearest = dist == least[who]
        out = np.split(rows[nearest], np.cumsum(np.bincount(who[nearest], minlength=n))[:-1])
        tied = np.flatnonzero(np.fromiter(map(len, out), dtype=np.intp, count=n) > 1)
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


_INDEX_ARRAYS = ("order", "x", "y", "start", "frame", "long", "long_bounds", "reach")


def index_arrays(bounds: npt.NDArray[np.float64]) -> dict[str, npt.NDArray[Any]]:
    """The arrays of an :class:`EdgeIndex` over lines with EPSG:6372 ``bounds``."""
    bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2.0
    half = np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) / 2.0
    # the longest hundredth (and anything over 4x the rest's longest) checked by bounds
    cut = float(np.quantile(half, 0.99)) if half.size else 0.0
    short = half <= cut
    rows = np.flatnonzero(short)
    long = np.flatnonzero(~short)
    reach = float(half[short].max()) if rows.size else 0.0
    if rows.size:
        grid = _Grid.arrays(rows, centre[short], reach)
    else:
        empty = np.empty(0, dtype=np.float64)
        grid = {
            "order": np.empty(0, dtype=np.int64),
            "x": empty,
            "y": empty,
            "start": np.zeros(1, dtype=np.int64),
            "frame": np.zeros(5),
        }
    return {
        **grid,
        "long": long.astype(np.int64),
        "long_bounds": np.ascontiguousarray(bounds[long]),
        "reach": np.asarray([reach]),
    }


def write_edge_index(bounds: npt.NDArray[np.float64], folder: Path) -> None:
    """Write the index of lines with EPSG:6372 ``bounds`` as ``.npy`` files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in index_arrays(bounds).items():
        np.save(folder / f"{name}.npy", array, allow_pickle=False)


def read_edge_index(
    folder: Path,
    line: Callable[[int], Any],
    lines: Callable[[], Any],
    *,
    lines_at: Callable[[npt.NDArray[np.intp]], Any] | None = None,
    bounds: npt.NDArray[np.float64] | None = None,
) -> EdgeIndex:
    """The index :func:`write_edge_index` wrote into ``folder``, its arrays memory-mapped.

    ``line``, ``lines``, ``lines_at`` and the ``bounds`` it was written from (optional)
    are as for :class:`EdgeIndex`. Raises ``OSError`` when a file is missing.
    """
    return EdgeIndex(
        bounds,
        line,
        lines,
        arrays={n: mapped_array(folder / f"{n}.npy") for n in _INDEX_ARRAYS},
        lines_at=lines_at,
    )


def mapped_array(path: Path) -> npt.NDArray[Any]:
    """The ``.npy`` file at ``path``, memory-mapped read-only (an empty one read).

    A plain view of the mapping: ``np.memmap``'s indexing costs about 1 µs more.
    """
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
    except ValueError:  # an empty array: nothing to map
        return np.load(path, allow_pickle=False)
