"""Tests of greenfield links on small synthetic rasters and a real Tabasco/Chiapas clip."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from shapely import LineString

from layers.errors import GreenfieldError, NoRouteError, OutsideSurfaceError, TrazoError
from planner.network.cost_model import CostModel, load_cost_model
from planner.network.greenfield import (
    FrictionSurface,
    build_friction_surface,
    greenfield_links,
    greenfield_path,
    slope_degrees,
)

REAL_CLIP = (
    Path(__file__).resolve().parent.parent / "data" / "raster" / "tabasco_chiapas_elevation_1km.tif"
)
GEOD = Geod(ellps="WGS84")
TO_LONLAT = Transformer.from_crs(6372, 4326, always_xy=True)
# A 1 km grid in EPSG:6372 near (-103 E, 22 N), inside Mexico.
ORIGIN = Affine(1000.0, 0.0, 2_400_000.0, 0.0, -1000.0, 1_100_000.0)
NODATA = -9999.0
RATE = 30_000.0  # greenfield USD/km of the default model


@pytest.fixture(scope="module")
def model() -> CostModel:
    return load_cost_model()


def write_raster(
    path: Path, elevation: np.ndarray, transform: Affine = ORIGIN, crs: str = "EPSG:6372"
) -> Path:
    rows, cols = elevation.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=cols,
        height=rows,
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=NODATA,
    ) as dst:
        dst.write(elevation.astype("float32"), 1)
    return path


def centre(row: int, col: int) -> tuple[float, float]:
    """Lon/lat of the centre of a cell of the ORIGIN grid."""
    x = ORIGIN.c + (col + 0.5) * ORIGIN.a
    y = ORIGIN.f + (row + 0.5) * ORIGIN.e
    lon, lat = TO_LONLAT.transform(x, y)
    return float(lon), float(lat)


def geodesic_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2]) / 1000.0


def cells_of(surface: FrictionSurface, line: LineString) -> list[tuple[int, int]]:
    cells = [surface.cell_of((x, y)) for x, y in line.coords]
    assert all(c is not None for c in cells)
    return [c for c in cells if c is not None]


def flat_surface(
    tmp_path: Path, model: CostModel, shape: tuple[int, int] = (20, 20)
) -> FrictionSurface:
    path = write_raster(tmp_path / "flat.tif", np.full(shape, 100.0))
    return build_friction_surface(path, None, None, model, land=None)


# --- flat field ------------------------------------------------------------------------------


def test_surface_is_square_cells_in_epsg_6372(tmp_path: Path, model: CostModel) -> None:
    surface = flat_surface(tmp_path, model)
    assert surface.crs.to_epsg() == 6372
    assert surface.shape == (20, 20)
    assert surface.cell_size_m == 1000.0
    assert np.all(surface.friction == 1.0)
    assert surface.usd_per_km == RATE


def test_flat_field_straight_path(tmp_path: Path, model: CostModel) -> None:
    surface = flat_surface(tmp_path, model)
    start, end = centre(5, 2), centre(5, 17)
    link = greenfield_path(surface, start, end)
    assert {row for row, _ in cells_of(surface, link.geometry)} == {5}
    straight = geodesic_km(start, end)
    assert straight == pytest.approx(15.0, abs=0.1)  # 15 cells of 1 km (LCC scale ~1)
    assert link.length_km == pytest.approx(straight, abs=0.01)
    assert link.cost_usd == pytest.approx(link.length_km * RATE, rel=1e-9)
    assert link.mean_terrain_multiplier == 1.0
    assert link.corridor_share == 0.0


def test_flat_field_oblique_path_is_within_a_cell_of_octile_length(
    tmp_path: Path, model: CostModel
) -> None:
    surface = flat_surface(tmp_path, model)
    start, end = centre(2, 2), centre(17, 12)  # 15 rows down, 10 columns across
    link = greenfield_path(surface, start, end)
    straight = geodesic_km(start, end)
    octile = 10 * math.sqrt(2) + 5  # 10 diagonal and 5 straight 1 km steps
    assert straight <= link.length_km <= octile + 0.1
    assert link.length_km - straight < 1.5  # about one cell of detour at most here


def test_first_and_last_vertices_are_the_given_points(tmp_path: Path, model: CostModel) -> None:
    surface = flat_surface(tmp_path, model)
    start = (centre(3, 3)[0] + 0.0012, centre(3, 3)[1] - 0.0021)
    end = (centre(14, 16)[0] - 0.0031, centre(14, 16)[1] + 0.0007)
    link = greenfield_path(surface, start, end)
    coords = list(link.geometry.coords)
    assert coords[0] == start
    assert coords[-1] == end
    assert link.length_km >= geodesic_km(start, end)


def test_same_cell_gives_a_two_vertex_link(tmp_path: Path, model: CostModel) -> None:
    surface = flat_surface(tmp_path, model)
    point = centre(4, 4)
    link = greenfield_path(surface, point, point)
    assert list(link.geometry.coords) == [point, point]
    assert link.length_km == 0.0
    assert link.cost_usd == 0.0


# --- terrain ---------------------------------------------------------------------------------


def ridge_raster(tmp_path: Path) -> Path:
    """Flat 100 m field with a 2,000 m one-cell ridge down column 10, open at row 15.

    Central differences make the cells beside the ridge (columns 9 and 11) 43.5 degrees
    steep; the gap row 15 and the ridge crest stay flat.
    """
    elevation = np.full((20, 21), 100.0)
    elevation[:, 10] = 2000.0
    elevation[15, 10] = 100.0
    return write_raster(tmp_path / "ridge.tif", elevation)


def test_ridge_slopes_are_hand_computed(tmp_path: Path, model: CostModel) -> None:
    surface = build_friction_surface(ridge_raster(tmp_path), None, None, model, land=None)
    expected = math.degrees(math.atan(1900 / 2000))  # 43.5 degrees -> x2.5
    with rasterio.open(tmp_path / "ridge.tif") as src:
        slopes = slope_degrees(src.read(1), src.transform, 6372)
    assert slopes[3, 9] == pytest.approx(expected)
    assert slopes[15, 9] == 0.0
    assert surface.friction[3, 9] == 2.5
    assert surface.friction[15, 9] == surface.friction[15, 10] == 1.0


def test_steep_ridge_forces_the_path_through_the_gap(tmp_path: Path, model: CostModel) -> None:
    steep = model.with_overrides(
        {
            "terrain": {
                "slope": [
                    {"max_deg": 5.0, "multiplier": 1.0, "source": "test"},
                    {"max_deg": 90.0, "multiplier": 50.0, "source": "test"},
                ]
            }
        }
    )
    surface = build_friction_surface(ridge_raster(tmp_path), None, None, steep, land=None)
    link = greenfield_path(surface, centre(3, 2), centre(3, 18))
    crossing = [cell for cell in cells_of(surface, link.geometry) if cell[1] == 10]
    assert crossing and {row for row, _ in crossing} == {15}
    # Every cell on the detour is flat, so the cost is the plain greenfield rate.
    assert link.mean_terrain_multiplier == 1.0
    assert link.cost_usd == pytest.approx(link.length_km * RATE)
    # Going straight over would cost at least two x50 cells: far more than the detour.
    assert link.cost_usd < (16 + 49) * RATE


def test_gentle_ridge_is_crossed_when_the_detour_costs_more(
    tmp_path: Path, model: CostModel
) -> None:
    # With the default x2.5 the crossing adds about 2 x 1.5 = 3 km-equivalents, the detour
    # through row 15 about 15: the path goes straight over.
    surface = build_friction_surface(ridge_raster(tmp_path), None, None, model, land=None)
    link = greenfield_path(surface, centre(3, 2), centre(3, 18))
    assert {row for row, _ in cells_of(surface, link.geometry)} == {3}
    assert link.mean_terrain_multiplier > 1.0
    assert link.cost_usd == pytest.approx((16 + 1.5 * 2) * RATE, rel=0.01)


@pytest.mark.parametrize(("lat", "dx_m"), [(0.0, 1000.0), (60.0, 500.0)])
def test_slope_on_geographic_grid_uses_metric_spacing(lat: float, dx_m: float) -> None:
    # A ramp rising 100 m per cell eastwards: 1 km cells at the equator, 0.5 km at 60 N.
    cell_deg = 1000.0 / GEOD.inv(0.0, 0.0, 1.0, 0.0)[2]
    ramp = np.tile(np.arange(7, dtype="float64") * 100.0, (3, 1))
    transform = Affine(cell_deg, 0.0, 0.0, 0.0, -cell_deg / 100, lat + cell_deg / 200)
    slopes = slope_degrees(ramp, transform, 4326)
    measured = GEOD.inv(0.0, lat, cell_deg, lat)[2]
    assert measured == pytest.approx(dx_m, rel=0.01)
    assert slopes[1, 3] == pytest.approx(math.degrees(math.atan(100.0 / measured)), rel=1e-4)


@pytest.mark.parametrize("seed", range(6))
def test_slopes_beside_gaps_are_those_of_filling_each_gap_from_its_nearest_cell(
    seed: int,
) -> None:
    # every missing cell filled from its nearest valid cell (an exact Euclidean feature
    # transform, ties broken as scipy breaks them): a valid cell's slope reads only its
    # four neighbours, so filling the gaps' edges alone must give exactly the same slopes
    from scipy.ndimage import distance_transform_edt

    rng = np.random.default_rng(seed)
    z = rng.uniform(0.0, 800.0, (25, 35))  # no two neighbours equal: a tie picks a value
    z[rng.random(z.shape) < rng.uniform(0.2, 0.7)] = np.nan
    valid = np.isfinite(z)
    _, (rows, cols) = distance_transform_edt(~valid, return_indices=True)
    transform = Affine(0.01, 0.0, -93.0, 0.0, -0.01, 18.0)
    slopes = slope_degrees(z, transform, 4326)
    reference = slope_degrees(z[rows, cols], transform, 4326)
    assert np.array_equal(slopes[valid], reference[valid])
    assert np.isnan(slopes[~valid]).all()


def test_nodata_cells_are_impassable_and_missing_slope(tmp_path: Path, model: CostModel) -> None:
    elevation = np.full((10, 10), 50.0)
    elevation[:, 6:] = NODATA  # sea to the east
    surface = build_friction_surface(
        write_raster(tmp_path / "c.tif", elevation), None, None, model, land=None
    )
    assert np.all(np.isinf(surface.friction[:, 6:]))
    assert np.all(np.isnan(surface.terrain[:, 6:]))
    assert np.all(surface.friction[:, :6] == 1.0)  # the coast keeps a flat slope

    high = model.with_overrides({"terrain.nodata.policy": "high_cost"})
    surface = build_friction_surface(tmp_path / "c.tif", None, None, high, land=None)
    assert np.all(surface.friction[:, 6:] == high.terrain.nodata.multiplier)


# --- corridors -------------------------------------------------------------------------------


def u_corridor(row_type: str) -> gpd.GeoDataFrame:
    line = LineString([centre(3, 2), centre(12, 2), centre(12, 17), centre(3, 17)])
    return gpd.GeoDataFrame({"row_type": [row_type]}, geometry=[line], crs=4326)


def test_cheaper_corridor_is_followed(tmp_path: Path, model: CostModel) -> None:
    # Direct greenfield: 15 km x 30k = 450k. Along the U-shaped power line: 9 + 15 + 9 cells,
    # less 2 - sqrt(2) at each of the two corners cut diagonally between corridor cells:
    # 31.83 km x 12k = 382k.
    path = write_raster(tmp_path / "flat.tif", np.full((20, 20), 100.0))
    surface = build_friction_surface(path, u_corridor("power"), None, model, land=None)
    assert surface.corridor[12, 2:18].all() and surface.corridor[3:13, 2].all()
    assert surface.friction[12, 8] == pytest.approx(12_000 / RATE)
    link = greenfield_path(surface, centre(3, 2), centre(3, 17))
    assert 12 in {row for row, _ in cells_of(surface, link.geometry)}
    assert link.corridor_share == pytest.approx(1.0)
    assert link.cost_usd == pytest.approx((33 - 2 * (2 - math.sqrt(2))) * 12_000, rel=0.01)
    assert link.cost_usd < 15 * RATE


def test_dearer_corridor_is_ignored(tmp_path: Path, model: CostModel) -> None:
    # Along a highway the U costs 33 km x 18k = 594k, more than the straight 450k.
    path = write_raster(tmp_path / "flat.tif", np.full((20, 20), 100.0))
    surface = build_friction_surface(path, u_corridor("highway"), None, model, land=None)
    link = greenfield_path(surface, centre(3, 2), centre(3, 17))
    assert {row for row, _ in cells_of(surface, link.geometry)} == {3}
    assert link.corridor_share < 0.1  # only the two end cells lie on the corridor
    assert 400_000 < link.cost_usd < 15 * RATE


def test_corridors_need_a_type_column(tmp_path: Path, model: CostModel) -> None:
    path = write_raster(tmp_path / "flat.tif", np.full((20, 20), 100.0))
    frame = u_corridor("power").drop(columns="row_type")
    with pytest.raises(GreenfieldError, match="'deployment', 'row_type' or 'lease_available'"):
        build_friction_surface(path, frame, None, model, land=None)
    with pytest.raises(GreenfieldError, match="unknown right-of-way type 'canal'"):
        build_friction_surface(path, u_corridor("canal"), None, model, land=None)


# --- errors ----------------------------------------------------------------------------------


def test_point_outside_the_surface(tmp_path: Path, model: CostModel) -> None:
    surface = flat_surface(tmp_path, model)
    with pytest.raises(OutsideSurfaceError, match="outside the friction surface"):
        greenfield_path(surface, centre(3, 3), (-99.13, 19.43))
    with pytest.raises(OutsideSurfaceError, match="not a valid lon/lat"):
        greenfield_path(surface, centre(3, 3), (float("nan"), 19.0))
    assert issubclass(OutsideSurfaceError, TrazoError)


def test_point_in_nodata_is_refused_or_snapped(tmp_path: Path, model: CostModel) -> None:
    elevation = np.full((10, 12), 50.0)
    elevation[:, 6:] = NODATA
    surface = build_friction_surface(
        write_raster(tmp_path / "c.tif", elevation), None, None, model, land=None
    )
    with pytest.raises(OutsideSurfaceError, match="no-data cell"):
        greenfield_path(surface, centre(5, 1), centre(5, 10))
    # One cell offshore: snapped to the coast, but the link still starts at the given point.
    offshore = centre(5, 6)
    link = greenfield_path(surface, offshore, centre(5, 1))
    assert link.geometry.coords[0] == offshore
    assert surface.cell_of(link.geometry.coords[1]) == (5, 5)
    with pytest.raises(OutsideSurfaceError, match="no-data cell"):
        greenfield_path(surface, offshore, centre(5, 1), snap_km=0.0)


def test_separate_islands_have_no_path(tmp_path: Path, model: CostModel) -> None:
    elevation = np.full((10, 12), 50.0)
    elevation[:, 5:7] = NODATA  # a strait two cells wide
    surface = build_friction_surface(
        write_raster(tmp_path / "s.tif", elevation), None, None, model, land=None
    )
    with pytest.raises(NoRouteError, match="crosses sea or missing elevation"):
        greenfield_path(surface, centre(5, 1), centre(5, 10))
    with pytest.raises(NoRouteError, match="source 0"):
        greenfield_links(surface, [centre(5, 1)], [centre(5, 10)])


def test_bad_raster_inputs(tmp_path: Path, model: CostModel) -> None:
    with pytest.raises(GreenfieldError, match=r"cannot open elevation raster missing\.tif"):
        build_friction_surface(tmp_path / "missing.tif", None, None, model, land=None)
    path = write_raster(tmp_path / "flat.tif", np.full((20, 20), 100.0))
    with pytest.raises(OutsideSurfaceError, match="do not overlap"):
        build_friction_surface(path, None, (10.0, 40.0, 11.0, 41.0), model, land=None)
    with pytest.raises(GreenfieldError, match="min < max"):
        build_friction_surface(path, None, (-102.0, 22.0, -103.0, 23.0), model, land=None)


# --- many to many ----------------------------------------------------------------------------


def test_links_connect_each_source_to_its_cheapest_target(tmp_path: Path, model: CostModel) -> None:
    surface = flat_surface(tmp_path, model)
    targets = [centre(2, 2), centre(17, 17)]
    sources = [centre(4, 5), centre(15, 12), centre(12, 3)]
    links = greenfield_links(surface, sources, targets)
    assert [c.source_index for c in links] == [0, 1, 2]
    assert [c.target_index for c in links] == [0, 1, 0]
    for connection in links:
        source = sources[connection.source_index]
        target = targets[connection.target_index]
        coords = list(connection.link.geometry.coords)
        assert coords[0] == source and coords[-1] == target
        single = greenfield_path(surface, source, target)
        assert connection.link.cost_usd == pytest.approx(single.cost_usd, rel=1e-4)
    assert greenfield_links(surface, [], targets) == []
    with pytest.raises(OutsideSurfaceError, match="target 1"):
        greenfield_links(surface, sources, [targets[0], (-99.13, 19.43)])


# --- property --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rugged(tmp_path_factory: pytest.TempPathFactory, model: CostModel) -> FrictionSurface:
    rng = np.random.default_rng(7)
    elevation = np.cumsum(np.cumsum(rng.normal(0, 40, (25, 25)), axis=0), axis=1)
    path = write_raster(tmp_path_factory.mktemp("rugged") / "rugged.tif", elevation)
    return build_friction_surface(path, None, None, model, land=None)


@settings(max_examples=25, deadline=None)
@given(
    a=st.tuples(st.floats(0.5, 24.5), st.floats(0.5, 24.5)),
    b=st.tuples(st.floats(0.5, 24.5), st.floats(0.5, 24.5)),
)
def test_no_path_is_cheaper_than_the_straight_line_at_minimum_friction(
    rugged: FrictionSurface, a: tuple[float, float], b: tuple[float, float]
) -> None:
    def lonlat(rc: tuple[float, float]) -> tuple[float, float]:
        x = ORIGIN.c + rc[1] * ORIGIN.a
        y = ORIGIN.f + rc[0] * ORIGIN.e
        lon, lat = TO_LONLAT.transform(x, y)
        return float(lon), float(lat)

    start, end = lonlat(a), lonlat(b)
    link = greenfield_path(rugged, start, end)
    straight = geodesic_km(start, end)
    assert link.length_km >= straight * (1 - 1e-9)
    assert link.cost_usd >= RATE * straight * rugged.min_multiplier * (1 - 1e-9)
    assert link.cost_usd >= 0


# --- real elevation --------------------------------------------------------------------------


def test_villahermosa_to_teapa_on_real_elevation(model: CostModel) -> None:
    villahermosa, teapa = (-92.93, 17.99), (-92.95, 17.55)
    bounds = (-92.95, 17.55, -92.93, 17.99)
    surface = build_friction_surface(REAL_CLIP, None, bounds, model, land=None)
    whole = build_friction_surface(REAL_CLIP, None, None, model, land=None)
    assert surface.friction.size < whole.friction.size / 2  # only the window was read
    link = greenfield_path(surface, villahermosa, teapa)
    straight = geodesic_km(villahermosa, teapa)
    assert straight == pytest.approx(48.7, abs=0.1)
    assert straight <= link.length_km < 1.3 * straight
    assert link.cost_usd >= link.length_km * RATE * model.min_terrain_multiplier
    coords = list(link.geometry.coords)
    assert coords[0] == villahermosa and coords[-1] == teapa
