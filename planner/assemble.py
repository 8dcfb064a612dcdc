"""Shared steps of every proposal: node costs and the proposal value object itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from planner.network import PlanningNetwork
from planner.places import Place
from planner.proposal import Marker, Proposal, ProposalKind, Segment


def node_costs(
    network: PlanningNetwork, segments: Iterable[Segment], terminals: Sequence[Place]
) -> dict[str, float]:
    """Splice/amplifier sites along the built length, landing backhaul and terminal PoPs.

    Splice sites are counted on new cable only: leased fiber (IRU) comes lit by its owner.
    """
    new_km = sum(s.length_km for s in segments if not s.reuses_fiber)
    landings = sum(1 for t in terminals if t.kind == "landing")
    breakdown = network.cost_model.node_costs_usd(
        new_km, n_landings=landings, n_terminals=len(terminals) - landings
    )
    costs = {
        "splice_sites": breakdown.splice_usd,
        "landing_backhaul": breakdown.landing_usd,
        "terminal_pops": breakdown.terminal_usd,
    }
    return {key: value for key, value in costs.items() if value > 0}


def make_proposal(
    network: PlanningNetwork,
    kind: ProposalKind,
    name: str,
    segments: Sequence[Segment],
    terminals: Sequence[Place],
    *,
    parameters: Mapping[str, Any],
    node_costs_usd: Mapping[str, float],
    notes: Sequence[str] = (),
    people_covered: int | None = None,
    markers: Sequence[Marker] = (),
) -> Proposal:
    """Build the proposal with the cost model's source and the network's caveats noted."""
    all_notes = list(notes)
    if network.bridges:
        all_notes.append(
            f"{network.bridges} greenfield bridges join corridor networks that do not touch"
        )
    return Proposal(
        kind=kind,
        name=name,
        segments=tuple(segments),
        terminals=tuple(terminals),
        node_costs_usd=dict(node_costs_usd),
        parameters=dict(parameters),
        people_covered=people_covered,
        cost_model_source=network.cost_model.meta.source,
        notes=tuple(all_notes),
        markers=tuple(markers),
    )
