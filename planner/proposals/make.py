"""Shared steps of every proposal: node costs and the proposal value object itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from planner.network.places import Place
from planner.network.planning_network import PlanningNetwork
from planner.proposals.metrics import is_built
from planner.proposals.proposal import Marker, Proposal, ProposalKind, Segment


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


def reuse_caveats(network: PlanningNetwork, segments: Sequence[Segment]) -> list[str]:
    """One note per reused layer that is an assumption, with the share of km it carries.

    The bundled ``cfe_fiber`` layer is CFE's transmission corridors standing in for its
    fiber: a "96% existing fiber" figure is only as good as that assumption, so the
    proposal says so, in the words of the layer's catalog entry.
    """
    built = [s for s in segments if is_built(s.role)]
    total = sum(s.length_km for s in built)
    km: dict[str, float] = {}
    for segment in built:
        layer = segment.source_layer
        reused = segment.reuses_fiber or segment.reuses_corridor
        if layer is not None and layer in network.caveats and reused:
            km[layer] = km.get(layer, 0.0) + segment.length_km
    return [
        f"{share:.0%} of the length reuses {layer}, which is {network.caveats[layer]}"
        for layer, length in sorted(km.items())
        if (share := length / total if total > 0 else 0.0) > 0
    ]


def subsea_landings(segments: Sequence[Segment]) -> tuple[int, float] | None:
    """Landings of the new subsea crossings built, and what they cost (None if there are none).

    A subsea crossing made by the network (to an island, across a strait) states its
    ``landings`` and ``usd_per_landing`` in its segment's ``extra``; its cable is the
    segment's cost, its landings a node cost of the proposal.
    """
    count, usd = 0, 0.0
    for segment in segments:
        landings = int(segment.extra.get("landings") or 0)
        if landings and is_built(segment.role):
            count += landings
            usd += landings * float(segment.extra["usd_per_landing"])
    return (count, usd) if count else None


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
    """Build the proposal with the cost model's source and the network's caveats noted.

    The places used are named in ``parameters["places"]`` (route and backbone), and each one
    found by anything but its exact spelling (an alias, a municipal seat among namesakes)
    gets a note saying what was typed, which INEGI locality it became and why.
    """
    all_notes = [f"place {t.describe()}" for t in terminals if t.match is not None]
    all_notes += list(notes)
    all_notes += reuse_caveats(network, segments)
    parameters = dict(parameters)
    if kind != "last_mile":  # a last mile lists its localities in its own records
        parameters.setdefault("places", [t.describe() for t in terminals])
    if network.bridges:
        subsea = (
            f" ({network.subsea_bridges} of them cross water)" if network.subsea_bridges else ""
        )
        all_notes.append(
            f"{network.bridges} bridges join corridor networks that do not touch{subsea}"
        )
    node_costs_usd = dict(node_costs_usd)
    landings = subsea_landings(segments)
    if landings:
        count, usd = landings
        node_costs_usd["subsea_landings"] = node_costs_usd.get("subsea_landings", 0.0) + usd
        all_notes.append(
            f"{count} cable landings of new subsea crossings (islands, straits) are the node "
            "cost subsea_landings (cost model nodes.landing each)"
        )
    return Proposal(
        kind=kind,
        name=name,
        segments=tuple(segments),
        terminals=tuple(terminals),
        node_costs_usd=dict(node_costs_usd),
        parameters=parameters,
        people_covered=people_covered,
        cost_model_source=network.cost_model.meta.source,
        notes=tuple(all_notes),
        markers=tuple(markers),
    )
