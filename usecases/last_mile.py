"""Use case: connect the unserved localities of an area, or of every state.

An area (a state, ``"Municipality, State"``, a cvegeo or a WKT polygon) is found in the
stored states and municipalities, its localities are clipped with
:func:`planner.plans.demand.localities_in_area`, and :func:`planner.plans.last_mile.plan_last_mile`
plans them. Area ``all`` (or ``by`` state) plans every stored state, one partition each
(:mod:`usecases.national`). The command line, the HTTP jobs and the scenarios all plan a
last mile here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from layers.errors import DegenerateRequestError, NotFoundError
from layers.store_api import LayerStore
from planner.plans.demand import (
    AreaSelection,
    load_state_coverage,
    localities_in_area,
    require_localities,
    select_area,
)
from planner.plans.last_mile import plan_last_mile
from planner.plans.national_last_mile import ALL_AREAS
from planner.proposals.proposal import Proposal
from usecases.context import Lookups, PlanningContext, stored_localities
from usecases.errors import in_field
from usecases.national import Progress as NationalProgress
from usecases.national import dask_client, plan_national_last_mile
from usecases.route import Progress


@dataclass(frozen=True)
class OptionNames:
    """How an adapter spells the options a national run's errors name."""

    area_all: str
    """Area ``all``: ``--area all`` on the command line."""
    by_state: str
    """Planning by state: ``--by state``."""
    budget: str
    """The budget: ``--budget``."""


def is_all_states(area: str) -> bool:
    """Whether ``area`` asks for every stored state.

    Examples
    --------
    >>> is_all_states("All"), is_all_states("México")
    (True, False)
    """
    return area.strip().casefold() in ALL_AREAS


def find_area(
    area: str, states: gpd.GeoDataFrame | None, municipalities: gpd.GeoDataFrame | None
) -> AreaSelection:
    """The area named by ``area`` in the stored states and municipalities.

    Raises
    ------
    layers.errors.NotFoundError
        When the store holds neither layer and ``area`` is no polygon, or nothing matches.
    """
    _require_admin_layers(area, states, municipalities)
    empty = gpd.GeoDataFrame(
        {"cve_ent": [], "cvegeo": [], "name": [], "state": []}, geometry=[], crs="EPSG:4326"
    )
    return select_area(
        area,
        states if states is not None else empty,
        municipalities if municipalities is not None else empty,
    )


def _require_admin_layers(
    area: str, states: gpd.GeoDataFrame | None, municipalities: gpd.GeoDataFrame | None
) -> None:
    is_wkt = area.lstrip().upper().startswith(("POLYGON", "MULTIPOLYGON"))
    if states is None and municipalities is None and not is_wkt:
        raise NotFoundError(
            "the store holds no states or municipalities layers to find the area in; "
            "give a WKT polygon",
            subject="layers",
        )


def area_localities(
    area: str,
    layers: Lookups | PlanningContext,
    *,
    min_population: int | None = None,
    field: str | None = None,
) -> tuple[AreaSelection, gpd.GeoDataFrame]:
    """The area and the stored localities inside it.

    ``layers`` gives the stored states, municipalities and localities. With
    ``min_population``, an area without a locality of that size is refused
    (:func:`planner.plans.demand.require_localities`). ``field`` names the request field in
    errors about the area itself.
    """
    # a planning context finds the area's localities from their coordinates
    points = layers.locality_points if isinstance(layers, PlanningContext) else None
    localities = None if points is not None else stored_localities(layers.localities)
    states, municipalities = layers.states, layers.municipalities
    _require_admin_layers(area, states, municipalities)  # about the store, not the field
    with in_field(field):
        selection = find_area(area, states, municipalities)
        if points is not None:
            inside = points.in_area(selection)
        else:
            inside = localities_in_area(stored_localities(localities), selection)
        if min_population is not None:
            require_localities(inside, area_name=selection.name, min_population=min_population)
    return selection, inside


def check_national(area: str, budget_usd: float | None, names: OptionNames) -> None:
    """Refuse a national run that is not area ``all`` or that has a budget."""
    if not is_all_states(area):
        raise DegenerateRequestError(
            f"{names.by_state} plans {names.area_all} (every stored state), not {area!r}"
        )
    if budget_usd is not None:
        raise DegenerateRequestError(
            f"{names.budget} cannot be split between states; plan {names.area_all} without "
            "it, or one state"
        )


def propose_last_mile(
    context: PlanningContext,
    area: str,
    *,
    min_population: int = 250,
    budget_usd: float | None = None,
    state_coverage: bool = False,
    progress: Progress | None = None,
) -> Proposal:
    """Plan the last mile of the localities of ``area`` on the context's network.

    ``state_coverage`` takes each state's mobile coverage share out of the demand where no
    stored coverage layer covers a locality.
    """
    selection, inside = area_localities(area, context)
    if progress is not None:
        progress(0.6, f"planning the last mile for {len(inside):,} localities")
    return plan_last_mile(
        context.network,
        inside,
        area_name=selection.name,
        min_population=min_population,
        budget_usd=budget_usd,
        coverage=context.coverage,
        state_coverage=load_state_coverage() if state_coverage else None,
    )


def propose_national_last_mile(
    store: LayerStore,
    cost_model: Path | None,
    *,
    min_population: int = 250,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: NationalProgress | None = None,
    context: PlanningContext | None = None,
) -> Proposal:
    """Plan the last mile of every stored state and merge them (:mod:`usecases.national`).

    With ``workers`` or ``scheduler`` the states are planned on a dask cluster, each
    worker loading the store's inputs; otherwise here, one after another, on
    ``context`` when given (its network and localities are already loaded).
    """
    loaded = None
    if workers is None and scheduler is None and context is not None:
        loaded = (context.network, stored_localities(context.localities))
    with dask_client(workers, scheduler) as client:
        return plan_national_last_mile(
            store,
            cost_model,
            min_population=min_population,
            client=client,
            progress=progress,
            loaded=loaded,
        )
