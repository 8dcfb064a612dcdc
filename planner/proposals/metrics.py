"""The metrics a planner defends, derived from a proposal.

:func:`compute_metrics` measures a :class:`planner.proposals.proposal.Proposal`: km and capex by
deployment type, how much of the length reuses existing corridors or fiber, which states and
municipalities it crosses (km in each), one-way latency, people covered and USD per person.
Every number comes from the segments themselves, so two proposals measured with the same
layers compare fairly.

Lengths are geodesic on the WGS84 ellipsoid. State and municipality overlays intersect the
lines with the polygons in EPSG:4326 (both are stored as straight edges between lon/lat
vertices) and measure each piece geodesically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import shapely
from pyproj import Geod
from shapely import LineString

from planner.proposals.areas import Areas

if TYPE_CHECKING:
    import geopandas as gpd

    from planner.network.places import Place
    from planner.proposals.proposal import Proposal, Segment

#: One-way propagation delay in standard single-mode fiber (group index ~1.47), microseconds
#: per km; the usual planning figure.
FIBER_LATENCY_US_PER_KM = 4.9

_GEOD = Geod(ellps="WGS84")
#: Segment endpoints closer than this (degrees, ~1 cm) are the same graph node.
_NODE_DECIMALS = 7


@dataclass(frozen=True)
class AreaKm:
    """Length of a proposal inside one state or municipality.

    Parameters
    ----------
    name : str
        State name, or ``"Municipality, State"`` when the layer carries the state.
    km : float
        Geodesic km of segment lines inside the polygon.
    code : str or None
        ``cve_ent`` for a state, ``cvegeo`` for a municipality, when the layer has it.
    """

    name: str
    km: float
    code: str | None = None


@dataclass(frozen=True)
class RoleMetrics:
    """Length, cost, reuse and latency of the segments of one role (e.g. ``"primary"``).

    ``one_way_latency_ms`` is the role's km times the latency rate for a route (each route
    role is one path end to end) and None for other proposal kinds.
    """

    role: str
    total_km: float
    km_by_deployment: Mapping[str, float]
    capex_usd: float
    reuse_share: float
    fiber_reuse_share: float
    segment_count: int
    one_way_latency_ms: float | None


@dataclass(frozen=True)
class ProposalMetrics:
    """Derived metrics of a proposal; see :func:`compute_metrics` for how each is measured.

    ``states_crossed``, ``municipalities_crossed``, ``municipality_count`` and
    ``km_outside_states`` are None when no layer was given to measure them.
    """

    total_km: float
    km_by_deployment: Mapping[str, float]
    capex_usd_total: float
    capex_by_deployment: Mapping[str, float]
    reuse_share: float
    fiber_reuse_share: float
    segment_count: int
    one_way_latency_ms: float | None
    latency_us_per_km: float
    people_covered: int | None
    usd_per_person: float | None
    states_crossed: tuple[AreaKm, ...] | None = None
    km_outside_states: float | None = None
    municipalities_crossed: tuple[AreaKm, ...] | None = None
    municipality_count: int | None = None
    metrics_by_role: Mapping[str, RoleMetrics] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as JSON-friendly values, km to 3 decimals and USD to the cent.

        Returns
        -------
        dict
        """
        raw = asdict(self)
        return {key: _rounded(key, value) for key, value in raw.items()}


_NAME_KEYED = frozenset({"km_by_deployment", "capex_by_deployment"})
_CENTS = frozenset({"capex_usd_total", "capex_by_deployment", "capex_usd"})


