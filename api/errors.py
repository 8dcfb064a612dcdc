"""One map from Trazo's exception tree to HTTP statuses, registered once on the app.

Routes raise domain errors; these handlers turn them into ``{code, message}`` bodies with
a message safe to show. Anything unexpected is logged with its traceback and answered
with a 500 that says only that.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from layers.errors import (
    AlreadyExistsError,
    LayerValidationError,
    LimitExceededError,
    NotFoundError,
    TrazoError,
    UnsafeInputError,
)
from layers.store import StoreBusyError

logger = logging.getLogger("trazo.api")


class InvalidParameterError(TrazoError):
    """A query parameter the operation does not take, or a value it cannot use.

    OGC API – Features answers these with 400 (``/req/core/query-param-invalid`` and
    ``/req/core/query-param-unknown``), where the service's other routes use 422.
    """

    code = "invalid_parameter"


STATUS_BY_ERROR: tuple[tuple[type[TrazoError], int], ...] = (
    (NotFoundError, 404),
    (AlreadyExistsError, 409),
    (LimitExceededError, 413),
    (UnsafeInputError, 400),
    (InvalidParameterError, 400),
    (LayerValidationError, 422),
    (StoreBusyError, 503),
)
"""Most specific first; any other Trazo error is the client's: 422."""


def status_for(error: TrazoError) -> int:
    """The HTTP status of a Trazo error."""
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 422


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    """The body of every error response."""
    return {"code": code, "message": message, **extra}


def add_exception_handlers(app: FastAPI) -> None:
    """Register the error map on ``app``."""

    async def trazo_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TrazoError)
        status = status_for(exc)
        logger.info("%s %s -> %d %s", request.method, request.url.path, status, exc.code)
        headers = {"Retry-After": "5"} if status == 503 else None
        return JSONResponse(error_body(exc.code, exc.message), status_code=status, headers=headers)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"field": "", "problem": "invalid request"}
        message = f"{first['field']}: {first['problem']}" if first["field"] else first["problem"]
        return JSONResponse(
            error_body("invalid_request", message, errors=problems), status_code=422
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            error_body(code.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", "internal error; the server log has the details"),
            status_code=500,
        )

    app.add_exception_handler(TrazoError, trazo_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
