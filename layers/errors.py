"""Trazo's error catalogue: every error a user can cause, its stable code and its outcome.

Every class here is a :class:`TrazoError`: its message is safe to show (no server paths,
no traceback) and says what to do, its ``code`` is stable (clients and scripts match on
it; no two classes share one) and it carries its outcome for both adapters:
``http_status`` (the status the service answers with, through
:func:`api.errors.add_exception_handlers`) and ``exit_code`` (the status ``trazo`` exits
with after printing the message on one line, through :func:`api._console.user_errors`).
``tests/test_error_catalogue.py`` walks the whole tree.

Why here: ``layers`` is the bottom of Trazo's import graph (``planner``, ``maps`` and
``api`` import it; it imports none of them), so the planner's, the maps' and the
service's errors can all live in this one module without an arrow pointing upward. A
separate top-level package would be a room the architecture does not have, for one file.

Messages name no command-line flags or commands and no HTTP routes: each adapter adds
its own hint (``api._console.CLI_HINTS``, ``api.errors.HTTP_HINTS``), chosen by the
error's class and its ``subject`` (what kind of thing the error is about: a stored
``"layer"``, the ``"layers"`` an operation needs, a ``"proposal"``, ...).

Not here, on purpose, as none is the user's doing: :class:`planner.search.steiner.
UnreachableTerminalsError` (a signal between the Steiner solver and its callers, which turn
it into a :class:`NoRouteError`), :class:`usecases.jobs.runner.JobStoppedError` (a signal
that stops a job's work at a shutdown) and :class:`maps.offline.OfflineAssetError` (a map
that would need the network is a defect of Trazo's vendored assets, answered as an
internal error).
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar, Literal

_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_DISK_FULL_WORDS = ("no space left", "database or disk is full", "disk quota exceeded")

USER_ERROR_EXIT = 2
"""What ``trazo`` exits with when the user's input or request cannot be served."""

Subject = Literal["layer", "layers", "proposal", "layer_name", "copy"]
"""What an error is about, for the adapters' hints.

``layer``: one stored layer named by the user; ``layers``: layers an operation needs and
the store lacks (or a store that holds none yet); ``proposal``: one stored proposal;
``layer_name``: a name chosen for a new layer; ``copy``: the destination of a store copy.
"""


