"""Subsea cables as edges of the planning network: one edge between consecutive landings.

A submarine cable that lands at two or more Mexican points is also a domestic link between
them (Tijuana–Mazatlán on the Pan-American Crossing, La Paz–Topolobampo on the Gulf of
California Cable). :func:`add_subsea_links` adds, for every cable of a ``subsea_cables``
layer, one edge of deployment type ``subsea`` between each pair of its Mexican landings
that are consecutive along the cable, and attaches every landing it uses to the terrestrial
network (:func:`planner.network.planning_network.attach_place`, kind ``landing``), so a
route or backbone can go ashore there.

How an edge gets its geometry:

1. the cable's parts are merged (``shapely.line_merge``) and joined where a branch ends
   within :data:`JUNCTION_KM` of the trunk; each landing is projected on its nearest part
   (``line_locate_point``), and the edge follows the cable's parts between two landings
   (``shapely.ops.substring`` of each part, along the shortest way through the branches),
   with each landing's own point at its end so the edge starts and ends at the landing
   nodes. Landings are taken in order along the cable (on a branched cable: from one end
   of the farthest pair, nearest next);
2. when that cannot be done (a landing lies more than :data:`MAX_LANDING_OFFSET_KM` from the
   cable, or the parts do not join), the edge is the geodesic (great circle) between the
   two landings, sampled every :data:`GREAT_CIRCLE_STEP_KM`; the link records
   ``method = "great circle"``. A great circle may cross land: it is a length estimate,
   not a route.

The edge's ``length_km`` is the geodesic length of that geometry on the WGS84 ellipsoid.
Published routes are schematic, so a cable's drawn length differs from its published one
(the Gulf of California Cable: 217 km drawn, 250 km published). When the cable is domestic
(every landing in ``all_landings`` is in Mexico) and the layer gives its published
``length_km``, each of its edges is priced on its share of the published length: the edge
records ``published_km`` (its drawn km x published / drawn cable km) and the multiplier
``published_length`` (published / drawn), and costs the cost model's
``deployment.subsea.usd_per_km`` x ``length_km`` x ``published_length``; otherwise the
drawn length is priced. A
cable already in service carries traffic as bought capacity rather than as a new build: the
edge is marked ``reuses_fiber`` (so no amplifier sites are added for it and it counts as
reuse) and its price is whatever the cost model says a subsea km costs; a scenario that
prices capacity on an existing cable as a lease overrides ``deployment.subsea.usd_per_km``
with its own source. A planned cable is a new build (``reuses_fiber`` false). Every edge
has the corridor ``("subsea_cables", <cable id>)``, so the two halves of a diverse pair
never share one cable.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely
from pyproj import Geod
from shapely import LineString, MultiLineString, Point
from shapely.ops import substring

from layers.errors import NotFoundError
from planner.network.cost_model import CostModel
from planner.network.places import Place, normalize_name
from planner.network.planning_network import PlanningNetwork, attach_place, price_edge
from planner.proposals.proposal import Proposal, Segment

logger = logging.getLogger(__name__)

SUBSEA_LAYER = "subsea_cables"
"""Layer name recorded on subsea edges (``layer`` and the first part of ``corridor``)."""

MAX_LANDING_OFFSET_KM = 50.0
"""A landing farther than this from its cable's drawn route is not cut out of the route."""

GREAT_CIRCLE_STEP_KM = 25.0
"""Vertex spacing of a great-circle fallback edge."""

JUNCTION_KM = 25.0
"""A part of a cable ending this close to another part is joined to it (a branch)."""

_GEOD = Geod(ellps="WGS84")

LinkMethod = Literal["along cable", "great circle"]


