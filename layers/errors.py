"""One exception tree for Trazo.

Every error a user can cause is a :class:`TrazoError` whose message is safe to show and
says what to do. The API maps each class to one HTTP status; the CLI prints the message
on one line and exits non-zero.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_DISK_FULL_WORDS = ("no space left", "database or disk is full", "disk quota exceeded")


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


class StorageFullError(LimitExceededError):
    """The disk holding the store or the work folders has no room left for this input."""

    code = "storage_full"


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` (from the OS, SQLite or GDAL) says the disk has no room left."""
    if isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS:
        return True
    text = str(error).lower()
    return any(words in text for words in _DISK_FULL_WORDS)


@contextlib.contextmanager
def disk_full_as_error(what: str) -> Iterator[None]:
    """Turn a full disk inside the block into a :class:`StorageFullError` about ``what``.

    The message names no file: the paths of the store and work folders are the server's.
    """
    try:
        yield
    except TrazoError:
        raise
    except Exception as err:
        if not is_disk_full(err):
            raise
        raise StorageFullError(
            f"no space left on the server's disk for {what}; nothing was changed - free "
            "some space (or ask the operator to) and try again"
        ) from None


class AlreadyExistsError(TrazoError):
    """A layer with that name exists and replacing it was not asked for."""

    code = "already_exists"
