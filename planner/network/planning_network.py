"""The planning network: the corridor graph priced by a cost model, made whole, with places.

Every edge of the corridor graph gets a ``deployment_type`` and a ``cost_usd`` from the cost
model. Corridor networks that never touch (a pipeline that stops short of a highway, an
island of rail) are joined to the rest by greenfield *bridges*: straight new-trench edges
priced at the flat greenfield rate, so a proposal may leave a corridor, cross country and
join another. A bridge or long connector that a proposal uses is later re-routed over the
terrain (:mod:`planner.proposals.segments`), which can only make it dearer than the flat estimate.

Land and water (:class:`planner.network.land.Land`, the union of the stored states): corridor
lines are cut at the coast before noding, so the offshore part of a pipeline is no land
corridor; a bridge or a drop never runs over water beyond the coastal tolerance. Where
the only way across is water (an island, the Gulf of California) the water stretch is a
``subsea`` edge priced as one link: cable km x the subsea rate + the cost model's landing
cost (``nodes.landing``) for each end that reaches the shore (``landings`` on the edge).
Places outside the planning area (the land and its margin) are refused.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely import LineString

from layers.errors import TrazoError
from planner.network.attach import attach_coordinates, attach_point
from planner.network.corridor_graph import (
    GRAPH_CRS,
    CorridorGraph,
    build_corridor_graph,
    geodesic_km,
    project,
    to_analysis_crs,
)
from planner.network.cost_model import CostModel
from planner.network.edge_table import TableGraph
from planner.network.greenfield import CorridorLines
from planner.network.land import Land, Piece
from planner.network.overlay import OverlayGraph, overlay
from planner.network.places import Place
from planner.network.planning_memo import PlanningMemo
from planner.search.shortest_paths import CSRGraph

if TYPE_CHECKING:
    import geopandas as gpd

logger = logging.getLogger(__name__)

REUSED_DEPLOYMENTS = frozenset({"fiber_lease", "rail", "highway", "pipeline", "power_aerial"})
"""Deployment types that ride an existing corridor (and so reuse a right of way)."""

DEFAULT_CONNECTOR_KM = 5.0
"""Drops up to this length are short ``connector`` builds; longer ones are greenfield."""

DEFAULT_MAX_BRIDGE_KM = 150.0
"""Corridor networks farther apart than this are not bridged (an island, another country)."""

BRIDGE_CANDIDATES = 8
"""Node pairs (nearest first) tried when bridging a corridor network to the rest."""


@dataclass
class PlanningNetwork:
    """A priced, routable corridor graph and what it was built from.

    Attributes
    ----------
    graph
        ``MultiGraph`` with ``deployment_type``, ``cost_usd``, ``length_km`` and
        ``geometry`` (EPSG:4326) on every edge and ``x``, ``y`` (lon, lat) on every node.
    cost_model
        The cost model that priced it.
    elevation
        Elevation GeoTIFF for re-routing greenfield links over terrain, if available.
    elevations
        Every elevation GeoTIFF available (``elevation`` among them); a last mile's radio
        paths take the finest that holds its localities
        (:func:`planner.plans.radio.choose_elevation`).
    layers
        Names of the corridor layers in the graph.
    bridges
        Number of greenfield bridges added to join separate corridor networks.
    places
        Node of each attached place, by :func:`place_key`.
    corridor_lines
        The corridor edges as lines, for the terrain surface (built with the network, or
        on first use by a network made otherwise).
    caveats
        Layer name to what the layer really is when it stands in for something else (from
        the store's catalog); proposals reusing such a layer say so.
    land
        The land (states) the network was cut to; None when built without it.
    offshore_km
        Corridor km cut off because they lie at sea.
    subsea_bridges
        How many of the bridges cross water as subsea links.
    """

    graph: nx.MultiGraph
    cost_model: CostModel
    elevation: Path | None = None
    elevations: tuple[Path, ...] = ()
    layers: tuple[str, ...] = ()
    bridges: int = 0
    places: dict[str, Hashable] = field(default_factory=dict)
    corridor_lines: gpd.GeoDataFrame | None = None
    caveats: Mapping[str, str] = field(default_factory=dict)
    land: Land | None = None
    offshore_km: float = 0.0
    subsea_bridges: int = 0
    memo: PlanningMemo | None = field(default=None, repr=False, compare=False)
    """Where work repeated on this network (attaching a state's places, a radio survey) is
    kept, for this network as read from the build cache (:mod:`planner.network.planning_memo`);
    None: always worked out."""
    _lines_in: dict[int, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Corridor lines reprojected so far, by EPSG code (None where not yet needed); each
    working copy starts with none, so nothing of it is shared or stored."""

    def link_cost(self, pieces: Sequence[Piece]) -> float:
        """Flat price of a new link made of land and water pieces (see the module doc)."""
        return link_cost(self.cost_model, pieces)

    def copy(self) -> PlanningNetwork:
        """A working copy that a request may change without changing this network.

        Planning attaches places: it splits corridor edges, adds drops and, for a diverse
        route, extra drops that join corridors through the place. Done on a shared network,
        one request's attachments would change the graph the next request sees (its node
        numbering, its tie-breaks, its shortcuts), so a proposal would depend on what was
        planned before it. Every planning function works on a copy instead: an overlay
        (:func:`planner.network.overlay.overlay`) that shares this network's nodes, edges and
        attribute dicts and copies only what the request changes, so a copy costs a
        pointer per node and this network is never written to.
        """
        if self.corridor_lines is None and _table_of(self.graph) is None:
            # computed once from the untouched corridors, before any attachment splits them
            # (a network read from its table answers from the table's arrays instead)
            self.corridor_lines = _corridor_lines(self.graph)
        graph = overlay(self.graph) if isinstance(self.graph, CorridorGraph) else self.graph.copy()
        return dataclasses.replace(self, graph=graph, places=dict(self.places))

    def corridors_near(
        self,
        bounds: tuple[float, float, float, float],
        margin_deg: float,
        crs: int | None = None,
    ) -> gpd.GeoDataFrame | None:
        """Corridor lines (with their ``deployment`` type) within ``margin_deg`` of ``bounds``.

        :meth:`corridor_lines_near` as a frame, indexed by the lines' rows in
        :attr:`corridor_lines`.
        """
        found = self._near(bounds, margin_deg, crs)
        if found is None:
            return None
        import geopandas as gpd
        import pandas as pd

        rows, near = found
        return gpd.GeoDataFrame(
            {"deployment": list(near.deployments)},
            geometry=list(near.lines),
            index=pd.Index(rows),
            crs=near.epsg,
        )

    def corridor_lines_near(
        self,
        bounds: tuple[float, float, float, float],
        margin_deg: float,
        crs: int | None = None,
    ) -> CorridorLines | None:
        """Corridor lines (with their deployment type) within ``margin_deg`` of ``bounds``.

        Greenfield links are routed over a friction surface on which these are cheaper
        ground, so a new trench may run alongside an existing right of way. ``bounds`` are
        lon/lat; the lines come in EPSG:4326, or in the EPSG code ``crs`` (the surface's),
        each line reprojected once however many links of a plan ask for it. They come in
        the order of :attr:`corridor_lines` (layer order).
        """
        found = self._near(bounds, margin_deg, crs)
        return None if found is None else found[1]

    def _near(
        self,
        bounds: tuple[float, float, float, float],
        margin_deg: float,
        crs: int | None,
    ) -> tuple[npt.NDArray[np.intp], CorridorLines] | None:
        """The rows (of :attr:`corridor_lines`) and lines of :meth:`corridor_lines_near`."""
        west, south, east, north = bounds
        window = shapely.box(
            west - margin_deg, south - margin_deg, east + margin_deg, north + margin_deg
        )
        table = _table_of(self.graph) if self.corridor_lines is None else None
        if table is not None:
            return self._table_near(table, window, crs)
        if self.corridor_lines is None:
            self.corridor_lines = _corridor_lines(self.graph)
        # the rows ``.cx[...]`` gives (lines meeting the window, in layer order), found
        # through the spatial index rather than by testing all of the nation's corridors
        hits = np.sort(self.corridor_lines.sindex.query(window, predicate="intersects"))
        if not hits.size:
            return None
        deployments = self.corridor_lines["deployment"].iloc[hits].tolist()
        lines = np.asarray(self.corridor_lines.geometry.values, dtype=object)
        if crs is None:
            return hits, CorridorLines(deployments, list(lines[hits]), GRAPH_EPSG)
        done = self._lines_in.setdefault(crs, np.full(len(lines), None, dtype=object))
        todo = hits[[line is None for line in done[hits]]]
        if todo.size:
            done[todo] = _reprojected(lines[todo], crs)
        return hits, CorridorLines(deployments, list(done[hits]), crs)

    def _table_near(
        self, table: TableGraph, window: shapely.Polygon, crs: int | None
    ) -> tuple[npt.NDArray[np.intp], CorridorLines] | None:
        """:meth:`_near` from the table's arrays: the same rows, numbered as
        :attr:`corridor_lines` would number them, without making every line."""
        edges, bounds = table.corridor_lines()
        west, south, east, north = window.bounds
        box = (
            (bounds[:, 0] <= east)
            & (bounds[:, 2] >= west)
            & (bounds[:, 1] <= north)
            & (bounds[:, 3] >= south)
        )
        rows = np.flatnonzero(box)
        lines = np.asarray([table.edge_line(int(e)) for e in edges[rows]], dtype=object)
        hit = shapely.intersects(lines, window) if rows.size else np.zeros(0, dtype=bool)
        rows, lines = rows[hit], lines[hit]
        if not rows.size:
            return None
        deployment = [table.edge_data(int(e))["deployment_type"] for e in edges[rows]]
        if crs is not None:
            done = self._lines_in.setdefault(crs, {})
            todo = [i for i, r in enumerate(rows.tolist()) if r not in done]
            if todo:
                found = _reprojected(lines[todo], crs)
                for i, line in zip(todo, found, strict=True):
                    done[int(rows[i])] = line
            lines = np.asarray([done[r] for r in rows.tolist()], dtype=object)
        return rows, CorridorLines(deployment, list(lines), GRAPH_EPSG if crs is None else crs)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if not isinstance(self.graph, OverlayGraph):
            # remade from the graph when needed (a table-backed network never needs it)
            state["corridor_lines"] = None
        state["_lines_in"] = {}
        return state


GRAPH_EPSG = 4326
"""The EPSG code of :data:`planner.network.corridor_graph.GRAPH_CRS` (lon/lat)."""

ANALYSIS_EPSG = 6372
"""The EPSG code of :data:`planner.network.corridor_graph.ANALYSIS_CRS` (metres)."""


def _reprojected(lines: npt.NDArray[np.object_], epsg: int) -> npt.NDArray[np.object_]:
    """Lon/lat lines in EPSG ``epsg``: the coordinates reprojecting them as a frame gives
    (one always-xy transformer; PROJ goes point by point)."""
    if epsg == ANALYSIS_EPSG:  # the surfaces' CRS: the transformer this thread keeps
        projected: npt.NDArray[np.object_] = project(lines)
        return projected
    transformer = Transformer.from_crs(GRAPH_CRS, epsg, always_xy=True)
    reprojected: npt.NDArray[np.object_] = shapely.transform(
        lines, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1]))
    )
    return reprojected


