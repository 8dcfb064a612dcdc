"""Errors of a request's fields: name the field in the error a use case raises.

The error classes themselves are in the one catalogue, :mod:`layers.errors`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from layers.errors import RequestFieldError, TrazoError


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
