"""OGC API – Features Part 1 Core, GeoJSON and HTML, checked as OGC's own suite checks them.

These are the Core tests of OGC's executable test suite (ets-ogcapi-features10, its
abstract tests A.2.x), restated in Python against the real server (uvicorn on loopback)
on a store of real layers: Tabasco localities, railways and municipalities, the bundled
submarine cables (a global layer whose extent spans the antimeridian) and one proposal.
Each test names the abstract test and requirement it checks. The suite reads the API
definition with an OpenAPI 3.0 parser (KaiZen), so the service serves OpenAPI 3.0.3 and
declares ``oas30``; ``openapi-spec-validator`` stands in for that parser here. No suite
check is treated as an artifact. Two differences in coverage: the suite runs its datetime
tests only on collections with a temporal extent (Trazo's have none, so it would skip
them; they are run here with the expected answer, every feature), and it checks
numberMatched only up to its own size limit (here every collection is paged through).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import requests
import shapely
from openapi_spec_validator import OpenAPIV30SpecValidator
from shapely.geometry import Polygon, box, shape

from layers.ingest import ingest
from layers.store import Store

TESTS_DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
BUNDLE = Path(__file__).resolve().parents[2] / "data" / "layers"
KEY = "c" * 24
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
COLLECTIONS = ["localities", "municipios", "railways", "subsea_cables", "proposal-ring"]
# The suite's own boxes (FeaturesBBox): across the prime meridian, the equator, the
# antimeridian and both poles; each collection's own extent is added per collection.
SUITE_BOXES = [
    (-1.5, 50.0, 1.5, 53.0),
    (-80.0, -5.0, -70.0, 5.0),
    (177.0, 65.0, -177.0, 70.0),
    (-180.0, 85.0, 180.0, 90.0),
    (-180.0, -90.0, 180.0, -85.0),
]
PROPOSAL = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[-93.0, 18.0], [-92.9, 18.1]]},
            "properties": {"deployment_type": "greenfield", "cost_usd": 1000},
        }
    ],
    "proposal": {"name": "ring", "kind": "backbone"},
    "metrics": {},
}


@pytest.fixture(scope="module")
def base(
    module_live_server: Callable[[dict[str, str]], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """A production server (viewer key) on a store of real layers; small pages."""
    store = Store(tmp_path_factory.mktemp("conformance") / "store.gpkg")
    ingest(store, TESTS_DATA / "tabasco_localities.csv", "localities", name="localities")
    ingest(store, TESTS_DATA / "southeast_railways.fgb", "rights_of_way", name="railways")
    ingest(
        store, TESTS_DATA / "tabasco_municipalities.geojson", "municipalities", name="municipios"
    )
    ingest(store, BUNDLE / "subsea_cables.fgb", "subsea_cables", name="subsea_cables")
    store.write_proposal("ring", "backbone", PROPOSAL)
    return module_live_server(
        {
            "TRAZO_MODE": "production",
            "TRAZO_API_KEYS": json.dumps({KEY: "viewer"}),
            "TRAZO_STORE": str(store.path),
            "TRAZO_MAX_ITEMS_PER_PAGE": "4",
            "TRAZO_DEFAULT_ITEMS_PER_PAGE": "3",
        }
    )


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False  # no proxy for loopback
    session.headers["X-API-Key"] = KEY
    yield session
    session.close()


@pytest.fixture(scope="module")
def api(base: str, http: requests.Session) -> dict[str, Any]:
    """The API definition, found as the suite finds it: the landing page's service-desc."""
    links = http.get(base + "/", headers={"Accept": "application/json"}).json()["links"]
    href = next(
        link["href"]
        for link in links
        if link["rel"] == "service-desc" and link.get("type", "").replace(" ", "") == OPENAPI_30
    )
    response = http.get(href, headers={"Accept": OPENAPI_30})
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _parameter(api: dict[str, Any], collection: str, name: str) -> dict[str, Any]:
    """Parameter ``name`` of GET /collections/{collection}/items, ``$ref`` resolved."""
    operation = api["paths"]["/collections/{collectionId}/items"]["get"]
    for parameter in operation["parameters"]:
        if "$ref" in parameter:
            parameter = api["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        if parameter["name"] == name:
            return dict(parameter)
    raise AssertionError(f"no {name} parameter for {collection}")


def _items(http: requests.Session, base: str, collection: str, **params: Any) -> Any:
    return http.get(
        f"{base}/collections/{collection}/items", params=params, headers={"Accept": GEOJSON}
    )


# ---------------------------------------------------------------- A.2.1 – A.2.4


def test_http_1_1(base: str, http: requests.Session) -> None:
    """Abstract test 1 (/req/core/http): the service speaks HTTP 1.1."""
    response = http.get(base + "/")
    assert response.raw.version == 11


def test_landing_page(base: str, http: requests.Session) -> None:
    """Abstract tests 3, 4 (/req/core/root-op, root-success)."""
    response = http.get(base + "/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    rels = {link["rel"] for link in response.json()["links"]}
    assert {"service-desc", "service-doc", "conformance", "data"} <= rels


def test_api_definition_is_valid_openapi_30(api: dict[str, Any]) -> None:
    """Abstract tests 5, 6 (/req/core/api-definition-op, -success); /req/oas30/oas-impl."""
    assert api["openapi"].startswith("3.0.")
    errors = [error.message for error in OpenAPIV30SpecValidator(api).iter_errors()]
    assert errors == []


def test_conformance_declares_what_is_served(
    base: str, http: requests.Session, api: dict[str, Any]
) -> None:
    """Abstract tests 7, 8 (/req/core/conformance-op, -success); oas30 matches the document."""
    response = http.get(base + "/conformance", headers={"Accept": "application/json"})
    assert response.status_code == 200
    classes = response.json()["conformsTo"]
    assert all(isinstance(uri, str) for uri in classes)
    assert CORE in classes
    declares_oas30 = any(uri.endswith("/conf/oas30") for uri in classes)
    assert declares_oas30 == api["openapi"].startswith("3.0.")


# ---------------------------------------------------------------- A.2.5 – A.2.6


def test_collections_describe_each_collection(base: str, http: requests.Session) -> None:
    """Abstract tests 9–12 (/req/core/fc-md-op, -success, -links, -items, -extent)."""
    body = http.get(base + "/collections", headers={"Accept": "application/json"}).json()
    assert [c["id"] for c in body["collections"]] == COLLECTIONS  # layers by name, then proposals
    for listed in body["collections"]:
        types = {link["type"] for link in listed["links"] if link["rel"] == "items"}
        assert GEOJSON in types
        min_x, min_y, max_x, max_y = listed["extent"]["spatial"]["bbox"][0]
        assert -180 <= min_x <= 180 and -180 <= max_x <= 180 and -90 <= min_y <= max_y <= 90
        single = http.get(f"{base}/collections/{listed['id']}", headers={"Accept": "*/*"})
        assert single.status_code == 200
        assert single.json()["extent"] == listed["extent"]


# ---------------------------------------------------------------- A.2.7 error conditions


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_invalid_parameter_value_is_400(base: str, http: requests.Session, collection: str) -> None:
    """Abstract test 20 (/req/core/query-param-invalid): limit=unlimited is a 400."""
    response = _items(http, base, collection, limit="unlimited")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_parameter" and "limit='unlimited'" in body["message"]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_unknown_parameter_is_400(base: str, http: requests.Session, collection: str) -> None:
    """Abstract test 21 (/req/core/query-param-unknown): an undeclared parameter is a 400."""
    response = _items(http, base, collection, unknownQueryParameter12345=1)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert "unknownQueryParameter12345" in body["message"]


# ---------------------------------------------------------------- A.2.7 limit


def test_limit_parameter_definition(api: dict[str, Any]) -> None:
    """Abstract test 16 (/req/core/fc-limit-definition), plus the maximum QGIS reads."""
    limit = _parameter(api, "localities", "limit")
    assert limit["in"] == "query" and not limit.get("required", False)
    assert limit["style"] == "form" and limit["explode"] is False
    schema = limit["schema"]
    assert schema["type"] == "integer"
    assert schema["minimum"] == 1 and schema["maximum"] == 4 and schema["default"] == 3
    assert api["components"]["parameters"]["limit"]["schema"] == schema


def _all_pages(http: requests.Session, first: Any) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = []
    response = first
    for _ in range(20):
        body = response.json()
        features += body["features"]
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            return features
        response = http.get(following[0], headers={"Accept": GEOJSON})
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("collection", COLLECTIONS)
@pytest.mark.parametrize("limit", [1, 2])  # the suite's minimum and min + (max - min) / 2
def test_limit_response(base: str, http: requests.Session, collection: str, limit: int) -> None:
    """Abstract tests 13, 17, 22–26 (/req/core/fc-op, fc-limit-response, fc-response,
    fc-links, fc-timeStamp, fc-numberMatched, fc-numberReturned)."""
    response = _items(http, base, collection, limit=limit)
    assert response.status_code == 200
    assert response.headers["content-type"] == GEOJSON
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) <= limit
    assert body["numberReturned"] == len(body["features"])
    datetime.fromisoformat(body["timeStamp"].replace("Z", "+00:00"))
    links = {link["rel"]: link for link in body["links"]}
    assert links["self"]["type"] == GEOJSON and links["alternate"]["type"] == "text/html"
    assert body["numberMatched"] == len(_all_pages(http, response))


# ---------------------------------------------------------------- A.2.7 bbox


def test_bbox_parameter_definition(api: dict[str, Any]) -> None:
    """Abstract test 14 (/req/core/fc-bbox-definition): an array of 4 or 6 numbers."""
    bbox = _parameter(api, "localities", "bbox")
    assert bbox["in"] == "query" and not bbox.get("required", False)
    assert bbox["style"] == "form" and bbox["explode"] is False
    schema = bbox["schema"]
    assert schema["type"] == "array" and schema["minItems"] == 4 and schema["maxItems"] == 6
    assert schema["items"]["type"] == "number"


def _search_area(bbox: tuple[float, float, float, float]) -> Polygon:
    """The box as the suite tests it; one across 180° is its two halves."""
    min_x, min_y, max_x, max_y = bbox
    if min_x > max_x:
        return box(min_x, min_y, 180, max_y).union(box(-180, min_y, max_x, max_y))
    return box(*bbox)


def _cases() -> list[tuple[str, tuple[float, float, float, float] | None]]:
    return [(c, b) for c in COLLECTIONS for b in [None, *SUITE_BOXES]]


@pytest.mark.parametrize(("collection", "bbox"), _cases())
def test_bbox_response(
    base: str,
    http: requests.Session,
    collection: str,
    bbox: tuple[float, float, float, float] | None,
) -> None:
    """Abstract tests 13, 15, 2 (/req/core/fc-bbox-response, /req/core/crs84): the suite's
    boxes, and the collection's own advertised extent (None here), are answered 200 with
    features that intersect them, in CRS84."""
    if bbox is None:
        described = http.get(f"{base}/collections/{collection}").json()
        bbox = tuple(described["extent"]["spatial"]["bbox"][0])  # type: ignore[assignment]
        assert bbox is not None
    text = ",".join(f"{v:g}" for v in bbox)
    response = _items(http, base, collection, bbox=text)
    assert response.status_code == 200, response.text
    area = _search_area(bbox)
    features = _all_pages(http, response)
    assert response.json()["numberMatched"] == len(features)
    for feature in features:
        geometry = shape(feature["geometry"])
        assert geometry.intersects(area)
        min_x, min_y, max_x, max_y = geometry.bounds
        assert -180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90


def test_own_extent_selects_every_feature(base: str, http: requests.Session) -> None:
    """A collection's advertised extent is accepted and selects all its features (the
    global cable layer was refused by an area cap)."""
    for collection in COLLECTIONS:
        described = http.get(f"{base}/collections/{collection}").json()
        extent = described["extent"]["spatial"]["bbox"][0]
        whole = _all_pages(http, _items(http, base, collection))
        boxed = _items(http, base, collection, bbox=",".join(repr(v) for v in extent))
        assert boxed.status_code == 200
        assert [f["id"] for f in _all_pages(http, boxed)] == [f["id"] for f in whole]


def test_antimeridian_box_selects_the_cables_on_either_side(
    base: str, http: requests.Session
) -> None:
    """A box across 180° (170°E to 170°W) selects the cables that reach either part, each
    once: worked out here with shapely straight from the bundled file."""
    frame = pyogrio.read_dataframe(BUNDLE / "subsea_cables.fgb")
    area = _search_area((170.0, -60.0, -170.0, 60.0))
    expected = sorted(frame.loc[shapely.intersects(frame.geometry.to_numpy(), area), "name"])
    assert expected  # the layer has trans-Pacific cables
    features = _all_pages(http, _items(http, base, "subsea_cables", bbox="170,-60,-170,60"))
    assert sorted(f["properties"]["name"] for f in features) == expected


def test_six_number_bbox_is_the_same_box(base: str, http: requests.Session) -> None:
    """/req/core/fc-bbox-definition allows 6 numbers (heights); heights do not filter."""
    flat = _all_pages(http, _items(http, base, "localities", bbox="-92.95,17.95,-92.85,18.2"))
    tall = _items(http, base, "localities", bbox="-92.95,17.95,-100,-92.85,18.2,5000")
    assert tall.status_code == 200
    names = {f["properties"]["name"] for f in _all_pages(http, tall)}
    assert names == {f["properties"]["name"] for f in flat}
    assert names == {"Villahermosa", "Ocuiltzapotlán", "Macultepec"}


# ---------------------------------------------------------------- A.2.7 datetime


def test_datetime_parameter_definition(api: dict[str, Any]) -> None:
    """Abstract test 18 (/req/core/fc-time-definition)."""
    moment = _parameter(api, "localities", "datetime")
    assert moment["in"] == "query" and not moment.get("required", False)
    assert moment["style"] == "form" and moment["explode"] is False
    assert moment["schema"]["type"] == "string"


@pytest.mark.parametrize(
    "value", ["2024-05-01T12:00:00Z", "2024-01-01T00:00:00Z/2024-12-31T00:00:00Z", "../2024-01-01"]
)
def test_datetime_response(base: str, http: requests.Session, value: str) -> None:
    """Abstract test 19 (/req/core/fc-time-response): the layers carry no feature time, so
    a valid instant or interval leaves every feature in."""
    response = _items(http, base, "localities", datetime=value, limit=4)
    assert response.status_code == 200
    assert response.json()["numberMatched"] == 6


# ---------------------------------------------------------------- A.2.8 feature, A.3, A.4


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_feature(base: str, http: requests.Session, collection: str) -> None:
    """Abstract tests 27, 28 (/req/core/f-op, f-success, f-links); GeoJSON feature shape."""
    first = _items(http, base, collection, limit=1).json()["features"][0]
    response = http.get(
        f"{base}/collections/{collection}/items/{first['id']}", headers={"Accept": GEOJSON}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == GEOJSON
    body = response.json()
    assert body["type"] == "Feature" and body["geometry"] == first["geometry"]
    assert {link["rel"] for link in body["links"]} >= {"self", "alternate", "collection"}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/conformance",
        "/collections",
        "/collections/localities",
        "/collections/localities/items",
        "/collections/localities/items/1",
    ],
)
def test_html_for_every_resource(base: str, http: requests.Session, path: str) -> None:
    """Conformance class html (/req/html/definition, /req/html/content)."""
    response = http.get(base + path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")