def link_cost(model: CostModel, pieces: Sequence[Piece]) -> float:
    """Flat price of a new link made of land and water pieces (see the module doc)."""
    total = 0.0
    for piece in pieces:
        km = _line_km(piece.geometry)
        if piece.on_land:
            total += model.edge_cost_usd("greenfield", km)
        else:
            total += model.edge_cost_usd("subsea", km)
            total += piece.landings * model.nodes.landing.usd_each
    return total


def _table_of(graph: nx.MultiGraph) -> TableGraph | None:
    """The table a network's graph (or the graph its overlay copies) was read from."""
    if isinstance(graph, OverlayGraph):
        graph = graph.base
    return graph if isinstance(graph, TableGraph) else None


def _corridor_lines(graph: nx.MultiGraph) -> gpd.GeoDataFrame:
    """The graph's corridor edges (no drops or bridges) as lines with a ``deployment``."""
    # a network built in this process (no planning cache): geopandas is loaded already
    import geopandas as gpd

    rows = [
        (data["deployment_type"], data["geometry"])
        for _, _, data in graph.edges(data=True)
        if data.get("kind") in {"rights_of_way", "fiber_routes"}
    ]
    deployments = [deployment for deployment, _ in rows]
    return gpd.GeoDataFrame(
        {"deployment": deployments}, geometry=[geometry for _, geometry in rows], crs=GRAPH_CRS
    )


