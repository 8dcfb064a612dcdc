"""The priced planning network built straight into its table, with no networkx graph.

:func:`planner.network.planning_network.build_network` assembles a networkx graph edge by
edge, a dict per edge and per node pair: about 2.5 KB per road segment, 3.6 GB at a
million. The planning cache only ever keeps that graph as the arrays of
:mod:`planner.network.edge_table`, so :func:`build_network_table` makes those arrays from
the layers' arrays instead:

- each layer is read, cut at the coast, taken apart into vertex arrays and attribute
  columns (encoded once per feature, priced once per kind of feature), and let go;
- the noded pieces (:func:`planner.network.corridor_graph.node_parts`) are the edges in
  the order the networkx build adds them; fiber laid on a right of way shares its
  corridor (:func:`~planner.network.planning_network.share_physical_corridors`) and
  separate networks are bridged (:func:`~planner.network.planning_network.choose_bridges`)
  by the same rules, on arrays;
- the table is written column by column in the order networkx would hold the graph
  (nodes, each node's neighbours, each pair's keys), with the CSR snapshots and bounds.

The table read back is the one :func:`~planner.network.edge_table.write_table` writes for
the networkx build, node for node, edge for edge, value for value (tests compare them on
the bundled layers and on a synthetic road layer). The networkx build stays as the
reference and for networks built in memory (tests, scenario workspaces, planning with
the cache off).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import shapely

from layers.errors import GraphBuildError
from planner.network.corridor_graph import (
    GRAPH_CRS,
    feature_columns,
    layer_parts,
    new_graph,
    node_parts,
    pair_keys,
    to_analysis_crs,
)
from planner.network.cost_model import CostModel
from planner.network.edge_index import joins_places, write_edge_index
from planner.network.edge_table import (
    _EDGE_INDEX,
    _MISSING,
    TABLE_VERSION,
    _category_key,
    _decoder,
    _encode,
    _fits,
    _Writer,
    concat_columns,
    gather,
    read_table,
    snapshot_spec,
    table_spec,
    write_meta,
)
from planner.network.land import Land
from planner.network.planning_network import (
    DEFAULT_MAX_BRIDGE_KM,
    PlanningNetwork,
    choose_bridges,
    cut_at_coast,
    link_records,
    network_from_graph,
    price_edge,
)

if TYPE_CHECKING:
    import geopandas as gpd

logger = logging.getLogger(__name__)

_PRICED = ("deployment_type", "cost_usd", "reuses_fiber", "reuses_corridor")
"""Keys :func:`price_edge` adds to a corridor edge, in order."""
_CORRIDOR_KINDS = frozenset({"rights_of_way", "fiber_routes"})
_SHARE_TOLERANCE = 0.005
"""As :func:`planner.network.planning_network.share_physical_corridors`."""


def build_network_table(
    corridors: Mapping[str, Callable[[], gpd.GeoDataFrame]],
    cost_model: CostModel,
    folder: Path,
    *,
    elevation: Path | None = None,
    elevations: Sequence[Path] = (),
    snap_tolerance_m: float = 50.0,
    max_bridge_km: float = DEFAULT_MAX_BRIDGE_KM,
    land: Land | None = None,
    caveats: Mapping[str, str] | None = None,
) -> PlanningNetwork:
    """Build the priced planning network as a table in ``folder``; return it read back.

    Takes what :func:`~planner.network.planning_network.build_network` takes, except
    that each corridor layer is given as a function that reads it: a layer is read
    when its turn comes and let go once its arrays are taken. The network returned plans
    on the table (:class:`~planner.network.edge_table.TableGraph`), memory-mapped.
    """
    features = _Features()
    offshore_km = 0.0
    for name, read in corridors.items():
        frame, removed = cut_at_coast(name, read(), land)
        offshore_km += removed
        features.add(name, frame, cost_model)
        del frame
        # a frame is freed only by a collection (pandas objects refer to each other), and
        # a command builds with the collector paused (api._console.starting_up)
        gc.collect()
    if not features.layers:
        raise GraphBuildError("no line layers given; load rights_of_way or fiber_routes")
    pieces = node_parts(*features.parts(), snap_tolerance_m=snap_tolerance_m)
    logger.info(
        "corridor graph: %d nodes, %d edges from %d features",
        pieces.n,
        pieces.u.size,
        features.n,
    )
    edges = _Edges(pieces, features)
    del pieces
    edges.share_physical_corridors()
    bridges, subsea = edges.bridge(cost_model, max_bridge_km, land)
    graph_attrs = dict(new_graph(snap_tolerance_m).graph)
    graph_attrs["next_node"] = edges.n
    edges.write(folder, graph_attrs)
    network = network_from_graph(
        read_table(folder),
        cost_model,
        tuple(corridors),
        elevation=elevation,
        elevations=elevations,
        land=land,
        offshore_km=offshore_km,
        caveats=caveats,
        bridges=bridges,
        subsea_bridges=subsea,
    )
    logger.info(
        "planning network: %d nodes, %d edges, %d bridges (%d subsea)",
        edges.n,
        edges.m,
        bridges,
        subsea,
    )
    return network


class _Features:
    """The features of every layer: their lines as vertex arrays, their attributes as
    encoded columns (one row per feature), their price per km."""

    def __init__(self) -> None:
        self.writer = _Writer(prefix="f")
        self.layers: list[tuple[str, int, tuple[str, ...], dict[str, Any]]] = []
        """Per layer: kind, feature count, record keys, column specs."""
        self.n = 0
        self._xy: list[npt.NDArray[np.float64]] = []
        self._part_of: list[npt.NDArray[np.int64]] = []
        self._part_feature: list[npt.NDArray[np.int64]] = []
        self._parts = 0
        self.rate: list[npt.NDArray[np.float64]] = []
        self.fits: list[npt.NDArray[np.bool_]] = []
        self.joins: list[npt.NDArray[np.bool_]] = []
        self.unfit: dict[int, dict[str, Any]] = {}
        """Feature row to its attributes, for the features a column cannot hold."""

    def add(self, name: str, frame: gpd.GeoDataFrame, cost_model: CostModel) -> None:
        if frame.crs is None:
            raise GraphBuildError(f"layer {name!r} has no CRS; set it with .set_crs('EPSG:4326')")
        if not frame.crs.equals(GRAPH_CRS):
            frame = frame.to_crs(GRAPH_CRS)
        xy, part_of, part_feature = layer_parts(np.asarray(frame.geometry.values, dtype=object))
        self._xy.append(xy)
        self._part_of.append(part_of + self._parts)
        self._part_feature.append(part_feature + self.n)
        self._parts += part_feature.size
        kind, columns = feature_columns(name, frame)
        count = len(frame)
        del frame
        priced = _price(kind, columns, count, cost_model)
        self.rate.append(priced.pop("cost_usd"))
        self.joins.append(np.asarray(priced["deployment_type"], dtype=object) != "subsea")
        fits = np.ones(count, dtype=bool)
        for values in columns.values():
            fits &= _fitting(values)
        record_keys = tuple(columns)
        for row in np.flatnonzero(~fits).tolist():
            # a value no column takes (a list, a date): the feature's edges keep their
            # records whole in the side table, as the networkx build's would be
            self.unfit[self.n + row] = {key: columns[key][row] for key in record_keys}
            for key in record_keys:
                columns[key][row] = _MISSING
        specs: dict[str, Any] = {}
        for key in list(columns):
            specs[key] = _encode(columns.pop(key), self.writer)
        for key, values in priced.items():
            specs[key] = _encode(values, self.writer)
        self.fits.append(fits)
        keys = (*record_keys, "length_km", "geometry", *_PRICED)
        self.layers.append((kind, count, keys, specs))
        self.n += count

    def parts(self) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
        """Every layer's vertices, part of each and feature of each part (then let go)."""
        out = (
            np.concatenate(self._xy),
            np.concatenate(self._part_of),
            np.concatenate(self._part_feature),
        )
        self._xy, self._part_of, self._part_feature = [], [], []
        return out

    def column(self, key: str) -> tuple[Any, ...]:
        """Column ``key`` over every feature (missing in layers without it)."""
        arrays = self.writer.arrays
        return concat_columns(
            [(specs.get(key), arrays, count) for _, count, _, specs in self.layers], self.writer
        )


