"""Trazo's planner: costed fiber route, backbone and last-mile proposals from real layers.

Four levels, each a sub-package, each importing only the ones below it:

- :mod:`planner.plans`: a request in, a proposal out (route, backbone, last mile, scenarios);
- :mod:`planner.proposals`: the proposal value objects, their metrics and exports;
- :mod:`planner.network`: the corridor graph priced by a cost model, with places;
- :mod:`planner.search`: graph algorithms (shortest paths, alternatives, Steiner, rings).

:mod:`planner.errors` holds the errors every level raises. The names below are the usual
way in: build a network, resolve places, plan, read the proposal.
"""

from planner.network import build_network, load_cost_model, resolve_places
from planner.plans import plan_backbone, plan_last_mile, plan_route
from planner.proposals import Proposal, compute_metrics

__all__ = [
    "Proposal",
    "build_network",
    "compute_metrics",
    "load_cost_model",
    "plan_backbone",
    "plan_last_mile",
    "plan_route",
    "resolve_places",
]
