"""Scenarios: the projects Mexico is funding, written down as runnable planning recipes.

A scenario is a TOML file (``data/scenarios/<name>.toml``) that says what a project is (its
``title`` and ``description``), the public ``facts`` it rests on, each with its source, the
``assumptions`` made where data is missing, which corridor ``layers`` to plan on (default:
every stored corridor layer), ``cost_model`` overrides (dotted keys as in
:meth:`planner.network.cost_model.CostModel.with_overrides`, each changed entry with its own
``source``), and one or more ``steps``, each a proposal:

- ``kind = "route"``: ``from`` and ``to`` PLACEs, ``diverse`` for a corridor-disjoint pair,
  ``alternatives`` for next-cheapest options;
- ``kind = "backbone"``: terminals from any of ``terminals`` (PLACE strings),
  ``terminals_layer`` (every point of a stored layer), ``terminals_min_population`` (every
  locality at least that size) and ``terminals_seats_of`` (the municipal seats of a state);
  ``ring`` closes the tree into rings;
- ``kind = "cable"``: a submarine ``cable`` of the ``subsea_cables`` layer the scenario
  proposes, drawn from the layer and costed at its published ``cost_usd`` (with
  ``cost_source``) or by the cost model;
- ``kind = "last_mile"``: an ``area`` (as :func:`planner.plans.demand.select_area` reads it),
  ``min_population``, an optional ``budget_usd`` or ``budget_after_steps`` (the scenario's
  ``funding_usd`` less the capex of the steps named), ``backbone_step`` to connect the
  localities to an earlier step's network instead of the existing fiber,
  ``state_coverage`` to take the state's mobile coverage share out of the demand, and
  ``public_sites`` to connect the area's public sites (a ``sites`` layer, else the
  municipal seats as stand-ins) instead of its localities.

Optional analyses: ``[[latency_tables]]`` (one-way fiber latency between places over the
network's shortest paths), ``[inventory]`` (corridor km inside an area and a buffer around
it) and ``[demand]`` (population and household internet by municipality of a state).

Everything is validated on load; a bad file raises :class:`ScenarioError` naming the file
and the key, e.g. ``tabasco.toml: steps[1].ring: must be true or false``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from layers.bundled_data import BUNDLED_DATA_DIR
from layers.errors import (
    CostModelError,
    ScenarioError,
    ScenarioNotFoundError,
)
from planner._toml import problem_location, read_toml
from planner.network.cost_model import load_cost_model

DEFAULT_SCENARIO_DIR = BUNDLED_DATA_DIR / "scenarios"
"""Where the bundled scenario files live."""

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,30}$"
"""Scenario and step names: they make store names ``<scenario>_<step>`` (at most 63 chars)."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Fact(_Model):
    """A public fact the scenario rests on, with where it was published."""

    text: Text
    source: Text


class _Step(_Model):
    name: Name
    title: Text


class RouteStep(_Step):
    """A least-cost route, a corridor-disjoint pair, or a route with alternatives."""

    kind: Literal["route"]
    origin: Text = Field(alias="from")
    destination: Text = Field(alias="to")
    diverse: bool = False
    alternatives: Annotated[int, Field(ge=0, le=10)] = 0


class BackboneStep(_Step):
    """A Steiner backbone (optionally ringed) over terminals from any of four sources."""

    kind: Literal["backbone"]
    terminals: tuple[Text, ...] = ()
    terminals_layer: Name | None = None
    terminals_min_population: Annotated[int, Field(ge=1)] | None = None
    terminals_seats_of: Text | None = None
    ring: bool = False
    time_budget_s: Annotated[float, Field(gt=0, le=600)] | None = None

    @model_validator(mode="after")
    def _has_terminals(self) -> BackboneStep:
        if not (
            self.terminals
            or self.terminals_layer
            or self.terminals_min_population
            or self.terminals_seats_of
        ):
            raise ValueError(
                "a backbone needs terminals: give terminals, terminals_layer, "
                "terminals_min_population or terminals_seats_of"
            )
        return self


