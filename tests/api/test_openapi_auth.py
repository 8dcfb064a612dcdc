"""Every operation in the OpenAPI document needs a key, and the right role, in production.

The walk covers whatever ``create_app()`` registers when it runs, so a route added later
without an auth dependency fails here.
"""

from __future__ import annotations

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
