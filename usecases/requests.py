"""Proposal requests: what ``POST /proposals/...`` accepts, mirroring ``trazo plan``.

Each request model checks what it can against the store's place and area layers before
a job is queued (:meth:`ProposalRequest.check`), so a misspelt or ambiguous place is a
422 at once rather than a failed job minutes later. The job carries the validated model
and the places it resolved; its worker plans it (:meth:`ProposalRequest.plan`) through
the same use case the command line calls (:mod:`usecases.route`,
:mod:`usecases.backbone`, :mod:`usecases.last_mile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from layers.catalog import LAYER_NAME_PATTERN
from layers.errors import RequestFieldError
from planner.network.places import Place
from planner.plans.scenario import NAME_PATTERN
from planner.proposals.proposal import Proposal
from usecases.backbone import propose_backbone, resolve_terminals
from usecases.context import Lookups, PlanningContext, stored_localities, stored_states
from usecases.errors import in_field
from usecases.last_mile import (
    OptionNames,
    area_localities,
    check_national,
    is_all_states,
    propose_last_mile,
    propose_national_last_mile,
)
from usecases.route import Progress, propose_route, resolve_ends

JobKind = Literal["route", "backbone", "last-mile", "scenario"]

PlaceText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="PLACE: a locality ('Teapa, Tabasco'), its INEGI key, a landing or lon,lat.",
        examples=["Villahermosa, Tabasco", "-92.93,17.55"],
    ),
]
ProposalName = Annotated[
    str,
    Field(
        pattern=LAYER_NAME_PATTERN,
        description=(
            "Name to store the proposal under: a lower-case letter, then lower-case letters, "
            "digits or underscores (63 at most). Default: from its places, with _2, _3, ... "
            "added when that name is taken."
        ),
        examples=["villahermosa_teapa"],
    ),
]
Replace = Annotated[
    bool,
    Field(
        description="Replace a stored proposal of the same name; otherwise a taken name is a 409."
    ),
]


FIELD_NAMES = OptionNames(area_all="area 'all'", by_state="by 'state'", budget="a budget")
"""How a request's fields are named in errors about a national run."""


@dataclass(frozen=True)
class Engine:
    """Where a request's work runs: its cost model file and, for national runs, dask."""

    cost_model: Path | None = None
    scheduler: str | None = None


class ProposalRequest(BaseModel):
    """Fields every proposal request shares."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: ClassVar[JobKind]
    name: ProposalName | None = None
    replace: Replace = False

    def check(self, lookups: Lookups) -> list[Place]:
        """Resolve the request's places or raise a Trazo error naming the field."""
        return []

    def plan(
        self,
        context: PlanningContext,
        places: list[Place],
        progress: Progress,
        engine: Engine | None = None,
    ) -> Proposal:
        """Plan the proposal on ``context`` with the places :meth:`check` resolved."""
        raise NotImplementedError


class RouteRequest(ProposalRequest):
    """The least-cost route between two places, with alternatives or a diverse pair."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"from": "Villahermosa, Tabasco", "to": "Teapa, Tabasco", "alternatives": 2},
                {"from": "-92.93,17.99", "to": "-92.95,17.55", "diverse": True},
            ]
        }
    )
    kind: ClassVar[JobKind] = "route"

    origin: PlaceText = Field(alias="from")
    destination: PlaceText = Field(alias="to")
    alternatives: int = Field(
        default=0, ge=0, le=10, description="Next-cheapest routes to show as options (0-10)."
    )
    diverse: bool = Field(default=False, description="Two corridor-disjoint routes instead of one.")

    def check(self, lookups: Lookups) -> list[Place]:
        """Resolve ``from`` and ``to``."""
        ends = resolve_ends(lookups.places, self.origin, self.destination, fields=("from", "to"))
        return list(ends)

    def plan(
        self,
        context: PlanningContext,
        places: list[Place],
        progress: Progress,
        engine: Engine | None = None,
    ) -> Proposal:
        """Route on the priced network."""
        start, end = places
        return propose_route(
            context,
            start,
            end,
            alternatives=self.alternatives,
            diverse=self.diverse,
            progress=progress,
        )


class BackboneRequest(ProposalRequest):
    """A near-optimal Steiner backbone joining every terminal, optionally closed into rings."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"terminals": ["Villahermosa, Tabasco", "Teapa, Tabasco", "-92.6,18.5"]},
                {"terminals": ["Mérida, Yucatán", "Cancún", "Campeche, Campeche"], "ring": True},
            ]
        }
    )
    kind: ClassVar[JobKind] = "backbone"

    terminals: list[PlaceText] = Field(
        min_length=2,
        max_length=2000,
        description="The PLACEs to join (at least two).",
    )
    ring: bool = Field(default=False, description="Close the tree into rings.")

    def check(self, lookups: Lookups) -> list[Place]:
        """Resolve every terminal; an error names the first bad one by position."""
        return resolve_terminals(lookups.places, self.terminals, field="terminals")

    def plan(
        self,
        context: PlanningContext,
        places: list[Place],
        progress: Progress,
        engine: Engine | None = None,
    ) -> Proposal:
        """Solve the Steiner backbone."""
        return propose_backbone(context, places, ring=self.ring, progress=progress)


