"""Radio paths over hand-made terrain: line of sight, earth curvature and Fresnel clearance.

Grids sit on the equator with 0.001-degree cells (about 111 m), so a path along it is a
straight east-west line whose length pyproj's geodesic gives; every expected margin below
is worked by hand from the formulas in planner/plans/radio.py:

- bulge at mid-path of D metres: (D/2)^2 / (2 k R), k = 4/3, R = 6,371,000 m;
- first Fresnel radius at mid-path: sqrt(lambda (D/2)^2 / D), lambda = c / f.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod

from planner.plans.radio import (
    ElevationGrid,
    RadioPath,
    choose_elevation,
    earth_bulge_m,
    fresnel_radius_m,
    path_margin_m,
)

GEOD = Geod(ellps="WGS84")
CELL = 0.001


def grid(values: np.ndarray) -> ElevationGrid:
    rows = values.shape[0]
    return ElevationGrid(
        values=values.astype(float), west=0.0, north=rows * CELL / 2, dlon=CELL, dlat=CELL
    )


def east_of_origin(metres: float) -> float:
    lon, _, _ = GEOD.fwd(0.0, 0.0, 90.0, metres)
    return float(lon)


def flat(cols: int, height: float = 0.0) -> np.ndarray:
    return np.full((5, cols), height)


def margin(g: ElevationGrid, length_m: float, h_a: float, h_b: float, radio: RadioPath) -> float:
    end = east_of_origin(length_m)
    return float(
        path_margin_m(
            g,
            (np.array([0.0005]), np.array([0.0]), np.array([h_a])),
            (np.array([end]), np.array([0.0]), np.array([h_b])),
            radio,
        )[0]
    )


def test_bulge_and_fresnel_by_hand() -> None:
    # 10 km at mid-path: 5000 * 5000 / (2 * 4/3 * 6371000) = 1.4715 m
    assert float(earth_bulge_m(5000.0, 5000.0, 4 / 3)) == pytest.approx(1.4715, abs=1e-4)
    # 5.8 GHz: lambda = 0.051688 m; sqrt(0.051688 * 2500) = 11.367 m
    assert float(fresnel_radius_m(5000.0, 5000.0, 5.8)) == pytest.approx(11.367, abs=1e-3)
    # 11 GHz over 30 km, 10 km from one end: sqrt(0.027254 * 1e4 * 2e4 / 3e4) = 13.479 m
    assert float(fresnel_radius_m(10000.0, 20000.0, 11.0)) == pytest.approx(13.479, abs=1e-3)


def test_clear_path_over_flat_ground() -> None:
    # 10 km over 0 m ground, masts 30 m and 30 m: mid ray 30, bulge 1.47, 0.6 x r1 6.82
    radio = RadioPath(frequency_ghz=5.8)
    g = grid(flat(120))
    m = margin(g, 10_000.0, 30.0, 30.0, radio)
    assert m > 0
    assert m == pytest.approx(30.0 - 1.4715 - 0.6 * 11.367, abs=0.2)


def test_ridge_blocks_the_path() -> None:
    # a 25 m ridge across the middle (cells 44-46, about 4.9-5.2 km): the ray is at 30 m,
    # 25 + 1.47 + 6.8 = 33.3 m are needed, so the margin is about -3.3 m
    values = flat(120)
    values[:, 44:47] = 25.0
    radio = RadioPath(frequency_ghz=5.8)
    m = margin(grid(values), 10_000.0, 30.0, 30.0, radio)
    assert m < 0
    assert m == pytest.approx(30.0 - 25.0 - 1.47 - 6.82, abs=0.3)
    # the same ridge with the antennas 10 m higher is cleared
    assert margin(grid(values), 10_000.0, 40.0, 40.0, radio) > 0


def test_earth_curvature_alone_blocks_a_long_path() -> None:
    # 40 km over sea-level ground, masts 30 m: mid bulge 20000^2 / (2 * 4/3 * 6371000)
    # = 23.54 m, 0.6 x Fresnel at 5.8 GHz sqrt(0.051688 * 1e4) * 0.6 = 13.64 m
    g = grid(flat(400))
    flat_earth = RadioPath(frequency_ghz=5.8, k_factor=1e12)
    curved = RadioPath(frequency_ghz=5.8)
    assert margin(g, 40_000.0, 30.0, 30.0, flat_earth) == pytest.approx(30 - 13.64, abs=0.1)
    assert margin(g, 40_000.0, 30.0, 30.0, curved) == pytest.approx(30 - 23.54 - 13.64, abs=0.1)
    assert margin(g, 40_000.0, 30.0, 30.0, curved) < 0


def test_fresnel_zone_not_just_line_of_sight() -> None:
    # a 20 m ridge under a 30 m ray: line of sight passes (10 m above it) but 0.6 of the
    # Fresnel zone (6.82 m) plus the bulge (1.47 m) leave only 1.7 m; at 0.9 GHz the
    # Fresnel radius is sqrt(0.3331 * 2500) = 28.86 m and 0.6 of it 17.3 m: blocked
    values = flat(120)
    values[:, 44:47] = 20.0
    assert margin(grid(values), 10_000.0, 30.0, 30.0, RadioPath(frequency_ghz=5.8)) > 0
    low = margin(grid(values), 10_000.0, 30.0, 30.0, RadioPath(frequency_ghz=0.9))
    assert low == pytest.approx(30 - 20 - 1.47 - 17.32, abs=0.3)
    no_fresnel = RadioPath(frequency_ghz=0.9, fresnel_clearance=0.0)
    assert margin(grid(values), 10_000.0, 30.0, 30.0, no_fresnel) > 0


def test_highest_point_near_a_locality() -> None:
    values = flat(120)
    values[2, 10] = 80.0  # about 1.1 km east of the origin
    values[2, 60] = 200.0  # about 6.7 km east: out of a 3 km radius
    g = grid(values)
    lon, lat, z = g.highest_near(np.array([0.0]), np.array([0.0]), 3.0)
    assert z[0] == 80.0
    assert lon[0] == pytest.approx(10.5 * CELL)
    assert math.isclose(lat[0], 0.0, abs_tol=CELL)


def _highest_near_one_by_one(
    g: ElevationGrid, lon: np.ndarray, lat: np.ndarray, radius_km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference: each point's square of cells searched on its own (the search as it was
    written before it went over every point at once)."""
    out_lon, out_lat, out_z = lon.copy(), lat.copy(), g.ground_m(lon, lat)
    rows, cols = g.values.shape
    centre_row, centre_col, inside = g.cells(lon, lat)
    for i in np.flatnonzero(inside):
        cos_lat = max(math.cos(math.radians(lat[i])), 1e-6)
        reach_r = math.ceil(radius_km * 1000 / (g.dlat * math.pi / 180 * 6_371_000.0))
        reach_c = math.ceil(reach_r * g.dlat / (g.dlon * cos_lat))
        r0, r1 = max(centre_row[i] - reach_r, 0), min(centre_row[i] + reach_r + 1, rows)
        c0, c1 = max(centre_col[i] - reach_c, 0), min(centre_col[i] + reach_c + 1, cols)
        block = g.values[r0:r1, c0:c1]
        rr, cc = np.mgrid[r0:r1, c0:c1]
        clon = g.west + (cc + 0.5) * g.dlon
        clat = g.north - (rr + 0.5) * g.dlat
        dy = (clat - lat[i]) * math.pi / 180 * 6_371_000.0
        dx = (clon - lon[i]) * math.pi / 180 * 6_371_000.0 * cos_lat
        near = (np.hypot(dx, dy) <= radius_km * 1000) & np.isfinite(block)
        if not near.any():
            continue
        masked = np.where(near, block, -np.inf)
        k = int(np.argmax(masked))
        if masked.flat[k] > out_z[i]:
            out_lon[i], out_lat[i], out_z[i] = clon.flat[k], clat.flat[k], masked.flat[k]
    return out_lon, out_lat, out_z