def build_network(
    corridors: Mapping[str, gpd.GeoDataFrame],
    cost_model: CostModel,
    *,
    elevation: Path | None = None,
    elevations: Sequence[Path] = (),
    snap_tolerance_m: float = 50.0,
    max_bridge_km: float = DEFAULT_MAX_BRIDGE_KM,
    land: Land | None = None,
    caveats: Mapping[str, str] | None = None,
) -> PlanningNetwork:
    """Build the priced planning network from corridor layers.

    Parameters
    ----------
    corridors
        Layer name to EPSG:4326 line frame, of kind ``rights_of_way`` or ``fiber_routes``.
    cost_model
        Prices every edge.
    elevation
        Elevation raster used later to re-route greenfield links over the terrain.
    elevations
        Every elevation raster, for radio paths (``elevation`` is added when missing).
    snap_tolerance_m
        Line ends closer than this are joined (see
        :func:`planner.network.corridor_graph.build_corridor_graph`).
    max_bridge_km
        Longest greenfield bridge added between separate corridor networks.
    land
        The land the network is built on: corridor lines are cut at its coast, bridges and
        drops obey it, places outside its planning area are refused. None plans without
        knowing land from water.
    caveats
        Layer name to its caveat (e.g. a fiber layer that is a proxy); kept for proposals.

    Returns
    -------
    PlanningNetwork
    """
    offshore_km = 0.0
    lines = dict(corridors)
    for name, frame in lines.items():
        lines[name], removed = cut_at_coast(name, frame, land)
        offshore_km += removed
    graph = build_corridor_graph(lines, snap_tolerance_m=snap_tolerance_m)
    for _, _, data in graph.edges(data=True):
        price_edge(data, cost_model)
    share_physical_corridors(graph)
    network = network_from_graph(
        graph,
        cost_model,
        tuple(corridors),
        elevation=elevation,
        elevations=elevations,
        land=land,
        offshore_km=offshore_km,
        caveats=caveats,
    )
    network.bridges, network.subsea_bridges = bridge_components(
        graph, cost_model, max_bridge_km=max_bridge_km, network=network
    )
    # kept with the network, and so in the build cache: every process would otherwise
    # rebuild it from the graph on its first copy
    network.corridor_lines = _corridor_lines(graph)
    logger.info(
        "planning network: %d nodes, %d edges, %d bridges (%d subsea)",
        graph.number_of_nodes(),
        graph.number_of_edges(),
        network.bridges,
        network.subsea_bridges,
    )
    return network