def _price(
    kind: str, columns: Mapping[str, list[Any]], count: int, cost_model: CostModel
) -> dict[str, Any]:
    """``price_edge`` of each feature (once per distinct set of the values it reads):
    the keys it adds, with ``cost_usd`` the price of a km as an array."""
    read = ("row_type", "road_class", "lease_available", "status")
    present = [key for key in read if key in columns]
    done: dict[Any, dict[str, Any]] = {}
    out: dict[str, list[Any]] = {key: [] for key in _PRICED}
    for values in zip(*(columns[key] for key in present), strict=True) if present else [()] * count:
        try:
            key: Any = tuple(_category_key(v) for v in values)
            priced = done.get(key)
        except TypeError:  # an unhashable value: priced on its own
            key, priced = None, None
        if priced is None:
            data: dict[str, Any] = {"kind": kind, **dict(zip(present, values, strict=True))}
            data["length_km"] = 1.0
            price_edge(data, cost_model)
            # cost_usd of a km: rate x 1.0 x 1 is the rate exactly
            priced = {k: data[k] for k in _PRICED}
            if key is not None:
                done[key] = priced
        for k in _PRICED:
            out[k].append(priced[k])
    result: dict[str, Any] = {k: out[k] for k in _PRICED if k != "cost_usd"}
    result["cost_usd"] = np.asarray(out["cost_usd"], dtype=np.float64)
    return result


