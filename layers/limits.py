"""Caps on what one load may bring in; refusals name the limit that was hit."""

from __future__ import annotations

import time
from dataclasses import dataclass

from layers.errors import LimitExceededError


@dataclass(frozen=True)
class Limits:
    """Input size limits for loading one layer.

    The defaults let every bundled layer through (the largest, all 189,432 INEGI 2020
    localities, is well under them) and a national road layer (INEGI's Red Nacional de
    Caminos, OpenStreetMap's Mexico ways: a few million features each) while refusing
    files that would exhaust a 2-core, 24 GiB server.
    """

    max_file_bytes: int = 512 * 1024**2
    max_features: int = 10_000_000
    max_vertices_per_geometry: int = 1_000_000
    max_zip_entries: int = 1_000
    max_zip_uncompressed_bytes: int = 2 * 1024**3
    max_zip_ratio: float = 200.0
    #: Width x height x bands of a raster, checked from its header before any cell is read
    #: (and again for the size it has once reprojected to EPSG:4326); 200 million cells is
    #: 800 MB of float32, over 50 times the bundled elevation model.
    max_raster_cells: int = 200_000_000
    #: Seconds one load may take from its safety checks to the end of validation (the
    #: upload itself and the store's write are not counted). Checked between the load's
    #: steps, so one step that GDAL cannot interrupt may run past it; the size limits
    #: above bound such a step. The national bundle's largest layer loads in well under
    #: a minute here.
    max_load_seconds: float = 300.0


class LoadDeadline:
    """The time by which a load must be done; :meth:`check` refuses it once passed.

    Parameters
    ----------
    seconds
        The limit (``Limits.max_load_seconds``), counted from now.
    source
        The user's name for the file, for the message.

    Examples
    --------
    >>> LoadDeadline(60.0, "towns.csv").check("reading it")
    >>> LoadDeadline(1e-9, "towns.csv").check("reading it")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layers.errors.LimitExceededError: loading 'towns.csv' took longer than the 1e-09 s ...
    """

    def __init__(self, seconds: float, source: str) -> None:
        self.seconds = seconds
        self.source = source
        self._end = time.monotonic() + seconds

    def passed(self) -> bool:
        """Whether the time is up."""
        return time.monotonic() >= self._end

    def check(self, step: str) -> None:
        """Raise :class:`LimitExceededError` naming ``step`` if the time is up."""
        if self.passed():
            raise LimitExceededError(
                f"loading {self.source!r} took longer than the {self.seconds:g} s load time "
                f"limit (max_load_seconds) while {step}; nothing was stored - split the file "
                "or simplify it"
            )
