"""Route proposals: the least-cost route between two places, alternatives, a diverse pair."""

from __future__ import annotations

from layers.errors import (
    DegenerateRequestError,
)
from planner.network.corridor_graph import geodesic_km
from planner.network.places import Place
from planner.network.planning_network import (
    PlanningNetwork,
    attach_multihomed,
    attach_place,
)
from planner.proposals.make import (
    make_proposal,
    node_costs,
)
from planner.proposals.proposal import (
    Proposal,
    Segment,
)
from planner.proposals.segments import segments_from_edges
from planner.search.alternatives import distinct_alternatives
from planner.search.route_search import (
    diverse_pair,
    shortest_route,
)

WEIGHT = "cost_usd"

SAME_PLACE_M = 100.0
"""Endpoints closer than this (metres, geodesic) are one place: no route to build."""


def require_distinct(origin: Place, destination: Place) -> None:
    """Refuse a route whose two ends are the same place.

    Raises
    ------
    DegenerateRequestError
        When the ends are less than :data:`SAME_PLACE_M` apart.
    """
    metres = 1000.0 * float(geodesic_km(origin.lon, origin.lat, destination.lon, destination.lat))
    if metres < SAME_PLACE_M:
        where = f"{origin.lon:.5f},{origin.lat:.5f}"
        same = (
            f"{origin.name!r} at {where}"
            if origin.name == destination.name
            else f"{origin.name!r} and {destination.name!r} ({metres:.0f} m apart, at {where})"
        )
        raise DegenerateRequestError(
            f"from and to are the same place: {same}; a route needs two places at least "
            f"{SAME_PLACE_M:.0f} m apart"
        )


def plan_route(
    network: PlanningNetwork,
    origin: Place,
    destination: Place,
    *,
    alternatives: int = 0,
    diverse: bool = False,
    max_overlap: float = 0.6,
    name: str | None = None,
) -> Proposal:
    """Propose the least-cost fiber route between two places.

    Parameters
    ----------
    network
        The priced planning network; the places are attached to a copy of it, so it is not
        changed and the proposal depends only on the network, the places and the options.
    origin, destination
        Where the route starts and ends.
    alternatives
        How many alternative routes to add as options (role ``alternative-1``, ...): the
        cheapest routes that share at most ``max_overlap`` of their length with the
        cheapest route and each other (:mod:`planner.search.alternatives`); they are not counted
        in the totals.
    diverse
        Instead of one route, build two corridor-disjoint routes of least total cost
        (roles ``diverse-a`` and ``diverse-b``): no corridor feature carries both, so one
        cut cannot sever the link. Each place is then joined to its nearest few corridors.
    max_overlap
        Largest share of an alternative's length on cheaper routes (0-1).
    name
        Proposal name; default ``route-<origin>-<destination>``.

    Raises
    ------
    layers.errors.DegenerateRequestError
        When origin and destination are the same place.
    layers.errors.NoRouteError
        When the places are not connected (or no corridor-disjoint pair exists).
    """
    if alternatives < 0:
        raise ValueError("alternatives must be 0 or more")
    require_distinct(origin, destination)
    network = network.copy()
    attach = attach_multihomed if diverse else attach_place
    source = attach(network, origin)
    target = attach(network, destination)
    graph = network.graph
    notes: list[str] = []
    segments: list[Segment] = []
    parameters: dict[str, object] = {
        "from": origin.name,
        "to": destination.name,
        "alternatives": alternatives,
        "diverse": diverse,
        "weight": WEIGHT,
    }
    if diverse:
        pair = diverse_pair(graph, source, target, WEIGHT, risk="corridor")
        parameters["diverse_method"] = pair.method
        if pair.method == "heuristic":
            notes.append("the diverse pair is the best found, not proven least-cost")
        for role, route in (("diverse-a", pair.first), ("diverse-b", pair.second)):
            segments += segments_from_edges(network, route.edges, role=role, notes=notes)
    primary = None
    if not diverse:
        primary = shortest_route(graph, source, target, WEIGHT)
        segments += segments_from_edges(network, primary.edges, role="primary", notes=notes)
    built = list(segments)
    if alternatives:
        options = distinct_alternatives(
            graph, source, target, alternatives, WEIGHT, primary=primary, max_overlap=max_overlap
        )
        for i, route in enumerate(options, start=1):
            segments += segments_from_edges(
                network, route.edges, role=f"alternative-{i}", notes=notes
            )
        parameters["max_overlap"] = max_overlap
        if len(options) < alternatives:
            notes.append(
                f"only {len(options)} alternative routes share at most {max_overlap:.0%} "
                "of their length with the cheaper ones"
            )
    terminals = [origin, destination]
    return make_proposal(
        network,
        "route",
        name or f"route-{origin.name}-{destination.name}",
        segments,
        terminals,
        parameters=parameters,
        node_costs_usd=node_costs(network, built, terminals),
        notes=notes,
    )