@pytest.mark.parametrize("seed", range(12))
def test_every_point_finds_the_highest_cell_its_own_search_finds(seed: int) -> None:
    # whole-metre heights (ties), holes, points off the grid, cells of several shapes
    rng = np.random.default_rng(seed)
    rows, cols = (int(n) for n in rng.integers(5, 60, 2))
    values = rng.integers(0, 50, (rows, cols)).astype(float)
    values[rng.random((rows, cols)) < 0.1] = np.nan
    dlon, dlat = (float(d) for d in rng.choice([0.008333, 0.01, 0.02], 2))
    g = ElevationGrid(values=values, west=-94.0, north=19.0, dlon=dlon, dlat=dlat)
    lon = -94.0 + rng.random(200) * cols * dlon * 1.2 - 0.05
    lat = 19.0 - rng.random(200) * rows * dlat * 1.2 + 0.05
    radius_km = float(rng.choice([0.5, 1.0, 2.0, 3.5]))
    found = g.highest_near(lon, lat, radius_km)
    for got, expected in zip(found, _highest_near_one_by_one(g, lon, lat, radius_km), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_missing_elevation_is_sea_level() -> None:
    values = flat(120)
    values[:, 40:60] = np.nan
    m = margin(grid(values), 10_000.0, 30.0, 30.0, RadioPath(frequency_ghz=5.8))
    assert m == pytest.approx(30.0 - 1.4715 - 0.6 * 11.367, abs=0.2)


def tif(path: Path, west: float, north: float, cell: float, shape: tuple[int, int]) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=shape[0],
        width=shape[1],
        count=1,
        dtype="int16",
        crs="EPSG:4326",
        transform=from_origin(west, north, cell, cell),
    ) as dst:
        dst.write(np.zeros(shape, dtype="int16"), 1)
    return path


