"""Use case: a near-optimal Steiner backbone joining every terminal, optionally in rings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from planner.network.places import Place, PlaceIndex, resolve_places
from planner.plans.backbone import plan_backbone
from planner.proposals.proposal import Proposal
from usecases.context import PlanningContext
from usecases.errors import in_field
from usecases.route import Progress


def resolve_terminals(
    places: PlaceIndex, terminals: str | Path | Sequence[str], *, field: str | None = None
) -> list[Place]:
    """Resolve every terminal: a ``;``-separated list, a list, or a file of PLACEs.

    An error names the first bad terminal by position (and ``field``, when given).
    """
    with in_field(field):
        return resolve_places(terminals, index=places)


def propose_backbone(
    context: PlanningContext,
    terminals: list[Place],
    *,
    ring: bool = False,
    name: str | None = None,
    time_budget_s: float | None = None,
    progress: Progress | None = None,
) -> Proposal:
    """Solve the backbone on the context's priced network (see :mod:`planner.plans.backbone`)."""
    if progress is not None:
        progress(0.6, f"solving the backbone over {len(terminals)} terminals")
    return plan_backbone(
        context.network, terminals, ring=ring, name=name, time_budget_s=time_budget_s
    )
