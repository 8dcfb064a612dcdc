"""One exception tree for Trazo.

Every error a user can cause is a :class:`TrazoError` whose message is safe to show and
says what to do. The API maps each class to one HTTP status; the CLI prints the message
on one line and exits non-zero.
"""

from __future__ import annotations


class TrazoError(Exception):
    """Base class of every error a user can cause; ``str(err)`` is safe to show."""

    code = "trazo_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LayerValidationError(TrazoError):
    """An input layer is malformed, has the wrong CRS, geometry type or attributes."""

    code = "invalid_layer"


class UnsafeInputError(TrazoError):
    """An input path, archive or string could reach GDAL in a way Trazo does not allow."""

    code = "unsafe_input"


class LimitExceededError(TrazoError):
    """An input is larger than a configured limit (file size, features, vertices, ...)."""

    code = "limit_exceeded"


class NotFoundError(TrazoError):
    """A named layer, proposal or place does not exist."""

    code = "not_found"


class AlreadyExistsError(TrazoError):
    """A layer with that name exists and replacing it was not asked for."""

    code = "already_exists"
