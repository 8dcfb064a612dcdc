"""Errors the planner raises; each is a :class:`~layers.errors.TrazoError` safe to show."""

from __future__ import annotations

from layers.errors import NotFoundError, TrazoError


class NoRouteError(TrazoError):
    """No route (or no diverse pair of routes) joins the endpoints asked for."""

    code = "no_route"


class PlaceNotFoundError(NotFoundError):
    """A named place or node is not in the graph."""

    code = "place_not_found"


class GraphBuildError(TrazoError):
    """The line layers cannot be turned into a corridor graph (empty, wrong CRS, ...)."""

    code = "invalid_graph"


class DegenerateRequestError(TrazoError):
    """A request that has nothing to plan: a route from a place to itself, an area with no
    locality to serve. A user error: nothing is planned or stored."""

    code = "degenerate_request"