@dataclass(frozen=True)
class SubseaLink:
    """One subsea edge added to the network.

    Attributes
    ----------
    cable
        The cable's name.
    cable_id
        Its identifier in the layer (``cable_id`` column, else the row label).
    landing_a, landing_b
        Landing names, in order along the cable.
    node_a, node_b
        Their network nodes.
    length_km
        Geodesic length of the edge.
    cost_usd
        Its price from the cost model.
    method
        ``"along cable"`` or ``"great circle"`` (see the module documentation).
    existing
        The cable is in service (not marked planned).
    published_km
        The edge's share of the cable's published length (domestic cables), else None.
    cable_drawn_km, cable_published_km
        The whole cable's drawn length and its published length (None when unknown).
    """

    cable: str
    cable_id: str
    landing_a: str
    landing_b: str
    node_a: Hashable
    node_b: Hashable
    length_km: float
    cost_usd: float
    method: LinkMethod
    existing: bool
    published_km: float | None = None
    cable_drawn_km: float = 0.0
    cable_published_km: float | None = None


PUBLISHED_LENGTH_SOURCE = "TeleGeography Submarine Cable Map (subsea_cables layer, length_km)"
"""Where the published cable lengths of the bundled layer come from."""


def geodesic_line_km(line: LineString) -> float:
    """Geodesic length in km of an EPSG:4326 line (WGS84 ellipsoid).

    Examples
    --------
    >>> round(geodesic_line_km(LineString([(0, 0), (1, 0)])), 3)
    111.319
    """
    return float(_GEOD.geometry_length(line)) / 1000.0


def great_circle(a: tuple[float, float], b: tuple[float, float]) -> LineString:
    """The geodesic between two lon/lat points, with a vertex every ~25 km.

    Examples
    --------
    >>> line = great_circle((-110.3, 24.1), (-109.05, 25.6))
    >>> line.coords[0], line.coords[-1]
    ((-110.3, 24.1), (-109.05, 25.6))
    """
    _, _, metres = _GEOD.inv(a[0], a[1], b[0], b[1])
    steps = max(math.ceil(metres / 1000.0 / GREAT_CIRCLE_STEP_KM) - 1, 0)
    middle = _GEOD.npts(a[0], a[1], b[0], b[1], steps) if steps else []
    return LineString([a, *middle, b])