def test_the_finest_raster_holding_every_point_is_chosen(tmp_path: Path) -> None:
    # national-style grid 0..10 E x 0..10 N at 0.01 degree; a survey of 2..3 E x 2..3 N at
    # 0.001 degree; a survey of 2..2.5 E x 2..2.5 N at 0.0005 degree (finest, but smaller)
    grid10 = tif(tmp_path / "elevation.tif", 0.0, 10.0, 0.01, (1000, 1000))
    survey = tif(tmp_path / "dem_a.tif", 2.0, 3.0, 0.001, (1000, 1000))
    corner = tif(tmp_path / "dem_b.tif", 2.0, 2.5, 0.0005, (1000, 1000))
    rasters = [grid10, survey, corner]
    inside_corner = (np.array([2.1, 2.4]), np.array([2.1, 2.4]))
    inside_survey = (np.array([2.1, 2.9]), np.array([2.1, 2.9]))
    spread = (np.array([2.1, 7.0]), np.array([2.1, 7.0]))
    assert choose_elevation(rasters, *inside_corner) == corner
    assert choose_elevation(rasters, *inside_survey) == survey
    assert choose_elevation(rasters, *spread) == grid10
    # none holds both points: the one holding more (one each here: the finest)
    only_surveys = [survey, corner]
    assert choose_elevation(only_surveys, *spread) == corner
    assert choose_elevation([tmp_path / "missing.tif"], *spread) is None


def test_ground_beyond_a_survey_comes_from_the_coarser_grid() -> None:
    coarse = ElevationGrid(values=np.full((10, 10), 50.0), west=0.0, north=1.0, dlon=0.1, dlat=0.1)
    survey = ElevationGrid(
        values=np.array([[7.0, np.nan], [7.0, 7.0]]),
        west=0.0,
        north=1.0,
        dlon=0.01,
        dlat=0.01,
        beyond=coarse,
    )
    lon = np.array([0.005, 0.015, 0.5])
    lat = np.array([0.995, 0.995, 0.5])
    # in the survey; in its no-data cell; outside it
    assert survey.ground_m(lon, lat).tolist() == [7.0, 50.0, 50.0]


def test_margins_given_the_paths_lengths_are_the_margins_measured() -> None:
    # the planner measures its candidate paths' lengths to keep those in range, then hands
    # them over; a rough ridge across random paths of every sample count
    rng = np.random.default_rng(4)
    values = rng.uniform(0, 40, (5, 400))
    values[:, 150:160] = 120.0
    g = grid(values)
    n = 300
    lon_a, lon_b = rng.uniform(0.0, 0.4, n), rng.uniform(0.0, 0.4, n)
    lat_a, lat_b = rng.uniform(-0.002, 0.002, n), rng.uniform(-0.002, 0.002, n)
    a = (lon_a, lat_a, np.full(n, 30.0))
    b = (lon_b, lat_b, np.full(n, 6.0))
    radio = RadioPath(5.8, 4 / 3, 0.6)
    length = np.asarray(GEOD.inv(lon_a, lat_a, lon_b, lat_b)[2])
    measured = path_margin_m(g, a, b, radio)
    given = path_margin_m(g, a, b, radio, distance_m=length)
    assert np.array_equal(given, measured)
    assert np.isfinite(measured).sum() > 100 and (measured < 0).sum() > 10
