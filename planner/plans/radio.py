"""Whether a radio path is clear over the terrain: line of sight, earth curvature, Fresnel zone.

A path from antenna A (ground elevation plus mast height) to antenna B is *clear* when, at
every point along it, the straight ray between the antennas passes above the ground, the
earth's bulge and a fraction of the first Fresnel zone:

``ray(d1) - ground(d1) - bulge(d1) - clearance x r1(d1) >= 0``

with ``d1`` and ``d2`` the distances to A and B (metres), ``D = d1 + d2``,

- ``bulge = d1 d2 / (2 k R)``: the earth's curvature under standard refraction (effective
  radius ``k R``, ``k = 4/3``, ``R = 6,371 km``);
- ``r1 = sqrt(lambda d1 d2 / D)``: the radius of the first Fresnel zone at wavelength
  ``lambda = c / f``; links are planned for ``clearance = 0.6`` of it, the usual rule for
  no diffraction loss (ITU-R P.530).

Ground comes from an elevation raster (:class:`ElevationGrid`): any north-up GeoTIFF in
EPSG:4326, sampled at the nearest cell every half cell along the path. Cells without data
(the sea, outside the grid) count as 0 m, the sea surface. With several elevation rasters
(the bundled national grid and a user's finer survey of one area), the paths of a plan use
the finest one that holds all its localities (:func:`choose_elevation`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import Geod

from layers.errors import TerrainError

EARTH_RADIUS_M = 6_371_000.0
"""Mean earth radius (IUGG), the R of the curvature term."""

SPEED_OF_LIGHT_M_S = 299_792_458.0

_GEOD = Geod(ellps="WGS84")
_MAX_SAMPLES_PER_CHUNK = 4_000_000

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RadioPath:
    """The parameters of one kind of radio path.

    Attributes
    ----------
    frequency_ghz
        Carrier frequency; sets the Fresnel radius.
    k_factor
        Effective earth-radius factor (4/3 for standard refraction).
    fresnel_clearance
        Fraction of the first Fresnel zone that must be free of ground (0.6).
    """

    frequency_ghz: float
    k_factor: float = 4.0 / 3.0
    fresnel_clearance: float = 0.6


def earth_bulge_m(
    d1_m: FloatArray | float, d2_m: FloatArray | float, k_factor: float
) -> FloatArray:
    """Height of the earth's bulge (m) at ``d1``/``d2`` metres from the ends.

    Examples
    --------
    >>> round(float(earth_bulge_m(5000.0, 5000.0, 4 / 3)), 3)
    1.472
    """
    return np.asarray(d1_m, dtype=float) * d2_m / (2.0 * k_factor * EARTH_RADIUS_M)


def fresnel_radius_m(
    d1_m: FloatArray | float, d2_m: FloatArray | float, frequency_ghz: float
) -> FloatArray:
    """Radius (m) of the first Fresnel zone at ``d1``/``d2`` metres from the ends.

    Examples
    --------
    >>> round(float(fresnel_radius_m(5000.0, 5000.0, 5.8)), 2)
    11.37
    """
    wavelength = SPEED_OF_LIGHT_M_S / (frequency_ghz * 1e9)
    d1 = np.asarray(d1_m, dtype=float)
    total = d1 + d2_m
    with np.errstate(invalid="ignore", divide="ignore"):
        radius = np.sqrt(wavelength * d1 * d2_m / total)
    return np.where(total > 0, radius, 0.0)


@dataclass(frozen=True)
class ElevationGrid:
    """Elevations (m) on a north-up lon/lat grid; NaN where there is no data.

    Attributes
    ----------
    values
        (rows, cols) elevations.
    west, north
        Longitude of the left edge and latitude of the top edge (degrees).
    dlon, dlat
        Cell size in degrees (both positive).
    source
        Where the grid comes from (a file name), for the proposal's parameters.
    beyond
        Coarser terrain for the points this grid has no data for (a user's survey of one
        area over the national grid); None: those points are at 0 m.
    """

    values: FloatArray
    west: float
    north: float
    dlon: float
    dlat: float
    source: str = "grid"
    beyond: ElevationGrid | None = None

    def fingerprint(self) -> list[Any]:
        """Its source, window, cell size and shape, and its coarser grid's: what tells grids
        read from the same raster files apart (those files' content is the network's)."""
        return [
            self.source,
            self.west,
            self.north,
            self.dlon,
            self.dlat,
            list(self.values.shape),
            None if self.beyond is None else self.beyond.fingerprint(),
        ]

    @property
    def cell_m(self) -> float:
        """Cell height in metres (the finer of the two sides at the grid's middle)."""
        mid_lat = self.north - self.dlat * self.values.shape[0] / 2
        ns = self.dlat * math.pi / 180 * EARTH_RADIUS_M
        ew = self.dlon * math.pi / 180 * EARTH_RADIUS_M * math.cos(math.radians(mid_lat))
        return min(ns, ew)

    @classmethod
    def from_raster(
        cls, path: Path, bounds: tuple[float, float, float, float], margin_deg: float = 0.3
    ) -> ElevationGrid:
        """Read the window of a GeoTIFF covering ``bounds`` (lon/lat) plus a margin.

        Raises
        ------
        TerrainError
            The file cannot be read, is not in EPSG:4326, is rotated or misses ``bounds``.
        """
        import rasterio
        from rasterio.errors import RasterioIOError
        from rasterio.windows import from_bounds

        name = Path(path).name
        try:
            src = rasterio.open(Path(path))
        except RasterioIOError:
            raise TerrainError(f"cannot open elevation raster {name}") from None
        with src:
            if src.crs is None or src.crs.to_epsg() != 4326:
                raise TerrainError(
                    f"elevation raster {name} is not in EPSG:4326; load it through Trazo, "
                    "which reprojects rasters on the way in"
                )
            t = src.transform
            if t.b != 0 or t.d != 0 or t.e >= 0:
                raise TerrainError(f"elevation raster {name} is not a north-up grid")
            west, south, east, north = bounds
            window = (
                from_bounds(
                    west - margin_deg,
                    south - margin_deg,
                    east + margin_deg,
                    north + margin_deg,
                    transform=t,
                )
                .round_offsets()
                .round_lengths()
            )
            full = rasterio.windows.Window(0, 0, src.width, src.height)
            try:
                window = window.intersection(full)
            except rasterio.errors.WindowError:
                raise TerrainError(f"elevation raster {name} does not cover the area") from None
            data = src.read(1, window=window, masked=True)
            transform = src.window_transform(window)
        values = np.ma.filled(data.astype("float64"), np.nan)
        return cls(
            values=values,
            west=float(transform.c),
            north=float(transform.f),
            dlon=float(transform.a),
            dlat=float(-transform.e),
            source=name,
        )

    def cells(
        self, lon: FloatArray, lat: FloatArray
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Row, column of the cell holding each point, and whether it is on the grid."""
        col = np.floor((np.asarray(lon) - self.west) / self.dlon).astype(np.int64)
        row = np.floor((self.north - np.asarray(lat)) / self.dlat).astype(np.int64)
        rows, cols = self.values.shape
        inside = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
        return np.clip(row, 0, rows - 1), np.clip(col, 0, cols - 1), inside

    def ground_m(self, lon: FloatArray, lat: FloatArray) -> FloatArray:
        """Ground elevation at each point (nearest cell); where this grid has no data, the
        coarser grid ``beyond`` (if any) or 0 m."""
        row, col, inside = self.cells(lon, lat)
        values = np.where(inside, self.values[row, col], np.nan)
        if self.beyond is not None:
            missing = np.isnan(values)
            if missing.any():
                values[missing] = self.beyond.ground_m(
                    np.broadcast_to(lon, values.shape)[missing],
                    np.broadcast_to(lat, values.shape)[missing],
                )
        return np.nan_to_num(values, nan=0.0)

    def highest_near(
        self, lon: FloatArray, lat: FloatArray, radius_km: float
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The centre (lon, lat) and elevation of the highest cell within ``radius_km``.

        The search is the square of cells around each point clipped to the disk; a point
        off the grid gets itself back at 0 m.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        out_lon, out_lat = lon.copy(), lat.copy()
        out_z = self.ground_m(lon, lat)
        rows, cols = self.values.shape
        centre_row, centre_col, inside = self.cells(lon, lat)
        points = np.flatnonzero(inside)
        if not points.size:
            return out_lon, out_lat, out_z
        # every point's square of cells, padded to the widest: rows within reach_r of its
        # cell, columns within its own reach_c (wider where the meridians converge);
        # cells off the grid or beyond a point's reach are left out of its search
        cell_ns_m = self.dlat * math.pi / 180 * EARTH_RADIUS_M
        reach_r = math.ceil(radius_km * 1000 / cell_ns_m)
        cos_lat = np.array([max(math.cos(math.radians(lat[i])), 1e-6) for i in points.tolist()])
        reach_c = np.array(
            [math.ceil(reach_r * self.dlat / (self.dlon * c)) for c in cos_lat.tolist()],
            dtype=np.int64,
        )
        d_row = np.arange(-reach_r, reach_r + 1)
        d_col = np.arange(-int(reach_c.max()), int(reach_c.max()) + 1)
        per_point = d_row.size * d_col.size
        step = max(1, 4_000_000 // per_point)  # cells searched at once
        for start in range(0, points.size, step):
            at = points[start : start + step]
            rr = centre_row[at, None, None] + d_row[None, :, None]
            cc = centre_col[at, None, None] + d_col[None, None, :]
            valid = (
                (rr >= 0)
                & (rr < rows)
                & (cc >= 0)
                & (cc < cols)
                & (np.abs(d_col)[None, None, :] <= reach_c[start : start + step, None, None])
            )
            block = self.values[np.clip(rr, 0, rows - 1), np.clip(cc, 0, cols - 1)]
            clon = self.west + (cc + 0.5) * self.dlon
            clat = self.north - (rr + 0.5) * self.dlat
            dy = (clat - lat[at, None, None]) * math.pi / 180 * EARTH_RADIUS_M
            dx = (
                (clon - lon[at, None, None])
                * math.pi
                / 180
                * EARTH_RADIUS_M
                * cos_lat[start : start + step, None, None]
            )
            near = valid & (np.hypot(dx, dy) <= radius_km * 1000) & np.isfinite(block)
            masked = np.where(near, block, -np.inf).reshape(at.size, -1)
            # the first highest cell in the order of each point's rows, then columns
            k = np.argmax(masked, axis=1)
            best = masked[np.arange(at.size), k]
            higher = best > out_z[at]
            take = at[higher]
            shape = masked.shape
            out_lon[take] = np.broadcast_to(clon, near.shape).reshape(shape)[higher, k[higher]]
            out_lat[take] = np.broadcast_to(clat, near.shape).reshape(shape)[higher, k[higher]]
            out_z[take] = best[higher]
        return out_lon, out_lat, out_z


def choose_elevation(rasters: Sequence[Path], lon: FloatArray, lat: FloatArray) -> Path | None:
    """The elevation raster for radio paths among these points: the finest that holds them all.

    A raster *holds* a point when the point lies within its extent. Rasters holding every
    point come first, and among them the one with the smallest cells (ground area of one
    cell at the points' mean latitude), so a user's finer survey of an area wins over the
    national grid wherever it covers the whole plan, and is passed over where it covers
    only part of it (the rest would be read as sea level). When no raster holds every
    point, the one holding the most is taken (finest first). Ties go to the order given; a
    raster that cannot be read, or is not a north-up grid in EPSG:4326, is skipped.

    Returns
    -------
    Path or None
        None when no raster is usable.

    Examples
    --------
    >>> choose_elevation([], np.array([-93.0]), np.array([18.0])) is None
    True
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    cos_lat = max(math.cos(math.radians(float(lat.mean()))), 1e-6) if lat.size else 1.0
    ranked = []
    for order, path in enumerate(rasters):
        try:
            with rasterio.open(Path(path)) as src:
                crs, t, bounds = src.crs, src.transform, src.bounds
        except RasterioIOError:
            continue
        if crs is None or crs.to_epsg() != 4326 or t.b != 0 or t.d != 0 or t.e >= 0:
            continue
        held = int(
            np.count_nonzero(
                (lon >= bounds.left)
                & (lon <= bounds.right)
                & (lat >= bounds.bottom)
                & (lat <= bounds.top)
            )
        )
        cell_m2 = (t.a * math.pi / 180 * EARTH_RADIUS_M * cos_lat) * (
            -t.e * math.pi / 180 * EARTH_RADIUS_M
        )
        ranked.append((-held, cell_m2, order, Path(path)))
    return min(ranked)[3] if ranked else None


def path_distance_m(
    lon_a: FloatArray, lat_a: FloatArray, lon_b: FloatArray, lat_b: FloatArray
) -> FloatArray:
    """Geodesic distance (WGS84) in metres between paired points."""
    _, _, distance = _GEOD.inv(
        np.asarray(lon_a, dtype=float),
        np.asarray(lat_a, dtype=float),
        np.asarray(lon_b, dtype=float),
        np.asarray(lat_b, dtype=float),
    )
    return np.asarray(distance, dtype=float)


def path_margin_m(
    grid: ElevationGrid,
    a: tuple[FloatArray, FloatArray, FloatArray],
    b: tuple[FloatArray, FloatArray, FloatArray],
    radio: RadioPath,
    *,
    distance_m: FloatArray | None = None,
) -> FloatArray:
    """Worst clearance margin (m) of each path from A to B; clear when >= 0.

    Parameters
    ----------
    grid
        The terrain.
    a, b
        ``(lon, lat, antenna height above ground in m)`` arrays of the path ends.
    radio
        Frequency, k-factor and Fresnel clearance.
    distance_m
        The paths' lengths (:func:`path_distance_m`) when the caller has them already.

    Returns
    -------
    numpy.ndarray
        For each path, the smallest ``ray - ground - bulge - clearance x r1`` over the points
        sampled every half cell between the ends (the ends themselves excluded). A path
        shorter than half a cell has nothing in between and gets +inf.
    """
    lon_a, lat_a, h_a = (np.atleast_1d(np.asarray(v, dtype=float)) for v in a)
    lon_b, lat_b, h_b = (np.atleast_1d(np.asarray(v, dtype=float)) for v in b)
    n = lon_a.size
    if distance_m is None:
        total = path_distance_m(lon_a, lat_a, lon_b, lat_b)
    else:
        total = np.atleast_1d(np.asarray(distance_m, dtype=float))
    top_a = grid.ground_m(lon_a, lat_a) + h_a
    top_b = grid.ground_m(lon_b, lat_b) + h_b
    step = grid.cell_m / 2.0
    samples = np.maximum(np.ceil(total / step).astype(np.int64) - 1, 0)
    margin = np.full(n, np.inf)
    # group paths by sample count so each group is one dense array
    order = np.argsort(samples, kind="stable")
    counts = samples[order]
    edges = np.flatnonzero(np.diff(counts)) + 1
    for start, stop in zip([0, *edges.tolist()], [*edges.tolist(), n], strict=True):
        count = int(counts[start])
        if count == 0:
            continue
        rows_per_chunk = max(1, _MAX_SAMPLES_PER_CHUNK // count)
        for chunk_start in range(start, stop, rows_per_chunk):
            idx = order[chunk_start : min(chunk_start + rows_per_chunk, stop)]
            t = np.arange(1, count + 1, dtype=float) / (count + 1)
            lon = lon_a[idx, None] + (lon_b[idx, None] - lon_a[idx, None]) * t
            lat = lat_a[idx, None] + (lat_b[idx, None] - lat_a[idx, None]) * t
            d1 = total[idx, None] * t
            d2 = total[idx, None] - d1
            ray = top_a[idx, None] + (top_b[idx, None] - top_a[idx, None]) * t
            ground = grid.ground_m(lon, lat)
            need = (
                ground
                + earth_bulge_m(d1, d2, radio.k_factor)
                + radio.fresnel_clearance * fresnel_radius_m(d1, d2, radio.frequency_ghz)
            )
            margin[idx] = np.min(ray - need, axis=1)
    return margin
