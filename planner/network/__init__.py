"""Network: the corridor graph of real rights of way, priced by a cost model, with places.

The second level. :mod:`~planner.network.corridor_graph` nodes the line layers into a
graph; :mod:`~planner.network.planning_network` prices every edge with the
:mod:`~planner.network.cost_model`, joins what never touches (greenfield links over
terrain, :mod:`~planner.network.greenfield`, kept on land by :mod:`~planner.network.land`)
and attaches places (:mod:`~planner.network.attach`, :mod:`~planner.network.places`);
:mod:`~planner.network.build_cache` keeps what was built on disk. It imports only
:mod:`planner.search`.
"""

from typing import TYPE_CHECKING

from planner._lazy import lazy_attributes

if TYPE_CHECKING:
    from planner.network.build_cache import BuildCache
    from planner.network.corridor_graph import CorridorGraph, build_corridor_graph
    from planner.network.cost_model import CostModel, load_cost_model
    from planner.network.land import Land
    from planner.network.places import Place, PlaceIndex, resolve_place, resolve_places
    from planner.network.planning_network import PlanningNetwork, attach_place, build_network

__all__ = [
    "BuildCache",
    "CorridorGraph",
    "CostModel",
    "Land",
    "Place",
    "PlaceIndex",
    "PlanningNetwork",
    "attach_place",
    "build_corridor_graph",
    "build_network",
    "load_cost_model",
    "resolve_place",
    "resolve_places",
]

__getattr__ = lazy_attributes(
    __name__,
    {
        "planner.network.build_cache": ("BuildCache",),
        "planner.network.corridor_graph": ("CorridorGraph", "build_corridor_graph"),
        "planner.network.cost_model": ("CostModel", "load_cost_model"),
        "planner.network.land": ("Land",),
        "planner.network.places": ("Place", "PlaceIndex", "resolve_place", "resolve_places"),
        "planner.network.planning_network": ("PlanningNetwork", "attach_place", "build_network"),
    },
)