def _fitting(values: list[Any]) -> npt.NDArray[np.bool_] | bool:
    """Which values fit a column (:func:`planner.network.edge_table._fits`)."""
    kinds = set(map(type, values))
    if kinds <= {str, float, bool, type(None)}:
        return True
    return np.fromiter((_fits(v) for v in values), dtype=bool, count=len(values))


class _Edges:
    """The network's nodes and edges as arrays, edges in the order networkx adds them."""

    def __init__(self, pieces: Any, features: _Features) -> None:
        self.features = features
        self.node_xy = pieces.node_xy
        self.corridor_nodes = pieces.n
        self.u, self.v, self.key = pieces.u, pieces.v, pieces.key
        self.feature = pieces.feature
        self.length_km = pieces.length_km
        self.coords, self.offsets = pieces.coords, pieces.offsets
        self.m_corridor = int(self.u.size)
        self.cost = np.concatenate(features.rate)[self.feature] * self.length_km
        self.extra: dict[int, dict[str, Any]] = {}
        """Edge (insertion number) to its whole record, where it is not the feature's
        columns plus the edge's own values: shared fiber, bridges."""
        self.shore: list[tuple[float, float]] = []
        self._decoders: dict[str, Any] | None = None

    @property
    def n(self) -> int:
        return self.corridor_nodes + len(self.shore)

    @property
    def m(self) -> int:
        return int(self.u.size)

    # -- records of single edges

    def _feature_value(self, key: str, row: int) -> Any:
        if self._decoders is None:
            self._decoders = {}
        decode = self._decoders.get(key)
        if decode is None:
            decode = self._decoders[key] = _decoder(
                self.features.column(key), self.features.writer.arrays
            )
        return decode(row)

    def record(self, edge: int) -> dict[str, Any]:
        """The attribute dict the networkx build gives corridor edge ``edge``."""
        if edge in self.extra:
            return self.extra[edge]
        f = int(self.feature[edge])
        layer = self._layer_of(f)
        _, _, keys, _ = self.features.layers[layer]
        unfit = self.features.unfit.get(f)
        out: dict[str, Any] = {}
        for key in keys:
            if unfit is not None and key in unfit:
                out[key] = unfit[key]
            elif key == "length_km":
                out[key] = float(self.length_km[edge])
            elif key == "cost_usd":
                out[key] = float(self.cost[edge])
            elif key == "geometry":
                start, stop = self.offsets[edge], self.offsets[edge + 1]
                out[key] = shapely.linestrings(self.coords[start:stop])
            else:
                out[key] = self._feature_value(key, f)
        return out

    def _layer_of(self, feature: int) -> int:
        start = 0
        for i, (_, count, _, _) in enumerate(self.features.layers):
            if feature < start + count:
                return i
            start += count
        raise IndexError(feature)

    def _layer_rows(self) -> npt.NDArray[np.int64]:
        counts = [count for _, count, _, _ in self.features.layers]
        return np.repeat(np.arange(len(counts)), counts)

    # -- the network's rules on arrays

    def share_physical_corridors(self) -> int:
        """Fiber on a right of way takes its corridor (as the networkx rule does)."""
        kinds = np.asarray([kind for kind, _, _, _ in self.features.layers])
        edge_kind = kinds[self._layer_rows()[self.feature]]
        fiber = (edge_kind == "fiber_routes") & (self.u != self.v)
        if not fiber.any():
            return 0
        lo, hi = np.minimum(self.u, self.v), np.maximum(self.u, self.v)
        pair = lo * self.n + hi
        chosen = np.flatnonzero(np.isin(pair, np.unique(pair[fiber])))
        chosen = chosen[np.argsort(pair[chosen], kind="stable")]
        groups = np.split(chosen, np.flatnonzero(np.diff(pair[chosen])) + 1)
        shared = 0
        length = self.length_km.tolist()
        for group in groups:
            if group.size < 2:
                continue
            ways = [e for e in group.tolist() if edge_kind[e] == "rights_of_way"]
            for e in group.tolist():
                if edge_kind[e] != "fiber_routes":
                    continue
                for way in ways:
                    if abs(length[way] - length[e]) <= _SHARE_TOLERANCE * length[way]:
                        record = self.record(e)
                        record["fiber_corridor"] = record["corridor"]
                        record["corridor"] = self.record(way)["corridor"]
                        self.extra[e] = record
                        shared += 1
                        break
        return shared

    def adjacency(self) -> tuple[npt.NDArray[np.int64], ...]:
        """Each node's neighbours and each pair's edges in networkx's order.

        networkx keeps a node's neighbours in the order their first edge was added and a
        pair's edges in key order. Returns ``(adj_ptr, adj_nbr, slot_ptr, slot_edge,
        order)``: ``order`` numbers the edges as ``graph.edges()`` gives them (from
        the lower node, in its neighbour order), ``slot_edge`` in that numbering.
        """
        m, n = self.m, self.n
        lo, hi = np.minimum(self.u, self.v), np.maximum(self.u, self.v)
        pair = lo * max(n, 1) + hi
        sorted_pair, start = np.unique(pair, return_index=True)
        first = start[np.searchsorted(sorted_pair, pair)]
        idx = np.arange(m)
        order = np.lexsort((idx, first, lo))
        number = np.empty(m, dtype=np.int64)
        number[order] = idx
        loop = lo == hi
        src = np.concatenate([lo, hi[~loop]])
        dst = np.concatenate([hi, lo[~loop]])
        half_first = np.concatenate([first, first[~loop]])
        half_edge = np.concatenate([idx, idx[~loop]])
        half = np.lexsort((half_edge, half_first, src))
        src, dst, half_edge = src[half], dst[half], half_edge[half]
        new_slot = np.r_[True, (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])]
        slots = np.flatnonzero(new_slot)
        adj_nbr = dst[slots]
        adj_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src[slots], minlength=n), out=adj_ptr[1:])
        slot_ptr = np.r_[slots, src.size].astype(np.int64)
        return adj_ptr, adj_nbr, slot_ptr, number[half_edge], order

    def components(self) -> list[set[int]]:
        """The connected components as networkx gives them (sets built in its BFS order:
        their iteration order decides ties between equally near nodes)."""
        adj_ptr, adj_nbr, _, _, _ = self.adjacency()
        ptr, nbr = adj_ptr.tolist(), adj_nbr.tolist()
        done = bytearray(self.n)
        out = []
        for source in range(self.n):
            if done[source]:
                continue
            seen = {source}
            level = [source]
            while level:
                this, level = level, []
                for v in this:
                    for w in nbr[ptr[v] : ptr[v + 1]]:
                        if w not in seen:
                            seen.add(w)
                            level.append(w)
            for w in seen:
                done[w] = 1
            out.append(seen)
        return out

    def bridge(
        self, cost_model: CostModel, max_bridge_km: float, land: Land | None
    ) -> tuple[int, int]:
        """Join separate networks as :func:`~planner.network.planning_network.bridge_components`."""
        from scipy.sparse import coo_array
        from scipy.sparse.csgraph import connected_components

        n = self.n
        count, _ = connected_components(
            coo_array((np.ones(self.m), (self.u, self.v)), shape=(n, n)), directed=False
        )
        if count < 2:
            return 0, 0
        components = sorted(self.components(), key=len, reverse=True)
        links = choose_bridges(
            np.arange(n),
            self.node_xy,
            components,
            cost_model,
            max_bridge_km=max_bridge_km,
            land=land,
        )
        del components
        us: list[int] = []
        vs: list[int] = []
        extra_coords: list[npt.NDArray[np.float64]] = []
        counts: list[int] = []
        for a, b, pieces in links:
            here = a
            for i, (piece, data) in enumerate(
                zip(pieces, link_records(pieces, cost_model, kind="bridge"), strict=True)
            ):
                if i == len(pieces) - 1:
                    there = b
                else:
                    end = piece.geometry.coords[-1]
                    there = self.n
                    self.shore.append((float(end[0]), float(end[1])))
                self.extra[self.m_corridor + len(us)] = data
                us.append(here)
                vs.append(there)
                xy = shapely.get_coordinates(data["geometry"])
                extra_coords.append(xy)
                counts.append(len(xy))
                here = there
        if us:
            self.u = np.r_[self.u, us].astype(np.int64)
            self.v = np.r_[self.v, vs].astype(np.int64)
            self.key = np.r_[self.key, np.zeros(len(us), dtype=np.int64)]
            self.coords = np.concatenate([self.coords, *extra_coords])
            self.offsets = np.r_[self.offsets, self.offsets[-1] + np.cumsum(counts)]
        subsea = sum(any(not p.on_land for p in pieces) for _, _, pieces in links)
        return len(links), subsea

    # -- the table

    def write(self, folder: Path, graph_attrs: dict[str, Any]) -> None:
        """Write the table :func:`~planner.network.edge_table.write_table` writes for the
        networkx build of this network."""
        writer = _Writer(folder)
        n = self.n
        self._set_keys()
        adj_ptr, adj_nbr, slot_ptr, slot_edge, order = self.adjacency()
        meta: dict[str, Any] = {
            "version": TABLE_VERSION,
            "graph": graph_attrs,
            "nodes": self._node_spec(writer),
            "node_ids": writer.add(np.arange(n, dtype=np.int64)),
            "adj_ptr": writer.add(adj_ptr),
            "adj_nbr": writer.add(adj_nbr, np.int64),
            "slot_ptr": writer.add(slot_ptr, np.int64),
            "slot_edge": writer.add(slot_edge, np.int64),
        }
        del adj_ptr, adj_nbr, slot_ptr, slot_edge
        lo, hi = np.minimum(self.u, self.v)[order], np.maximum(self.u, self.v)[order]
        key = self.key[order]
        meta["edge_u"] = writer.add(lo, np.int64)
        meta["edge_v"] = writer.add(hi, np.int64)
        meta["edge_key"] = writer.add(key, np.int64)
        side, layout_spec = self._layouts(order, writer)
        meta["edges"] = layout_spec
        meta["snapshots"] = self._snapshots(order, lo, hi, key, writer)
        del lo, hi, key
        attach_bounds = self._bounds(order, side, meta, writer)
        write_edge_index(attach_bounds, folder / _EDGE_INDEX)
        write_meta(meta, folder)

    def _set_keys(self) -> None:
        """Keys 0, 1, ... per node pair in the order edges were added (as networkx gives)."""
        self.key = pair_keys(self.u, self.v, self.n)

    def _node_spec(self, writer: _Writer) -> dict[str, Any]:
        shore = np.asarray(self.shore, dtype=np.float64).reshape(-1, 2)
        xy = np.concatenate([self.node_xy, shore])
        layout = np.r_[
            np.zeros(self.corridor_nodes, dtype=np.int32), np.ones(len(shore), dtype=np.int32)
        ]
        layouts: list[tuple[str, ...]] = [("x", "y")]
        if len(shore):
            layouts.append(("x", "y", "kind"))
        kind = [_MISSING] * self.corridor_nodes + ["shore"] * len(shore)
        return table_spec(
            self.n,
            layouts,
            layout,
            {
                "x": lambda: ("float", writer.add(xy[:, 0], np.float64)),
                "y": lambda: ("float", writer.add(xy[:, 1], np.float64)),
                **({"kind": kind} if len(shore) else {}),
            },
            {},
            writer,
        )

    def _layouts(
        self, order: npt.NDArray[np.int64], writer: _Writer
    ) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
        """The edge records' spec, rows in ``order``; also the side table (row to record)."""
        features = self.features
        m = self.m
        layer_rows = self._layer_rows()
        fits = np.concatenate(features.fits)
        layouts: list[tuple[str, ...]] = []
        layout_of: dict[tuple[str, ...], int] = {}

        def code(keys: tuple[str, ...]) -> int:
            found = layout_of.get(keys)
            if found is None:
                found = layout_of[keys] = len(layouts)
                layouts.append(keys)
            return found

        layer_code = np.asarray(
            [code(keys) for _, _, keys, _ in features.layers], dtype=np.int32
        ).reshape(-1)
        by_edge = np.full(m, -1, dtype=np.int32)
        corridor = np.arange(self.m_corridor)
        feature_fits = fits[self.feature]
        by_edge[corridor] = np.where(feature_fits, layer_code[layer_rows[self.feature]], -1)
        side_edges = {int(e) for e in np.flatnonzero(~feature_fits)}
        extra_rows = sorted(self.extra)
        extra_index = {e: j for j, e in enumerate(extra_rows)}
        for e in extra_rows:
            record = self.extra[e]
            line = record.get("geometry", _MISSING)
            plain = line is _MISSING or (
                type(line) is shapely.LineString
                and not line.is_empty
                and shapely.get_coordinate_dimension(line) == 2
            )
            if plain and all(_fits(v) for k, v in record.items() if k != "geometry"):
                by_edge[e] = code(tuple(record))
                side_edges.discard(e)
            else:
                by_edge[e] = -1
                side_edges.add(e)
        number = np.empty(m, dtype=np.int64)
        number[order] = np.arange(m)
        side = {int(number[e]): self.record(e) for e in sorted(side_edges)}
        # every key's column: from the features' columns (gathered per edge), the edges'
        # own arrays, or the whole records of the few edges that have one
        from_features = [key for _, _, keys, _ in features.layers for key in keys]
        edge_keys = {"length_km": self.length_km, "cost_usd": self.cost}
        extra_keys = (k for e in extra_rows for k in self.extra[e])
        keys = list(dict.fromkeys([*from_features, *extra_keys]))
        keys.remove("geometry")
        is_extra = np.zeros(m, dtype=bool)
        is_extra[extra_rows] = True
        extra_pos = np.full(m, -1, dtype=np.int64)
        extra_pos[extra_rows] = [extra_index[e] for e in extra_rows]
        arrays = features.writer.arrays
        feature_of = np.zeros(m, dtype=np.int64)
        feature_of[: self.m_corridor] = self.feature

        def column(key: str) -> Callable[[], tuple[Any, ...]]:
            def make() -> tuple[Any, ...]:
                scratch = _Writer(prefix="s")
                extras = [self.extra[e].get(key, _MISSING) for e in extra_rows]
                extra_spec = _encode(extras, scratch)
                base: tuple[Any, Mapping[str, Any], int]
                if key in edge_keys:
                    base = (
                        ("float", "values"),
                        {"values": np.asarray(edge_keys[key][: self.m_corridor])},
                        self.m_corridor,
                    )
                    source = np.arange(m)
                elif key in from_features:
                    base = (features.column(key), arrays, features.n)
                    source = feature_of
                else:
                    base = (None, {}, 0)
                    source = np.zeros(m, dtype=np.int64)
                spec = concat_columns(
                    [base, (extra_spec, scratch.arrays, len(extra_rows))], scratch
                )
                rows = np.where(is_extra, base[2] + extra_pos, source)[order]
                return gather(spec, scratch.arrays | arrays, rows, writer)

            return make

        counts = np.diff(self.offsets)
        counts[list(side_edges)] = 0
        counts = counts[order]
        offsets = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        starts = self.offsets[:-1][order]
        rows = np.repeat(starts - offsets[:-1], counts) + np.arange(int(offsets[-1]))
        coords = self.coords[rows]
        del rows
        spec = table_spec(
            m,
            layouts,
            by_edge[order],
            {key: column(key) for key in keys},
            side,
            writer,
            geometry=(coords, offsets),
        )
        self.table_coords, self.table_offsets = coords, offsets
        return side, spec

    def _snapshots(
        self,
        order: npt.NDArray[np.int64],
        lo: npt.NDArray[np.int64],
        hi: npt.NDArray[np.int64],
        key: npt.NDArray[np.int64],
        writer: _Writer,
    ) -> dict[str, Any]:
        """The CSR snapshots :meth:`CSRGraph.from_networkx` takes of the networkx build."""
        from planner.search.csr_graph import assemble
        from planner.search.shortest_paths import STABLE_WEIGHTS

        n = self.n
        shore = np.asarray(self.shore, dtype=np.float64).reshape(-1, 2)
        xy = np.concatenate([self.node_xy, shore])
        lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
        if np.all(np.isfinite(lon)) and np.all(np.isfinite(lat)):
            xyz = np.column_stack(
                [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]
            )
        else:
            xyz = np.zeros((n, 3), dtype=np.float64)
        keep = lo != hi
        out: dict[str, Any] = {}
        for weight in sorted(STABLE_WEIGHTS):
            values = self._weights(weight)
            if values is None:
                continue
            w = values[order][keep]
            if w.size and (not np.all(np.isfinite(w)) or w.min() < 0):
                continue
            a, b, k = lo[keep], hi[keep], key[keep]
            pair = a * max(n, 1) + b
            chosen_order = np.lexsort((w, pair))
            first = np.ones(chosen_order.size, dtype=bool)
            first[1:] = pair[chosen_order][1:] != pair[chosen_order][:-1]
            chosen = chosen_order[first]
            csr = assemble(range(n), {}, a[chosen], b[chosen], w[chosen], [], xyz, weight)
            ends = np.column_stack([a[chosen], b[chosen], k[chosen]])
            out[weight] = snapshot_spec(csr, ends, writer)
        return out

    def _weights(self, weight: str) -> npt.NDArray[np.float64] | None:
        """``weight`` of every edge (insertion order), or None if an edge lacks it."""
        base = {"length_km": self.length_km, "cost_usd": self.cost}.get(weight)
        if base is None:
            return None
        values = np.empty(self.m, dtype=np.float64)
        values[: self.m_corridor] = base[: self.m_corridor]
        for e, record in self.extra.items():
            value = record.get(weight)
            if value is None:
                return None
            values[e] = float(value)
        return values

    def _bounds(
        self,
        order: npt.NDArray[np.int64],
        side: dict[int, dict[str, Any]],
        meta: dict[str, Any],
        writer: _Writer,
    ) -> npt.NDArray[np.float64]:
        """The edges places may attach to and the corridor lines, with their bounds (the
        attachable edges' EPSG:6372 bounds returned)."""
        m = self.m
        kinds = np.asarray([kind for kind, _, _, _ in self.features.layers])
        layer_rows = self._layer_rows()
        joins = np.zeros(m, dtype=bool)
        corridor = np.zeros(m, dtype=bool)
        joins[: self.m_corridor] = np.concatenate(self.features.joins)[self.feature]
        edge_kind = kinds[layer_rows[self.feature]]
        corridor[: self.m_corridor] = np.isin(edge_kind, list(_CORRIDOR_KINDS))
        for e, record in self.extra.items():
            joins[e] = joins_places(record)
            corridor[e] = record.get("kind") in _CORRIDOR_KINDS
        joins, corridor = joins[order], corridor[order]
        coords, offsets = self.table_coords, self.table_offsets
        attach = np.flatnonzero(joins)
        meta["attachable"] = writer.add(attach, np.int64)
        x, y = to_analysis_crs().transform(coords[:, 0], coords[:, 1])
        attach_bounds = _line_bounds(np.column_stack([x, y]), offsets, attach, side, projected=True)
        meta["attach_bounds"] = writer.add(attach_bounds)
        del x, y
        lines = np.flatnonzero(corridor)
        meta["corridor_lines"] = writer.add(lines, np.int64)
        meta["corridor_bounds"] = writer.add(
            _line_bounds(coords, offsets, lines, side, projected=False)
        )
        return attach_bounds


