"""Shared pieces of the command line: consoles, the store from settings, user errors."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from api.settings import LimitSettings, StoreSettings
from layers.errors import TrazoError
from layers.limits import Limits
from layers.store_api import LayerStore
from layers.stores import open_store as open_store_at

console = Console()
err_console = Console(stderr=True)
logger = logging.getLogger("trazo")

P = ParamSpec("P")
R = TypeVar("R")

USER_ERROR_EXIT = 2


def user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a Trazo error into one line on stderr and exit status 2, without a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except TrazoError as err:
            logger.debug("user error", exc_info=True)
            # one line whatever the terminal's width; the message is text, not markup
            err_console.print(
                f"[bold red]error:[/] {escape(err.message)}",
                highlight=False,
                markup=True,
                soft_wrap=True,
            )
            raise typer.Exit(USER_ERROR_EXIT) from None

    return wrapper


def open_store() -> LayerStore:
    """Open the store named by the settings (a GeoPackage's folder is created)."""
    settings = StoreSettings()
    return open_store_at(settings.store, work_dir=settings.work_dir)


def limits() -> Limits:
    """Load limits from the settings."""
    return LimitSettings().to_limits()