def add_subsea_links(
    network: PlanningNetwork,
    cables: gpd.GeoDataFrame,
    landings: gpd.GeoDataFrame,
    *,
    cost_model: CostModel | None = None,
) -> list[SubseaLink]:
    """Add a ``subsea`` edge between consecutive Mexican landings of every cable.

    See the module documentation for the geometry and the price.

    Parameters
    ----------
    network
        The planning network; landings are attached to it and the edges added (it changes).
    cables
        A ``subsea_cables`` layer (EPSG:4326): ``name``, ``landings`` (the Mexican landing
        names, comma-separated), optionally ``cable_id`` and ``planned``.
    landings
        A ``subsea_landings`` layer (EPSG:4326 points with ``name``).
    cost_model
        Prices the edges; default the network's.

    Returns
    -------
    list of SubseaLink
        The edges added, cable by cable. A cable with fewer than two landings found in
        ``landings`` adds none.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, Point
    >>> from planner.network.cost_model import load_cost_model
    >>> from planner.network.planning_network import build_network
    >>> roads = gpd.GeoDataFrame({"row_type": ["highway", "highway"]},
    ...     geometry=[LineString([(-110.4, 24.0), (-110.2, 24.2)]),
    ...               LineString([(-109.1, 25.5), (-108.9, 25.7)])], crs="EPSG:4326")
    >>> network = build_network({"roads": roads}, load_cost_model())
    >>> cables = gpd.GeoDataFrame({"name": ["Gulf"], "landings": ["La Paz, Topolobampo"]},
    ...     geometry=[LineString([(-110.3, 24.1), (-109.05, 25.6)])], crs="EPSG:4326")
    >>> points = gpd.GeoDataFrame({"name": ["La Paz", "Topolobampo"]},
    ...     geometry=[Point(-110.3, 24.1), Point(-109.05, 25.6)], crs="EPSG:4326")
    >>> [link] = add_subsea_links(network, cables, points)
    >>> link.landing_a, link.landing_b, link.method, round(link.length_km)
    ('La Paz', 'Topolobampo', 'along cable', 209)
    """
    model = cost_model or network.cost_model
    cables = _in_4326(cables)
    landings = _in_4326(landings)
    by_name = _landing_places(landings)
    planned_edges: list[
        tuple[str, str, bool, Place, Place, LineString, LinkMethod, float, float | None]
    ] = []
    for row_label, row in cables.iterrows():
        names = _split_names(row.get("landings"))
        places = list(dict.fromkeys(p for n in names if (p := by_name.get(normalize_name(n)))))
        if len(places) < 2 or row.geometry is None or row.geometry.is_empty:
            continue
        cable = str(row.get("name") or row_label)
        cable_id = _text(row.get("cable_id")) or str(row_label)
        existing = not _truthy(row.get("planned"))
        drawn = sum(geodesic_line_km(part) for part in _parts(row.geometry))
        published = published_length_km(row)
        for (a, b), (line, method) in _consecutive(places, row.geometry):
            planned_edges.append((cable, cable_id, existing, a, b, line, method, drawn, published))
    # Every landing joins the land network before any subsea edge exists, so none is
    # attached to another cable's line out at sea.
    nodes = {
        place_key: attach_place(network, place)
        for _, _, _, a, b, *_ in planned_edges
        for place_key, place in ((a.name, a), (b.name, b))
    }
    added: list[SubseaLink] = []
    for cable, cable_id, existing, a, b, line, method, drawn, published in planned_edges:
        km = geodesic_line_km(line)
        factor = published / drawn if published is not None and drawn > 0 else 1.0
        data: dict[str, Any] = {
            "layer": SUBSEA_LAYER,
            "feature_id": cable_id,
            "corridor": (SUBSEA_LAYER, cable_id),
            "kind": "subsea",
            "deployment_type": "subsea",
            "name": cable,
            "length_km": km,
            "geometry": line,
            "subsea_method": method,
        }
        if published is not None:
            data["published_km"] = km * factor
            data["multipliers"] = {"published_length": factor}
            data["length_source"] = PUBLISHED_LENGTH_SOURCE
        price_edge(data, model)
        data["reuses_fiber"] = existing
        network.graph.add_edge(nodes[a.name], nodes[b.name], **data)
        added.append(
            SubseaLink(
                cable=cable,
                cable_id=cable_id,
                landing_a=a.name,
                landing_b=b.name,
                node_a=nodes[a.name],
                node_b=nodes[b.name],
                length_km=km,
                cost_usd=float(data["cost_usd"]),
                method=method,
                existing=existing,
                published_km=None if published is None else km * factor,
                cable_drawn_km=drawn,
                cable_published_km=published,
            )
        )
    logger.info("added %d subsea links", len(added))
    return added


def published_length_km(row: Any) -> float | None:
    """A domestic cable's published length (km), or None.

    Only a cable whose every landing (``all_landings``, when the layer has it) is in Mexico:
    an international cable's published length is the whole system's, not the domestic
    stretch's.
    """
    km = _positive(row.get("length_km"))
    if km is None:
        return None
    everywhere = _split_names(row.get("all_landings"))
    if everywhere and not all(name.endswith("Mexico") for name in everywhere):
        return None
    return km