def _line_bounds(
    coords: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    side: dict[int, dict[str, Any]],
    *,
    projected: bool,
) -> npt.NDArray[np.float64]:
    """``(minx, miny, maxx, maxy)`` of the vertices of each of ``rows``; a side record's
    from its geometry (projected to EPSG:6372 or as it is)."""
    from planner.network.edge_index import projected_bounds

    out = np.empty((rows.size, 4))
    if not rows.size:
        return out
    start, stop = offsets[rows], offsets[rows + 1]
    filled = stop > start
    if filled.any():
        count = (stop - start)[filled]
        first = np.r_[0, np.cumsum(count)[:-1]]
        rows_xy = np.repeat(start[filled] - first, count) + np.arange(int(count.sum()))
        xy = coords[rows_xy]
        out[filled, 0] = np.minimum.reduceat(xy[:, 0], first)
        out[filled, 1] = np.minimum.reduceat(xy[:, 1], first)
        out[filled, 2] = np.maximum.reduceat(xy[:, 0], first)
        out[filled, 3] = np.maximum.reduceat(xy[:, 1], first)
    for i in np.flatnonzero(~filled).tolist():
        line = side[int(rows[i])]["geometry"]
        out[i] = projected_bounds([line])[0] if projected else shapely.bounds(line)
    return out
