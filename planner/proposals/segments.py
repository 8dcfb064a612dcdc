"""From routed graph edges to proposal segments a planner can read.

Consecutive edges of one corridor and deployment type become one segment (a route along
40 km of the same highway is one line, not twenty). Greenfield pieces longer than
``min_terrain_km`` are re-routed over the friction surface built from the elevation raster,
so their geometry follows the terrain and their cost carries its slope multiplier; where
that cannot be done (the piece crosses the sea, or there is no elevation raster) the
straight flat-rate estimate stays and a note says so.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import shapely
from shapely import LineString

from layers.errors import TrazoError
from planner.network.greenfield import (
    SURFACE_EPSG,
    GreenfieldLink,
    build_friction_surface,
    greenfield_path,
)
from planner.network.planning_network import PlanningNetwork
from planner.proposals.proposal import Segment, line_length_km

logger = logging.getLogger(__name__)

EdgeKey = tuple[Hashable, Hashable, Any]

DEFAULT_MIN_TERRAIN_KM = 1.0
TERRAIN_MARGIN_DEG = 0.1
"""Room around a greenfield link's ends for its path to detour (about 11 km)."""


def segments_from_edges(
    network: PlanningNetwork,
    edges: Iterable[EdgeKey],
    *,
    role: str,
    notes: list[str] | None = None,
    min_terrain_km: float = DEFAULT_MIN_TERRAIN_KM,
) -> list[Segment]:
    """Turn graph edges (in route order, or any order for a tree) into segments.

    Parameters
    ----------
    network
        The network the edges belong to.
    edges
        ``(u, v, key)`` edge keys.
    role
        Role of every segment ("primary", "backbone", ...).
    notes
        Collects notes about greenfield pieces that could not follow the terrain.
    min_terrain_km
        Greenfield pieces at least this long are re-routed over the terrain.
    """
    graph = network.graph
    edges = list(edges)
    datas = [graph.edges[u, v, key] for u, v, key in edges]
    starts = [graph.nodes[u] for u, _, _ in edges]
    lines = _oriented([data["geometry"] for data in datas], starts)
    # a run continues only through a node where nothing else joins: a tree's branch point
    # (a drop to a terminal, another corridor) ends the segment so the branch meets a vertex
    degree = Counter(node for u, v, _ in edges for node in (u, v))
    runs: list[tuple[tuple[Any, ...], list[dict[str, Any]], list[LineString]]] = []
    last: tuple[Hashable, Hashable] | None = None
    for (u, v, _), data, geometry in zip(edges, datas, lines, strict=True):
        group = (data.get("corridor"), data["deployment_type"], data.get("kind"))
        if runs and runs[-1][0] == group and group[0] is not None and _chained(last, u, v, degree):
            runs[-1][1].append(data)
            runs[-1][2].append(geometry)
        else:
            runs.append((group, [data], [geometry]))
        last = (u, v)
    segments = []
    model = network.cost_model
    for (_, deployment, kind), datas, lines in runs:
        first = datas[0]
        parts = _merged(lines)
        total_km = sum(float(d["length_km"]) for d in datas)
        part_km = [total_km] if len(parts) == 1 else [line_length_km(p) for p in parts]
        for part, km in zip(parts, part_km, strict=True):
            # priced like its edges (price_edge): km x the deployment's rate (its road
            # class's on a classed road) x its multipliers
            road_class = first.get("road_class") if deployment == "highway" else None
            segment = Segment(
                geometry=part,
                deployment_type=deployment,
                length_km=km,
                rate_usd_per_km=model.corridor_usd_per_km(deployment, road_class),
                multipliers=first.get("multipliers") or {},
                source_layer=first.get("layer"),
                corridor=_corridor_label(first.get("corridor")),
                reuses_corridor=bool(first.get("reuses_corridor")),
                reuses_fiber=bool(first.get("reuses_fiber")),
                role=role,
                name=first.get("name"),
                extra=_extra(kind, datas, road_class),
            )
            if deployment == "greenfield" and segment.length_km >= min_terrain_km:
                segment = follow_terrain(network, segment, notes)
            segments.append(segment)
    return segments


