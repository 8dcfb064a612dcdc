"""Scenario files: every bundled one validates; a bad one names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from layers.errors import ScenarioError, ScenarioNotFoundError
from planner.plans.scenario import (
    DEFAULT_SCENARIO_DIR,
    BackboneStep,
    CableStep,
    LastMileStep,
    RouteStep,
    find_scenario,
    list_scenarios,
    load_scenario,
)

BUNDLED = sorted(DEFAULT_SCENARIO_DIR.glob("*.toml"))
EXPECTED = {
    "cdmx",
    "chetumal_queretaro",
    "gignet1",
    "internet_para_todos",
    "pacific",
    "rnei",
    "tabasco",
}

GOOD = """
name = "demo"
title = "Demo"
description = "A scenario for tests."
funding_usd = 1000000
assumptions = ["none"]

[[facts]]
text = "A fact."
source = "A source."

[[steps]]
name = "spine"
kind = "backbone"
title = "Spine"
terminals = ["A", "B"]

[[steps]]
name = "access"
kind = "last_mile"
title = "Access"
area = "Somewhere"
backbone_step = "spine"
budget_after_steps = ["spine"]
"""


def write(tmp_path: Path, text: str, name: str = "demo.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_scenario_validates(path: Path) -> None:
    spec = load_scenario(path)
    assert spec.name == path.stem
    assert spec.facts and all(fact.source for fact in spec.facts)
    assert spec.assumptions, "every bundled scenario states its assumptions"


def test_all_seed_projects_are_bundled() -> None:
    assert {spec.name for spec in list_scenarios()} == EXPECTED


def test_step_kinds_are_read(tmp_path: Path) -> None:
    spec = load_scenario(write(tmp_path, GOOD))
    spine, access = spec.steps
    assert isinstance(spine, BackboneStep) and spine.terminals == ("A", "B")
    assert isinstance(access, LastMileStep) and access.budget_after_steps == ("spine",)
    assert spec.step("access") is access


def test_route_step_reads_from_and_to(tmp_path: Path) -> None:
    text = GOOD.replace(
        'kind = "backbone"\ntitle = "Spine"\nterminals = ["A", "B"]',
        'kind = "route"\ntitle = "Spine"\nfrom = "A"\nto = "B"\ndiverse = true',
    )
    spine = load_scenario(write(tmp_path, text)).steps[0]
    assert isinstance(spine, RouteStep)
    assert (spine.origin, spine.destination, spine.diverse) == ("A", "B", True)


def test_cable_step_reads_its_published_cost(tmp_path: Path) -> None:
    cable = (
        'kind = "cable"\ntitle = "Spine"\ncable = "GigNet-1"\ncost_usd = 38000000\n'
        'cost_source = "USTDA"'
    )
    text = GOOD.replace('kind = "backbone"\ntitle = "Spine"\nterminals = ["A", "B"]', cable)
    spine = load_scenario(write(tmp_path, text)).steps[0]
    assert isinstance(spine, CableStep)
    assert (spine.cable, spine.cost_usd, spine.cost_source) == ("GigNet-1", 38e6, "USTDA")
    unsourced = text.replace('\ncost_source = "USTDA"', "")
    with pytest.raises(ScenarioError, match=r"steps\[0\]: cost_usd needs its cost_source"):
        load_scenario(write(tmp_path, unsourced))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('title = "Demo"', ""), r"demo\.toml: title: is missing"),
        (
            ("funding_usd = 1000000", 'funding_usd = 1000000\ncolour = "red"'),
            "colour: is not a known key",
        ),
        (
            ('terminals = ["A", "B"]', 'terminals = ["A", "B"]\nring = "perhaps"'),
            r"steps\[0\]\.ring: must be true or false",
        ),
        (('kind = "backbone"', 'kind = "ring"'), r"steps\[0\]: kind must be one of"),
        (('terminals = ["A", "B"]', ""), r"steps\[0\]: a backbone needs terminals"),
        (('name = "spine"', 'name = "Spine Line"'), r"steps\[0\]\.name: must be lower-case"),
        (
            ('backbone_step = "spine"', 'backbone_step = "later"'),
            r"steps\[1\]\.backbone_step: 'later' is not an earlier step",
        ),
        (
            ("funding_usd = 1000000\n", ""),
            r"steps\[1\]\.budget_after_steps needs the scenario's funding_usd",
        ),
        (
            ('area = "Somewhere"', 'area = "Somewhere"\nmin_population = 0'),
            r"steps\[1\]\.min_population: must be >= 1",
        ),
        (('[[facts]]\ntext = "A fact."\nsource = "A source."\n', ""), "facts: is missing"),
    ],
)
def test_bad_file_names_the_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ScenarioError, match=message):
        load_scenario(write(tmp_path, GOOD.replace(old, new, 1)))


def test_cost_model_overrides_are_checked(tmp_path: Path) -> None:
    text = GOOD + '\n[cost_model]\n"deployment.rail.usd_per_km" = -3\n'
    with pytest.raises(
        ScenarioError, match=r"demo\.toml: cost_model: .*deployment\.rail\.usd_per_km"
    ):
        load_scenario(write(tmp_path, text))
    text = GOOD + '\n[cost_model]\n"deployment.rial.usd_per_km" = 3\n'
    with pytest.raises(ScenarioError, match="rial"):
        load_scenario(write(tmp_path, text))


def test_not_toml(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"demo\.toml is not valid TOML"):
        load_scenario(write(tmp_path, "name = "))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioNotFoundError, match="not found"):
        load_scenario(tmp_path / "nothing.toml")


def test_list_refuses_a_name_that_differs_from_the_file(tmp_path: Path) -> None:
    write(tmp_path, GOOD, name="other.toml")
    with pytest.raises(ScenarioError, match=r"other\.toml: name: 'demo' differs"):
        list_scenarios(tmp_path)


def test_find_by_name_or_path(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert find_scenario("demo", tmp_path) == path
    assert find_scenario(str(path), tmp_path) == path
    with pytest.raises(ScenarioNotFoundError, match="known: demo"):
        find_scenario("tabasko", tmp_path)
