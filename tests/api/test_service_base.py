"""The service's foundations: health, API keys and roles, the error map."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from api.auth import gis, planner, viewer
from api.errors import add_exception_handlers
from api.settings import ServiceSettings, StoreSettings
from layers.errors import (
    AlreadyExistsError,
    LayerValidationError,
    LimitExceededError,
    NotFoundError,
    UnsafeInputError,
)

KEYS = {"v" * 20: "viewer", "p" * 20: "planner", "g" * 20: "gis"}


def roles_app(mode: str) -> FastAPI:
    """A throwaway app with one route per role, on the real auth dependencies."""
    app = FastAPI()
    app.state.settings = ServiceSettings(mode=mode, api_keys=KEYS)  # type: ignore[arg-type]
    add_exception_handlers(app)
    app.get("/read", dependencies=[viewer])(lambda: {"ok": True})
    app.get("/plan", dependencies=[planner])(lambda: {"ok": True})
    app.get("/load", dependencies=[gis])(lambda: {"ok": True})
    return app


@pytest.mark.parametrize(
    ("path", "key", "status"),
    [
        ("/read", None, 401),
        ("/read", "v" * 20, 200),
        ("/plan", "v" * 20, 403),
        ("/plan", "p" * 20, 200),
        ("/load", "p" * 20, 403),
        ("/load", "g" * 20, 200),
        ("/read", "x" * 20, 401),
    ],
)
def test_roles_in_production(path: str, key: str | None, status: int) -> None:
    client = TestClient(roles_app("production"))
    headers = {"X-API-Key": key} if key else {}
    response = client.get(path, headers=headers)
    assert response.status_code == status
    if status != 200:
        assert set(response.json()) >= {"code", "message"}


def test_bearer_tokens_count_like_api_keys() -> None:
    client = TestClient(roles_app("production"))
    assert client.get("/plan", headers={"Authorization": f"Bearer {'p' * 20}"}).status_code == 200


def test_development_lets_anonymous_callers_read_only() -> None:
    client = TestClient(roles_app("development"))
    assert client.get("/read").status_code == 200
    assert client.get("/plan").status_code == 401


@pytest.mark.parametrize("key", ["changeme", "short-key"])
def test_production_refuses_weak_keys(key: str) -> None:
    with pytest.raises(ValidationError, match="placeholder or short keys"):
        ServiceSettings(mode="production", api_keys={key: "gis"})


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (NotFoundError("no layer named 'x'"), 404, "not_found"),
        (AlreadyExistsError("layer 'x' already exists"), 409, "already_exists"),
        (LimitExceededError("file is 3 GiB, over the limit"), 413, "limit_exceeded"),
        (UnsafeInputError("paths starting with /vsi are refused"), 400, "unsafe_input"),
        (LayerValidationError("missing required column 'name'"), 422, "invalid_layer"),
    ],
)
def test_domain_errors_map_to_statuses(
    error: Exception, status: int, code: str, http_answer_to: Callable[[BaseException], Any]
) -> None:
    response = http_answer_to(error)
    assert response.status_code == status
    assert response.json() == {"code": code, "message": str(error)}


def test_unexpected_errors_are_a_500_without_detail(
    http_answer_to: Callable[[BaseException], Any],
) -> None:
    response = http_answer_to(RuntimeError("secret path /srv/trazo/store.gpkg"))
    assert response.status_code == 500
    assert "secret" not in response.text and response.json()["code"] == "internal_error"


def test_healthz_reports_library_versions(tmp_path: Path) -> None:
    app = create_app(ServiceSettings(mode="development"), StoreSettings(store=tmp_path / "s.gpkg"))
    with TestClient(app) as client:
        body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["gdal"].startswith("3.") and body["proj"][0].isdigit()
    assert body["geos"].startswith("3.") and body["trazo"] == "0.1.0"
