"""Plans: a request in, a costed proposal out.

The top level. A route between two places (:mod:`~planner.plans.route`), a backbone over
terminals (:mod:`~planner.plans.backbone`), the last mile of an area
(:mod:`~planner.plans.last_mile`, with its demand, wireless sites, radio paths and site
selection; state by state in :mod:`~planner.plans.national_last_mile`; public sites in
:mod:`~planner.plans.public_sites`), a subsea cable (:mod:`~planner.plans.subsea`) and the
scenarios that chain them (:mod:`~planner.plans.scenario`). Plans import the lower levels,
never the other way round.
"""

from typing import TYPE_CHECKING

from planner._lazy import lazy_attributes

if TYPE_CHECKING:
    from planner.plans.backbone import plan_backbone
    from planner.plans.demand import localities_in_area, select_area
    from planner.plans.last_mile import plan_last_mile
    from planner.plans.public_sites import plan_public_sites
    from planner.plans.route import plan_route
    from planner.plans.scenario import Scenario, find_scenario, list_scenarios, load_scenario
    from planner.plans.subsea import add_subsea_links, cable_proposal

__all__ = [
    "Scenario",
    "add_subsea_links",
    "cable_proposal",
    "find_scenario",
    "list_scenarios",
    "load_scenario",
    "localities_in_area",
    "plan_backbone",
    "plan_last_mile",
    "plan_public_sites",
    "plan_route",
    "select_area",
]

__getattr__ = lazy_attributes(
    __name__,
    {
        "planner.plans.backbone": ("plan_backbone",),
        "planner.plans.demand": ("localities_in_area", "select_area"),
        "planner.plans.last_mile": ("plan_last_mile",),
        "planner.plans.public_sites": ("plan_public_sites",),
        "planner.plans.route": ("plan_route",),
        "planner.plans.scenario": ("Scenario", "find_scenario", "list_scenarios", "load_scenario"),
        "planner.plans.subsea": ("add_subsea_links", "cable_proposal"),
    },
)