def cut_at_coast(
    name: str, frame: gpd.GeoDataFrame, land: Land | None
) -> tuple[gpd.GeoDataFrame, float]:
    """Layer ``name``'s lines cut at ``land``'s coast, and the km cut off (logged)."""
    if land is None:
        return frame, 0.0
    kept, removed = land.clip_lines(frame)
    if removed > 0:
        logger.info("%s: %.1f km at sea cut off", name, removed)
    return kept, removed


def network_from_graph(
    graph: CorridorGraph,
    cost_model: CostModel,
    layers: Sequence[str],
    *,
    elevation: Path | None,
    elevations: Sequence[Path],
    land: Land | None,
    offshore_km: float,
    caveats: Mapping[str, str] | None,
    bridges: int = 0,
    subsea_bridges: int = 0,
) -> PlanningNetwork:
    """The :class:`PlanningNetwork` of a built ``graph`` of corridor ``layers``.

    Every elevation raster once (``elevation`` among them), and the caveats of the
    layers built only.
    """
    return PlanningNetwork(
        graph=graph,
        cost_model=cost_model,
        elevation=elevation,
        elevations=tuple(
            dict.fromkeys([*elevations, *([elevation] if elevation is not None else [])])
        ),
        layers=tuple(layers),
        land=land,
        offshore_km=offshore_km,
        caveats={k: v for k, v in (caveats or {}).items() if k in layers},
        bridges=bridges,
        subsea_bridges=subsea_bridges,
    )


def price_edge(data: dict[str, Any], cost_model: CostModel) -> None:
    """Set ``deployment_type``, ``cost_usd`` and reuse flags on one corridor edge in place."""
    kind = data.get("kind")
    if kind == "fiber_routes":
        leasable = bool(data.get("lease_available")) and data.get("status") != "planned"
        deployment = cost_model.deployment_for_row_type(
            str(data.get("row_type") or "other"), is_fiber=True, lease_available=leasable
        )
    elif kind == "rights_of_way":
        deployment = cost_model.deployment_for_row_type(str(data.get("row_type") or "other"))
    else:
        deployment = str(data.get("deployment_type") or data.get("deployment") or "greenfield")
    data["deployment_type"] = deployment
    road_class = data.get("road_class") if deployment == "highway" else None
    # stated factors on the rate (none on corridors today); a segment restates them
    factor = math.prod(float(v) for v in (data.get("multipliers") or {}).values())
    data["cost_usd"] = (
        cost_model.corridor_usd_per_km(deployment, road_class) * float(data["length_km"]) * factor
    )
    landings = int(data.get("landings") or 0)
    if landings:
        # a new subsea crossing lands its cable at each shore it reaches: a lump sum on
        # the edge for routing; a proposal states it as its node cost "subsea_landings"
        data["usd_per_landing"] = cost_model.nodes.landing.usd_each
        data["cost_usd"] += landings * data["usd_per_landing"]
    data["reuses_fiber"] = deployment == "fiber_lease"
    data["reuses_corridor"] = deployment in REUSED_DEPLOYMENTS


