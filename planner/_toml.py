"""Reading the planner's TOML data files with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from layers.errors import TrazoError


def read_toml(
    path: Path,
    *,
    what: str,
    error: type[TrazoError],
    missing: type[TrazoError] | None = None,
) -> dict[str, Any]:
    """Parse ``path``; a missing, unreadable or malformed file raises ``error`` naming it.

    ``what`` names the kind of file in messages ("cost model file"); ``missing`` is raised
    instead of ``error`` when the file does not exist.
    """
    label = path.name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise (missing or error)(f"{what} not found: {label}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"cannot read {what} {label}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise error(f"{label} is not valid TOML: {err}") from None
