"""API keys mapped to roles: viewer < planner < gis.

A key comes as ``Authorization: Bearer KEY``, ``X-API-Key: KEY``, or HTTP Basic with the
key as the password and any user name: QGIS 3.22 (Debian 12, Ubuntu LTS) can send only
Basic credentials, as can GDAL's ``GDAL_HTTP_USERPWD`` and a browser's login prompt. No
key is a 401 that offers both schemes, a key whose role is too low a 403. In
development mode a request without a key is a viewer, so a local browser or QGIS can
read layers without setting anything.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from api.settings import Role, ServiceSettings

RANK: dict[Role, int] = {"viewer": 0, "planner": 1, "gis": 2}

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key.")
_basic = HTTPBasic(
    auto_error=False,
    realm="Trazo",
    description="API key as the password, any user name (for QGIS and GDAL_HTTP_USERPWD).",
)
CHALLENGE = 'Bearer realm="Trazo", Basic realm="Trazo", charset="UTF-8"'
"""What a 401 offers: a browser shows its login prompt for Basic, tools send a bearer."""


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
        basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    ) -> Role:
        settings: ServiceSettings = request.app.state.settings
        key = _key(bearer, header_key, basic)
        if key is None:
            if settings.mode == "development" and minimum == "viewer":
                return "viewer"
            raise HTTPException(
                401,
                "an API key is required: send 'Authorization: Bearer KEY', 'X-API-Key: KEY', "
                "or HTTP Basic with the key as the password",
                headers={"WWW-Authenticate": CHALLENGE},
            )
        role = role_of(settings, key)
        if role is None:
            raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": CHALLENGE})
        if RANK[role] < RANK[minimum]:
            raise HTTPException(403, f"this needs the {minimum} role; your key is {role}")
        return role

    return check


def _key(
    bearer: HTTPAuthorizationCredentials | None,
    header_key: str | None,
    basic: HTTPBasicCredentials | None,
) -> str | None:
    """The key sent, whichever way; HTTPBearer and HTTPBasic each read only their scheme."""
    if bearer is not None:
        return bearer.credentials
    if header_key is not None:
        return header_key
    if basic is not None and basic.password:
        return basic.password
    return None


viewer = Depends(require("viewer"))
planner = Depends(require("planner"))
gis = Depends(require("gis"))
