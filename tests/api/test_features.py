"""OGC API – Features over the store: shapes, paging, bbox, errors, HTML, negotiation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api._ogc import (
    CONFORMANCE,
    CRS84,
    Collection,
    Collections,
    Conformance,
    Feature,
    FeatureCollection,
    LandingPage,
)
from api.app import create_app
from api.settings import ServiceSettings, StoreSettings
from layers.ingest import ingest
from layers.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
SCRIPT = "<script>alert(1)</script>"
LOCALITIES = {
    "Villahermosa": (-92.919416, 17.987838),
    "Playas del Rosario (Subteniente García)": (-92.932871, 17.852945),
    "Ocuiltzapotlán": (-92.862493, 18.135367),
    "Macultepec": (-92.858992, 18.143448),
    "Parrilla II": (-92.924226, 17.877416),
    "Anacleto Canabal 3ra. Sección": (-92.990733, 18.018652),
}
SEGMENTS = [
    [[-93.0, 18.0], [-92.9, 18.0]],
    [[-92.9, 18.0], [-92.9, 18.1]],
    [[-91.0, 19.0], [-90.9, 19.0]],
]


def _proposal() -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {"segment": i, "extra": {"note": SCRIPT}},
            }
            for i, coords in enumerate(SEGMENTS, start=1)
        ],
        "proposal": {"name": "ring", "kind": "backbone"},
        "metrics": {},
    }


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A development-mode app (pages of 2, at most 4) on a store of small real layers."""
    folder = tmp_path_factory.mktemp("features")
    store = Store(folder / "store.gpkg")
    ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
    ingest(store, DATA / "southeast_railways.fgb", "rights_of_way", name="railways")
    ingest(store, DATA / "villahermosa_elevation.tif", "raster", name="elevation")
    script = folder / "script.csv"
    script.write_text(f'name,population,lon,lat\n"{SCRIPT}",1,-92.9,17.9\n', encoding="utf-8")
    ingest(store, script, "localities", name="script_names")
    store.write_proposal("ring", "backbone", _proposal())
    settings = ServiceSettings(mode="development", max_items_per_page=4, default_items_per_page=2)
    app = create_app(settings, StoreSettings(store=store.path))
    with TestClient(app) as test_client:
        yield test_client


