"""Every operation in the OpenAPI document needs a key, and the right role, in production.

The walk covers whatever ``create_app()`` registers when it runs, so a route added later
without an auth dependency fails here.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import RANK
from api.settings import ServiceSettings, StoreSettings

KEYS = {"v" * 24: "viewer", "p" * 24: "planner", "g" * 24: "gis"}
KEY_OF = {role: key for key, role in KEYS.items()}
OPEN = {("GET", "/healthz")}
GIS_ONLY = {("POST", "/layers"), ("DELETE", "/layers/{name}")}
# A value for each path parameter that passes validation, so auth is what answers.
SAMPLE = {"name": "localities", "fmt": "gpkg", "collectionId": "localities", "featureId": "1"}


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    )


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE.get(m.group(1), "x1"), path)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    folder: Path = tmp_path_factory.mktemp("auth")
    settings = ServiceSettings(mode="production", api_keys=dict(KEYS))  # type: ignore[arg-type]
    return create_app(settings, StoreSettings(store=folder / "store.gpkg"))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def test_the_walk_sees_the_layer_and_feature_routes(app: FastAPI) -> None:
    operations = set(_operations(app))
    assert {
        ("GET", "/"),
        ("GET", "/collections/{collectionId}/items"),
        ("POST", "/layers"),
        ("DELETE", "/layers/{name}"),
    } <= operations


def test_every_operation_but_healthz_needs_a_key(app: FastAPI, client: TestClient) -> None:
    answers = {op: client.request(op[0], _url(op[1])).status_code for op in _operations(app)}
    assert {op for op, status in answers.items() if status != 401} == OPEN
    assert answers[("GET", "/healthz")] == 200


def _is_read(method: str) -> bool:
    return method in ("GET", "HEAD")


@pytest.mark.parametrize("role", ["viewer", "planner", "gis"])
def test_each_role_reaches_what_it_may_and_no_more(
    app: FastAPI, client: TestClient, role: str
) -> None:
    """Viewers read; planners also plan; only gis staff load or delete layers."""
    headers = {"X-API-Key": KEY_OF[role]}
    for method, path in _operations(app):
        if (method, path) in OPEN:
            continue
        if _is_read(method):
            needed = "viewer"
        elif (method, path) in GIS_ONLY:
            needed = "gis"
        else:
            needed = "planner"
        response = client.request(method, _url(path), headers=headers)
        if RANK[needed] > RANK[role]:  # type: ignore[index]
            assert response.status_code == 403, (method, path, response.text)
            assert f"needs the {needed} role" in response.json()["message"]
        else:
            assert response.status_code not in (401, 403), (method, path, response.text)


def test_development_mode_lets_anonymous_callers_read_only(tmp_path: Path) -> None:
    settings = ServiceSettings(mode="development")
    app = create_app(settings, StoreSettings(store=tmp_path / "store.gpkg"))
    with TestClient(app) as client:
        for method, path in _operations(app):
            status = client.request(method, _url(path)).status_code
            if _is_read(method):
                assert status not in (401, 403), (method, path)
            else:
                assert status == 401, (method, path)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer " + "v" * 24},
        {"X-API-Key": "v" * 24},
        # HTTP Basic, key as password, any user name: what QGIS 3.22 and GDAL_HTTP_USERPWD send.
        {"Authorization": "Basic " + base64.b64encode(b"qgis:" + b"v" * 24).decode()},
        {"Authorization": "Basic " + base64.b64encode(b":" + b"v" * 24).decode()},
    ],
)
def test_every_way_of_sending_the_key_is_accepted(
    client: TestClient, headers: dict[str, str]
) -> None:
    assert client.get("/collections", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic " + base64.b64encode(b"qgis:" + b"x" * 24).decode()},
        {"Authorization": "Basic " + base64.b64encode(b"qgis:").decode()},
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Digest username=qgis"},
    ],
)
def test_wrong_or_empty_basic_credentials_are_401(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get("/collections", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_a_401_offers_bearer_and_basic(client: TestClient) -> None:
    challenge = client.get("/collections").headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and ", Basic " in challenge


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
def test_api_documentation_needs_a_key_in_production(client: TestClient, path: str) -> None:
    """Only /healthz is open: the API definition and its pages need a viewer key (a
    browser asks for it with its login prompt, the key as the password)."""
    assert client.get(path).status_code == 401
    basic = base64.b64encode(b"me:" + b"v" * 24).decode()
    response = client.get(path, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200
    if path == "/openapi.json":
        assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
        assert response.json()["openapi"] == "3.0.3"
