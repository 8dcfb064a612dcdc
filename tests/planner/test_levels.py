"""The planner's four levels import only downward: plans → proposals → network → search.

Read from the source with :mod:`ast` (every ``import``, also those inside functions and
``TYPE_CHECKING`` blocks), so a lazy import cannot hide an upward arrow.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import networkx as nx
import pytest

PLANNER = Path(__file__).resolve().parents[2] / "planner"
LEVELS = ("search", "network", "proposals", "plans")
"""Lowest first: a module may import its own level and those before it."""


def planner_imports(path: Path) -> set[str]:
    """Dotted names of the ``planner`` modules or packages ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "planner")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            root = node.module.split(".")[0]
            if root == "planner":
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def level_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LEVELS else None


def test_every_planner_module_sits_in_a_level() -> None:
    shared = {"__init__.py", "_toml.py", "_lazy.py"}  # errors: layers/errors.py
    loose = sorted(p.name for p in PLANNER.glob("*.py") if p.name not in shared)
    assert loose == []


@pytest.mark.parametrize("leaf", ["_toml.py", "_lazy.py"])
def test_shared_leaves_import_no_level(leaf: str) -> None:
    assert {n for n in planner_imports(PLANNER / leaf) if level_of(n)} == set()


@pytest.mark.parametrize("level", LEVELS)
def test_imports_point_down(level: str) -> None:
    allowed = set(LEVELS[: LEVELS.index(level) + 1])
    upward = {
        f"{path.relative_to(PLANNER)} imports {name}"
        for path in sorted((PLANNER / level).glob("*.py"))
        for name in planner_imports(path)
        if (target := level_of(name)) is not None and target not in allowed
    }
    assert upward == set()


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from planner.plans.route import plan_route\n")
    assert level_of(max(planner_imports(module))) == "plans"


@pytest.mark.parametrize("package", ["planner", *(f"planner.{level}" for level in LEVELS)])
def test_public_names_resolve(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


def test_no_import_circle() -> None:
    """No planner module imports, even lazily, one that imports it back (package facades,
    whose names load on first use, are left out)."""
    modules = {
        ".".join(path.relative_to(PLANNER.parent).with_suffix("").parts): path
        for path in PLANNER.rglob("*.py")
        if path.name != "__init__.py"
    }
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    graph.add_edges_from(
        (name, target)
        for name, path in modules.items()
        for target in planner_imports(path)
        if target in modules and target != name
    )
    assert list(nx.simple_cycles(graph)) == []
