"""Greenfield links: least-cost new trench where no corridor connects two places.

A :class:`FrictionSurface` prices every cell of a regular grid as a multiple of the
greenfield USD/km rate. It is built from an elevation raster and, optionally, corridor
lines:

* slope (degrees) is computed on the raster's own grid with true metric cell sizes (on an
  EPSG:4326 grid the east-west spacing is measured geodesically for each row, so it
  shrinks with the cosine of latitude) and mapped to the cost model's slope multipliers;
* the multipliers are warped (nearest neighbour) to square cells in EPSG:6372 (Mexico ITRF2008
  / LCC), so a least-cost step is as long in metres in every direction;
* cells without elevation (sea, outside the grid) are impassable or expensive, as the cost
  model's ``terrain.nodata`` says;
* corridor lines are burned in at the ratio of their along-right-of-way USD/km to the
  greenfield rate (no slope factor: the right of way is already graded), so a path may ride a
  corridor where that is cheaper; corridor cells stay passable over no-data (bridges);
* with a :class:`planner.network.land.Land`, every cell whose centre lies farther than the coastal
  tolerance from land is impassable, whatever its elevation, the no-data policy or a
  corridor say: a land deployment never crosses water (that is a subsea link's job).

:func:`greenfield_path` finds the least-cost path between two lon/lat points with
:class:`skimage.graph.MCP_Geometric` (diagonal steps count sqrt(2)); :func:`greenfield_links`
connects many sources to their cheapest target with one run. Costs are reported in USD from
the path's geodesic segment lengths, so they are consistent with ``length_km``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from shapely import LineString

from layers.errors import (
    CostModelError,
    GreenfieldError,
    NoRouteError,
    OutsideSurfaceError,
)
from planner.network.cost_model import CostModel

if TYPE_CHECKING:
    import geopandas as gpd
    from affine import Affine
    from rasterio.windows import Window

    from planner.network.land import Land

SURFACE_EPSG = 6372
GEOD = Geod(ellps="WGS84")
_TO_SURFACE = Transformer.from_crs(4326, SURFACE_EPSG, always_xy=True)
_TO_LONLAT = Transformer.from_crs(SURFACE_EPSG, 4326, always_xy=True)

LonLat = tuple[float, float]
Bounds = tuple[float, float, float, float]


@dataclass(frozen=True, eq=False)
class CorridorLines:
    """Corridor lines to burn into a friction surface, each with its deployment type.

    What a plan passes
    (:meth:`planner.network.planning_network.PlanningNetwork.corridor_lines_near`):
    the lines near a link, taken from the network's arrays, with no frame to make.

    Attributes
    ----------
    deployments : sequence of str
        The deployment type of each line (its along-right-of-way rate is burned in).
    lines : sequence of shapely.LineString
        The lines, in EPSG code ``epsg``.
    epsg : int
        Their CRS.
    """

    deployments: Sequence[str]
    lines: Sequence[Any]
    epsg: int

    def __len__(self) -> int:
        return len(self.lines)


@dataclass(frozen=True, eq=False)
class FrictionSurface:
    """Cost of trenching through each cell, as a multiple of the greenfield USD/km rate.

    Attributes
    ----------
    friction : numpy.ndarray
        (rows, cols) float64 multipliers; ``inf`` where a trench cannot pass.
    terrain : numpy.ndarray
        Slope multiplier of each cell before corridors; NaN where elevation is missing.
    corridor : numpy.ndarray
        Boolean mask of cells on a corridor.
    transform : affine.Affine
        Cell-to-EPSG:6372 transform (north-up, square cells).
    cell_size_m : float
        Cell side in metres.
    usd_per_km : float
        Greenfield rate the multipliers apply to.
    """

    friction: np.ndarray
    terrain: np.ndarray
    corridor: np.ndarray
    transform: Affine
    cell_size_m: float
    usd_per_km: float

    @property
    def crs(self) -> CRS:
        """The surface's CRS, EPSG:6372 (metres)."""
        return CRS.from_epsg(SURFACE_EPSG)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the grid."""
        rows, cols = self.friction.shape
        return int(rows), int(cols)

    @property
    def min_multiplier(self) -> float:
        """The cheapest passable cell's multiplier."""
        finite = self.friction[np.isfinite(self.friction)]
        return float(finite.min()) if finite.size else math.inf

    def cell_of(self, point: LonLat) -> tuple[int, int] | None:
        """Return the (row, col) holding a lon/lat point, or None if it is off the grid."""
        lon, lat = _check_lonlat(point)
        x, y = _TO_SURFACE.transform(lon, lat)
        col_f = (x - self.transform.c) / self.transform.a
        row_f = (y - self.transform.f) / self.transform.e
        row, col = math.floor(row_f), math.floor(col_f)
        rows, cols = self.shape
        if 0 <= row < rows and 0 <= col < cols:
            return row, col
        return None

    def locate(self, point: LonLat, snap_km: float = 2.0) -> tuple[int, int]:
        """Return the passable cell for a lon/lat point.

        A point on an impassable cell (for example a coastal town whose cell is sea) is
        moved to the nearest passable cell within ``snap_km``.

        Raises
        ------
        OutsideSurfaceError
            If the point is off the grid, or impassable with no passable cell near it.
        """
        cell = self.cell_of(point)
        lon, lat = point
        if cell is None:
            raise OutsideSurfaceError(
                f"point ({lon:.5f}, {lat:.5f}) is outside the friction surface; build the "
                "surface with bounds that include it"
            )
        if np.isfinite(self.friction[cell]):
            return cell
        snapped = self._nearest_passable(point, cell, snap_km)
        if snapped is None:
            raise OutsideSurfaceError(
                f"point ({lon:.5f}, {lat:.5f}) falls on a no-data cell (sea or outside the "
                f"elevation grid) with no land within {snap_km:g} km; move it onto land or "
                "connect it with a subsea link"
            )
        return snapped

    def cell_centres_lonlat(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, ...]:
        """Return (lon, lat) arrays of the centres of the given cells."""
        xs, ys = _centres(self.transform, np.asarray(rows), np.asarray(cols))
        lon, lat = _TO_LONLAT.transform(xs, ys)
        return np.asarray(lon), np.asarray(lat)

    def _nearest_passable(
        self, point: LonLat, cell: tuple[int, int], snap_km: float
    ) -> tuple[int, int] | None:
        reach = math.ceil(snap_km * 1000.0 / self.cell_size_m)
        if reach <= 0:
            return None
        rows, cols = self.shape
        r0, r1 = max(cell[0] - reach, 0), min(cell[0] + reach + 1, rows)
        c0, c1 = max(cell[1] - reach, 0), min(cell[1] + reach + 1, cols)
        block = np.isfinite(self.friction[r0:r1, c0:c1])
        if not block.any():
            return None
        rr, cc = np.nonzero(block)
        rr, cc = rr + r0, cc + c0
        x, y = _TO_SURFACE.transform(*point)
        cx, cy = _centres(self.transform, rr, cc)
        dist = np.hypot(np.asarray(cx) - x, np.asarray(cy) - y)
        best = int(np.argmin(dist))
        if dist[best] > snap_km * 1000.0:
            return None
        return int(rr[best]), int(cc[best])


