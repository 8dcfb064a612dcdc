"""API keys mapped to roles: viewer < planner < gis.

A key comes as ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``. No key is a 401, a
key whose role is too low a 403. In development mode a request without a key is a
viewer, so a local browser or QGIS can read layers without setting headers.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.settings import Role, ServiceSettings

RANK: dict[Role, int] = {"viewer": 0, "planner": 1, "gis": 2}

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key.")


def role_of(settings: ServiceSettings, key: str | None) -> Role | None:
    """The role of ``key`` (compared in constant time), or None for an unknown key."""
    if key is None:
        return None
    found: Role | None = None
    for known, role in settings.api_keys.items():
        if hmac.compare_digest(known.encode(), key.encode()):
            found = role
    return found


def require(minimum: Role) -> Callable[..., Role]:
    """A dependency admitting callers whose role is at least ``minimum``; returns the role."""

    def check(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header_key: Annotated[str | None, Depends(_api_key)],
    ) -> Role:
        settings: ServiceSettings = request.app.state.settings
        key = bearer.credentials if bearer is not None else header_key
        if key is None:
            if settings.mode == "development" and minimum == "viewer":
                return "viewer"
            raise HTTPException(
                401,
                "an API key is required: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        role = role_of(settings, key)
        if role is None:
            raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": "Bearer"})
        if RANK[role] < RANK[minimum]:
            raise HTTPException(403, f"this needs the {minimum} role; your key is {role}")
        return role

    return check


viewer = Depends(require("viewer"))
planner = Depends(require("planner"))
gis = Depends(require("gis"))
