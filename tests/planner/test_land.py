"""Land and water: corridors cut at the coast, crossings only by subsea links, the planning area.

The synthetic world: a mainland (lat 17.0-17.5) and an island (lat 17.6-17.8) between
lon -93.5 and -92.5, so the strait between them is 0.1 degree of latitude wide. Lines run
along the meridian -93, where a degree of latitude between 17 and 18 N is 110.67 km on the
WGS84 ellipsoid (meridian arc tables: 110.649 km at 15 N, 110.704 km at 20 N), so the strait
is 11.07 km and every expected length below is a multiple of that.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from shapely import LineString, box

from layers.errors import (
    NoRouteError,
    OutsidePlanningAreaError,
    OutsideSurfaceError,
)
from planner.network.build_cache import BuildCache
from planner.network.cost_model import load_cost_model
from planner.network.greenfield import (
    build_friction_surface,
    greenfield_path,
)
from planner.network.land import Land
from planner.network.places import (
    Place,
    PlaceIndex,
)
from planner.network.planning_network import (
    attach_place,
    build_network,
)
from planner.plans.route import plan_route

KM_PER_DEGREE = 110.67  # of latitude, 17-18 N
STRAIT_KM = 0.1 * KM_PER_DEGREE  # 11.07 km
COSTS = load_cost_model()
SUBSEA, GREENFIELD, HIGHWAY, LANDING = 30_000.0, 30_000.0, 18_000.0, 500_000.0  # cost_model.toml
BUNDLED_STATES = Path(__file__).resolve().parents[2] / "data" / "layers" / "states.fgb"


@pytest.fixture(scope="module")
def land() -> Land:
    polygons = gpd.GeoSeries(
        [box(-93.5, 17.0, -92.5, 17.5), box(-93.5, 17.6, -92.5, 17.8)], crs="EPSG:4326"
    )
    return Land(polygons, margin_km=30.0, name="the test land")


def roads(*lines: LineString) -> dict[str, gpd.GeoDataFrame]:
    frame = gpd.GeoDataFrame(
        {"row_type": ["highway"] * len(lines)}, geometry=list(lines), crs="EPSG:4326"
    )
    return {"roads": frame}


def meridian(lat0: float, lat1: float, lon: float = -93.0) -> LineString:
    return LineString([(lon, lat0), (lon, lat1)])


def test_a_corridor_running_out_to_sea_is_cut_at_the_coastline(land: Land) -> None:
    # from 17.2 N on the mainland to 17.55 N, half-way across the strait: the coast is at
    # 17.5 N, so 0.05 degree (5.53 km) lies at sea, more than the 1 km tolerance
    frame = roads(meridian(17.2, 17.55))["roads"]
    clipped, removed_km = land.clip_lines(frame)
    [line] = clipped.geometry
    assert list(line.geoms[0].coords) == [(-93.0, 17.2), (-93.0, 17.5)]
    assert removed_km == pytest.approx(0.05 * KM_PER_DEGREE, abs=0.01)


def test_a_corridor_across_the_strait_loses_its_water_and_keeps_both_shores(land: Land) -> None:
    clipped, removed_km = land.clip_lines(roads(meridian(17.2, 17.7))["roads"])
    parts = sorted(list(p.coords) for p in clipped.geometry.iloc[0].geoms)
    assert parts == [[(-93.0, 17.2), (-93.0, 17.5)], [(-93.0, 17.6), (-93.0, 17.7)]]
    assert removed_km == pytest.approx(STRAIT_KM, abs=0.01)


def test_a_causeway_within_the_tolerance_is_kept() -> None:
    # two shores 0.005 degree (553 m) apart: a bridge, within the 1 km tolerance
    narrow = Land(
        gpd.GeoSeries([box(-93.5, 17.0, -92.5, 17.5), box(-93.5, 17.505, -92.5, 17.8)], crs=4326)
    )
    clipped, removed_km = narrow.clip_lines(roads(meridian(17.2, 17.7))["roads"])
    assert removed_km == 0.0
    assert list(clipped.geometry.iloc[0].coords) == [(-93.0, 17.2), (-93.0, 17.7)]


def test_an_island_network_is_joined_by_one_subsea_link_costed_as_one(land: Land) -> None:
    network = build_network(roads(meridian(17.0, 17.5), meridian(17.6, 17.8)), COSTS, land=land)
    assert network.bridges == 1 and network.subsea_bridges == 1
    assert nx.is_connected(network.graph)
    [crossing] = [d for *_, d in network.graph.edges(data=True) if d.get("kind") == "bridge"]
    assert crossing["deployment_type"] == "subsea"
    assert crossing["length_km"] == pytest.approx(STRAIT_KM, abs=0.01)
    assert crossing["landings"] == 2
    # cable km x the subsea rate + a landing on each shore
    assert crossing["cost_usd"] == pytest.approx(STRAIT_KM * SUBSEA + 2 * LANDING, abs=400)
    south, north = Place("Sur", -93.0, 17.0), Place("Isla", -93.0, 17.8)
    proposal = plan_route(network, south, north)
    [subsea] = [s for s in proposal.segments if s.deployment_type == "subsea"]
    assert subsea.extra["landings"] == 2 and subsea.extra["usd_per_landing"] == LANDING
    # the cable is the segment, its two landings a node cost of the proposal
    assert subsea.cost_usd == pytest.approx(STRAIT_KM * SUBSEA, abs=400)
    assert proposal.node_costs_usd["subsea_landings"] == 2 * LANDING
    assert land.km_off_land_of(proposal.segments) == 0.0


def test_without_land_the_same_gap_is_a_land_trench() -> None:
    network = build_network(roads(meridian(17.0, 17.5), meridian(17.6, 17.8)), COSTS)
    [crossing] = [d for *_, d in network.graph.edges(data=True) if d.get("kind") == "bridge"]
    assert crossing["deployment_type"] == "greenfield"


def test_a_bridge_over_land_stays_a_greenfield_trench(land: Land) -> None:
    # two roads on the mainland with a 0.1 degree gap along the meridian: no water between
    network = build_network(roads(meridian(17.0, 17.2), meridian(17.3, 17.5)), COSTS, land=land)
    [crossing] = [d for *_, d in network.graph.edges(data=True) if d.get("kind") == "bridge"]
    assert crossing["deployment_type"] == "greenfield"
    assert crossing["cost_usd"] == pytest.approx(STRAIT_KM * GREENFIELD, abs=400)


def test_a_place_on_an_island_without_corridors_reaches_land_by_a_subsea_drop(
    land: Land,
) -> None:
    network = build_network(roads(meridian(17.0, 17.5)), COSTS, land=land)
    node = attach_place(network, Place("Isla", -93.0, 17.7))
    graph = network.graph
    chain = []
    here, previous = node, None
    while True:
        step = [(o, d) for _, o, d in graph.edges(here, data=True) if o != previous]
        if graph.nodes[here].get("kind") not in {"place", "shore"} or not step:
            break
        [(other, data)] = step
        chain.append(data)
        previous, here = here, other
    # 17.7 -> 17.6 across the island (11.07 km: longer than a 5 km connector, greenfield),
    # then 17.6 -> 17.5 over the strait to the road's end
    assert [d["deployment_type"] for d in chain] == ["greenfield", "subsea"]
    assert [d["length_km"] for d in chain] == pytest.approx([STRAIT_KM] * 2, abs=0.01)
    assert chain[1]["landings"] == 2
    assert chain[0]["cost_usd"] == pytest.approx(STRAIT_KM * GREENFIELD, abs=400)
    assert chain[1]["cost_usd"] == pytest.approx(STRAIT_KM * SUBSEA + 2 * LANDING, abs=400)


def test_a_place_by_the_shore_takes_the_corridor_on_its_own_side(land: Land) -> None:
    # a road on the island 0.15 degree east of the place, the mainland road 0.1 degree
    # south across the strait: the island road is farther but reached over land
    network = build_network(
        roads(meridian(17.0, 17.5), meridian(17.6, 17.8, lon=-92.85)), COSTS, land=land
    )
    node = attach_place(network, Place("Costa", -93.0, 17.6))
    kinds = {d["deployment_type"] for _, _, d in network.graph.edges(node, data=True)}
    assert "subsea" not in kinds


def test_water_cells_are_impassable_for_a_trench(tmp_path: Path) -> None:
    # a flat 1 km grid in EPSG:6372 whose western half is land: no trench reaches the east
    transform = Affine(1000.0, 0.0, 2_400_000.0, 0.0, -1000.0, 1_100_000.0)
    path = tmp_path / "flat.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=20, height=10, count=1, dtype="float32",
        crs="EPSG:6372", transform=transform, nodata=-9999.0,
    ) as dst:  # fmt: skip
        dst.write(np.full((1, 10, 20), 50.0, dtype="float32"))
    to_lonlat = Transformer.from_crs(6372, 4326, always_xy=True)
    west = [to_lonlat.transform(x, y) for x, y in [(2_399_000, 1_091_000), (2_410_000, 1_101_000)]]
    land_west = Land(
        gpd.GeoSeries([box(west[0][0], west[0][1], west[1][0], west[1][1])], crs=4326),
        tolerance_km=1.0,
    )
    surface = build_friction_surface(path, None, None, COSTS, land=land_west)
    assert np.isfinite(surface.friction[:, :9]).all()
    # cells whose centre is more than 1 km east of the coast (x = 2,410 km) are water
    assert np.isinf(surface.friction[:, 12:]).all()
    start = to_lonlat.transform(2_402_500, 1_095_500)
    end = to_lonlat.transform(2_417_500, 1_095_500)
    with pytest.raises((NoRouteError, OutsideSurfaceError)):
        greenfield_path(surface, start, end)
    without = build_friction_surface(path, None, None, COSTS, land=None)
    assert greenfield_path(without, start, end).length_km == pytest.approx(15.0, rel=0.02)


@pytest.fixture(scope="module")
def mexico() -> Land:
    return Land(gpd.read_file(BUNDLED_STATES))


@pytest.mark.parametrize(
    ("name", "lon", "lat", "low_km", "high_km"),
    [
        # Washington, D.C.: the nearest Mexican land is Cabo Catoche, Quintana Roo (21.6 N,
        # 87.1 W), about 2,140 km by great circle
        ("Washington, D.C.", -77.03, 38.90, 2_050, 2_250),
        # Guatemala City: the nearest Mexican land is the Chiapas border where it turns
        # east along 16.07 N (near 90.98 W), about 160 km north
        ("Ciudad de Guatemala", -90.5069, 14.6349, 120, 220),
        # the open Pacific due south of Isla Socorro (Revillagigedo, Colima; its south
        # cape at 18.72 N, 110.95 W): 6.22 degrees of latitude x 110.6 km = 688 km
        ("-111,12.5", -111.0, 12.5, 670, 705),
        # Boca Raton, Florida (GigNet-1's landing abroad) is a cable end, never a trench end:
        # from Quintana Roo's north-east tip (Cabo Catoche, 21.6 N, 87.1 W) 4.8 degrees of
        # latitude and 7.0 of longitude: about 890 km by haversine
        ("Boca Raton", -80.08, 26.36, 820, 900),
    ],
)
def test_places_outside_the_planning_area_are_refused(
    mexico: Land, name: str, lon: float, lat: float, low_km: float, high_km: float
) -> None:
    with pytest.raises(OutsidePlanningAreaError) as caught:
        mexico.check_place(name, lon, lat)
    message = caught.value.message
    assert name in message and "outside the planning area" in message
    km = float(message.split(" is ")[1].split(" km")[0].replace(",", ""))
    assert low_km <= km <= high_km


@pytest.mark.parametrize(
    ("name", "lon", "lat"),
    [
        ("Cancún landing", -86.76756, 21.09567),
        ("Tijuana", -117.0382, 32.5149),
        # El Pardito, BCS: an islet 1.3 km off the drawn coast of the state polygons
        ("El Pardito", -110.5892, 24.8547),
        ("San Miguel de Cozumel", -86.9494, 20.5083),
    ],
)
def test_places_in_mexico_and_just_off_its_coast_are_accepted(
    mexico: Land, name: str, lon: float, lat: float
) -> None:
    mexico.check_place(name, lon, lat)


def test_the_resolver_refuses_a_typed_place_outside_the_area(mexico: Land) -> None:
    index = PlaceIndex(area=mexico)
    with pytest.raises(OutsidePlanningAreaError, match=r"'-77\.03,38\.9' at"):
        index.resolve("-77.03,38.90")
    assert index.resolve("-99.1332,19.4326").lat == 19.4326


def test_a_land_loaded_from_the_build_cache_is_prepared_again(land: Land, tmp_path: Path) -> None:
    # GEOS preparation is not pickled: a land read back from the cache (every warm CLI
    # command) would answer each connector's covers test ~100x slower without it
    cache = BuildCache(tmp_path)
    cache.get("land", "key", lambda: land)
    loaded: Land = cache.get("land", "key", lambda: pytest.fail("built twice"))
    assert loaded is not land
    assert all(shapely.is_prepared(g) for g in (loaded.geometry, loaded.near, loaded.area))
    strait = meridian(17.4, 17.7)
    assert [(p.on_land, p.landings) for p in loaded.pieces(strait)] == [
        (True, 0),
        (False, 2),
        (True, 0),
    ]
