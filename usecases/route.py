"""Use case: the least-cost route between two places, with alternatives or a diverse pair."""

from __future__ import annotations

from collections.abc import Callable

from planner.network.places import Place, PlaceIndex
from planner.plans.route import plan_route, require_distinct
from planner.proposals.proposal import Proposal
from usecases.context import PlanningContext
from usecases.errors import in_field

Progress = Callable[[float, str], None]
"""Called with the fraction done (0-1) and what is being done."""


def resolve_ends(
    places: PlaceIndex, origin: str, destination: str, *, fields: tuple[str, str] | None = None
) -> tuple[Place, Place]:
    """Resolve a route's two PLACEs; refuse two ends at one place.

    ``fields`` names the request fields of the two ends in errors (``from: ...``).
    """
    with in_field(fields[0] if fields else None):
        start = places.resolve(origin)
    with in_field(fields[1] if fields else None):
        end = places.resolve(destination)
    require_distinct(start, end)
    return start, end


def propose_route(
    context: PlanningContext,
    start: Place,
    end: Place,
    *,
    alternatives: int = 0,
    diverse: bool = False,
    name: str | None = None,
    progress: Progress | None = None,
) -> Proposal:
    """Route on the context's priced network (see :func:`planner.plans.route.plan_route`)."""
    if progress is not None:
        progress(0.6, "routing")
    return plan_route(
        context.network, start, end, alternatives=alternatives, diverse=diverse, name=name
    )
