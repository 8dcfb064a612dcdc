"""What ``POST /proposals/...`` accepts, mirroring ``trazo plan``, and how each is planned.

Each request model checks what it can against the store's place and area layers before
a job is queued (:meth:`ProposalRequest.check`), so a misspelt or ambiguous place is a
422 at once rather than a failed job minutes later, and then plans itself inside the
job (:meth:`ProposalRequest.plan`) on the priced network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import geopandas as gpd
from pydantic import BaseModel, ConfigDict, Field

from api.distributed import dask_client, plan_national_last_mile
from api.planning import PlanningContext
from api.settings import DistributedSettings, PlannerSettings
from layers.errors import DegenerateRequestError, NotFoundError, RequestFieldError, TrazoError
from layers.store import LAYER_NAME_PATTERN
from planner.network.places import Place, PlaceIndex, resolve_places
from planner.plans.backbone import plan_backbone
from planner.plans.demand import AreaSelection, require_localities, select_area
from planner.plans.last_mile import plan_last_mile
from planner.plans.national_last_mile import ALL_AREAS
from planner.plans.route import plan_route, require_distinct
from planner.proposals.proposal import Proposal

JobKind = Literal["route", "backbone", "last-mile", "scenario"]
Progress = Callable[[float, str], None]
"""Called with the fraction done (0-1) and what the job is doing."""

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


@dataclass(frozen=True)
class Lookups:
    """The store's layers a request is checked against before it is queued."""

    places: PlaceIndex
    states: gpd.GeoDataFrame | None
    municipalities: gpd.GeoDataFrame | None
    localities: gpd.GeoDataFrame | None


class ProposalRequest(BaseModel):
    """Fields every proposal request shares."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: ClassVar[JobKind]
    name: ProposalName | None = None
    replace: Replace = False

    def check(self, lookups: Lookups) -> list[dict[str, Any]]:
        """Resolve the request's places (as :meth:`Place.to_dict`) or raise a Trazo error."""
        return []

    def plan(
        self, context: PlanningContext, places: list[dict[str, Any]], progress: Progress
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

    def check(self, lookups: Lookups) -> list[dict[str, Any]]:
        """Resolve ``from`` and ``to``."""
        places = []
        for field, text in (("from", self.origin), ("to", self.destination)):
            try:
                places.append(lookups.places.resolve(text).to_dict())
            except TrazoError as err:
                raise RequestFieldError(field, err) from None
        require_distinct(*(Place.from_dict(p) for p in places))
        return places

    def plan(
        self, context: PlanningContext, places: list[dict[str, Any]], progress: Progress
    ) -> Proposal:
        """Route on the priced network."""
        progress(0.6, "routing")
        start, end = (Place.from_dict(p) for p in places)
        return plan_route(
            context.network,
            start,
            end,
            alternatives=self.alternatives,
            diverse=self.diverse,
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

    def check(self, lookups: Lookups) -> list[dict[str, Any]]:
        """Resolve every terminal; an error names the first bad one by position."""
        try:
            return [p.to_dict() for p in resolve_places(self.terminals, index=lookups.places)]
        except TrazoError as err:
            raise RequestFieldError("terminals", err) from None

    def plan(
        self, context: PlanningContext, places: list[dict[str, Any]], progress: Progress
    ) -> Proposal:
        """Solve the Steiner backbone."""
        progress(0.6, f"solving the backbone over {len(places)} terminals")
        return plan_backbone(context.network, [Place.from_dict(p) for p in places], ring=self.ring)


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
        return self.by == "state" or self.area.strip().casefold() in ALL_AREAS

    def check(self, lookups: Lookups) -> list[dict[str, Any]]:
        """Find the area; the store must hold localities."""
        if lookups.localities is None:
            raise NotFoundError("the store holds no localities layer", subject="layers")
        if self.national:
            return self._check_national(lookups)
        _check_admin_layers(self.area, lookups.states, lookups.municipalities)
        try:
            selection = _area(self.area, lookups.states, lookups.municipalities)
            inside = lookups.localities[lookups.localities.intersects(selection.geometry)]
            require_localities(inside, area_name=selection.name, min_population=self.min_population)
        except TrazoError as err:
            raise RequestFieldError("area", err) from None
        return []

    def plan(
        self, context: PlanningContext, places: list[dict[str, Any]], progress: Progress
    ) -> Proposal:
        """Select the area's localities and plan their last mile."""
        if context.localities is None:
            raise NotFoundError("the store holds no localities layer", subject="layers")
        if self.national:
            return self._plan_national(context, progress)
        _check_admin_layers(self.area, context.states, context.municipalities)
        selection = _area(self.area, context.states, context.municipalities)
        inside = context.localities[context.localities.intersects(selection.geometry)]
        progress(0.6, f"planning the last mile for {len(inside):,} localities")
        return plan_last_mile(
            context.network,
            inside,
            area_name=selection.name,
            min_population=self.min_population,
            budget_usd=self.budget_usd,
        )

    def _check_national(self, lookups: Lookups) -> list[dict[str, Any]]:
        if self.area.strip().casefold() not in ALL_AREAS:
            raise RequestFieldError(
                "by", DegenerateRequestError(f"by 'state' plans area 'all', not {self.area!r}")
            )
        if self.budget_usd is not None:
            raise RequestFieldError(
                "budget_usd",
                DegenerateRequestError(
                    "a budget cannot be split between states; plan area 'all' without it"
                ),
            )
        if lookups.states is None:
            raise NotFoundError("the store holds no states layer: area 'all' plans every state")
        return []

    def _plan_national(self, context: PlanningContext, progress: Progress) -> Proposal:
        scheduler = DistributedSettings().scheduler
        loaded = None
        if scheduler is None and context.localities is not None:
            loaded = (context.network, context.localities)

        def advance(done: int, total: int, last: str) -> None:
            progress(0.1 + 0.8 * done / total, f"{done}/{total} states planned (last: {last})")

        progress(0.1, "planning the last mile state by state")
        with dask_client(scheduler=scheduler) as client:
            return plan_national_last_mile(
                context.store,
                PlannerSettings().cost_model,
                min_population=self.min_population,
                client=client,
                progress=advance,
                loaded=loaded,
            )


REQUESTS: dict[JobKind, type[ProposalRequest]] = {
    model.kind: model for model in (RouteRequest, BackboneRequest, LastMileRequest)
}
"""The request model of each job kind."""


def _check_admin_layers(
    area: str, states: gpd.GeoDataFrame | None, municipalities: gpd.GeoDataFrame | None
) -> None:
    is_wkt = area.lstrip().upper().startswith(("POLYGON", "MULTIPOLYGON"))
    if states is None and municipalities is None and not is_wkt:
        raise NotFoundError(
            "the store holds no states or municipalities layers to find the area in; "
            "give a WKT polygon",
            subject="layers",
        )


def _area(
    area: str, states: gpd.GeoDataFrame | None, municipalities: gpd.GeoDataFrame | None
) -> AreaSelection:
    empty = gpd.GeoDataFrame(
        {"cve_ent": [], "cvegeo": [], "name": [], "state": []}, geometry=[], crs="EPSG:4326"
    )
    return select_area(
        area,
        states if states is not None else empty,
        municipalities if municipalities is not None else empty,
    )
