"""The rooms of the house and the arrows between them (docs/architecture.md).

Every import of the project's packages is read from the source (``ast``, no import is
run) and checked against the arrows: data in (``layers``) knows nothing above it,
decisions (``planner``) use only ``layers``, the use cases (``usecases``) use the three
below them and no web or console framework and no settings, and only the adapters
(``api``) may import everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("layers", "planner", "maps", "usecases", "api")
FRAMEWORKS = frozenset(
    {"fastapi", "starlette", "uvicorn", "typer", "rich", "click", "pydantic_settings"}
)
ALLOWED: dict[str, frozenset[str]] = {
    "layers": frozenset(),
    "planner": frozenset({"layers"}),
    "maps": frozenset({"layers", "planner"}),
    "usecases": frozenset({"layers", "planner", "maps"}),
    "api": frozenset({"layers", "planner", "maps", "usecases"}) | FRAMEWORKS,
}
"""What each room may import, of the other rooms and of the frameworks."""


def imports_of(room: str) -> dict[str, set[str]]:
    """Each top-level name the room's modules import (at any depth), with where."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / room).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_imports_only_what_its_arrows_allow(room: str) -> None:
    watched = (set(ROOMS) | FRAMEWORKS) - {room}
    imported = {name: where for name, where in imports_of(room).items() if name in watched}
    forbidden = {
        name: sorted(where) for name, where in imported.items() if name not in ALLOWED[room]
    }
    assert forbidden == {}


def test_the_use_cases_read_no_settings() -> None:
    # settings live in api/settings.py; a use case takes explicit arguments
    settings = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "usecases").rglob("*.py")
        if "api.settings" in path.read_text(encoding="utf-8")
        or "BaseSettings" in path.read_text(encoding="utf-8")
    ]
    assert settings == []


def test_the_checker_sees_a_forbidden_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "planner").mkdir()
    (tmp_path / "planner" / "bad.py").write_text("from api.settings import StoreSettings\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert imports_of("planner") == {"api": {"planner/bad.py"}}