def _rels(links: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {link["rel"]: link for link in links}


def _all_pages(client: TestClient, url: str) -> tuple[list[dict[str, Any]], list[int]]:
    """Follow next links from ``url``; return every feature and each page's numberMatched."""
    features: list[dict[str, Any]] = []
    matched: list[int] = []
    for _ in range(50):
        response = client.get(url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/geo+json"
        page = FeatureCollection.model_validate(response.json())
        assert page.numberReturned == len(page.features) <= 4
        features += page.features
        matched.append(page.numberMatched)
        following = [link.href for link in page.links if link.rel == "next"]
        if not following:
            return features, matched
        url = following[0]
    raise AssertionError("paging did not end")


def test_landing_page_links(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = LandingPage.model_validate(response.json())
    rels = _rels([link.model_dump() for link in page.links])
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["href"].endswith("/openapi.json")
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["service-doc"]["href"].endswith("/docs")
    assert client.get(rels["data"]["href"]).status_code == 200
    assert client.get(rels["service-desc"]["href"]).json()["paths"]


def test_conformance_lists_the_four_classes(client: TestClient) -> None:
    page = Conformance.model_validate(client.get("/conformance").json())
    assert set(page.conformsTo) == set(CONFORMANCE)
    assert any(uri.endswith("/conf/oas30") for uri in page.conformsTo)


def test_collections_are_the_vector_layers_and_the_proposals(client: TestClient) -> None:
    page = Collections.model_validate(client.get("/collections").json())
    ids = [c.id for c in page.collections]
    assert ids == ["localities", "railways", "script_names", "proposal-ring"]
    for collection in page.collections:
        assert collection.itemType == "feature" and collection.crs == [CRS84]
        items = [link for link in collection.links if link.rel == "items"]
        assert {link.type for link in items} == {"application/geo+json", "text/html"}


def test_collection_extent_is_the_catalog_bbox(client: TestClient) -> None:
    page = Collection.model_validate(client.get("/collections/localities").json())
    assert page.extent is not None and page.extent.spatial.crs == CRS84
    xs = [xy[0] for xy in LOCALITIES.values()]
    ys = [xy[1] for xy in LOCALITIES.values()]
    assert page.extent.spatial.bbox[0] == pytest.approx([min(xs), min(ys), max(xs), max(ys)])
    proposal = Collection.model_validate(client.get("/collections/proposal-ring").json())
    assert proposal.extent is not None
    assert proposal.extent.spatial.bbox[0] == pytest.approx([-93.0, 18.0, -90.9, 19.0])


@pytest.mark.parametrize("limit", [None, 1, 3, 4])
def test_following_next_links_gives_every_feature_once(
    client: TestClient, limit: int | None
) -> None:
    query = "" if limit is None else f"?limit={limit}"
    features, matched = _all_pages(client, f"/collections/localities/items{query}")
    ids = [f["id"] for f in features]
    assert sorted(ids) == ids and len(set(ids)) == len(ids) == 6
    assert set(matched) == {6}
    coords = {f["properties"]["name"]: f["geometry"]["coordinates"] for f in features}
    assert set(coords) == set(LOCALITIES)
    for name, xy in LOCALITIES.items():
        assert coords[name] == pytest.approx(xy, abs=1e-9)


def test_limit_over_the_maximum_is_lowered_to_it(client: TestClient) -> None:
    body = client.get("/collections/localities/items?limit=5000").json()
    assert body["numberReturned"] == 4 and body["numberMatched"] == 6
    following = _rels(body["links"])["next"]["href"]
    assert "limit=4" in following and "offset=4" in following


def test_pages_link_back_and_stamp_their_time(client: TestClient) -> None:
    body = client.get("/collections/localities/items?limit=2&offset=4").json()
    rels = _rels(body["links"])
    assert "next" not in rels
    assert "offset=2" in rels["prev"]["href"] and rels["collection"]["href"].endswith(
        "/collections/localities?f=json"
    )
    assert datetime.fromisoformat(body["timeStamp"].replace("Z", "+00:00")).tzinfo is not None
    assert client.get("/collections/localities/items?offset=99").json()["features"] == []


def test_bbox_keeps_the_hand_known_localities(client: TestClient) -> None:
    url = "/collections/localities/items?bbox=-92.95,17.95,-92.85,18.2&limit=4"
    features, matched = _all_pages(client, url)
    names = {f["properties"]["name"] for f in features}
    assert names == {"Villahermosa", "Ocuiltzapotlán", "Macultepec"}
    assert set(matched) == {3}


def test_bbox_filters_proposal_segments(client: TestClient) -> None:
    features, _ = _all_pages(
        client, "/collections/proposal-ring/items?bbox=-93.1,17.9,-92.95,18.05"
    )
    assert [f["id"] for f in features] == [1]
    features, matched = _all_pages(client, "/collections/proposal-ring/items")
    assert [f["id"] for f in features] == [1, 2, 3] and set(matched) == {3}
    assert [f["geometry"]["coordinates"] for f in features] == SEGMENTS


def test_schema_gives_each_property_its_stored_type(client: TestClient) -> None:
    collection = client.get("/collections/localities").json()
    described = [link for link in collection["links"] if link["rel"].lower() == "describedby"]
    assert [link["type"] for link in described] == ["application/schema+json"]
    response = client.get(described[0]["href"])
    assert response.headers["content-type"] == "application/schema+json"
    properties = response.json()["properties"]["properties"]["properties"]
    assert properties["name"] == {"type": "string"}
    assert properties["population"] == {"type": "integer"}
    assert properties["connected"] == {"type": "boolean"}
    proposal = client.get("/collections/proposal-ring/schema").json()
    assert proposal["properties"]["properties"]["properties"] == {
        "segment": {"type": "integer"},
        "extra": {"type": "object"},
    }
    assert client.get("/collections/roads/schema").status_code == 404


def test_one_feature_matches_its_page_entry(client: TestClient) -> None:
    page = client.get("/collections/localities/items?limit=1").json()
    response = client.get("/collections/localities/items/1")
    assert response.headers["content-type"] == "application/geo+json"
    feature = Feature.model_validate(response.json())
    assert feature.properties == page["features"][0]["properties"]
    assert feature.geometry == page["features"][0]["geometry"]
    assert {link.rel for link in feature.links} >= {"self", "alternate", "collection"}
    segment = Feature.model_validate(client.get("/collections/proposal-ring/items/3").json())
    assert segment.geometry == {"type": "LineString", "coordinates": SEGMENTS[2]}


@pytest.mark.parametrize(
    ("bbox", "problem"),
    [
        ("1,2,3", "4 comma-separated numbers"),
        ("1,2,3,4,5", "got 5 values"),
        ("a,b,c,d", "must be numbers"),
        ("-93,19,-92,18", "min lat 19 is north of max lat 18"),
        ("-200,18,-92,19", "min lon -200 is outside -180..180"),
        ("-93,18,-92,91", "max lat 91 is outside -90..90"),
        ("nan,18,-92,19", "finite"),
        ("-93,18,10,-92,19,0", "min height 10 is above its max height 0"),
    ],
)
def test_bad_bbox_is_refused_naming_the_problem(
    client: TestClient, bbox: str, problem: str
) -> None:
    response = client.get(f"/collections/localities/items?bbox={bbox}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_parameter" and "bbox" in body["message"]
    assert problem in body["message"]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("limit=0", "limit=0 is below its minimum 1"),
        ("limit=-5", "not a whole number"),
        ("limit=ten", "not a whole number"),
        ("limit=", "not a whole number"),
        ("offset=-1", "not a whole number"),
        ("f=xml", "use json or html"),
        ("datetime=yesterday", "RFC 3339"),
        ("datetime=2024-06-01/2024-01-01", "ends before it starts"),
        ("limit=1&limit=2", "more than once"),
        ("filter=name='x'", "unknown query parameter 'filter'"),
    ],
)
def test_bad_paging_parameters_are_refused(client: TestClient, query: str, problem: str) -> None:
    response = client.get(f"/collections/localities/items?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"
    assert problem in response.json()["message"]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/collections/roads", "no layer named 'roads'"),
        ("/collections/roads/items", "no layer named 'roads'"),
        ("/collections/elevation", "is a raster"),
        ("/collections/elevation/items", "is a raster"),
        ("/collections/proposal-nothing", "no proposal named 'nothing'"),
        ("/collections/localities/items/999", "no feature with fid 999"),
        ("/collections/localities/items/0", "no feature 0"),
        ("/collections/localities/items/abc", "whole numbers"),
        ("/collections/localities/items/99999999999999999999", "whole numbers"),
        ("/collections/proposal-ring/items/4", "has 3 segments"),
    ],
)
def test_unknown_collections_and_features_are_404(
    client: TestClient, path: str, problem: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and problem in response.json()["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/collections/script_names/items?f=html",
        "/collections/script_names/items/1?f=html",
        "/collections/proposal-ring/items?f=html",
    ],
)
def test_html_escapes_attribute_values(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert SCRIPT not in response.text and "alert(1)</" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


@pytest.mark.parametrize("path", ["/", "/conformance", "/collections", "/collections/railways"])
def test_every_resource_has_an_html_page_with_links(client: TestClient, path: str) -> None:
    response = client.get(path, params={"f": "html"})
    assert response.status_code == 200 and response.text.startswith("<!DOCTYPE html>")
    assert '<a href="http://testserver/' in response.text


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("application/geo+json, application/json", "application/geo+json"),
        ("application/json;q=0.5, text/html;q=0.4", "application/geo+json"),
        ("*/*", "application/geo+json"),
    ],
)
def test_accept_header_chooses_the_format(client: TestClient, accept: str, media: str) -> None:
    response = client.get("/collections/railways/items", headers={"Accept": accept})
    assert response.headers["content-type"].startswith(media)


def test_f_parameter_wins_over_accept(client: TestClient) -> None:
    response = client.get("/collections?f=json", headers={"Accept": "text/html"})
    assert response.headers["content-type"] == "application/json"
    json.loads(response.text)


def test_production_needs_a_viewer_key(tmp_path: Path) -> None:
    key = "v" * 24
    settings = ServiceSettings(mode="production", api_keys={key: "viewer"})
    app = create_app(settings, StoreSettings(store=tmp_path / "store.gpkg"))
    with TestClient(app) as client:
        assert client.get("/collections").status_code == 401
        response = client.get("/collections", headers={"X-API-Key": key})
        assert response.status_code == 200 and response.json()["collections"] == []
