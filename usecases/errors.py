"""Errors of the application layer: a request field that cannot be used."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from layers.errors import TrazoError


class RequestFieldError(TrazoError):
    """A place or area in a request cannot be used; keeps the planner's code and message.

    The message starts with the request field (``from: 'Teapa' matches 2 localities ...``)
    and lists the candidates or close names the planner found. Answered with a 422.
    """

    def __init__(self, field: str, error: TrazoError) -> None:
        super().__init__(f"{field}: {error.message}")
        self.code = error.code
        self.field = field
        self.candidates: list[str] = list(getattr(error, "candidates", []))
        self.suggestions: list[str] = list(getattr(error, "suggestions", []))


@contextlib.contextmanager
def in_field(field: str | None) -> Iterator[None]:
    """Name ``field`` in a Trazo error raised inside (nothing when ``field`` is None)."""
    if field is None:
        yield
        return
    try:
        yield
    except TrazoError as err:
        raise RequestFieldError(field, err) from None
