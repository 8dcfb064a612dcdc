"""GDAL's OAPIF driver (the client QGIS uses) lists and reads the real server's collections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString

from layers.ingest import ingest
from layers.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
PAGE = 4  # the server's max_items_per_page: smaller than the 6 localities, so GDAL pages

SEGMENTS = [
    ([(-93.0, 18.0), (-92.9, 18.0)], "existing_fiber", 1000),
    ([(-92.9, 18.0), (-92.9, 18.1)], "greenfield", 25000),
    ([(-92.9, 18.1), (-92.8, 18.15)], "rights_of_way", 7000),
]


def proposal_document() -> dict[str, object]:
    """A three-segment proposal document, shaped as planner.proposals.proposal writes it."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [list(xy) for xy in coords]},
            "properties": {"deployment_type": kind, "cost_usd": cost, "role": "backbone"},
        }
        for coords, kind, cost in SEGMENTS
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "proposal": {"name": "tabasco_ring", "kind": "backbone"},
        "metrics": {"segments": 3},
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The served store, loaded once for the module: every test here only reads."""
    store = Store(tmp_path_factory.mktemp("oapif") / "store" / "store.gpkg")
    ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
    ingest(store, DATA / "southeast_railways.fgb", "rights_of_way", name="railways")
    ingest(store, DATA / "tabasco_municipalities.geojson", "municipalities", name="municipios")
    ingest(store, DATA / "villahermosa_elevation.tif", "raster", name="elevation")
    store.write_proposal("tabasco_ring", "backbone", proposal_document())
    return store


@pytest.fixture(scope="module")
def oapif(store: Store, module_live_server: Callable[[dict[str, str]], str]) -> Iterator[str]:
    """``OAPIF:`` URL of a development-mode server on ``store``; GDAL HTTP bounded."""
    base = module_live_server(
        {
            "TRAZO_MODE": "development",
            "TRAZO_STORE": str(store.path),
            "TRAZO_MAX_ITEMS_PER_PAGE": str(PAGE),
            "TRAZO_DEFAULT_ITEMS_PER_PAGE": "2",
        }
    )
    pyogrio.set_gdal_config_options({"GDAL_HTTP_TIMEOUT": "20", "GDAL_HTTP_MAX_RETRY": "0"})
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("NO_PROXY", "127.0.0.1,localhost")
            yield f"OAPIF:{base}/"
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_TIMEOUT": None, "GDAL_HTTP_MAX_RETRY": None})


def test_gdal_has_the_oapif_driver() -> None:
    assert "OAPIF" in pyogrio.list_drivers()


def test_gdal_lists_every_vector_layer_and_the_proposal(oapif: str) -> None:
    listed = {str(name): str(kind) for name, kind in pyogrio.list_layers(oapif)}
    assert set(listed) == {"localities", "railways", "municipios", "proposal-tabasco_ring"}
    assert listed["localities"] == "Point"
    assert listed["proposal-tabasco_ring"] == "LineString"


def test_gdal_pages_through_every_locality(oapif: str, store: Store) -> None:
    expected = store.read("localities")
    assert len(expected) > PAGE
    read = pyogrio.read_dataframe(oapif, layer="localities")
    assert len(read) == len(expected) == 6
    assert list(read["name"]) == list(expected["name"])
    assert list(read["population"]) == list(expected["population"])
    villahermosa = read[read["name"] == "Villahermosa"].geometry.iloc[0]
    assert villahermosa.x == pytest.approx(-92.919416, abs=1e-9)
    assert villahermosa.y == pytest.approx(17.987838, abs=1e-9)
    assert read.crs.to_epsg() == 4326


def test_gdal_reads_lines_and_polygons_as_stored(oapif: str, store: Store) -> None:
    for layer in ("railways", "municipios"):
        expected = store.read(layer)
        read = pyogrio.read_dataframe(oapif, layer=layer)
        assert len(read) == len(expected)
        for got, want in zip(read.geometry, expected.geometry, strict=True):
            assert got.equals_exact(want, tolerance=1e-9)
    names = pyogrio.read_dataframe(oapif, layer="municipios")["name"]
    assert sorted(names) == sorted(store.read("municipios")["name"])


def test_gdal_reads_the_proposal_segments(oapif: str) -> None:
    read = pyogrio.read_dataframe(oapif, layer="proposal-tabasco_ring")
    assert list(read["deployment_type"]) == [kind for _, kind, _ in SEGMENTS]
    assert list(read["cost_usd"]) == [cost for _, _, cost in SEGMENTS]
    expected = gpd.GeoSeries([LineString(coords) for coords, _, _ in SEGMENTS])
    for got, want in zip(read.geometry, expected, strict=True):
        assert got.equals_exact(want, tolerance=1e-12)


def test_gdal_bbox_filter_selects_the_hand_known_localities(oapif: str) -> None:
    read = pyogrio.read_dataframe(oapif, layer="localities", bbox=(-92.95, 17.95, -92.85, 18.2))
    assert set(read["name"]) == {"Villahermosa", "Ocuiltzapotlán", "Macultepec"}