def share_physical_corridors(graph: nx.MultiGraph, *, tolerance: float = 0.005) -> int:
    """Give fiber that runs on a right of way that right of way's corridor; return how many.

    A fiber route strung on the same towers or laid in the same trench as a right of way
    (CFE's OPGW on its transmission lines) is cut by the same backhoe or storm: one shared
    risk. Parallel edges between the same two nodes whose lengths agree within
    ``tolerance`` are taken to be the same path. The fiber edge keeps its own corridor in
    ``fiber_corridor``.
    """
    shared = 0
    # only node pairs with a fiber edge can share (a road layer has millions of others)
    fiber = {
        (min(a, b), max(a, b))
        for a, b, kind in graph.edges(data="kind")
        if kind == "fiber_routes" and a != b
    }
    for u, v in fiber:
        parallel = graph.get_edge_data(u, v)
        if len(parallel) < 2:
            continue
        ways = [d for d in parallel.values() if d.get("kind") == "rights_of_way"]
        for data in parallel.values():
            if data.get("kind") != "fiber_routes":
                continue
            for way in ways:
                if abs(way["length_km"] - data["length_km"]) <= tolerance * way["length_km"]:
                    data["fiber_corridor"] = data["corridor"]
                    data["corridor"] = way["corridor"]
                    shared += 1
                    break
    return shared


def bridge_components(
    graph: nx.MultiGraph,
    cost_model: CostModel,
    *,
    max_bridge_km: float = DEFAULT_MAX_BRIDGE_KM,
    network: PlanningNetwork | None = None,
) -> tuple[int, int]:
    """Join separate corridor networks with bridges; return how many (and how many subsea).

    Networks are taken from the largest down; each is joined to the networks already
    joined (distances in EPSG:6372) when they are within ``max_bridge_km``. Without land,
    the bridge is a straight greenfield edge between the nearest two nodes. With the
    network's land, the :data:`BRIDGE_CANDIDATES` nearest node pairs are priced as links
    that keep off water (a land stretch is greenfield, a water stretch a subsea crossing
    with its landings) and the cheapest is built.
    """
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    if len(components) < 2:
        return 0, 0
    nodes = np.array(list(graph.nodes))
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes])
    land = network.land if network is not None else None
    links = choose_bridges(
        nodes, xy, components, cost_model, max_bridge_km=max_bridge_km, land=land
    )
    for a, b, pieces in links:
        add_link(graph, a, b, pieces, cost_model, kind="bridge")
    return len(links), sum(any(not p.on_land for p in pieces) for _, _, pieces in links)


def choose_bridges(
    nodes: np.ndarray,
    xy: np.ndarray,
    components: Sequence[Any],
    cost_model: CostModel,
    *,
    max_bridge_km: float,
    land: Land | None,
) -> list[tuple[Any, Any, list[Piece]]]:
    """The bridges :func:`bridge_components` builds: ``(a, b, pieces)`` in order.

    ``nodes`` are the node ids, ``xy`` their lon/lat, ``components`` the connected
    components (node ids, largest first, each in the order networkx gives them: a
    tie between equally near nodes goes to the first).
    """
    to_metric = to_analysis_crs()
    mx, my = to_metric.transform(xy[:, 0], xy[:, 1])
    metric = np.column_stack([mx, my])
    row_of = {node: i for i, node in enumerate(nodes.tolist())}
    joined = _JoinedNodes(metric, [row_of[n] for n in components[0]])
    links: list[tuple[Any, Any, list[Piece]]] = []
    for component in components[1:]:
        rows = np.array([row_of[n] for n in component])
        distance, nearest = joined.nearest(rows)
        best = int(np.argmin(distance))
        if distance[best] / 1000.0 > max_bridge_km:
            continue
        if land is None:
            a, b = nodes[rows[best]].item(), nodes[nearest[best]].item()
            links.append((a, b, [Piece(_line(xy, rows[best], nearest[best]), True)]))
        else:
            order = np.argsort(distance, kind="stable")[:BRIDGE_CANDIDATES]
            options = []
            for i in order.tolist():
                a, b = nodes[rows[i]].item(), nodes[nearest[i]].item()
                pieces = land.pieces(_line(xy, rows[i], nearest[i]))
                options.append((link_cost(cost_model, pieces), i, a, b, pieces))
            _, _, a, b, pieces = min(options, key=lambda option: (option[0], option[1]))
            links.append((a, b, pieces))
        joined.extend(rows)
    return links