@dataclass(frozen=True)
class GreenfieldLink:
    """A least-cost new trench between two points.

    Attributes
    ----------
    geometry : shapely.LineString
        EPSG:4326 path: the start point, the centres of the cells crossed, the end point.
    length_km : float
        Geodesic length of ``geometry`` (WGS84).
    cost_usd : float
        Sum over segments of geodesic km x greenfield USD/km x the mean multiplier of the
        segment's two cells (corridor cells at their corridor ratio).
    mean_terrain_multiplier : float
        Length-weighted mean slope multiplier along the path (corridor cells at their slope).
    corridor_share : float
        Share of the length on corridor cells (0-1).
    """

    geometry: LineString
    length_km: float
    cost_usd: float
    mean_terrain_multiplier: float
    corridor_share: float


@dataclass(frozen=True)
class GreenfieldConnection:
    """A source connected to its cheapest target by a greenfield link."""

    source_index: int
    target_index: int
    link: GreenfieldLink


def slope_degrees(elevation: np.ndarray, transform: Affine, crs: CRS | str | int) -> np.ndarray:
    """Return the slope in degrees of each cell of an elevation grid.

    Central differences use true metric spacing: on a geographic grid the east-west cell
    width is the geodesic distance across the cell on its row's latitude (so it shrinks
    with cos(latitude)) and the north-south height is measured along the meridian. Missing
    cells (NaN) next to a valid one take its elevation for the differences
    (:func:`fill_gap_edges`), so land next to the sea keeps a slope, and are NaN in the
    result.

    Parameters
    ----------
    elevation : numpy.ndarray
        (rows, cols) elevations in metres; NaN where missing.
    transform : affine.Affine
        North-up cell-to-CRS transform.
    crs : pyproj.CRS or str or int
        CRS of the grid (geographic in degrees, or projected).

    Returns
    -------
    numpy.ndarray
        Slopes in degrees (float64), NaN where elevation is missing.

    Examples
    --------
    >>> from affine import Affine
    >>> ramp = np.array([[0.0, 100.0, 200.0]] * 3)  # +100 m per 1 km cell eastwards
    >>> float(slope_degrees(ramp, Affine(1000, 0, 0, 0, -1000, 0), 6372)[1, 1]).__round__(2)
    5.71
    """
    crs = CRS.from_user_input(crs)
    if transform.b != 0 or transform.d != 0:
        raise GreenfieldError("the elevation raster is rotated; warp it to a north-up grid")
    z = np.asarray(elevation, dtype="float64")
    valid = np.isfinite(z)
    if not valid.any():
        return np.full(z.shape, np.nan)
    if not valid.all():
        z = fill_gap_edges(z, valid)
    rows = np.arange(z.shape[0])
    if crs.is_geographic:
        lat = transform.f + (rows + 0.5) * transform.e
        lon0 = np.full(lat.shape, transform.c)
        dx = GEOD.inv(lon0, lat, lon0 + abs(transform.a), lat)[2]
        half = abs(transform.e) / 2.0
        dy = GEOD.inv(lon0, lat - half, lon0, lat + half)[2]
    else:
        unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        dx = np.full(rows.shape, abs(transform.a) * unit)
        dy = np.full(rows.shape, abs(transform.e) * unit)
    grad_y = np.gradient(z, axis=0) if z.shape[0] > 1 else np.zeros_like(z)
    grad_x = np.gradient(z, axis=1) if z.shape[1] > 1 else np.zeros_like(z)
    rise = np.hypot(grad_x / np.asarray(dx)[:, None], grad_y / np.asarray(dy)[:, None])
    slope = np.degrees(np.arctan(rise))
    slope[~valid] = np.nan
    return slope


