"""The service's side of the error catalogue, registered once on the app.

Routes raise domain errors (:mod:`layers.errors`); these handlers turn them into
``{code, message}`` bodies with the error's own HTTP status and a message safe to show,
plus the service's hint for the error's subject (:data:`HTTP_HINTS`: library messages
name neither command-line flags nor HTTP routes). Anything unexpected is logged with its
traceback and answered with a 500 that says only that.
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
    NotFoundError,
    Subject,
    TrazoError,
    with_hint,
)

logger = logging.getLogger("trazo.api")

HTTP_HINTS: dict[tuple[type[TrazoError], Subject], str] = {
    (NotFoundError, "layer"): "see GET /layers",
    (NotFoundError, "layers"): "load layers with POST /layers",
    (NotFoundError, "proposal"): "see GET /proposals",
    (AlreadyExistsError, "layer"): "send replace=true to replace it",
    (AlreadyExistsError, "proposal"): "send replace=true to replace it, or another name",
    (LayerValidationError, "layer_name"): "give it in the form's 'name' field",
}
"""What the service adds to a message, by the error's class (or a base) and subject."""


def http_message(error: TrazoError) -> str:
    """The message of ``error`` as the service shows it: with the service's hint, if any.

    Examples
    --------
    >>> http_message(NotFoundError("no layer named 'x'", subject="layer"))
    "no layer named 'x'; see GET /layers"
    """
    return with_hint(error, HTTP_HINTS)


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    """The body of every error response."""
    return {"code": code, "message": message, **extra}


def add_exception_handlers(app: FastAPI) -> None:
    """Register the catalogue's statuses (each error class's ``http_status``) on ``app``."""

    async def trazo_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TrazoError)
        status = exc.http_status
        logger.info("%s %s -> %d %s", request.method, request.url.path, status, exc.code)
        headers = {"Retry-After": "5"} if status == 503 else None
        body = error_body(exc.code, http_message(exc))
        return JSONResponse(body, status_code=status, headers=headers)

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