def _consecutive(
    places: list[Place], geometry: Any
) -> list[tuple[tuple[Place, Place], tuple[LineString, LinkMethod]]]:
    """Pairs of landings consecutive along the cable, each with its edge geometry."""
    parts = _parts(geometry)
    points = [(p.lon, p.lat) for p in places]
    graph, stops = _cable_graph(parts, points)

    def along(i: int, j: int) -> float | None:
        a, b = stops[i], stops[j]
        if a is None or b is None or not nx.has_path(graph, a, b):
            return None
        return float(nx.shortest_path_length(graph, a, b, weight="km"))

    def distance(i: int, j: int) -> float:
        km = along(i, j)
        return km if km is not None else geodesic_line_km(LineString([points[i], points[j]]))

    pairs: list[tuple[tuple[Place, Place], tuple[LineString, LinkMethod]]] = []
    for i, j in itertools.pairwise(_chain(len(points), distance)):
        a, b = places[i], places[j]
        piece = None
        if along(i, j) is not None:
            piece = _path_line(graph, stops[i], stops[j], points[i], points[j])
        if piece is None:
            pairs.append(((a, b), (great_circle(points[i], points[j]), "great circle")))
        else:
            pairs.append(((a, b), (piece, "along cable")))
    return pairs


Stop = tuple[int, float]


def _cable_graph(
    parts: list[LineString], points: list[tuple[float, float]]
) -> tuple[nx.Graph, list[Stop | None]]:
    """The cable's parts as a graph: pieces between stops, branches joined to the trunk.

    A published cable is often a trunk and branches that stop just short of it; each part's
    end within :data:`JUNCTION_KM` of another part is joined to the nearest point of that
    part. Each landing is a stop on its nearest part (None when farther than
    :data:`MAX_LANDING_OFFSET_KM`). Nodes are ``(part, position along it)``.
    """
    stops: dict[int, set[float]] = {i: {0.0, part.length} for i, part in enumerate(parts)}
    joints: list[tuple[Stop, Stop, LineString]] = []
    for i, part in enumerate(parts):
        for end_position in (0.0, part.length):
            tip = part.interpolate(end_position)
            for j, other in enumerate(parts):
                if j == i:
                    continue
                position = other.project(tip)
                on = other.interpolate(position)
                joint = LineString([(tip.x, tip.y), (on.x, on.y)])
                if geodesic_line_km(joint) <= JUNCTION_KM:
                    stops[j].add(position)
                    joints.append(((i, end_position), (j, position), joint))
    landing_stops: list[Stop | None] = []
    for xy in points:
        index, km = _nearest_part(parts, xy)
        if index < 0 or km > MAX_LANDING_OFFSET_KM:
            landing_stops.append(None)
            continue
        position = parts[index].project(Point(xy))
        stops[index].add(position)
        landing_stops.append((index, position))
    graph = nx.Graph()
    for i, part in enumerate(parts):
        ordered = sorted(stops[i])
        graph.add_nodes_from((i, p) for p in ordered)
        for low, high in itertools.pairwise(ordered):
            piece = substring(part, low, high)
            if high > low and isinstance(piece, LineString):
                graph.add_edge((i, low), (i, high), km=geodesic_line_km(piece), line=piece)
    for a, b, joint in joints:
        if a != b and not graph.has_edge(a, b):
            graph.add_edge(a, b, km=geodesic_line_km(joint), line=joint)
    return graph, landing_stops


def _path_line(
    graph: nx.Graph,
    source: Stop | None,
    target: Stop | None,
    a: tuple[float, float],
    b: tuple[float, float],
) -> LineString | None:
    """The cable from landing ``a`` to landing ``b`` along the graph's shortest path."""
    if source is None or target is None or source == target:
        return None
    nodes = nx.shortest_path(graph, source, target, weight="km")
    coords: list[tuple[float, float]] = [a]
    for u, v in itertools.pairwise(nodes):
        piece = [(float(c[0]), float(c[1])) for c in graph.edges[u, v]["line"].coords]
        here = coords[-1]
        if _planar(piece[-1], here) < _planar(piece[0], here):
            piece.reverse()
        coords.extend(c for c in piece if c != coords[-1])
    if coords[-1] != b:
        coords.append(b)
    return LineString(coords) if len(coords) >= 2 else None