def _line(xy: np.ndarray, a: int, b: int) -> LineString:
    """The straight line between rows ``a`` and ``b`` of ``xy`` (as :func:`_straight`)."""
    return LineString([(float(xy[a, 0]), float(xy[a, 1])), (float(xy[b, 0]), float(xy[b, 1]))])


class _JoinedNodes:
    """The nodes joined so far, searchable for the one nearest each of a set of points.

    A KD-tree over every joined node, rebuilt for each of thousands of small components
    (a national road layer's islands of streets), made bridging quadratic. Here a large
    tree is rebuilt only once the nodes joined since outnumber a quarter of it; those are
    kept in a small tree of their own, and a query takes the nearer of the two answers
    (the large tree's on a tie: the node joined first).
    """

    def __init__(self, metric: np.ndarray, rows: Sequence[int]) -> None:
        # scipy's k-d tree is for building (bridging): a warm plan never imports it
        from scipy.spatial import cKDTree

        self.metric = metric
        self.settled = np.asarray(rows, dtype=np.int64)
        self.recent = np.empty(0, dtype=np.int64)
        self.settled_tree = cKDTree(metric[self.settled])
        self.recent_tree: cKDTree | None = None

    def extend(self, rows: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        self.recent = np.concatenate([self.recent, rows.astype(np.int64)])
        if self.recent.size * 4 > self.settled.size:
            self.settled = np.concatenate([self.settled, self.recent])
            self.recent = np.empty(0, dtype=np.int64)
            self.settled_tree = cKDTree(self.metric[self.settled])
            self.recent_tree = None
        else:
            self.recent_tree = cKDTree(self.metric[self.recent])

    def nearest(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance (m) from each of ``rows`` to its nearest joined node, and that node's row."""
        points = self.metric[rows]
        distance, position = self.settled_tree.query(points)
        nearest = self.settled[position]
        if self.recent_tree is not None:
            recent_distance, recent_position = self.recent_tree.query(points)
            closer = recent_distance < distance
            distance = np.where(closer, recent_distance, distance)
            nearest = np.where(closer, self.recent[recent_position], nearest)
        return distance, nearest


def _straight(graph: nx.MultiGraph, a: Hashable, b: Hashable) -> LineString:
    return LineString(
        [(graph.nodes[a]["x"], graph.nodes[a]["y"]), (graph.nodes[b]["x"], graph.nodes[b]["y"])]
    )


def _line_km(line: LineString) -> float:
    coords = np.asarray(line.coords)
    if len(coords) < 2:
        return 0.0
    return float(np.sum(geodesic_km(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])))


def add_link(
    graph: nx.MultiGraph,
    a: Hashable,
    b: Hashable,
    pieces: Sequence[Piece],
    cost_model: CostModel,
    *,
    kind: str,
) -> None:
    """Add a new link from ``a`` to ``b`` as land (greenfield) and water (subsea) edges.

    ``pieces`` run from ``a`` to ``b`` (:meth:`planner.network.land.Land.pieces`); a node of kind
    ``shore`` is added where one piece meets the next.
    """
    here = a
    records = link_records(pieces, cost_model, kind=kind)
    for i, (piece, data) in enumerate(zip(pieces, records, strict=True)):
        end = piece.geometry.coords[-1]
        if i == len(pieces) - 1:
            there = b
        else:
            there = int(graph.graph.get("next_node", graph.number_of_nodes()))
            while there in graph:
                there += 1
            graph.graph["next_node"] = there + 1
            graph.add_node(there, x=float(end[0]), y=float(end[1]), kind="shore")
        graph.add_edge(here, there, **data)
        here = there


def link_records(
    pieces: Sequence[Piece], cost_model: CostModel, *, kind: str
) -> list[dict[str, Any]]:
    """The priced edge of each piece of a new link (:func:`add_link`), in order."""
    records = []
    for piece in pieces:
        water = not piece.on_land
        data: dict[str, Any] = {
            "layer": None,
            "feature_id": None,
            "corridor": None,
            "kind": kind,
            "deployment_type": "subsea" if water else "greenfield",
            "name": f"subsea {kind}" if water else f"greenfield {kind}",
            "length_km": _line_km(piece.geometry),
            "geometry": piece.geometry,
        }
        if water:
            data["landings"] = piece.landings
        price_edge(data, cost_model)
        records.append(data)
    return records


DEFAULT_CANDIDATE_KM = 75.0
"""Longest new-build link a ring may add between two points of the network."""
SHORTCUT_RATIO = 1.3
"""A new-build link is offered only where the network's way round is this much longer."""


def add_greenfield_candidates(
    network: PlanningNetwork,
    nodes: Sequence[Hashable],
    *,
    max_km: float = DEFAULT_CANDIDATE_KM,
    per_node: int = 4,
) -> int:
    """Offer straight new-build links from ``nodes`` to nearby nodes; return how many.

    A ring closed over corridors alone may run hundreds of kilometres round to find a
    second way between two towns 50 km apart; a short new trench may be far cheaper. From
    each node, the nearest nodes within ``max_km`` (EPSG:6372) are candidates when the
    network's shortest way between them is at least :data:`SHORTCUT_RATIO` times the
    straight line: a real shortcut, not a trench beside a corridor that is already there
    (two paths side by side share every backhoe and are no ring). The ``per_node`` shortest
    over land become ``greenfield`` edges of kind ``candidate``, priced at the flat rate
    here and re-routed over the terrain if a proposal uses them.
    """
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    graph = network.graph
    model = network.cost_model
    order = list(graph.nodes)
    row_of = {node: i for i, node in enumerate(order)}
    to_metric = to_analysis_crs()
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in order])
    mx, my = to_metric.transform(xy[:, 0], xy[:, 1])
    metric = np.column_stack([mx, my])
    tree = cKDTree(metric)
    csr = CSRGraph.from_networkx(graph, weight="length_km")
    added = 0
    pairs: set[tuple[Hashable, Hashable]] = set()
    for node in dict.fromkeys(nodes):
        i = row_of[node]
        _, near = tree.query(metric[i], k=4 * per_node + 1, distance_upper_bound=max_km * 1000)
        near = [int(j) for j in np.atleast_1d(near) if j < len(order) and j != i]
        if not near:
            continue
        reach = dijkstra(csr.matrix, indices=csr.row(node), limit=max_km * SHORTCUT_RATIO)
        offers = []
        for j in near:
            other = order[j]
            start, end = xy[i], xy[j]
            km = float(geodesic_km(start[0], start[1], end[0], end[1]))
            if km < 0.5:
                continue  # a few hundred metres: a connector's job, not a ring's
            detour = float(reach[csr.row(other)])  # inf beyond the search limit
            pair = (min(node, other, key=str), max(node, other, key=str))
            if detour >= SHORTCUT_RATIO * km and pair not in pairs:
                offers.append((km, str(other), other))
        taken = 0
        for _, _, other in sorted(offers):
            if taken == per_node:
                break
            line = _straight(graph, node, other)
            pieces = [Piece(line, True)] if network.land is None else network.land.pieces(line)
            if any(not piece.on_land for piece in pieces):
                continue  # a ring's new trench stays on land
            pairs.add((min(node, other, key=str), max(node, other, key=str)))
            add_link(graph, node, other, pieces, model, kind="candidate")
            added += 1
            taken += 1
    return added


