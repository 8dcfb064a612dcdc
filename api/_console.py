"""Shared pieces of the command line: consoles, the store from settings, user errors."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from api.settings import LimitSettings, StoreSettings
from layers.errors import (
    AlreadyExistsError,
    LayerValidationError,
    NotFoundError,
    Subject,
    TrazoError,
    with_hint,
)
from layers.limits import Limits
from layers.store_api import LayerStore
from layers.stores import open_store as open_store_at

console = Console()
err_console = Console(stderr=True)
logger = logging.getLogger("trazo")

P = ParamSpec("P")
R = TypeVar("R")

CLI_HINTS: dict[tuple[type[TrazoError], Subject], str] = {
    (NotFoundError, "layer"): "see `trazo layers list`",
    (NotFoundError, "layers"): "run `trazo demo` or load layers with `trazo layers load`",
    (NotFoundError, "proposal"): "see `trazo proposals list`",
    (AlreadyExistsError, "layer"): "pass --replace to replace it",
    (AlreadyExistsError, "proposal"): "pass --replace to replace it, or choose another --name",
    (AlreadyExistsError, "copy"): "pass --replace to replace them",
    (LayerValidationError, "layer_name"): "choose it with --name",
}
"""What the command line adds to a message, by the error's class (or a base) and subject."""


def cli_message(error: TrazoError) -> str:
    """The message of ``error`` as ``trazo`` prints it: with the command line's hint, if any.

    Examples
    --------
    >>> cli_message(NotFoundError("no layer named 'x'", subject="layer"))
    "no layer named 'x'; see `trazo layers list`"
    """
    return with_hint(error, CLI_HINTS)


def user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a Trazo error into one line on stderr and the error's exit status (2 for every
    class today, see :mod:`layers.errors`), without a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except TrazoError as err:
            logger.debug("user error", exc_info=True)
            # one line whatever the terminal's width; the message is text, not markup
            err_console.print(
                f"[bold red]error:[/] {escape(cli_message(err))}",
                highlight=False,
                markup=True,
                soft_wrap=True,
            )
            raise typer.Exit(err.exit_code) from None

    return wrapper


def open_store() -> LayerStore:
    """Open the store named by the settings (a GeoPackage's folder is created)."""
    settings = StoreSettings()
    return open_store_at(settings.store, work_dir=settings.work_dir)


def limits() -> Limits:
    """Load limits from the settings."""
    return LimitSettings().to_limits()


_one_command_process = [False]
"""Whether this process runs one command and exits (set by :func:`api.cli.main`, the
``trazo`` program), as opposed to a process that runs commands in turn (tests, scripts)."""


ONE_COMMAND_GC_THRESHOLDS = (10_000, 50, 50)
"""The cyclic collector's thresholds in a one-command process (Python's are 700, 10, 10).

A planning command makes hundreds of thousands of short-lived containers (graph copies,
attached places, proposal records); at Python's thresholds each few hundred of them start
a collection, about 0.1 s of a warm last mile. Collections still run, less often: the
garbage a command leaves in cycles is small and the process ends with the command.
"""


def one_command_process() -> None:
    """Declare this process a one-command process (see :func:`starting_up`) and collect
    less often (:data:`ONE_COMMAND_GC_THRESHOLDS`)."""
    _one_command_process[0] = True
    gc.set_threshold(*ONE_COMMAND_GC_THRESHOLDS)


@contextlib.contextmanager
def starting_up() -> Iterator[None]:
    """A command's start-up, importing its use case and loading what it plans on, run
    without the cyclic garbage collector.

    Loading the planning cache and importing pandas or scipy create millions of objects
    that live as long as the command and form no garbage cycles, yet with the collector on
    each few thousand of them trigger a collection that scans the ever larger heap again:
    about a fifth of a warm ``trazo plan route``'s CPU time. After the start-up, in the
    ``trazo`` program (one command per process), what was loaded is frozen
    (:func:`gc.freeze`): later collections no longer scan it (and the program ends without
    the interpreter's teardown, :func:`api.cli.exit_now`). Elsewhere (a test runner that
    invokes command after command) nothing is frozen, since frozen garbage would never be
    freed; there the collector is only paused.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _one_command_process[0]:
            gc.freeze()
        if enabled:
            gc.enable()