def follow_terrain(
    network: PlanningNetwork, segment: Segment, notes: list[str] | None = None
) -> Segment:
    """Re-route a straight greenfield segment as a least-cost path over the terrain."""
    if network.elevation is None:
        _note(notes, "no elevation raster: greenfield links are straight lines at the flat rate")
        return segment
    coords = list(segment.geometry.coords)
    start, end = coords[0], coords[-1]
    pad = 1e-4  # a link due north or due east still spans a region of non-zero width
    bounds = (
        min(start[0], end[0]) - pad,
        min(start[1], end[1]) - pad,
        max(start[0], end[0]) + pad,
        max(start[1], end[1]) + pad,
    )
    corridors = network.corridor_lines_near(bounds, TERRAIN_MARGIN_DEG, crs=SURFACE_EPSG)
    try:
        surface = build_friction_surface(
            network.elevation,
            corridors,
            bounds,
            network.cost_model,
            margin_deg=TERRAIN_MARGIN_DEG,
            land=network.land,
        )
        link = greenfield_path(surface, (start[0], start[1]), (end[0], end[1]))
    except TrazoError as err:
        logger.info("greenfield link kept straight: %s", err)
        _note(
            notes,
            f"a {segment.length_km:.1f} km greenfield link could not follow the terrain "
            f"({err.message}); it is a straight line at the flat rate",
        )
        return segment
    extra = dict(segment.extra)
    extra["corridor_share"] = round(link.corridor_share, 4)
    return Segment(
        geometry=link.geometry,
        deployment_type="greenfield",
        length_km=link.length_km,
        rate_usd_per_km=network.cost_model.usd_per_km("greenfield"),
        multipliers=terrain_multipliers(link, network.cost_model.usd_per_km("greenfield")),
        source_layer=None,
        corridor=None,
        role=segment.role,
        name=segment.name,
        extra=extra,
    )


def _extra(
    kind: str | None, datas: list[dict[str, Any]], road_class: str | None = None
) -> dict[str, Any]:
    """What a segment says beyond its columns: edge kind, road class, a new subsea
    crossing's landings."""
    extra: dict[str, Any] = {"edge_kind": kind} if kind else {}
    if road_class:
        extra["road_class"] = road_class  # the class whose rate it restates
    landings = sum(int(d.get("landings") or 0) for d in datas)
    if landings:
        # the proposal's node cost "subsea_landings" counts landings x usd_per_landing
        extra["landings"] = landings
        extra["usd_per_landing"] = float(datas[0]["usd_per_landing"])
    if "published_km" in datas[0]:
        # a cable priced on its published length (the multiplier published_length)
        extra["published_km"] = round(sum(float(d["published_km"]) for d in datas), 3)
        extra["length_source"] = str(datas[0]["length_source"])
    return extra


def terrain_multipliers(link: GreenfieldLink, usd_per_km: float) -> dict[str, float]:
    """The factors on the greenfield rate ``usd_per_km`` of a link routed over the terrain.

    The link's cost is its km times the greenfield rate times the length-weighted mean
    friction of the cells it crosses. That mean is split into two stated factors whose
    product it is: ``terrain``, the mean slope multiplier of the ground crossed (the cost
    model's slope bands), and ``corridor_ground``, what laying part of the trench beside an
    existing right of way at that right of way's rate saves (present only when the link
    runs along one; ``extra["corridor_share"]`` says how much of it does).
    """
    if link.length_km <= 0 or usd_per_km <= 0:
        return {}
    mean_friction = link.cost_usd / (link.length_km * usd_per_km)
    terrain = link.mean_terrain_multiplier
    factors = {"terrain": terrain}
    if link.corridor_share > 0 and abs(mean_friction - terrain) > 1e-9 * terrain:
        factors["corridor_ground"] = mean_friction / terrain
    return factors


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None and text not in notes:
        notes.append(text)


def _oriented(lines: list[LineString], start_nodes: list[dict[str, Any]]) -> list[LineString]:
    """Each edge geometry running away from its start node (reversed where it runs to it).

    Read for every edge at once: a million-segment route has a thousand or more edges, and
    reading each line's first point alone cost more than making its segment.
    """
    if not lines:
        return []
    geometries = np.empty(len(lines), dtype=object)
    geometries[:] = lines
    first = shapely.get_coordinates(shapely.get_point(geometries, 0))
    node_x = np.array([float(node["x"]) for node in start_nodes])
    node_y = np.array([float(node["y"]) for node in start_nodes])
    away = (np.abs(first[:, 0] - node_x) < 1e-6) & (np.abs(first[:, 1] - node_y) < 1e-6)
    geometries[~away] = shapely.reverse(geometries[~away])
    return list(geometries)


def _chained(
    last: tuple[Hashable, Hashable] | None, u: Hashable, v: Hashable, degree: Counter[Hashable]
) -> bool:
    """Whether edge ``(u, v)`` continues the run of edge ``last`` through a node where
    nothing else joins. Asked only of an edge of the run's own corridor: on a street grid
    nearly every edge is a corridor of its own."""
    through = set(last or ()) & {u, v}
    return any(degree[node] == 2 for node in through)


def _merged(lines: list[LineString]) -> list[LineString]:
    """Consecutive pieces of one corridor joined into as few lines as they allow."""
    if len(lines) == 1:
        return lines
    merged = shapely.line_merge(shapely.MultiLineString(lines))
    if isinstance(merged, LineString):
        return [merged]
    return [part for part in shapely.get_parts(merged) if isinstance(part, LineString)]


def _corridor_label(corridor: Any) -> str | None:
    if corridor is None:
        return None
    layer, feature = corridor
    return f"{layer}:{feature}"
