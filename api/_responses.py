"""OpenAPI documentation of the error bodies the error map (``api/errors.py``) answers with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """The body of every error response."""

    code: str = Field(examples=["not_found"], description="Stable machine-readable code.")
    message: str = Field(
        examples=["no layer named 'roads'; stored layers: localities, states"],
        description="What went wrong and what to do, safe to show to people.",
    )


_WHY: dict[int, str] = {
    400: "A query parameter the operation does not take, or a value it cannot use.",
    401: "No API key, or an unknown one.",
    403: "The API key's role is too low for this operation.",
    404: "No such layer, proposal, collection or feature.",
    409: "A layer of that name exists and replacing it was not asked for.",
    413: "The upload is larger than the service accepts (TRAZO_MAX_UPLOAD_BYTES).",
    422: "A parameter or the uploaded file is invalid; the message names the problem.",
    503: "Another load is writing to the store; retry after the Retry-After seconds.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries documenting ``statuses`` with the error body.

    Examples
    --------
    >>> sorted(error_responses(401, 404))
    [401, 404]
    """
    schema = ErrorBody.model_json_schema()
    return {
        status: {"description": _WHY[status], "content": {"application/json": {"schema": schema}}}
        for status in statuses
    }