class LastMileStep(_Step):
    """Last mile for the unserved localities of an area, optionally under a budget."""

    kind: Literal["last_mile"]
    area: Text
    min_population: Annotated[int, Field(ge=1)] = 250
    budget_usd: Annotated[float, Field(ge=0)] | None = None
    budget_after_steps: tuple[Name, ...] | None = None
    backbone_step: Name | None = None
    state_coverage: bool = False
    public_sites: bool = False

    @model_validator(mode="after")
    def _one_budget(self) -> LastMileStep:
        if self.budget_usd is not None and self.budget_after_steps is not None:
            raise ValueError("give budget_usd or budget_after_steps, not both")
        return self


class CableStep(_Step):
    """A submarine cable of the ``subsea_cables`` layer the scenario proposes, costed.

    With ``cost_usd`` (and its ``cost_source``) the cable costs its published figure;
    without, the cost model prices it (see :func:`planner.plans.subsea.cable_proposal`).
    """

    kind: Literal["cable"]
    cable: Text
    cost_usd: Annotated[float, Field(gt=0)] | None = None
    cost_source: Text | None = None

    @model_validator(mode="after")
    def _cost_has_source(self) -> CableStep:
        if self.cost_usd is not None and self.cost_source is None:
            raise ValueError("cost_usd needs its cost_source (where the figure was published)")
        return self


Step = Annotated[RouteStep | BackboneStep | LastMileStep | CableStep, Field(discriminator="kind")]
STEP_KINDS: tuple[str, ...] = ("route", "backbone", "last_mile", "cable")


class LatencyTable(_Model):
    """One-way latency from each of ``origins`` to each of ``destinations``."""

    title: Text
    origins: tuple[Text, ...] = Field(alias="from", min_length=1)
    destinations: tuple[Text, ...] = Field(alias="to", default=())
    to_landings: bool = False
    nearest: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _has_destinations(self) -> LatencyTable:
        if not self.destinations and not self.to_landings:
            raise ValueError("a latency table needs destinations: give to or to_landings = true")
        return self


class Inventory(_Model):
    """Corridor km by layer and right-of-way type inside an area and within a buffer."""

    area: Text
    buffer_km: Annotated[float, Field(gt=0, le=500)] = 50.0


class Demand(_Model):
    """Population and household internet by municipality of one state."""

    state: Text


class Scenario(_Model):
    """A validated scenario; see the module documentation for the keys."""

    name: Name
    title: Text
    description: Text
    facts: tuple[Fact, ...] = Field(min_length=1)
    assumptions: tuple[Text, ...] = ()
    layers: tuple[Name, ...] | None = None
    subsea: bool = False
    cost_model: dict[str, Any] = Field(default_factory=dict)
    funding_usd: Annotated[float, Field(gt=0)] | None = None
    funding_label: Text | None = None
    steps: tuple[Step, ...] = Field(min_length=1)
    latency_tables: tuple[LatencyTable, ...] = ()
    inventory: Inventory | None = None
    demand: Demand | None = None

    @model_validator(mode="after")
    def _steps_refer_backwards(self) -> Scenario:
        seen: dict[str, str] = {}
        for index, step in enumerate(self.steps):
            if step.name in seen:
                raise ValueError(f"steps[{index}].name: {step.name!r} is used twice")
            if isinstance(step, LastMileStep):
                if step.backbone_step is not None and step.backbone_step not in seen:
                    raise ValueError(
                        f"steps[{index}].backbone_step: {step.backbone_step!r} is not an earlier "
                        f"step (earlier: {', '.join(seen) or 'none'})"
                    )
                for name in step.budget_after_steps or ():
                    if name not in seen:
                        raise ValueError(
                            f"steps[{index}].budget_after_steps: {name!r} is not an earlier step"
                        )
                if step.budget_after_steps is not None and self.funding_usd is None:
                    raise ValueError(
                        f"steps[{index}].budget_after_steps needs the scenario's funding_usd"
                    )
            seen[step.name] = step.kind
        return self

    def step(self, name: str) -> RouteStep | BackboneStep | LastMileStep | CableStep:
        """The step called ``name``."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


def load_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file.

    Parameters
    ----------
    path : pathlib.Path
        A ``.toml`` scenario file.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        The file is missing, not TOML, or a key is missing, unknown or invalid (the message
        names the file and the key); cost-model overrides are checked against the default
        cost model.

    Examples
    --------
    >>> spec = load_scenario(DEFAULT_SCENARIO_DIR / "gignet1.toml")
    >>> spec.name, [step.kind for step in spec.steps]
    ('gignet1', ['cable', 'route', 'route', 'route'])
    """
    path = Path(path)
    label = path.name
    raw = read_toml(path, what="scenario file", error=ScenarioError, missing=ScenarioNotFoundError)
    try:
        spec = Scenario.model_validate(raw)
    except ValidationError as err:
        problems = [_describe(e) for e in err.errors(include_url=False)]
        raise ScenarioError(f"{label}: " + "; ".join(problems)) from None
    if spec.cost_model:
        try:
            load_cost_model().with_overrides(spec.cost_model)
        except CostModelError as err:
            raise ScenarioError(f"{label}: cost_model: {err.message}") from None
    return spec


