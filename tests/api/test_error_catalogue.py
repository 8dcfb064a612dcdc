"""The error catalogue (layers/errors.py) through both adapters: every class's HTTP status,
body code and CLI exit status, unique codes, and messages free of command-line hints."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from api._console import cli_message, user_errors
from api.errors import http_message
from layers import errors
from layers.errors import (
    AlreadyExistsError,
    AmbiguousPlaceError,
    LayerValidationError,
    NotFoundError,
    RequestFieldError,
    TrazoError,
    catalogue,
)

REPO = Path(__file__).resolve().parents[2]

# Worked out from what each error means, not read from the classes: 404 a named thing is
# missing, 409 a name is taken, 413 an input is over a limit, 400 a request Trazo will not
# take at all (unsafe, or an OGC query parameter), 503 the server cannot serve it right
# now, 422 everything else the user asked for that cannot be done. Every class exits 2.
EXPECTED_STATUS: dict[str, int] = {
    "TrazoError": 422,
    "LayerValidationError": 422,
    "UnsafeInputError": 400,
    "LimitExceededError": 413,
    "StorageFullError": 413,
    "NotFoundError": 404,
    "AlreadyExistsError": 409,
    "ExportError": 422,
    "StoreBusyError": 503,
    "StoreWriteError": 422,
    "StoreCopyError": 422,
    "InvalidPlaceError": 422,
    "PlaceNotFoundError": 404,
    "AmbiguousPlaceError": 422,
    "WeakPlaceMatchError": 422,
    "PlaceAliasError": 422,
    "AreaNotFoundError": 404,
    "AmbiguousAreaError": 422,
    "InvalidAreaError": 422,
    "OutsidePlanningAreaError": 422,
    "GraphBuildError": 422,
    "NoRouteError": 422,
    "DegenerateRequestError": 422,
    "NoBackboneError": 422,
    "CostModelError": 422,
    "TerrainError": 422,
    "GreenfieldError": 422,
    "OutsideSurfaceError": 422,
    "ScenarioError": 422,
    "ScenarioNotFoundError": 404,
    "ProposalFormatError": 422,
    "InvalidParameterError": 400,
    "RequestFieldError": 422,
    "IdempotencyKeyReusedError": 422,
    "PartitionFailedError": 422,
    "SchedulerUnreachableError": 503,
}
CLASSES = {kind.__name__: kind for kind in catalogue()}


def _example(kind: type[TrazoError]) -> tuple[TrazoError, str]:
    """An instance of ``kind`` and the code its response body must carry."""
    if kind is RequestFieldError:
        cause = AmbiguousPlaceError("'San Juan' matches 2 localities", ["a", "b"])
        return RequestFieldError("from", cause), "ambiguous_place"
    return kind(f"example {kind.__name__}"), kind.code


def test_the_catalogue_is_the_expected_table() -> None:
    assert sorted(CLASSES) == sorted(EXPECTED_STATUS)


def test_codes_are_unique_and_stable_words() -> None:
    codes = [kind.code for kind in catalogue()]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    assert all(code.replace("_", "").isalpha() and code.islower() for code in codes)


def test_every_error_class_lives_in_the_catalogue() -> None:
    """No module of Trazo defines a TrazoError of its own."""
    for path in sorted(REPO.glob("[almpu]*/**/*.py")):
        if path.parts[len(REPO.parts)] not in {"api", "layers", "maps", "planner", "usecases"}:
            continue
        if path == REPO / "layers" / "errors.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                assert not bases & set(CLASSES), f"{path.relative_to(REPO)}: {node.name}"


@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_http_status_and_body(name: str, http_answer_to: Callable[[BaseException], Any]) -> None:
    error, code = _example(CLASSES[name])
    response = http_answer_to(error)
    assert response.status_code == EXPECTED_STATUS[name]
    assert response.json() == {"code": code, "message": error.message}
    if response.status_code == 503:
        assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_cli_exit_status_and_one_line(name: str) -> None:
    error, _ = _example(CLASSES[name])
    cli = typer.Typer()

    @cli.command()
    @user_errors
    def fail() -> None:
        raise error

    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {error.message}"


@pytest.mark.parametrize(
    ("error", "cli", "http"),
    [
        (
            NotFoundError("no layer named 'x'; stored layers: a", subject="layer"),
            "no layer named 'x'; stored layers: a; see `trazo layers list`",
            "no layer named 'x'; stored layers: a; see GET /layers",
        ),
        (
            NotFoundError("the store holds no localities layer", subject="layers"),
            "the store holds no localities layer; run `trazo demo` or load layers with "
            "`trazo layers load`",
            "the store holds no localities layer; load layers with POST /layers",
        ),
        (
            AlreadyExistsError("layer 'row' already exists", subject="layer"),
            "layer 'row' already exists; pass --replace to replace it",
            "layer 'row' already exists; send replace=true to replace it",
        ),
        (
            LayerValidationError("choose another name", subject="layer_name"),
            "choose another name; choose it with --name",
            "choose another name; give it in the form's 'name' field",
        ),
        (  # the hint follows the cause of a request-field error
            RequestFieldError("area", NotFoundError("no states layer", subject="layers")),
            "area: no states layer; run `trazo demo` or load layers with `trazo layers load`",
            "area: no states layer; load layers with POST /layers",
        ),
        (NotFoundError("no job 'j'"), "no job 'j'", "no job 'j'"),
    ],
)
def test_each_adapter_adds_its_own_hint(error: TrazoError, cli: str, http: str) -> None:
    assert cli_message(error) == cli
    assert http_message(error) == http


def _strings_outside_docstrings(tree: ast.AST) -> list[ast.Constant]:
    """String constants that are not documentation (a bare string statement is)."""
    docs = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


@pytest.mark.parametrize("package", ["layers", "planner", "maps", "usecases"])
def test_library_messages_name_no_command_line(package: str) -> None:
    """Library strings name no ``trazo`` command and no ``--flag``: the CLI adds those."""
    found = []
    for path in sorted((REPO / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _strings_outside_docstrings(tree):
            text = str(node.value)
            flags = [
                w for w in text.replace("`", " ").split() if w[:2] == "--" and w[2:3].isalpha()
            ]
            if "`trazo " in text or flags:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {text[:60]}")
    assert not found


def test_the_catalogue_module_imports_nothing_of_trazo() -> None:
    tree = ast.parse(Path(errors.__file__).read_text(encoding="utf-8"))
    imported = [
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
    ] + [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert not [
        name for name in imported if name.split(".")[0] in {"api", "layers", "maps", "planner"}
    ]