def attach_place(
    network: PlanningNetwork,
    place: Place,
    *,
    connector_km: float = DEFAULT_CONNECTOR_KM,
    max_connector_km: float | None = None,
) -> Hashable:
    """Connect a place to the network at the nearest point of the nearest corridor.

    The drop from the place to the corridor is a ``connector`` build up to
    ``connector_km`` long and a ``greenfield`` build beyond. A place attached before is
    not attached twice.

    Returns
    -------
    Hashable
        The place's node.
    """
    key = place_key(place)
    if key in network.places:
        return network.places[key]
    if network.land is not None:
        network.land.check_place(place.name, place.lon, place.lat)
    node = attach_point(
        network.graph,
        place.lon,
        place.lat,
        name=place.name,
        max_connector_km=max_connector_km,
        land=network.land,
        link_cost=network.link_cost,
    )
    _register(network, key, node, place.name, connector_km)
    return node


def attach_multihomed(
    network: PlanningNetwork,
    place: Place,
    *,
    homes: int = 3,
    radius_km: float = 30.0,
    connector_km: float = DEFAULT_CONNECTOR_KM,
) -> Hashable:
    """Attach a place to its nearest corridor and to up to ``homes - 1`` other corridors.

    Diverse routing needs two ways out of a place: attached to one corridor only, both
    routes would leave along the same corridor. Each extra drop goes to the nearest point
    of the nearest corridor not yet reached from the place, within ``radius_km``.
    """
    node = attach_place(network, place, connector_km=connector_km)
    graph = network.graph
    reached = _corridors_near(graph, node)
    for _ in range(homes - 1):
        hidden = [
            (u, v, k, d)
            for u, v, k, d in graph.edges(keys=True, data=True)
            if d.get("corridor") in reached or d.get("kind") in {"connector", "bridge"}
        ]
        graph.remove_edges_from([(u, v, k) for u, v, k, _ in hidden])
        try:
            extra = attach_point(
                graph,
                place.lon,
                place.lat,
                name=place.name,
                max_connector_km=radius_km,
                land=network.land,
                link_cost=network.link_cost,
            )
        except TrazoError:
            extra = None
        finally:
            graph.add_edges_from(hidden)
        if extra is None:
            break
        _price_drop(network, extra, connector_km)
        joints = []
        for _, joint, data in list(graph.edges(extra, data=True)):
            graph.add_edge(node, joint, **data)
            joints.append(joint)
        graph.remove_node(extra)
        for joint in joints:
            reached |= _corridors_near(graph, joint)
    return node