def _planar(p: tuple[float, float], q: tuple[float, float]) -> float:
    return math.hypot(p[0] - q[0], p[1] - q[1])


def _parts(geometry: Any) -> list[LineString]:
    merged = shapely.line_merge(geometry) if isinstance(geometry, MultiLineString) else geometry
    return [p for p in shapely.get_parts(merged) if isinstance(p, LineString) and not p.is_empty]


def _nearest_part(parts: list[LineString], xy: tuple[float, float]) -> tuple[int, float]:
    """Index of the part nearest a point, and the geodesic km to it."""
    best, best_km = -1, math.inf
    point = Point(xy)
    for index, part in enumerate(parts):
        on = part.interpolate(part.project(point))
        _, _, metres = _GEOD.inv(xy[0], xy[1], on.x, on.y)
        if metres / 1000.0 < best_km:
            best, best_km = index, metres / 1000.0
    return best, best_km


def _chain(n: int, distance: Callable[[int, int], float]) -> list[int]:
    """An order through ``n`` landings: from one end of the farthest pair, nearest next.

    On a cable without branches this is the order along the cable.
    """
    if n < 3:
        return list(range(n))
    start = max(((i, j) for i in range(n) for j in range(i + 1, n)), key=lambda p: distance(*p))[0]
    order, left = [start], set(range(n)) - {start}
    while left:
        nearest = min(left, key=lambda j: distance(order[-1], j))
        order.append(nearest)
        left.remove(nearest)
    return order


def _landing_places(landings: gpd.GeoDataFrame) -> dict[str, Place]:
    """Landings by normalised name, as places of kind ``landing`` (also by the town alone)."""
    out: dict[str, Place] = {}
    for _, row in landings.iterrows():
        geometry = row.geometry
        if geometry is None or geometry.is_empty or "name" not in landings.columns:
            continue
        point = shapely.point_on_surface(geometry)
        name = str(row["name"])
        place = Place(name=name, lon=float(point.x), lat=float(point.y), kind="landing")
        out.setdefault(normalize_name(name), place)
        if "," in name:
            out.setdefault(normalize_name(name.split(",", 1)[0]), place)
    return out


def _split_names(value: Any) -> list[str]:
    text = _text(value)
    if not text:
        return []
    separator = ";" if ";" in text else ","
    return [part.strip() for part in text.split(separator) if part.strip()]


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(value)