class TrazoError(Exception):
    """Base class of every error a user can cause; ``str(err)`` is safe to show.

    Parameters
    ----------
    message
        What went wrong and what to do, safe to show to anyone.
    subject
        What the error is about (see :data:`Subject`); the adapters add hints by it.
    """

    code: str = "trazo_error"
    http_status: ClassVar[int] = 422
    exit_code: ClassVar[int] = USER_ERROR_EXIT

    def __init__(self, message: str, *, subject: Subject | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.subject = subject


# --------------------------------------------------------------------- input and store


class LayerValidationError(TrazoError):
    """An input layer is malformed, has the wrong CRS, geometry type or attributes."""

    code = "invalid_layer"


class UnsafeInputError(TrazoError):
    """An input path, archive or string could reach GDAL in a way Trazo does not allow."""

    code = "unsafe_input"
    http_status = 400


class LimitExceededError(TrazoError):
    """An input is larger than a configured limit (file size, features, vertices, cells,
    load time, ...); the message names the limit and its setting."""

    code = "limit_exceeded"
    http_status = 413


class StorageFullError(LimitExceededError):
    """The disk holding the store or the work folders has no room left for this input."""

    code = "storage_full"


class NotFoundError(TrazoError):
    """A named layer, proposal, job, collection or feature does not exist."""

    code = "not_found"
    http_status = 404


class AlreadyExistsError(TrazoError):
    """A layer or proposal with that name exists and replacing it was not asked for."""

    code = "already_exists"
    http_status = 409


class ExportError(TrazoError):
    """An export was asked for in a format or place Trazo cannot write."""

    code = "export_failed"


class StoreBusyError(TrazoError):
    """Another load is writing to the store and did not finish in time; retry later."""

    code = "store_busy"
    http_status = 503


class StoreWriteError(TrazoError):
    """Writing (or reading back) a layer failed; the store was left as it was."""

    code = "store_write_failed"


class StoreCopyError(TrazoError):
    """A copied layer did not read back the same from the destination store."""

    code = "store_copy_failed"


# --------------------------------------------------------------------- places and areas


class InvalidPlaceError(TrazoError, ValueError):
    """A PLACE string is malformed: bad coordinates, swapped lat/lon, empty."""

    code = "invalid_place"


class PlaceNotFoundError(NotFoundError):
    """No landing, locality or graph node has that name; ``suggestions`` holds close names."""

    code = "place_not_found"

    def __init__(self, message: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions)


class AmbiguousPlaceError(TrazoError):
    """A place name matches several localities or landings; ``candidates`` lists them."""

    code = "ambiguous_place"

    def __init__(self, message: str, candidates: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class WeakPlaceMatchError(TrazoError):
    """A bare name whose only match is a small rural locality; ``candidates`` lists it (and
    close names of towns) so the user can qualify it."""

    code = "weak_place_match"

    def __init__(self, message: str, candidates: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class PlaceAliasError(TrazoError):
    """The place alias file is missing, malformed or names a key twice."""

    code = "invalid_place_aliases"


class AreaNotFoundError(NotFoundError):
    """No state or municipality has that name; ``suggestions`` holds close names."""

    code = "area_not_found"

    def __init__(self, message: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions)


class AmbiguousAreaError(TrazoError):
    """A municipality name exists in several states; ``candidates`` lists them."""

    code = "ambiguous_area"

    def __init__(self, message: str, candidates: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class InvalidAreaError(TrazoError, ValueError):
    """A polygon given as WKT or GeoJSON cannot be read or is not a polygon in lon/lat."""

    code = "invalid_area"


class OutsidePlanningAreaError(TrazoError):
    """A place lies outside the planning area (the stored states and their margin)."""

    code = "outside_planning_area"


# --------------------------------------------------------------------- planning


class GraphBuildError(TrazoError):
    """The line layers cannot be turned into a corridor graph (empty, wrong CRS, ...)."""

    code = "invalid_graph"


class NoRouteError(TrazoError):
    """No route (or no diverse pair of routes, or no passable greenfield path) joins the
    endpoints asked for."""

    code = "no_route"


class DegenerateRequestError(TrazoError):
    """A request that has nothing to plan: a route from a place to itself, an area with no
    locality to serve. A user error: nothing is planned or stored."""

    code = "degenerate_request"


class NoBackboneError(TrazoError):
    """There is no backbone to connect the localities to."""

    code = "no_backbone"


class CostModelError(TrazoError):
    """A cost model file or override is missing, unreadable or has an invalid value."""

    code = "invalid_cost_model"


class TerrainError(TrazoError):
    """The elevation raster cannot be used for radio paths."""

    code = "invalid_elevation"


class GreenfieldError(TrazoError):
    """A greenfield link cannot be computed from the given inputs."""

    code = "greenfield_error"


class OutsideSurfaceError(GreenfieldError):
    """A point lies outside the friction surface or on a cell that cannot be trenched."""

    code = "outside_surface"


class ScenarioError(TrazoError):
    """A scenario file is missing, unreadable or invalid; the message names file and key."""

    code = "invalid_scenario"


class ScenarioNotFoundError(ScenarioError, NotFoundError):
    """No scenario has that name."""

    code = "scenario_not_found"
    http_status = 404


# --------------------------------------------------------------------- maps


class ProposalFormatError(TrazoError):
    """A proposal file is not a GeoJSON FeatureCollection of segments."""

    code = "invalid_proposal"


# --------------------------------------------------------------------- service


class InvalidParameterError(TrazoError):
    """A query parameter the operation does not take, or a value it cannot use.

    OGC API – Features answers these with 400 (``/req/core/query-param-invalid`` and
    ``/req/core/query-param-unknown``), where the service's other routes use 422.
    """

    code = "invalid_parameter"
    http_status = 400


class RequestFieldError(TrazoError):
    """A place or area in a request body cannot be used (a 422: the body is well formed
    but names something unusable).

    The message starts with the request field (``from: 'Teapa' matches 2 localities ...``)
    and lists the candidates or close names the planner found. The error's ``code`` is
    its cause's (``ambiguous_place``, ``place_not_found``, ...), so clients match on what
    was wrong whatever field it was in; the class's own code is never sent.
    """

    code = "invalid_request_field"

    def __init__(self, field: str, cause: TrazoError) -> None:
        super().__init__(f"{field}: {cause.message}", subject=cause.subject)
        self.code = cause.code  # an instance speaks with its cause's code
        self.field = field
        self.cause = cause
        self.candidates: list[str] = list(getattr(cause, "candidates", []))
        self.suggestions: list[str] = list(getattr(cause, "suggestions", []))


class IdempotencyKeyReusedError(TrazoError):
    """An ``Idempotency-Key`` already names a job with a different request."""

    code = "idempotency_key_reused"


class PartitionFailedError(TrazoError):
    """One partition of a national run failed; the run stores nothing."""

    code = "partition_failed"


class SchedulerUnreachableError(TrazoError):
    """The dask scheduler the service is configured with cannot be reached (the server's
    problem, not the request's: a 503)."""

    code = "scheduler_unreachable"
    http_status = 503


# --------------------------------------------------------------------- helpers


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


def with_hint(error: TrazoError, hints: Mapping[tuple[type[TrazoError], Subject], str]) -> str:
    """``error``'s message followed by the hint ``hints`` holds for its class (or the
    nearest base that has one) and subject; the message alone if there is none.

    Examples
    --------
    >>> hints = {(NotFoundError, "layer"): "see the list"}
    >>> with_hint(PlaceNotFoundError("no place 'x'"), hints)
    "no place 'x'"
    >>> with_hint(NotFoundError("no layer named 'x'", subject="layer"), hints)
    "no layer named 'x'; see the list"
    """
    # a request-field error speaks with its cause's code, and so with its cause's hint
    hinted = error.cause if isinstance(error, RequestFieldError) else error
    if error.subject is not None:
        for kind in type(hinted).__mro__:
            hint = hints.get((kind, error.subject))
            if hint is not None:
                return f"{error.message}; {hint}"
    return error.message


def catalogue() -> list[type[TrazoError]]:
    """Every error class of the catalogue, the base first.

    Examples
    --------
    >>> catalogue()[0].__name__, len({kind.code for kind in catalogue()}) == len(catalogue())
    ('TrazoError', True)
    """
    found: list[type[TrazoError]] = [TrazoError]
    for kind in found:
        found.extend(sub for sub in kind.__subclasses__() if sub not in found)
    return [kind for kind in found if kind.__module__ == __name__]