def _rounded(key: str, value: Any) -> Any:
    if key == "metrics_by_role" and isinstance(value, Mapping):
        return {str(role): _rounded("", record) for role, record in value.items()}
    if isinstance(value, Mapping):
        return {
            str(k): _rounded(key if key in _NAME_KEYED else str(k), v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_rounded(key, v) for v in value]
    if isinstance(value, bool) or not isinstance(value, float):
        return value
    if key in _CENTS:
        return round(value, 2)
    if key == "usd_per_person":
        return round(value, 2)
    if "share" in key:
        return round(value, 4)
    return round(value, 3)


def _shares(segments: Iterable[Segment]) -> tuple[float, float, float]:
    """Return total km, share of km reusing a corridor or fiber, share reusing fiber."""
    total = reuse = fiber = 0.0
    for seg in segments:
        total += seg.length_km
        if seg.reuses_corridor or seg.reuses_fiber:
            reuse += seg.length_km
        if seg.reuses_fiber:
            fiber += seg.length_km
    if total <= 0:
        return total, 0.0, 0.0
    return total, min(reuse / total, 1.0), min(fiber / total, 1.0)


def _sum_by(segments: Iterable[Segment], value: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for seg in segments:
        totals[seg.deployment_type] = totals.get(seg.deployment_type, 0.0) + float(
            getattr(seg, value)
        )
    return totals


def _node(xy: tuple[float, ...]) -> tuple[float, float]:
    return (round(float(xy[0]), _NODE_DECIMALS), round(float(xy[1]), _NODE_DECIMALS))


def segment_graph(segments: Iterable[Segment]) -> nx.Graph:
    """Return an undirected graph of segment endpoints with ``km`` edge weights.

    Nodes are ``(lon, lat)`` endpoints rounded to 7 decimals (about 1 cm), so segments that
    meet share a node; parallel segments keep the shorter length. The graph records
    ``graph["crs"] = "EPSG:4326"`` and ``graph["weight_units"] = "km"``.

    Parameters
    ----------
    segments : iterable of planner.proposals.proposal.Segment

    Returns
    -------
    networkx.Graph
    """
    graph = nx.Graph(crs="EPSG:4326", weight_units="km")
    for seg in segments:
        coords = seg.geometry.coords
        a, b = _node(coords[0]), _node(coords[-1])
        if a == b:
            continue
        if graph.has_edge(a, b) and graph[a][b]["km"] <= seg.length_km:
            continue
        graph.add_edge(a, b, km=seg.length_km)
    return graph


def _snap(graph: nx.Graph, places: Iterable[Place]) -> list[tuple[float, float]]:
    """Return the graph node nearest (geodesically) to each place."""
    nodes = list(graph.nodes)
    if not nodes:
        return []
    lons = np.array([n[0] for n in nodes])
    lats = np.array([n[1] for n in nodes])
    snapped = []
    for place in places:
        _, _, dist = _GEOD.inv(
            np.full_like(lons, place.lon), np.full_like(lats, place.lat), lons, lats
        )
        snapped.append(nodes[int(np.argmin(dist))])
    return list(dict.fromkeys(snapped))


def longest_terminal_path_km(
    segments: Iterable[Segment], terminals: Iterable[Place] = ()
) -> float | None:
    """Return the longest shortest-path distance in km between two terminals of a network.

    The network is :func:`segment_graph` of the segments. Each terminal is snapped to the
    nearest segment endpoint; with no terminals, the leaves (degree-1 nodes) stand in for them.
    In a tree the path between two terminals is unique, so this is the worst terminal-to-
    terminal path; with rings it is the worst of the shortest paths. Terminals in different
    components are not paired.

    Parameters
    ----------
    segments : iterable of planner.proposals.proposal.Segment
    terminals : iterable of planner.network.places.Place, optional

    Returns
    -------
    float or None
        None when fewer than two terminals reach each other.
    """
    graph = segment_graph(segments)
    ends = _snap(graph, terminals)
    if not ends:
        ends = [n for n, degree in graph.degree if degree == 1]
    if len(ends) < 2:
        return None
    if nx.is_forest(graph):
        targets = set(ends)
        best: float | None = None
        # Tree metric: the terminal farthest from any terminal is an end of the longest
        # terminal path, so two passes per component suffice.
        for component in nx.connected_components(graph):
            members = [n for n in ends if n in component]
            if len(members) < 2:
                continue
            far, _ = _farthest(graph, members[0], targets)
            _, km = _farthest(graph, far, targets)
            if km is not None:
                best = km if best is None else max(best, km)
        return best
    return _longest_shortest_path(graph, ends)


#: Distances one block of the all-terminal search may hold (8 bytes each): a ring over
#: thousands of sites on a graph of many thousand nodes is searched a few sources at a time.
_BLOCK_CELLS = 4_000_000


def _longest_shortest_path(graph: nx.Graph, ends: list[tuple[float, float]]) -> float | None:
    """The longest of the shortest paths between two different ``ends``, None if none join.

    One compiled multi-source search (scipy's Dijkstra on the engine's CSR snapshot) per
    block of sources instead of a networkx search per terminal: the national RNEI ring has
    233 terminals.
    """
    from scipy.sparse.csgraph import dijkstra

    from planner.search.csr_graph import CSRGraph

    csr = CSRGraph.from_networkx(graph, "km")
    rows = np.array([csr.row(node) for node in ends], dtype=np.int64)
    step = max(1, _BLOCK_CELLS // max(csr.n, 1))
    best: float | None = None
    for first in range(0, rows.size, step):
        sources = rows[first : first + step]
        km = dijkstra(csr.matrix, directed=True, indices=sources)[:, rows]
        # a terminal's distance to itself is no path
        km[np.arange(sources.size), np.arange(first, first + sources.size)] = np.inf
        reached = km[np.isfinite(km)]
        if reached.size:
            longest = float(reached.max())
            best = longest if best is None else max(best, longest)
    return best


def _farthest(
    graph: nx.Graph, source: tuple[float, float], targets: set[tuple[float, float]]
) -> tuple[tuple[float, float], float | None]:
    """Return the target farthest from ``source`` and its km; None km if none is reachable."""
    lengths = nx.single_source_dijkstra_path_length(graph, source, weight="km")
    reachable = [(km, node) for node, km in lengths.items() if node in targets and node != source]
    if not reachable:
        return source, None
    km, node = max(reachable)
    return node, float(km)


def _overlay_km(lines: list[LineString], areas: Areas) -> dict[tuple[str, str | None], float]:
    """Return geodesic km of the lines inside each area, keyed by (label, code)."""
    if not lines or not len(areas):
        return {}
    stored = areas.polygon_array()
    geoms = np.asarray(lines, dtype=object)
    # boxes first, so only the areas near a line are made valid (a route crosses a few
    # dozen of the 2,478 national municipalities); making an area valid keeps it within
    # its box, so no area that crosses a line is missed
    line_idx, area_idx = shapely.STRtree(stored).query(geoms)
    near = np.unique(area_idx)
    polygons = np.full(len(stored), None, dtype=object)
    polygons[near] = shapely.make_valid(stored[near])
    # make_valid gave new polygons, so preparing them changes no caller's geometry.
    shapely.prepare(polygons[near])
    crossing = shapely.intersects(polygons[area_idx], geoms[line_idx])
    line_idx, area_idx = line_idx[crossing], area_idx[crossing]
    # A line inside an area, clear of its border, is its own piece: only the lines that
    # meet a border are overlaid (nine in ten of the RNEI ring's 3,063 line-state pairs lie
    # inside; overlaying them all took 3.6 s, testing them on prepared outlines 0.07 s).
    inside = shapely.contains_properly(polygons[area_idx], geoms[line_idx])
    pieces = geoms[line_idx].copy()
    pieces[~inside] = shapely.intersection(geoms[line_idx[~inside]], polygons[area_idx[~inside]])
    totals: dict[tuple[str, str | None], float] = {}
    for area, piece in zip(area_idx, pieces, strict=True):
        parts = [p for p in shapely.get_parts(piece) if p.geom_type in {"LineString", "LinearRing"}]
        km = sum(float(_GEOD.geometry_length(p)) for p in parts) / 1000.0
        if km <= 1e-9:
            continue
        key = (areas.labels[area], areas.codes[area])
        totals[key] = totals.get(key, 0.0) + km
    return totals


def _area_list(totals: Mapping[tuple[str, str | None], float]) -> tuple[AreaKm, ...]:
    items = [AreaKm(name=name, km=km, code=code) for (name, code), km in totals.items()]
    return tuple(sorted(items, key=lambda a: (-a.km, a.name)))


def states_crossed(
    segments: Iterable[Segment], states: gpd.GeoDataFrame | Areas
) -> tuple[AreaKm, ...]:
    """Return the states a set of segments crosses, most km first.

    Parameters
    ----------
    segments : iterable of planner.proposals.proposal.Segment
    states : geopandas.GeoDataFrame or planner.proposals.areas.Areas
        A ``states`` layer (``name``, ``cve_ent``; reprojected to EPSG:4326 if needed), or
        its :meth:`~planner.proposals.areas.Areas.of_states`.

    Returns
    -------
    tuple of AreaKm
        Named by ``name`` (``cve_ent`` when a name is missing), coded by ``cve_ent``.
    """
    areas = states if isinstance(states, Areas) else Areas.of_states(states)
    return _area_list(_overlay_km([s.geometry for s in segments], areas))


def municipalities_crossed(
    segments: Iterable[Segment], municipalities: gpd.GeoDataFrame | Areas
) -> tuple[AreaKm, ...]:
    """Return the municipalities a set of segments crosses, most km first.

    Municipality names repeat across states (there are several Benito Juárez), so each is
    labelled ``"Name, State"`` when the layer has a ``state`` column.

    Parameters
    ----------
    segments : iterable of planner.proposals.proposal.Segment
    municipalities : geopandas.GeoDataFrame or planner.proposals.areas.Areas
        A ``municipalities`` layer (``cvegeo``, ``name``, ``state``), or its
        :meth:`~planner.proposals.areas.Areas.of_municipalities`.

    Returns
    -------
    tuple of AreaKm
    """
    areas = (
        municipalities
        if isinstance(municipalities, Areas)
        else Areas.of_municipalities(municipalities)
    )
    return _area_list(_overlay_km([s.geometry for s in segments], areas))


def _role_metrics(proposal: Proposal, role: str, latency_us_per_km: float) -> RoleMetrics:
    segments = [s for s in proposal.segments if s.role == role]
    total, reuse, fiber = _shares(segments)
    latency = total * latency_us_per_km / 1000.0 if proposal.kind == "route" else None
    return RoleMetrics(
        role=role,
        total_km=total,
        km_by_deployment=_sum_by(segments, "length_km"),
        capex_usd=sum(s.cost_usd for s in segments),
        reuse_share=reuse,
        fiber_reuse_share=fiber,
        segment_count=len(segments),
        one_way_latency_ms=latency,
    )


def is_built(role: str) -> bool:
    """Whether segments of ``role`` are part of what the proposal builds (not an alternative)."""
    return not role.startswith("alternative")


def compute_metrics(
    proposal: Proposal,
    states: gpd.GeoDataFrame | Areas | None = None,
    municipalities: gpd.GeoDataFrame | Areas | None = None,
    latency_us_per_km: float = FIBER_LATENCY_US_PER_KM,
) -> ProposalMetrics:
    """Measure a proposal.

    - Totals count what is built: segments whose role is an ``"alternative-N"`` are options
      and appear only in ``metrics_by_role``.
    - ``total_km``, ``km_by_deployment``: geodesic km of the segments, per deployment type.
    - ``capex_usd_total``: segment costs plus node costs; ``capex_by_deployment`` holds one
      entry per deployment type and one per node-cost key.
    - ``reuse_share``: share of km that rides an existing corridor or existing fiber;
      ``fiber_reuse_share``: share of km on existing fiber alone. Both 0 with no length.
    - ``states_crossed`` / ``municipalities_crossed``: km inside each polygon, most first;
      ``km_outside_states`` is what no state holds (sea, or gaps in the layer).
    - ``one_way_latency_ms`` (fiber propagation only, no equipment delay):

      * route: km of the ``"primary"`` role times ``latency_us_per_km``; with no primary
        role (e.g. a diverse pair), the worst of the built roles;
      * backbone: the longest shortest path between two terminals through the segment
        network (:func:`longest_terminal_path_km`); if the terminals do not connect through
        the segments, half the total km, the path length of a single chain between two ends;
      * last mile: None, access latency depends on the technology, not on km.

    - ``usd_per_person``: capex over ``people_covered``, None without people.
    - ``metrics_by_role``: the same length, cost and reuse figures per segment role, so a
      route's primary can be compared with each alternative.

    Parameters
    ----------
    proposal : planner.proposals.proposal.Proposal
    states : geopandas.GeoDataFrame or planner.proposals.areas.Areas, optional
        A ``states`` layer (or its areas); without it the state figures are None.
    municipalities : geopandas.GeoDataFrame or planner.proposals.areas.Areas, optional
        A ``municipalities`` layer (or its areas); without it the municipality figures
        are None.
    latency_us_per_km : float
        One-way propagation delay per km; 4.9 us/km for single-mode fiber.

    Returns
    -------
    ProposalMetrics

    Examples
    --------
    >>> from shapely import LineString
    >>> from planner.proposals.proposal import Proposal, Segment
    >>> seg = Segment(LineString([(0, 0), (0, 1)]), "greenfield", cost_usd=1_000_000)
    >>> m = compute_metrics(Proposal("route", "demo", (seg,)))
    >>> round(m.total_km, 3), round(m.one_way_latency_ms, 4)
    (110.574, 0.5418)
    """
    if latency_us_per_km < 0:
        raise ValueError("latency_us_per_km must be >= 0")
    # Alternatives are options to compare, not part of what is built: they have their own
    # figures in metrics_by_role and stay out of the totals.
    segments = tuple(s for s in proposal.segments if is_built(s.role))
    total, reuse, fiber = _shares(segments)
    km_by_deployment = _sum_by(segments, "length_km")
    capex_by_deployment = _sum_by(segments, "cost_usd")
    capex_by_deployment.update(proposal.node_costs_usd)
    capex = sum(capex_by_deployment.values())

    by_role = {role: _role_metrics(proposal, role, latency_us_per_km) for role in proposal.roles}

    latency: float | None = None
    if proposal.kind == "route" and by_role:
        if "primary" in by_role:
            latency = by_role["primary"].one_way_latency_ms
        else:
            latency = max(
                (r.one_way_latency_ms or 0.0 for r in by_role.values() if is_built(r.role)),
                default=None,
            )
    elif proposal.kind == "backbone" and segments:
        path_km = longest_terminal_path_km(segments, proposal.terminals)
        if path_km is None:
            path_km = total / 2.0
        latency = path_km * latency_us_per_km / 1000.0

    people = proposal.people_covered
    per_person = capex / people if people else None

    state_list: tuple[AreaKm, ...] | None = None
    outside: float | None = None
    if states is not None:
        state_list = states_crossed(segments, states)
        outside = max(total - sum(a.km for a in state_list), 0.0)
    municipality_list: tuple[AreaKm, ...] | None = None
    municipality_count: int | None = None
    if municipalities is not None:
        municipality_list = municipalities_crossed(segments, municipalities)
        municipality_count = len(municipality_list)

    return ProposalMetrics(
        total_km=total,
        km_by_deployment=km_by_deployment,
        capex_usd_total=capex,
        capex_by_deployment=capex_by_deployment,
        reuse_share=reuse,
        fiber_reuse_share=fiber,
        segment_count=len(segments),
        one_way_latency_ms=latency,
        latency_us_per_km=latency_us_per_km,
        people_covered=people,
        usd_per_person=per_person,
        states_crossed=state_list,
        km_outside_states=outside,
        municipalities_crossed=municipality_list,
        municipality_count=municipality_count,
        metrics_by_role=by_role,
    )