def _in_4326(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        return frame.to_crs(4326)
    return frame


def cable_proposal(
    cables: gpd.GeoDataFrame,
    landings: gpd.GeoDataFrame,
    cable: str,
    cost_model: CostModel,
    *,
    cost_usd: float | None = None,
    cost_source: str | None = None,
    name: str | None = None,
) -> Proposal:
    """A submarine cable of the layer proposed as a build, drawn from its route and costed.

    The segments are the cable's drawn route (``length_km`` geodesic). The cost is
    ``cost_usd`` when a published figure is given (shared over the segments by length,
    ``cost_source`` in every segment's ``extra``); otherwise the cost model's: the cable's
    published length (``length_km`` of the layer; the drawn one when unknown) x
    ``deployment.subsea.usd_per_km``, with ``length_factor`` = published / drawn in each
    segment, and one ``nodes.landing`` per landing as the node cost ``cable_landings``.
    Landings abroad (``all_landings``) are terminals of kind ``landing`` at the cable's
    far end: a cable end, never attached to the land network.

    Raises
    ------
    layers.errors.NotFoundError
        No cable of that name in the layer (the message lists the names).
    """
    cables = _in_4326(cables)
    by_name = {normalize_name(str(n)): i for i, n in enumerate(cables["name"])}
    position = by_name.get(normalize_name(cable))
    if position is None:
        known = ", ".join(sorted(str(n) for n in cables["name"]))
        raise NotFoundError(f"no cable named {cable!r} in the subsea_cables layer; known: {known}")
    row = cables.iloc[position]
    label = str(row["name"])
    parts = _parts(row.geometry)
    drawn = sum(geodesic_line_km(part) for part in parts)
    published = _positive(row.get("length_km"))
    known_landings = _landing_places(_in_4326(landings))
    mexican = [
        p for n in _split_names(row.get("landings")) if (p := known_landings.get(normalize_name(n)))
    ]
    everywhere = _split_names(row.get("all_landings"))
    abroad = [n for n in everywhere if not n.endswith("Mexico")]
    terminals: list[Place] = list(dict.fromkeys(mexican))
    if len(abroad) == 1 and terminals and parts:
        # a two-ended cable: its far end from the Mexican landing is the landing abroad
        home = terminals[0]
        ends = [parts[0].coords[0], parts[-1].coords[-1]]
        far = max(ends, key=lambda xy: _planar((home.lon, home.lat), (xy[0], xy[1])))
        terminals.append(
            Place(abroad[0], far[0], far[1], kind="landing", attributes={"abroad": True})
        )
    n_landings = len(everywhere) or len(terminals)
    length_source = PUBLISHED_LENGTH_SOURCE if published is not None else None
    extra_all: dict[str, Any] = {"drawn_km": round(drawn, 3)}
    if published is not None:
        extra_all.update(published_km=published, length_source=length_source)
    node_costs: dict[str, float] = {}
    priced: dict[str, Any] = {}
    if cost_usd is not None:
        extra_all.update(cost_source=cost_source, cost_basis="published cost of the cable")
    else:
        # the cost model's price of the published length: km x rate x published / drawn
        factor = published / drawn if published is not None and drawn > 0 else 1.0
        priced = {
            "rate_usd_per_km": cost_model.usd_per_km("subsea"),
            "multipliers": {"published_length": factor} if factor != 1.0 else {},
        }
        node_costs["cable_landings"] = n_landings * cost_model.nodes.landing.usd_each
    segments = [
        Segment(
            geometry=part,
            deployment_type="subsea",
            length_km=geodesic_line_km(part),
            cost_usd=float(cost_usd) * geodesic_line_km(part) / drawn
            if cost_usd is not None and drawn > 0
            else 0.0,
            **priced,
            source_layer=SUBSEA_LAYER,
            corridor=f"{SUBSEA_LAYER}:{_text(row.get('cable_id')) or position}",
            reuses_fiber=False,
            role="primary",
            name=label,
            extra=dict(extra_all),
        )
        for part in parts
    ]
    estimate_km = published if published is not None else drawn
    estimate = (
        cost_model.edge_cost_usd("subsea", estimate_km)
        + n_landings * cost_model.nodes.landing.usd_each
    )
    notes = [
        f"{label}: drawn {drawn:,.0f} km"
        + (f", published {published:,.0f} km ({length_source})" if published else "")
    ]
    if cost_usd is not None:
        notes.append(
            f"costed at its published USD {cost_usd:,.0f} ({cost_source}); the cost model "
            f"would give USD {estimate:,.0f} ({estimate_km:,.0f} km x USD "
            f"{cost_model.usd_per_km('subsea'):,.0f}/km + {n_landings} landings x USD "
            f"{cost_model.nodes.landing.usd_each:,.0f})"
        )
    if abroad:
        notes.append(
            "landings abroad are cable ends only, never joined to the land network: "
            + ", ".join(abroad)
        )
    return Proposal(
        kind="route",
        name=name or f"cable-{label}",
        segments=tuple(segments),
        terminals=tuple(terminals),
        node_costs_usd=node_costs,
        parameters={
            "cable": label,
            "drawn_km": round(drawn, 3),
            "published_km": published,
            "landings": everywhere or [t.name for t in terminals],
            "cost_usd": cost_usd,
            "cost_source": cost_source,
        },
        cost_model_source=cost_model.meta.source,
        notes=tuple(notes),
    )


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None
