"""Backbone proposals: a near-optimal Steiner tree over terminals, optionally closed into rings."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from layers.errors import (
    NoRouteError,
)
from planner.network.places import Place
from planner.network.planning_network import (
    PlanningNetwork,
    add_greenfield_candidates,
    attach_places,
)
from planner.proposals.make import (
    make_proposal,
    node_costs,
)
from planner.proposals.proposal import Proposal
from planner.proposals.segments import segments_from_edges
from planner.search.shortest_paths import (
    CSRGraph,
    csr_of,
)
from planner.search.steiner import (
    UnreachableTerminalsError,
    steiner_tree_csr,
)

WEIGHT = "cost_usd"


def plan_backbone(
    network: PlanningNetwork,
    terminals: Sequence[Place],
    *,
    ring: bool = False,
    name: str | None = None,
    time_budget_s: float | None = None,
) -> Proposal:
    """Propose a least-cost backbone joining every terminal.

    The backbone is a Steiner tree over the priced network (Mehlhorn's construction improved
    by local search; see :mod:`planner.search.steiner`), so it may branch at any junction. With
    ``ring``, it is instead a near-optimal 2-edge-connected subgraph over the terminals
    (:mod:`planner.search.ring`: no single cut separates two terminals the network joins twice),
    found over the corridors and over short new-build links offered between the tree and
    nearby corridors (:func:`planner.network.planning_network.add_greenfield_candidates`);
    its edges on the tree keep role ``backbone``, the others are role ``ring``.

    Parameters
    ----------
    network
        The priced planning network; terminals are attached to a copy of it (it is not
        changed).
    terminals
        Cities, landings, data centres or sites to join (at least two distinct ones).
    ring
        Close the tree into rings.
    name
        Proposal name; default ``backbone-<n>-terminals``.
    time_budget_s
        Seconds the Steiner search may spend (default: the solver's own).
    """
    unique = list({(t.name, t.lon, t.lat): t for t in terminals}.values())
    if len(unique) < 2:
        raise NoRouteError("a backbone needs at least two distinct terminals")
    network = network.copy()
    nodes = attach_places(network, unique)
    csr = csr_of(network.graph, WEIGHT)
    rows = np.array([csr.row(n) for n in nodes], dtype=np.int64)
    try:
        tree = steiner_tree_csr(csr.matrix, rows, time_budget_s=time_budget_s)
    except UnreachableTerminalsError as err:
        raise NoRouteError(_unreachable_message(err, csr, nodes, unique)) from None
    notes: list[str] = []
    tree_edges = [_edge_key(csr, int(i), int(j)) for i, j in tree.edges]
    segments = segments_from_edges(network, tree_edges, role="backbone", notes=notes)
    parameters: dict[str, Any] = {
        "terminals": [t.name for t in unique],
        "ring": ring,
        "weight": WEIGHT,
        "steiner_cost_usd": round(tree.cost),
        "mehlhorn_cost_usd": round(float(tree.stats.get("mehlhorn_cost", tree.cost))),
    }
    if ring:
        # the ring search (and scipy's sparse graph routines it runs on) is imported by
        # the backbones that close rings, not by every tree
        from planner.search.ring import ring_subgraph

        # a ring may close over corridors or over short new-build links between them
        offered = add_greenfield_candidates(network, [csr.nodes[int(i)] for i in tree.nodes])
        csr = CSRGraph.from_networkx(network.graph, weight=WEIGHT)  # same node rows, more edges
        solution = ring_subgraph(csr.matrix, rows, tree_edges=tree.edges)
        in_tree = {(min(i, j), max(i, j)) for i, j in tree.edges.tolist()}
        ringed = [(int(i), int(j)) for i, j in solution.edges.tolist()]
        kept = [_edge_key(csr, i, j) for i, j in ringed if (i, j) in in_tree]
        extra = [_edge_key(csr, i, j) for i, j in ringed if (i, j) not in in_tree]
        segments = segments_from_edges(network, kept, role="backbone", notes=notes)
        segments += segments_from_edges(network, extra, role="ring", notes=notes)
        parameters.update(
            ring_links=len(extra),
            ring_cost_usd=round(solution.cost),
            greenfield_candidates=offered,
        )
    return make_proposal(
        network,
        "backbone",
        name or f"backbone-{len(unique)}-terminals",
        segments,
        unique,
        parameters=parameters,
        node_costs_usd=node_costs(network, segments, unique),
        notes=notes,
    )


def _edge_key(csr: CSRGraph, i: int, j: int) -> tuple[Hashable, Hashable, Any]:
    """The cheapest networkx edge between rows ``i`` and ``j``, oriented i -> j."""
    u, v, key = csr.edges[int(csr.entry_edge[csr.entry(i, j)])]
    return (u, v, key) if csr.index[u] == i else (v, u, key)


def _unreachable_message(
    err: UnreachableTerminalsError,
    csr: CSRGraph,
    nodes: Sequence[Hashable],
    places: Sequence[Place],
) -> str:
    rows = set(err.terminals)
    names = [p.name for p, n in zip(places, nodes, strict=True) if csr.index[n] in rows]
    if not names:
        return f"the terminals are not all connected by the corridors: {err}"
    return (
        f"no corridor connects {', '.join(names)} to the other terminals; "
        "load more rights of way or raise the bridge distance"
    )
