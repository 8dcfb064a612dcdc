"""Trazo's planner: costed fiber route, backbone and last-mile proposals from real layers.

Four levels, each a sub-package, each importing only the ones below it:

- :mod:`planner.plans`: a request in, a proposal out (route, backbone, last mile, scenarios);
- :mod:`planner.proposals`: the proposal value objects, their metrics and exports;
- :mod:`planner.network`: the corridor graph priced by a cost model, with places;
- :mod:`planner.search`: graph algorithms (shortest paths, alternatives, Steiner, rings).

The errors every level raises are in the error catalogue, :mod:`layers.errors`. The names
below are the usual way in: build a network, resolve places, plan, read the proposal.
"""

from typing import TYPE_CHECKING

from planner._lazy import lazy_attributes

if TYPE_CHECKING:
    from planner.network.cost_model import load_cost_model
    from planner.network.places import resolve_places
    from planner.network.planning_network import build_network
    from planner.plans.backbone import plan_backbone
    from planner.plans.last_mile import plan_last_mile
    from planner.plans.route import plan_route
    from planner.proposals.metrics import compute_metrics
    from planner.proposals.proposal import Proposal

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

__getattr__ = lazy_attributes(
    __name__,
    {
        "planner.network.planning_network": ("build_network",),
        "planner.network.cost_model": ("load_cost_model",),
        "planner.network.places": ("resolve_places",),
        "planner.plans.backbone": ("plan_backbone",),
        "planner.plans.last_mile": ("plan_last_mile",),
        "planner.plans.route": ("plan_route",),
        "planner.proposals.proposal": ("Proposal",),
        "planner.proposals.metrics": ("compute_metrics",),
    },
)
