"""The service answers the same from a GeoPackage and from PostGIS.

The same real layers (Tabasco localities, south-east railways, municipalities, an
elevation raster and a proposal) are loaded into a store of each backend; every OGC API
– Features request below must give byte-for-byte the same JSON from both (bbox filters,
pages and their links, single features, collections), and the layer downloads the same
features.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ServiceSettings, StoreSettings
from layers.ingest import ingest
from layers.stores import open_store

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
REQUESTS = (
    "/collections",
    "/collections/localities",
    "/collections/localities/items?limit=7",
    "/collections/localities/items?limit=5&offset=5",
    "/collections/localities/items?bbox=-93.0,17.9,-92.8,18.1&limit=50",
    "/collections/localities/items?bbox=-93.0,17.9,-92.8,18.1&limit=3&offset=3",
    "/collections/localities/items/4",
    "/collections/railways/items?bbox=-91.0,17.0,-89.0,19.0&limit=4",
    "/collections/municipalities/items?limit=2&offset=10",
    "/collections/proposal-ring/items",
    "/layers",
    "/layers/localities",
)


def _proposal() -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[-93.0, 18.0], [-92.5, 18.0]]},
                "properties": {"segment": 1, "km": 52.9},
            }
        ],
        "proposal": {"name": "ring", "kind": "backbone"},
        "metrics": {},
    }


def _client(location: str, work: Path) -> Iterator[TestClient]:
    store = open_store(location, work_dir=work)
    ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
    ingest(store, DATA / "southeast_railways.fgb", "rights_of_way", name="railways")
    ingest(store, DATA / "tabasco_municipalities.gpkg", "municipalities", name="municipalities")
    ingest(store, DATA / "villahermosa_elevation.tif", "raster", name="elevation")
    store.write_proposal("ring", "backbone", _proposal())
    store.close()
    app = create_app(
        ServiceSettings(mode="development"), StoreSettings(store=location, work_dir=work)
    )
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def clients(
    module_postgis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, TestClient]]:
    """The two services, loaded once for the module: every test here only reads."""
    folder = tmp_path_factory.mktemp("backends")
    gpkg = _client(str(folder / "store" / "store.gpkg"), folder / "gpkg-work")
    pg = _client(module_postgis_url, folder / "pg-work")
    yield next(gpkg), next(pg)
    for rest in (gpkg, pg):
        next(rest, None)


def _comparable(body: Any) -> Any:
    """A response with load times (which differ by the moment of loading) blanked."""
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>", json.dumps(body))
    return json.loads(text)


@pytest.mark.parametrize("path", REQUESTS)
def test_same_answers_from_both_backends(clients: tuple[TestClient, TestClient], path: str) -> None:
    gpkg, pg = clients
    from_gpkg = gpkg.get(path)
    from_pg = pg.get(path)
    assert from_gpkg.status_code == from_pg.status_code == 200, (from_gpkg.text, from_pg.text)
    assert _comparable(from_pg.json()) == _comparable(from_gpkg.json())


def test_bbox_filter_and_pages_match_the_hand_count(
    clients: tuple[TestClient, TestClient],
) -> None:
    # Paging through the bbox three at a time visits each matching locality once.
    _, pg = clients
    box = "-93.0,17.9,-92.8,18.1"
    everything = pg.get(f"/collections/localities/items?bbox={box}&limit=50").json()
    ids: list[int] = []
    for offset in range(0, everything["numberMatched"], 3):
        page = pg.get(f"/collections/localities/items?bbox={box}&limit=3&offset={offset}")
        ids += [f["id"] for f in page.json()["features"]]
    assert ids == [f["id"] for f in everything["features"]]
    assert ids == sorted(ids)
    for feature in everything["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert -93.0 <= lon <= -92.8 and 17.9 <= lat <= 18.1


@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_downloads_match(clients: tuple[TestClient, TestClient], fmt: str) -> None:
    gpkg, pg = clients
    assert (
        pg.get(f"/layers/localities.{fmt}").content == gpkg.get(f"/layers/localities.{fmt}").content
    )
    assert pg.get("/layers/elevation.tif").content == gpkg.get("/layers/elevation.tif").content