def list_scenarios(directory: Path = DEFAULT_SCENARIO_DIR) -> list[Scenario]:
    """Load every ``*.toml`` scenario of a folder, by name.

    Raises
    ------
    ScenarioError
        For the first file that does not validate, or when its ``name`` differs from the
        file's stem.
    """
    specs = []
    for path in sorted(Path(directory).glob("*.toml")):
        spec = load_scenario(path)
        if spec.name != path.stem:
            raise ScenarioError(
                f"{path.name}: name: {spec.name!r} differs from the file name; "
                f"rename the file to {spec.name}.toml or set name = {path.stem!r}"
            )
        specs.append(spec)
    return specs


def find_scenario(name_or_path: str, directory: Path = DEFAULT_SCENARIO_DIR) -> Path:
    """The file of a scenario given by name (``tabasco``) or as a path to a ``.toml`` file.

    Raises
    ------
    ScenarioNotFoundError
        Neither a file nor a scenario of that name; the message lists the known names.
    """
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml":
        if candidate.is_file():
            return candidate
        raise ScenarioNotFoundError(f"no scenario file at {name_or_path}")
    if re.fullmatch(NAME_PATTERN, name_or_path):
        path = Path(directory) / f"{name_or_path}.toml"
        if path.is_file():
            return path
    known = sorted(p.stem for p in Path(directory).glob("*.toml"))
    raise ScenarioNotFoundError(
        f"no scenario named {name_or_path!r}; known: {', '.join(known) or 'none'} "
        "(or give a path to a .toml file)"
    )


def _describe(error: Any) -> str:
    """One validation problem as ``key.path: what is wrong``."""
    # a step's kind tag sits in the location between its index and its key
    loc = problem_location(error["loc"], tags=STEP_KINDS)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        text = "is missing"
    elif kind == "extra_forbidden":
        text = "is not a known key (check the spelling)"
    elif kind in {"bool_type", "bool_parsing"}:
        text = "must be true or false"
    elif kind == "string_pattern_mismatch":
        text = "must be lower-case letters, digits and _, starting with a letter (max 31)"
    elif kind in {"string_too_short", "too_short"}:
        text = "must not be empty"
    elif kind == "union_tag_invalid":
        text = f"kind must be one of: {', '.join(STEP_KINDS)}"
    elif kind == "union_tag_not_found":
        text = f"needs a kind: one of {', '.join(STEP_KINDS)}"
    elif kind in {"greater_than", "greater_than_equal", "less_than_equal"}:
        bound = ctx.get("gt", ctx.get("ge", ctx.get("le")))
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than_equal": "<="}[kind]
        text = f"must be {sign} {bound}"
    elif kind in {"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"}:
        text = "must be a number" if "float" in kind else "must be a whole number"
    elif kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        return f"{loc}: {message}" if loc else message
    else:
        text = str(error["msg"]).lower()
    return f"{loc}: {text}" if loc else text
