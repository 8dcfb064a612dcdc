"""``layers/`` has no import circle, counting every import (type-only and in-function ones
too): the store, its interface, its record tables and its shared rules sit in layers."""

from __future__ import annotations

import ast
from pathlib import Path

LAYERS = Path(__file__).resolve().parents[2] / "layers"


def imports_of(path: Path) -> set[str]:
    """The ``layers.*`` modules ``path`` imports anywhere in its text."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("layers."):
                found.add(node.module)
            elif node.module == "layers":
                found.update(f"layers.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("layers."))
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph``: its strongly connected parts of two modules or more."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in graph[module] & graph.keys():
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            part = [stack.pop()]
            while part[-1] != module:
                part.append(stack.pop())
            if len(part) > 1:
                found.append(sorted(part))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return found


def test_the_checker_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_layers_has_no_import_circle() -> None:
    graph = {
        f"layers.{path.stem}": imports_of(path) - {f"layers.{path.stem}"}
        for path in sorted(LAYERS.glob("*.py"))
    }
    assert graph.get("layers.store")  # the walk saw the store's imports
    assert circles(graph) == []
