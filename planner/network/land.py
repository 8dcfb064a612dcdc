"""Land and water: where a land deployment may run and which places the planner accepts.

:class:`Land` is the union of the stored states polygons, made once per planning network.
It answers three questions:

- **May a land deployment run here?** A trench, a duct along a road, rail or pipeline, a
  cable on power towers or leased fiber runs on land. It may leave the land polygons only
  where it comes back to land and never strays more than :data:`COASTAL_TOLERANCE_KM`
  from them (bridges, causeways, a coastline drawn a little inland). Anything else is
  water, crossed only by a subsea link or not at all.
- **Which part of a corridor line is land?** :meth:`Land.clip_lines` cuts every corridor
  line at the coast: stretches at sea that lead out to the line's end (an offshore gas
  pipeline) are cut off, stretches that cross water farther than the tolerance from land
  are cut out; what is left is land corridor.
- **Is a place inside the planning area?** The area is the land and
  :data:`AREA_MARGIN_KM` around it (12 nautical miles, Mexico's territorial sea under
  UNCLOS art. 3, so a landing, a coastal point or an island just off the drawn coast is
  inside). :meth:`Land.check_place` refuses anything farther with one line saying where
  it is.

Geometry is compared in EPSG:4326 (the lines stay straight in lon/lat, as the graph draws
them, so a cut lies exactly on the drawn edge); tolerances and the margin are buffered in
EPSG:6372 (metres) and distances reported geodesically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely import LineString
from shapely.ops import nearest_points

from layers.errors import (
    OutsidePlanningAreaError,
    TrazoError,
)
from planner.network.corridor_graph import (
    ANALYSIS_CRS,
    GRAPH_CRS,
    geodesic_km,
)

if TYPE_CHECKING:
    import geopandas as gpd

COASTAL_TOLERANCE_KM = 1.0
"""How far a land deployment may run outside the land polygons (bridges, causeways)."""

AREA_MARGIN_KM = 22.224
"""The planning area reaches this far beyond the land: 12 nautical miles (territorial sea)."""

WATER_DEPLOYMENTS = frozenset({"subsea"})
"""Deployment types that may cross water; every other one is a land deployment."""

_SIMPLIFY_M = 100.0
"""The coast is simplified this much before buffering (speed); the buffer shrinks to match."""

TILE_DEGREES = (1.0, 2.0, 4.0, 8.0, 16.0)
"""Sides of the land tiles that a line is cut against instead of the whole land, smallest
first: the smallest whose tile holds the line (a tile starts every half side, so any line
shorter than about a third of a side lies well inside one)."""


@dataclass(frozen=True)
class Piece:
    """A stretch of a straight link: on land (or within the tolerance) or over water."""

    geometry: LineString
    on_land: bool
    landings: int = 0
    """Ends of a water stretch that reach the shore (each needs a cable landing)."""


class Land:
    """The union of the stored states polygons and what may be built on it.

    Parameters
    ----------
    polygons
        States (or any land) polygons with a CRS.
    tolerance_km
        How far a land deployment may run outside the polygons.
    margin_km
        How far beyond the polygons a place is still inside the planning area.
    name
        What the land is called in messages.
    """

    def __init__(
        self,
        polygons: gpd.GeoDataFrame | gpd.GeoSeries,
        *,
        tolerance_km: float = COASTAL_TOLERANCE_KM,
        margin_km: float = AREA_MARGIN_KM,
        name: str = "Mexico's states",
    ) -> None:
        # made from a frame when the network is built; a plan reads it from the cache
        import geopandas as gpd

        series = gpd.GeoSeries(polygons.geometry, crs=polygons.crs)
        if series.crs is None:
            raise TrazoError("the land polygons have no CRS")
        series = series[series.notna() & ~series.is_empty].to_crs(GRAPH_CRS)
        if series.empty:
            raise TrazoError("no land polygons given: load a states layer")
        self.name = name
        self.tolerance_km = float(tolerance_km)
        self.margin_km = float(margin_km)
        self.geometry = shapely.union_all(np.asarray(series.values, dtype=object))
        metric = gpd.GeoSeries([self.geometry], crs=GRAPH_CRS).to_crs(ANALYSIS_CRS).iloc[0]
        simple = metric.simplify(_SIMPLIFY_M)
        near = simple.buffer(max(self.tolerance_km * 1000.0 - _SIMPLIFY_M, 0.0), quad_segs=2)
        area = metric.simplify(1000.0).buffer(max(self.margin_km * 1000.0 - 1000.0, 0.0))
        back = gpd.GeoSeries([near, area], crs=ANALYSIS_CRS).to_crs(GRAPH_CRS)
        self.near = back.iloc[0]
        """The land and its coastal tolerance (EPSG:4326)."""
        self.area = back.iloc[1]
        """The planning area (EPSG:4326)."""
        self._prepare()

    def _prepare(self) -> None:
        # prepared geometry answers covers/contains ~100x faster (6 us instead of 0.5 ms a
        # connector on the national land); preparation is not pickled, so a Land loaded from
        # the build cache prepares itself again (see __setstate__)
        for geometry in (self.geometry, self.near, self.area):
            shapely.prepare(geometry)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_tiles", None)  # rebuilt on demand, cheaper than storing
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._prepare()

    # ------------------------------------------------------------------ planning area

    def in_area(self, lon: Any, lat: Any) -> np.ndarray:
        """Whether each lon/lat point is inside the planning area."""
        return np.asarray(shapely.contains_xy(self.area, lon, lat), dtype=bool)

    def km_from_land(self, lon: float, lat: float) -> float:
        """Geodesic km from a point to the nearest land (0 on land)."""
        point = shapely.Point(lon, lat)
        if shapely.contains(self.geometry, point):
            return 0.0
        on_land, _ = nearest_points(self.geometry, point)
        return float(geodesic_km(lon, lat, on_land.x, on_land.y))

    def check_place(self, name: str, lon: float, lat: float) -> None:
        """Refuse a place outside the planning area with one line naming it and where it is.

        Raises
        ------
        OutsidePlanningAreaError
        """
        if bool(self.in_area(lon, lat)):
            return
        km = self.km_from_land(lon, lat)
        raise OutsidePlanningAreaError(
            f"{name!r} at ({lon:.4f}, {lat:.4f}) is {km:,.0f} km from {self.name}, outside "
            f"the planning area ({self.name} and {self.margin_km:g} km, the 12 nautical "
            "miles of territorial sea, around them); plan between places in Mexico"
        )

    def check_places(self, names: Sequence[str], lon: Any, lat: Any) -> None:
        """:meth:`check_place` for many points at once (the first outside is refused)."""
        inside = self.in_area(lon, lat)
        if inside.all():
            return
        first = int(np.flatnonzero(~inside)[0])
        self.check_place(names[first], float(np.asarray(lon)[first]), float(np.asarray(lat)[first]))

    # ------------------------------------------------------------------ land deployments

    def allows(self, lines: Any) -> np.ndarray:
        """Whether each line may carry a land deployment (within the coastal tolerance)."""
        return np.asarray(shapely.covers(self.near, lines), dtype=bool)

    def km_off_land(self, line: Any) -> float:
        """Geodesic km of a line farther from land than the coastal tolerance."""
        if bool(self.allows(line)):
            return 0.0
        return _km(shapely.difference(line, self.near))

    def km_off_land_of(self, segments: Sequence[Any]) -> float:
        """Km of land deployments among ``segments`` beyond the coastal tolerance.

        Every segment but a ``subsea`` one is a land deployment; each has ``geometry`` and
        ``deployment_type``.
        """
        return sum(
            self.km_off_land(segment.geometry)
            for segment in segments
            if segment.deployment_type not in WATER_DEPLOYMENTS
        )

    def clip_lines(self, frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, float]:
        """Cut corridor lines at the coast; return the land corridors and the km cut off.

        A stretch outside the land polygons is kept only when land lies on both sides of it
        along the line and it stays within the coastal tolerance (a bridge); stretches that
        lead out to the line's end or cross open water are dropped. Rows left without a
        line are dropped.
        """
        import geopandas as gpd  # clipping is building: the corridors are frames then

        if frame.crs is not None and not frame.crs.equals(GRAPH_CRS):
            frame = frame.to_crs(GRAPH_CRS)
        geometry = np.asarray(frame.geometry.values, dtype=object)
        present = ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
        keep = np.zeros(len(frame), dtype=bool)
        keep[present] = self.allows(geometry[present])
        out = geometry.copy()
        removed_km = 0.0
        for i in np.flatnonzero(present & ~keep):
            clipped = shapely.MultiLineString(
                [p for part in shapely.get_parts(geometry[i]) for p in self._land_parts(part)]
            )
            removed_km += _km(geometry[i]) - _km(clipped)
            out[i] = clipped
        clipped_frame = frame.copy()
        clipped_frame = clipped_frame.set_geometry(gpd.GeoSeries(out, crs=GRAPH_CRS).values)
        left = ~(shapely.is_missing(out) | shapely.is_empty(out))
        return clipped_frame[left], removed_km

    def _land_parts(self, line: LineString) -> list[LineString]:
        """The land stretches of one line, bridges over tolerable water included."""
        if line.is_empty or line.length == 0:
            return []
        kept = [p for p in self.pieces(line) if p.on_land]
        return [p.geometry for p in kept if p.geometry.length > 0]

    def pieces(self, line: LineString) -> list[Piece]:
        """Split a line into consecutive land and water stretches.

        Water that land encloses on both sides along the line and that stays within the
        tolerance is land (a bridge). Each water stretch counts its ends that reach the
        shore as ``landings``.

        Examples
        --------
        >>> import geopandas as gpd
        >>> island = gpd.GeoSeries([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)],
        ...     crs="EPSG:4326")
        >>> land = Land(island, margin_km=50)
        >>> [(p.on_land, round(p.geometry.length, 6), p.landings)
        ...  for p in land.pieces(LineString([(0.5, 0.5), (2.5, 0.5)]))]
        [(True, 0.5, 0), (False, 1.0, 2), (True, 0.5, 0)]
        """
        if bool(self.allows(line)):
            return [Piece(line, True)]
        local = self._local(line)
        water = shapely.get_parts(shapely.difference(line, local))
        dry = shapely.get_parts(shapely.intersection(line, local))
        stretches: list[tuple[float, LineString, bool]] = []
        for part, on_land in [(p, False) for p in water] + [(p, True) for p in dry]:
            if not isinstance(part, LineString) or part.is_empty or part.length == 0:
                continue
            start = shapely.line_locate_point(line, shapely.get_point(part, 0))
            end = shapely.line_locate_point(line, shapely.get_point(part, -1))
            if end < start:
                part = shapely.reverse(part)
                start, end = end, start
            stretches.append((float(start), part, on_land))
        stretches.sort(key=lambda item: item[0])
        pieces: list[Piece] = []
        for _, part, on_land in stretches:
            if on_land:
                pieces.append(Piece(part, True))
                continue
            ends = shapely.points(np.asarray(part.coords)[[0, -1]])
            # an end at the coast (or within the tolerance of it) lands the cable there
            shores = int(np.count_nonzero(shapely.covers(self.near, ends)))
            if bool(self.allows(part)):
                # a bridge, or the few hundred metres between a coastal place and the shore
                pieces.append(Piece(part, True))
            else:
                pieces.append(Piece(part, False, landings=shores))
        return _merge_runs(pieces)

    def _local(self, line: LineString) -> Any:
        """The land as far as cutting ``line`` needs it: the tile around it, or all of it.

        Cutting a line against the whole coast costs milliseconds; against the tile around
        it, microseconds. The cut is the same: GEOS itself cuts only against the land's
        boundary segments near the line (it clips the polygons to a safe envelope first),
        and the tile holds every boundary segment near the line unchanged. A tile is
        used only when the line with a margin lies inside it and no boundary segment that
        the tile cut short comes near the line; otherwise the whole land is.
        """
        west, south, east, north = line.bounds
        pad = 0.25 * max(east - west, north - south) + 1e-6
        west, south, east, north = west - pad, south - pad, east + pad, north + pad
        for side in TILE_DEGREES:
            i, j = math.floor(west / (side / 2)), math.floor(south / (side / 2))
            x0, y0, x1, y1 = _tile_bounds(side, i, j)
            if not (x0 < west and east < x1 and y0 < south and north < y1):
                continue
            tile = self._tile(side, i, j)
            near = tile.segments.query(shapely.box(west, south, east, north))
            if not tile.cut[near].any():
                return tile.geometry
        return self.geometry

    def _tile(self, side: float, i: int, j: int) -> _Tile:
        tiles: dict[tuple[float, int, int], _Tile] = self.__dict__.setdefault("_tiles", {})
        if (side, i, j) not in tiles:
            tiles[(side, i, j)] = _Tile.cut_from(self.geometry, _tile_bounds(side, i, j))
        return tiles[(side, i, j)]


def _tile_bounds(side: float, i: int, j: int) -> tuple[float, float, float, float]:
    """The square of side ``side`` whose south-west corner is (i, j) half sides from 0, 0."""
    west, south = i * side / 2, j * side / 2
    return west, south, west + side, south + side


@dataclass(frozen=True)
class _Tile:
    """The land inside a square, with its boundary segments and which of them it cut."""

    geometry: Any
    bounds: tuple[float, float, float, float]
    segments: shapely.STRtree = field(repr=False)
    cut: np.ndarray = field(repr=False)
    """Per segment: it ends on the square's sides (cut there, or along them)."""

    @classmethod
    def cut_from(cls, land: Any, bounds: tuple[float, float, float, float]) -> _Tile:
        parts = shapely.get_parts(shapely.intersection(land, shapely.box(*bounds)))
        # only its polygons: where the land touches the square's side the cut also holds
        # lines and points, which are no land
        polygons = parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]
        geometry = shapely.multipolygons(polygons)
        rings = shapely.get_rings(polygons)
        coords, ring = shapely.get_coordinates(rings, return_index=True)
        same = ring[1:] == ring[:-1]
        start, end = coords[:-1][same], coords[1:][same]
        segments = np.asarray(shapely.linestrings(np.stack([start, end], axis=1)), dtype=object)
        # an end on (or within rounding of) a side: the segment was cut there
        eps = 1e-9
        west, south, east, north = bounds
        on_side = np.zeros(len(start), dtype=bool)
        for ends in (start, end):
            on_side |= (np.abs(ends[:, 0] - west) < eps) | (np.abs(ends[:, 0] - east) < eps)
            on_side |= (np.abs(ends[:, 1] - south) < eps) | (np.abs(ends[:, 1] - north) < eps)
        return cls(geometry, bounds, shapely.STRtree(segments), on_side)


def _merge_runs(pieces: list[Piece]) -> list[Piece]:
    """Join consecutive land stretches into one line."""
    merged: list[Piece] = []
    for piece in pieces:
        if merged and merged[-1].on_land and piece.on_land:
            coords = list(merged[-1].geometry.coords) + list(piece.geometry.coords)[1:]
            merged[-1] = Piece(LineString(coords), True)
        else:
            merged.append(piece)
    return merged


def _km(geometry: Any) -> float:
    total = 0.0
    for part in shapely.get_parts(geometry):
        coords = np.asarray(shapely.get_coordinates(part))
        if len(coords) >= 2:
            total += float(
                np.sum(geodesic_km(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1]))
            )
    return total