class LastMileRequest(ProposalRequest):
    """Connect the unconnected localities of an area to the backbone, by cost per person."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"area": "Centro, Tabasco", "min_population": 500},
                {"area": "Tabasco", "budget_usd": 5_000_000},
            ]
        }
    )
    kind: ClassVar[JobKind] = "last-mile"

    area: str = Field(
        min_length=1,
        max_length=200_000,
        description="A state, 'Municipality, State', a cvegeo or a WKT polygon in lon/lat.",
        examples=["Centro, Tabasco", "POLYGON((-93 17.9, -92.8 17.9, -92.8 18.1, -93 17.9))"],
    )
    min_population: int = Field(
        default=250, ge=1, description="Smallest locality served (people).", examples=[250]
    )
    budget_usd: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="USD budget: connect the most people within it; capex never exceeds it.",
        examples=[5_000_000],
    )
    by: Literal["state"] | None = Field(
        default=None,
        description=(
            "With area 'all' (every stored state): plan state by state, in state-code order, "
            "and merge into one proposal with per-state figures (parameters.states). Runs on "
            "the dask scheduler of TRAZO_SCHEDULER when set, else state after state."
        ),
    )

    @property
    def national(self) -> bool:
        """Whether this asks for every stored state, one partition each."""
        return self.by == "state" or is_all_states(self.area)

    def check(self, lookups: Lookups) -> list[Place]:
        """Find the area and its localities; refuse an area without one of the size."""
        stored_localities(lookups.localities)
        if self.national:
            field = None  # a store without states is about the store, not a field
            if not is_all_states(self.area):
                field = "by"
            elif self.budget_usd is not None:
                field = "budget_usd"
            with in_field(field):
                check_national(self.area, self.budget_usd, FIELD_NAMES)
            stored_states(lookups.states)
            return []
        area_localities(self.area, lookups, min_population=self.min_population, field="area")
        return []

    def plan(
        self,
        context: PlanningContext,
        places: list[Place],
        progress: Progress,
        engine: Engine | None = None,
    ) -> Proposal:
        """Select the area's localities and plan their last mile."""
        if not self.national:
            return propose_last_mile(
                context,
                self.area,
                min_population=self.min_population,
                budget_usd=self.budget_usd,
                progress=progress,
            )
        engine = engine or Engine(context.cost_model_path)

        def advance(done: int, total: int, last: str) -> None:
            progress(0.1 + 0.8 * done / total, f"{done}/{total} states planned (last: {last})")

        progress(0.1, "planning the last mile state by state")
        return propose_national_last_mile(
            context.store,
            engine.cost_model,
            min_population=self.min_population,
            scheduler=engine.scheduler,
            progress=advance,
            context=context,
        )


class ScenarioRunRequest(BaseModel):
    """A run of a bundled scenario: a job kind like the proposal requests."""

    model_config = ConfigDict(extra="forbid")

    kind: ClassVar[JobKind] = "scenario"
    scenario: Annotated[str, Field(pattern=NAME_PATTERN, description="A bundled scenario.")]


REQUESTS: dict[JobKind, type[ProposalRequest]] = {
    model.kind: model for model in (RouteRequest, BackboneRequest, LastMileRequest)
}
"""The request model of each job kind."""

__all__ = [
    "REQUESTS",
    "BackboneRequest",
    "Engine",
    "JobKind",
    "LastMileRequest",
    "ProposalRequest",
    "RequestFieldError",
    "RouteRequest",
    "ScenarioRunRequest",
]
