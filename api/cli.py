"""The ``trazo`` command line.

Each command group lives in its own module, imported only when that group runs: a
``trazo plan route`` does not pay for the map renderer, the HTTP service or the dask
cluster code (see :class:`LazyGroup`).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import os
import sys
from typing import Any, NoReturn

import typer
from typer.core import DEFAULT_MARKUP_MODE, TyperGroup

SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    # name: (module, attribute, what the attribute is: a Typer "app" or a "command")
    "demo": ("api.cli_demo", "demo", "command"),
    "layers": ("api.cli_layers", "app", "app"),
    "map": ("api.cli_map", "map_command", "command"),
    "plan": ("api.cli_plan", "app", "app"),
    "proposals": ("api.cli_proposals", "app", "app"),
    "scenario": ("api.cli_scenario", "app", "app"),
    "serve": ("api.cli_serve", "serve", "command"),
    "store": ("api.cli_store", "app", "app"),
}
"""Every command (group) of ``trazo`` and where it is defined."""


class LazyGroup(TyperGroup):
    """The top-level group: a command's module is imported when the command is looked up."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in SUBCOMMANDS:
            return None
        module_name, attribute, what = SUBCOMMANDS[cmd_name]
        target = getattr(importlib.import_module(module_name), attribute)
        if what == "app":
            command: Any = typer.main.get_group(target)
        else:
            command = typer.main.get_command_from_info(
                typer.models.CommandInfo(name=cmd_name, callback=target),
                pretty_exceptions_short=True,
                rich_markup_mode=DEFAULT_MARKUP_MODE,
            )
        command.name = cmd_name
        return command


app = typer.Typer(
    name="trazo",
    help="Trazo: costed fiber routes for Mexico from real layers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)


@app.callback()
def _configure(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens to stderr."),
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING)


def main() -> NoReturn:
    """The ``trazo`` program: run the command of ``sys.argv`` in this process and exit.

    One command per process, so what a command loads at its start lives until the exit
    and may be frozen out of the garbage collector's sight (:func:`api._console.starting_up`),
    and the exit skips the interpreter's teardown (:func:`exit_now`).
    """
    from api._console import one_command_process

    one_command_process()
    try:
        app()
    except SystemExit as end:
        exit_now(end.code)
    exit_now(0)


def exit_now(code: object) -> NoReturn:
    """End the process as a normal exit with ``code`` would, less the interpreter's teardown.

    Tearing down every module and object of a planning command (numba's compiled kernels,
    scipy, pandas, the network read) takes 0.1-0.25 s after the command is done, for
    nothing: the process ends anyway. The exit handlers still run (logging, temporary
    files, a cluster's shutdown, anything registered with :mod:`atexit`) and the output is
    flushed, as in a normal exit; mypy's ``--fast-exit`` ends the same way. Threads still
    running end with the process, as daemon threads do.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message on stderr and status 1, as Python does
        sys.stderr.write(f"{code}\n")
        status = 1
    atexit._run_exitfuncs()  # what a normal exit runs first (and then forgets)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to write to
            stream.flush()
    os._exit(status)