def _corridors_near(graph: nx.MultiGraph, node: Hashable) -> set[Any]:
    """Corridors of the edges at ``node`` and at the far ends of its drops."""
    corridors: set[Any] = set()
    for _, other, data in graph.edges(node, data=True):
        corridors.add(data.get("corridor"))
        if data.get("kind") == "connector":
            corridors |= {d.get("corridor") for _, _, d in graph.edges(other, data=True)}
    corridors.discard(None)
    return corridors


def attach_places(
    network: PlanningNetwork,
    places: Sequence[Place],
    *,
    connector_km: float = DEFAULT_CONNECTOR_KM,
    max_connector_km: float | None = None,
) -> list[Hashable]:
    """Attach many places at once (one spatial index for all); return their nodes in order."""
    fresh = {place_key(p): p for p in places if place_key(p) not in network.places}
    if fresh and network.land is not None:
        network.land.check_places(
            [p.name for p in fresh.values()],
            [p.lon for p in fresh.values()],
            [p.lat for p in fresh.values()],
        )
    if fresh:

        def attach() -> list[Hashable]:
            nodes = attach_coordinates(
                network.graph,
                np.array([(p.lon, p.lat) for p in fresh.values()], dtype=np.float64),
                [p.name for p in fresh.values()],
                max_connector_km=max_connector_km,
                land=network.land,
                link_cost=network.link_cost,
            )
            for (key, place), node in zip(fresh.items(), nodes, strict=True):
                _register(network, key, node, place.name, connector_km)
            return nodes

        if network.memo is None:
            new_nodes = attach()
        else:
            parameters = {"connector_km": connector_km, "max_connector_km": max_connector_km}
            new_nodes = network.memo.attach(network.graph, list(fresh.values()), parameters, attach)
        for key, node in zip(fresh, new_nodes, strict=True):
            network.places[key] = node
    return [network.places[place_key(p)] for p in places]


def _register(
    network: PlanningNetwork, key: str, node: Hashable, name: str, connector_km: float
) -> None:
    """Record a place's node and price its drop to the corridor."""
    network.graph.nodes[node]["place"] = name
    _price_drop(network, node, connector_km)
    network.places[key] = node


def _price_drop(network: PlanningNetwork, node: Hashable, connector_km: float) -> None:
    """Price the unpriced drop edges from ``node`` to its corridor (through shore nodes).

    A drop's land stretches are a ``connector`` build when the drop's land km are at most
    ``connector_km``, else ``greenfield``; its water stretches are ``subsea`` crossings.
    """
    graph = network.graph
    chain: list[dict[str, Any]] = []
    frontier, seen = [node], {node}
    while frontier:
        here = frontier.pop()
        for _, other, data in graph.edges(here, data=True):
            if data.get("kind") != "connector" or "cost_usd" in data:
                continue
            chain.append(data)
            if graph.nodes[other].get("kind") == "shore" and other not in seen:
                seen.add(other)
                frontier.append(other)
    land_km = sum(float(d["length_km"]) for d in chain if d.get("deployment_type") != "subsea")
    for data in chain:
        if data.get("deployment_type") != "subsea":
            data["deployment_type"] = "connector" if land_km <= connector_km else "greenfield"
        price_edge(data, network.cost_model)


def place_key(place: Place) -> str:
    """A stable key for a place: its name and position."""
    return f"{place.name}@{place.lon:.6f},{place.lat:.6f}"
