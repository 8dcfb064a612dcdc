"""Reading the planner's TOML data files with errors that name the file and the key."""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Sequence
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


def problem_location(parts: Sequence[Any], *, tags: Collection[str] = ()) -> str:
    """Where in a TOML file one validation problem lies, as ``key.path[index].key``.

    ``parts`` is a pydantic error's ``loc``; a string of ``tags`` that follows an index is
    the kind tag pydantic adds for a tagged union, not a key of the file, and is left out.

    Examples
    --------
    >>> problem_location(("steps", 0, "route", "to"), tags={"route"})
    'steps[0].to'
    >>> problem_location(("unit_costs", "trench"))
    'unit_costs.trench'
    """
    loc = ""
    for position, part in enumerate(parts):
        if part in tags and position > 0 and isinstance(parts[position - 1], int):
            continue
        if isinstance(part, int):
            loc += f"[{part}]"
        else:
            loc += f".{part}" if loc else str(part)
    return loc