_NEIGHBOURS = ((0, -1), (-1, 0), (1, 0), (0, 1))
"""Row and column steps to a cell's left, upper, lower and right neighbours, in the order
a missing cell takes its elevation from them (:func:`fill_gap_edges`)."""


def fill_gap_edges(z: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``z`` with each missing cell next to a valid one given that neighbour's elevation.

    A valid cell's slope reads only its four neighbours (central differences), so only
    the missing cells beside valid ones need a value; each takes its nearest valid cell's,
    one at distance 1: the left, upper, lower or right neighbour, the first of them that is
    valid, as the exact Euclidean nearest-cell fill chooses among equally near ones
    (``scipy.ndimage.distance_transform_edt``, whose import a warm plan does not pay).
    Other missing cells keep their value.

    Examples
    --------
    >>> z = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 6.0]])
    >>> fill_gap_edges(z, np.isfinite(z))
    array([[1., 1., 3.],
           [1., 6., 6.]])
    """
    filled = z.copy()
    todo = ~valid
    rows, cols = z.shape
    for dr, dc in _NEIGHBOURS:
        # cell (r, c) looks at (r + dr, c + dc): the slices where both are on the grid
        here = (slice(max(0, -dr), rows - max(0, dr)), slice(max(0, -dc), cols - max(0, dc)))
        there = (slice(max(0, dr), rows - max(0, -dr)), slice(max(0, dc), cols - max(0, -dc)))
        take = todo[here] & valid[there]
        filled[here][take] = z[there][take]
        todo[here] &= ~take
    return filled


def build_friction_surface(
    elevation_tif: Path,
    corridors: gpd.GeoDataFrame | CorridorLines | None,
    bounds: Bounds | None,
    cost_model: CostModel,
    resolution: float | None = None,
    margin_deg: float = 0.1,
    *,
    land: Land | None,
) -> FrictionSurface:
    """Build a greenfield friction surface for a lon/lat region.

    Only the window of the elevation raster covering ``bounds`` (plus ``margin_deg`` on
    every side, so a path can detour around an obstacle) is read.

    Parameters
    ----------
    elevation_tif : pathlib.Path
        Elevation raster in metres (any CRS; nodata honoured).
    corridors : geopandas.GeoDataFrame, CorridorLines or None
        Corridor lines with a CRS and either a ``deployment`` column (a deployment type), a
        ``row_type`` column (rights of way) or a ``lease_available`` column (fiber routes;
        only leasable ones are burned in); or :class:`CorridorLines`, each with its
        deployment type.
    bounds : tuple of float or None
        (min_lon, min_lat, max_lon, max_lat) of the region; None for the whole raster.
    cost_model : CostModel
        Gives the greenfield rate, slope multipliers, no-data policy and corridor rates.
    resolution : float, optional
        Cell size in metres of the EPSG:6372 surface; defaults to the raster's own cell
        height in metres.
    margin_deg : float
        Margin added around ``bounds`` in degrees.
    land : planner.network.land.Land or None
        Cells farther than its coastal tolerance from land are impassable (pass the
        network's land; None only where land is unknown, e.g. a synthetic grid).

    Returns
    -------
    FrictionSurface
        The surface in EPSG:6372.

    Raises
    ------
    GreenfieldError
        If the raster cannot be read or the corridors are unusable.
    OutsideSurfaceError
        If ``bounds`` do not overlap the raster.
    """
    import rasterio
    from rasterio.errors import RasterioIOError, WindowError
    from rasterio.windows import Window

    name = Path(elevation_tif).name
    try:
        src = rasterio.open(Path(elevation_tif))
    except RasterioIOError:
        raise GreenfieldError(
            f"cannot open elevation raster {name}; check that it exists and is a GeoTIFF"
        ) from None
    with src:
        if src.crs is None:
            raise GreenfieldError(f"elevation raster {name} has no CRS")
        src_crs = CRS.from_user_input(src.crs.to_wkt())
        window = Window(0, 0, src.width, src.height)
        if bounds is not None:
            try:
                window = _window_for(bounds, margin_deg, src_crs, src.transform).intersection(
                    window
                )
            except WindowError:
                raise OutsideSurfaceError(
                    f"bounds {tuple(round(float(b), 4) for b in bounds)} do not overlap the "
                    f"elevation raster {name}"
                ) from None
            window = window.round_offsets(op="floor").round_lengths(op="ceil")
        data = src.read(1, window=window, masked=True)
        win_transform = _window_transform(src.transform, window)
    elevation = np.ma.filled(data.astype("float64"), np.nan)

    terrain = cost_model.slope_multiplier(slope_degrees(elevation, win_transform, src_crs))
    terrain, transform, cell = _to_surface_grid(terrain, win_transform, src_crs, resolution)

    friction = terrain.copy()
    nodata = np.isnan(terrain)
    policy = cost_model.terrain.nodata
    friction[nodata] = np.inf if policy.policy == "impassable" else policy.multiplier

    corridor = np.zeros(friction.shape, dtype=bool)
    if corridors is not None and len(corridors):
        burned = _burn_corridors(corridors, cost_model, friction.shape, transform)
        corridor = np.isfinite(burned)
        friction = np.where(corridor, np.fmin(friction, burned), friction)
    if land is not None:
        friction[~_land_cells(land, friction.shape, transform)] = np.inf

    return FrictionSurface(
        friction=friction,
        terrain=terrain,
        corridor=corridor,
        transform=transform,
        cell_size_m=cell,
        usd_per_km=cost_model.usd_per_km("greenfield"),
    )


def greenfield_path(
    surface: FrictionSurface, start: LonLat, end: LonLat, snap_km: float = 2.0
) -> GreenfieldLink:
    """Return the least-cost greenfield link from ``start`` to ``end`` (lon/lat).

    Parameters
    ----------
    surface : FrictionSurface
        From :func:`build_friction_surface`.
    start, end : tuple of float
        (lon, lat) points; the link's first and last vertices are exactly these.
    snap_km : float
        How far a point on an impassable cell may be moved to reach passable ground.

    Returns
    -------
    GreenfieldLink
        Geometry, geodesic length, USD cost, mean terrain multiplier and corridor share.

    Raises
    ------
    OutsideSurfaceError
        If a point is off the surface or on impassable ground.
    NoRouteError
        If no passable path joins the points.
    """
    from skimage.graph import MCP_Geometric

    first = surface.locate(start, snap_km)
    last = surface.locate(end, snap_km)
    step_km = surface.cell_size_m / 1000.0
    mcp = MCP_Geometric(surface.friction, fully_connected=True, sampling=(step_km, step_km))
    cumulative, _ = mcp.find_costs([first], [last])
    if not np.isfinite(cumulative[last]):
        raise NoRouteError(
            f"no greenfield path from ({start[0]:.5f}, {start[1]:.5f}) to "
            f"({end[0]:.5f}, {end[1]:.5f}): every route crosses sea or missing elevation"
        )
    cells = [(int(c[0]), int(c[1])) for c in mcp.traceback(last)]
    return _link(surface, start, end, cells)


def greenfield_links(
    surface: FrictionSurface,
    sources: Sequence[LonLat],
    targets: Sequence[LonLat],
    snap_km: float = 2.0,
) -> list[GreenfieldConnection]:
    """Connect every source to its least-cost target with one multi-start search.

    Parameters
    ----------
    surface : FrictionSurface
        From :func:`build_friction_surface`.
    sources : sequence of (lon, lat)
        Points to connect.
    targets : sequence of (lon, lat)
        Points they may connect to (for example corridor access points).
    snap_km : float
        How far a point on an impassable cell may be moved to reach passable ground.

    Returns
    -------
    list of GreenfieldConnection
        One per source, in source order, each naming the chosen target.

    Raises
    ------
    OutsideSurfaceError, NoRouteError
        As :func:`greenfield_path`; messages name the source or target index.
    """
    from skimage.graph import MCP_Geometric

    if not targets:
        raise GreenfieldError("greenfield_links needs at least one target")
    target_cells = [
        _locate_indexed(surface, p, snap_km, "target", i) for i, p in enumerate(targets)
    ]
    source_cells = [
        _locate_indexed(surface, p, snap_km, "source", i) for i, p in enumerate(sources)
    ]
    if not sources:
        return []
    step_km = surface.cell_size_m / 1000.0
    mcp = MCP_Geometric(surface.friction, fully_connected=True, sampling=(step_km, step_km))
    cumulative, _ = mcp.find_costs(target_cells)
    index_of_target: dict[tuple[int, int], int] = {}
    for i, cell in enumerate(target_cells):
        index_of_target.setdefault(cell, i)
    out: list[GreenfieldConnection] = []
    for i, cell in enumerate(source_cells):
        if not np.isfinite(cumulative[cell]):
            lon, lat = sources[i]
            raise NoRouteError(
                f"source {i} ({lon:.5f}, {lat:.5f}) has no greenfield path to any target"
            )
        cells = [(int(c[0]), int(c[1])) for c in mcp.traceback(cell)][::-1]
        target_index = index_of_target[cells[-1]]
        link = _link(surface, sources[i], targets[target_index], cells)
        out.append(GreenfieldConnection(i, target_index, link))
    return out


def _locate_indexed(
    surface: FrictionSurface, point: LonLat, snap_km: float, role: str, index: int
) -> tuple[int, int]:
    try:
        return surface.locate(point, snap_km)
    except OutsideSurfaceError as err:
        raise OutsideSurfaceError(f"{role} {index}: {err.message}") from None


def _link(
    surface: FrictionSurface, start: LonLat, end: LonLat, cells: list[tuple[int, int]]
) -> GreenfieldLink:
    rows = np.array([c[0] for c in cells])
    cols = np.array([c[1] for c in cells])
    lon_c, lat_c = surface.cell_centres_lonlat(rows, cols)
    lon = np.concatenate([[start[0]], lon_c, [end[0]]])
    lat = np.concatenate([[start[1]], lat_c, [end[1]]])
    vr = np.concatenate([[rows[0]], rows, [rows[-1]]])
    vc = np.concatenate([[cols[0]], cols, [cols[-1]]])
    keep = np.ones(lon.shape, dtype=bool)
    keep[1:] = (lon[1:] != lon[:-1]) | (lat[1:] != lat[:-1])
    keep[-1] = True  # the end point is always the last vertex
    lon, lat, vr, vc = lon[keep], lat[keep], vr[keep], vc[keep]
    if lon.size == 1:
        lon, lat = np.repeat(lon, 2), np.repeat(lat, 2)
        vr, vc = np.repeat(vr, 2), np.repeat(vc, 2)

    seg_km = np.asarray(GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2]) / 1000.0
    friction = surface.friction[vr, vc]
    terrain = surface.terrain[vr, vc]
    terrain = np.where(np.isnan(terrain), friction, terrain)
    on_corridor = surface.corridor[vr, vc].astype("float64")

    def along(values: np.ndarray) -> np.ndarray:
        return (values[:-1] + values[1:]) / 2.0

    length_km = float(seg_km.sum())
    cost_usd = float((seg_km * along(friction)).sum() * surface.usd_per_km)
    if length_km > 0:
        mean_terrain = float((seg_km * along(terrain)).sum() / length_km)
        corridor_share = float((seg_km * along(on_corridor)).sum() / length_km)
    else:
        mean_terrain = float(terrain[0])
        corridor_share = float(on_corridor[0])
    geometry = LineString(np.column_stack([lon, lat]))
    return GreenfieldLink(geometry, length_km, cost_usd, mean_terrain, corridor_share)


def _window_transform(transform: Affine, window: Window) -> Affine:
    """Return the transform of a window of a north-up grid (without Affine ``*``)."""
    from affine import Affine

    if transform.b != 0 or transform.d != 0:
        raise GreenfieldError("the elevation raster is rotated; warp it to a north-up grid")
    return Affine(
        transform.a,
        0.0,
        transform.c + window.col_off * transform.a,
        0.0,
        transform.e,
        transform.f + window.row_off * transform.e,
    )


def _centres(
    transform: Affine, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the CRS coordinates of cell centres (north-up transform)."""
    x = transform.c + (cols + 0.5) * transform.a
    y = transform.f + (rows + 0.5) * transform.e
    return np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")


def _is_true(value: object) -> bool:
    try:
        return bool(value is not None and value == True)  # noqa: E712 - numpy/pandas booleans
    except (TypeError, ValueError):
        return False


def _check_lonlat(point: LonLat) -> LonLat:
    try:
        lon, lat = float(point[0]), float(point[1])
    except (TypeError, ValueError, IndexError):
        raise OutsideSurfaceError(f"a point must be (lon, lat) numbers, got {point!r}") from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise OutsideSurfaceError(f"({lon}, {lat}) is not a valid lon/lat point")
    return lon, lat


def _window_for(bounds: Bounds, margin_deg: float, src_crs: CRS, src_transform: Affine) -> Window:
    from rasterio.warp import transform_bounds
    from rasterio.windows import from_bounds

    min_lon, min_lat, max_lon, max_lat = (float(b) for b in bounds)
    if not (min_lon < max_lon and min_lat < max_lat):
        raise GreenfieldError(
            "bounds must be (min_lon, min_lat, max_lon, max_lat) with min < max; got "
            f"{tuple(bounds)}"
        )
    box = (min_lon - margin_deg, min_lat - margin_deg, max_lon + margin_deg, max_lat + margin_deg)
    if not src_crs.is_geographic:
        box = transform_bounds("EPSG:4326", src_crs.to_wkt(), *box)
    window: Window = from_bounds(*box, transform=src_transform)
    return window


def _to_surface_grid(
    terrain: np.ndarray, src_transform: Affine, src_crs: CRS, resolution: float | None
) -> tuple[np.ndarray, Affine, float]:
    from affine import Affine
    from rasterio.warp import Resampling, reproject

    rows, cols = terrain.shape
    if src_crs.is_geographic:
        mid_lat = src_transform.f + (rows / 2.0) * src_transform.e
        native = float(
            GEOD.inv(
                src_transform.c,
                mid_lat - abs(src_transform.e) / 2,
                src_transform.c,
                mid_lat + abs(src_transform.e) / 2,
            )[2]
        )
    else:
        native = abs(src_transform.a)
    cell = float(resolution) if resolution is not None else native
    if not cell > 0:
        raise GreenfieldError(f"resolution must be > 0 metres, got {resolution!r}")
    same_grid = (
        src_crs.to_epsg() == SURFACE_EPSG
        and math.isclose(abs(src_transform.a), cell)
        and math.isclose(abs(src_transform.e), cell)
    )
    if same_grid:
        return terrain, src_transform, cell
    dst_crs = f"EPSG:{SURFACE_EPSG}"
    src_wkt = src_crs.to_wkt()
    # The destination grid: the source footprint (edges densified) in EPSG:6372, snapped
    # outwards to whole cells.
    to_surface = _transformer_to_surface(src_crs, src_wkt)
    left = src_transform.c
    top = src_transform.f
    right = left + cols * src_transform.a
    bottom = top + rows * src_transform.e
    x0, y0, x1, y1 = to_surface.transform_bounds(left, bottom, right, top, densify_pts=21)
    x0, y0 = math.floor(x0 / cell) * cell, math.floor(y0 / cell) * cell
    x1, y1 = math.ceil(x1 / cell) * cell, math.ceil(y1 / cell) * cell
    width, height = round((x1 - x0) / cell), round((y1 - y0) / cell)
    dst_transform = Affine(cell, 0.0, x0, 0.0, -cell, y1)
    out = np.full((height, width), np.nan, dtype="float64")
    reproject(
        source=terrain,
        destination=out,
        src_transform=src_transform,
        src_crs=src_wkt,
        src_nodata=np.nan,
        dst_transform=dst_transform,
        dst_crs=dst_crs,
        dst_nodata=np.nan,
        resampling=Resampling.nearest,
    )
    return out, dst_transform, cell


#: Transformations to EPSG:6372 by the WKT of their source CRS.
_TO_SURFACE_FROM: dict[str, Transformer] = {}


def _transformer_to_surface(src_crs: CRS, src_wkt: str) -> Transformer:
    """The transformation from ``src_crs`` (whose WKT is ``src_wkt``) to EPSG:6372.

    Built once per CRS: building one costs PROJ a database look-up (5-20 ms), and a ring
    backbone routes hundreds of greenfield links over windows of the same elevation raster.
    """
    if src_wkt not in _TO_SURFACE_FROM:
        _TO_SURFACE_FROM[src_wkt] = Transformer.from_crs(src_crs, SURFACE_EPSG, always_xy=True)
    return _TO_SURFACE_FROM[src_wkt]


def _land_cells(land: Land, shape: tuple[int, int], transform: Affine) -> np.ndarray:
    """Cells whose centre lies on land or within its coastal tolerance."""
    from rasterio.features import rasterize

    rows, cols = shape
    xs = [transform.c, transform.c + cols * transform.a]
    ys = [transform.f, transform.f + rows * transform.e]
    lon, lat = _TO_LONLAT.transform([xs[0], xs[1], xs[0], xs[1]], [ys[0], ys[0], ys[1], ys[1]])
    pad = 0.05  # degrees: the grid's corners in lon/lat bound it only roughly
    window = shapely.clip_by_rect(
        land.near, min(lon) - pad, min(lat) - pad, max(lon) + pad, max(lat) + pad
    )
    if window.is_empty:
        return np.zeros(shape, dtype=bool)
    metric = shapely.transform(
        window, lambda c: np.column_stack(_TO_SURFACE.transform(c[:, 0], c[:, 1]))
    )
    mask = rasterize([(metric, 1)], out_shape=shape, transform=transform, fill=0, dtype="uint8")
    return np.asarray(mask, dtype=bool)


def _burn_corridors(
    corridors: gpd.GeoDataFrame | CorridorLines,
    cost_model: CostModel,
    shape: tuple[int, int],
    transform: Affine,
) -> np.ndarray:
    from rasterio.features import rasterize

    if isinstance(corridors, CorridorLines):
        geometries, ratios = _line_ratios(corridors, cost_model)
    else:
        geometries, ratios = _frame_ratios(corridors, cost_model)
    shapes = [
        (geom, ratio)
        for geom, ratio in zip(geometries, ratios, strict=True)
        if ratio is not None and geom is not None and not geom.is_empty
    ]
    if not shapes:
        return np.full(shape, np.inf)
    # Burn the most expensive first so the cheapest corridor wins where lines cross.
    shapes.sort(key=lambda item: -item[1])
    burned = rasterize(shapes, out_shape=shape, transform=transform, fill=np.inf, dtype="float64")
    return np.asarray(burned, dtype="float64")


def _line_ratios(
    corridors: CorridorLines, cost_model: CostModel
) -> tuple[Sequence[Any], list[float | None]]:
    """The lines in EPSG:6372 and each one's rate as a multiple of the greenfield rate."""
    lines = list(corridors.lines)
    if corridors.epsg != SURFACE_EPSG:
        to_surface = Transformer.from_crs(corridors.epsg, SURFACE_EPSG, always_xy=True)
        lines = shapely.transform(
            np.asarray(lines, dtype=object),
            lambda c: np.column_stack(to_surface.transform(c[:, 0], c[:, 1])),
        ).tolist()
    greenfield = cost_model.usd_per_km("greenfield")
    try:
        ratios: list[float | None] = [
            cost_model.usd_per_km(str(v)) / greenfield for v in corridors.deployments
        ]
    except CostModelError as err:
        raise GreenfieldError(f"corridor layer: {err.message}") from None
    return lines, ratios


def _frame_ratios(
    corridors: gpd.GeoDataFrame, cost_model: CostModel
) -> tuple[Sequence[Any], list[float | None]]:
    """The frame's lines in EPSG:6372 and each one's rate as a multiple of greenfield."""
    if corridors.crs is None:
        raise GreenfieldError("the corridor layer has no CRS; set it (e.g. EPSG:4326) first")
    frame = corridors.to_crs(SURFACE_EPSG)
    greenfield = cost_model.usd_per_km("greenfield")
    columns = {str(c).lower(): c for c in frame.columns}
    ratios: list[float | None] = []
    try:
        if "deployment" in columns:
            values = frame[columns["deployment"]]
            ratios = [cost_model.usd_per_km(str(v)) / greenfield for v in values]
        elif "row_type" in columns:
            values = frame[columns["row_type"]]
            ratios = [
                cost_model.usd_per_km(cost_model.deployment_for_row_type(str(v))) / greenfield
                for v in values
            ]
        elif "lease_available" in columns:
            lease = cost_model.usd_per_km("fiber_lease") / greenfield
            flags = frame[columns["lease_available"]]
            ratios = [lease if _is_true(v) else None for v in flags]
        else:
            raise GreenfieldError(
                "corridor lines need a 'deployment', 'row_type' or 'lease_available' column"
            )
    except CostModelError as err:
        raise GreenfieldError(f"corridor layer: {err.message}") from None
    return list(frame.geometry), ratios
