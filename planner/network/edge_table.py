"""The priced network as columns on disk, mapped read-only by every process that plans.

A planning network of a million road segments is about 3 GB as networkx dicts and takes
seconds to unpickle, once per CLI command and once per service worker. Here it is kept as
plain arrays instead, written once as ``.npy`` files in one folder and opened with
``numpy.load(mmap_mode="r")``: every process maps the same files, the operating system
keeps one copy of them in its page cache, and opening them costs milliseconds whatever
the network's size.

What is written (:func:`write_table`):

- the nodes and the edges as *records*: each attribute is a column (``float64``,
  ``int64``, ``bool``, codes into a list of categories for strings and other repeated
  values, a pair of columns for a tuple such as ``corridor``, a null mask where a value
  may be ``None``), edge geometries as one ragged coordinate array with offsets, and for
  each record the order of its keys (one of a few *layouts*), so the dict read back is
  equal to the one written, key order and value types included. A record holding a value
  that fits no column (a dict, a geometry that is not a plain line) is kept whole in a
  small pickled side table;
- the adjacency exactly as networkx holds it: each node's neighbours in order and each
  node pair's parallel edges in key order, so iterating the graph read back gives the
  same nodes, neighbours, edges and keys in the same order;
- the CSR snapshot of each stable weight (:data:`planner.search.shortest_paths.STABLE_WEIGHTS`)
  as :meth:`planner.search.csr_graph.CSRGraph.from_networkx` takes it;
- the corridor edges places attach to, with their EPSG:6372 bounds and the grid that
  finds the nearest of them (:class:`planner.network.edge_index.EdgeIndex`, in its own
  subfolder), and the corridor lines' lon/lat bounds.

:class:`TableGraph` reads it back as a :class:`~planner.network.corridor_graph.CorridorGraph`
that makes a node's neighbours or an edge's attribute dict only when first asked for:
a route touches a few hundred of a million edges. It is read-only; planning changes
overlays of it (:mod:`planner.network.overlay`).
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely

from planner.network.corridor_graph import CorridorGraph
from planner.network.edge_index import mapped_array
from planner.search.csr_graph import ArrayView

V = TypeVar("V")

TABLE_VERSION = 1
"""Bump when the files' layout changes."""

_META = "table.pickle"
_EDGE_INDEX = "edge_index"
"""Subfolder of the index of edges places join (:func:`~.edge_index.write_edge_index`)."""
_SCALARS = (bool, int, float, str)
_MISSING = object()
_INT64 = (-(2**63), 2**63 - 1)


class TableError(ValueError):
    """The graph cannot be written as a table (node ids or keys that are not integers)."""


# ---------------------------------------------------------------------------- columns


def _fits(value: Any) -> bool:
    """Whether ``value`` can live in a column (else its record goes to the side table)."""
    kind = type(value)
    if value is None or kind in _SCALARS:
        return kind is not int or _INT64[0] <= value <= _INT64[1]
    if kind is tuple:
        return all(
            item is None
            or (type(item) in _SCALARS and type(item) is not int)
            or (type(item) is int and _INT64[0] <= item <= _INT64[1])
            for item in value
        )
    return False


def _category_code(value: Any, code_of: dict[Any, int], categories: list[Any]) -> int:
    """``value``'s code in ``categories``, appended (and coded) when first seen."""
    key = _category_key(value)
    code = code_of.get(key)
    if code is None:
        code = code_of[key] = len(categories)
        categories.append(value)
    return code


def _category_key(value: Any) -> Any:
    """A dict key that tells ``1``, ``1.0`` and ``True`` apart (they are equal in Python)."""
    if type(value) is tuple:
        return (tuple, tuple(map(type, value)), value)
    return (type(value), value)


class _Writer:
    """Arrays to write, named by a counter: kept in :attr:`arrays`, or with a ``folder``
    saved there as they come (so a table is never whole in memory while written)."""

    def __init__(self, folder: Path | None = None, prefix: str = "a") -> None:
        self.arrays: dict[str, npt.NDArray[Any]] = {}
        self.folder = folder
        self.prefix = prefix
        self.count = 0
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def add(self, array: npt.ArrayLike, dtype: Any = None) -> str:
        name = f"{self.prefix}{self.count}"
        self.count += 1
        data = np.ascontiguousarray(np.asarray(array, dtype=dtype))
        if self.folder is None:
            self.arrays[name] = data
        else:
            np.save(self.folder / f"{name}.npy", data, allow_pickle=False)
        return name


def _encode(values: list[Any], writer: _Writer) -> tuple[Any, ...]:
    """A column spec for ``values`` (``_MISSING`` where a record lacks the key)."""
    present = [v for v in values if v is not _MISSING]
    if any(v is None for v in present):
        mask = [v is None or v is _MISSING for v in values]
        inner = [_MISSING if v is None else v for v in values]
        return ("opt", writer.add(mask, bool), _encode(inner, writer))
    kinds = {type(v) for v in present}
    if kinds == {float}:
        return ("float", writer.add([0.0 if v is _MISSING else v for v in values], np.float64))
    if kinds == {bool}:
        return ("bool", writer.add([False if v is _MISSING else v for v in values], bool))
    if kinds == {int}:
        return ("int", writer.add([0 if v is _MISSING else v for v in values], np.int64))
    if kinds == {tuple} and len({len(v) for v in present}) == 1:
        width = len(present[0])
        parts = [
            _encode([_MISSING if v is _MISSING else v[i] for v in values], writer)
            for i in range(width)
        ]
        return ("tuple", parts)
    categories: list[Any] = []
    code_of: dict[Any, int] = {}
    codes = np.zeros(len(values), dtype=np.int32)
    for i, value in enumerate(values):
        if value is not _MISSING:
            codes[i] = _category_code(value, code_of, categories)
    return ("cat", writer.add(codes), categories)


def _decoder(spec: tuple[Any, ...], arrays: Mapping[str, Any]) -> Any:
    """A function from row to value for column ``spec``."""
    kind = spec[0]
    if kind in ("float", "bool", "int"):
        column = arrays[spec[1]]
        return lambda row: column[row].item()
    if kind == "cat":
        codes, categories = arrays[spec[1]], spec[2]
        return lambda row: categories[codes[row]]
    if kind == "opt":
        mask, inner = arrays[spec[1]], _decoder(spec[2], arrays)
        return lambda row: None if mask[row] else inner(row)
    parts = [_decoder(part, arrays) for part in spec[1]]
    return lambda row: tuple(part(row) for part in parts)


def _float_column(spec: tuple[Any, ...], arrays: Mapping[str, Any]) -> Any:
    """The whole column of ``spec`` as float64 (NaN where null), or None if not numeric."""
    if spec[0] == "float":
        return np.asarray(arrays[spec[1]], dtype=np.float64)
    if spec[0] == "opt":
        inner = _float_column(spec[2], arrays)
        if inner is None:
            return None
        return np.where(np.asarray(arrays[spec[1]]), np.nan, inner)
    return None


def _objects(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    """``values`` in an object array, tuples kept whole (numpy would make them columns)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def _column_values(spec: tuple[Any, ...], arrays: Mapping[str, Any], n: int) -> Any:
    """The whole column of ``spec`` as the Python values its decoder gives, one per row."""
    kind = spec[0]
    if kind in ("float", "bool", "int"):
        return _objects(np.asarray(arrays[spec[1]]).tolist())
    if kind == "cat":
        if not spec[2]:  # every row missing (under an "opt" mask, or a layout without it)
            return np.full(n, None, dtype=object)
        return _objects(spec[2])[np.asarray(arrays[spec[1]])]
    if kind == "opt":
        out = _column_values(spec[2], arrays, n)
        out[np.asarray(arrays[spec[1]], dtype=bool)] = None
        return out
    parts = [_column_values(part, arrays, n) for part in spec[1]]
    return _objects([tuple(row) for row in zip(*parts, strict=True)] if parts else [()] * n)


def _records_spec(
    records: Sequence[dict[str, Any]], writer: _Writer, *, geometry: bool
) -> dict[str, Any]:
    """Encode ``records`` (dicts) as columns, layouts and a side table."""
    n = len(records)
    layouts: list[tuple[str, ...]] = []
    layout_of: dict[tuple[str, ...], int] = {}
    layout = np.full(n, -1, dtype=np.int32)
    side: dict[int, dict[str, Any]] = {}
    columns: dict[str, list[Any]] = {}
    coords: list[Any] = []
    counts = np.zeros(n, dtype=np.int64)
    for i, record in enumerate(records):
        line = record.get("geometry", _MISSING) if geometry else _MISSING
        plain = line is _MISSING or (
            type(line) is shapely.LineString
            and not line.is_empty
            and shapely.get_coordinate_dimension(line) == 2
        )
        if not plain or not all(
            _fits(v) for k, v in record.items() if k != "geometry" or not geometry
        ):
            side[i] = record
            continue
        keys = tuple(record)
        code = layout_of.get(keys)
        if code is None:
            code = layout_of[keys] = len(layouts)
            layouts.append(keys)
        layout[i] = code
        for key, value in record.items():
            if geometry and key == "geometry":
                xy = shapely.get_coordinates(value)
                coords.append(xy)
                counts[i] = len(xy)
                continue
            column = columns.get(key)
            if column is None:
                column = columns[key] = [_MISSING] * n
            column[i] = value
    coords_array = np.concatenate(coords) if coords else np.empty((0, 2))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return table_spec(
        n,
        layouts,
        layout,
        columns,
        side,
        writer,
        geometry=(coords_array, offsets) if geometry else None,
    )


def table_spec(
    n: int,
    layouts: list[tuple[str, ...]],
    layout: npt.NDArray[np.int32],
    columns: Mapping[str, list[Any] | Callable[[], tuple[Any, ...]]],
    side: dict[int, dict[str, Any]],
    writer: _Writer,
    *,
    geometry: tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]] | None = None,
) -> dict[str, Any]:
    """The spec of ``n`` records given as columns.

    ``layout`` is each record's code into ``layouts`` (its keys in order; -1 for a record
    kept whole in ``side``); ``columns`` gives each key's values (``_MISSING`` where a
    record lacks it), or a function that writes the column and returns its spec;
    ``geometry`` the records' coordinates and offsets.
    """
    specs = {
        key: values() if callable(values) else _encode(values, writer)
        for key, values in columns.items()
    }
    spec: dict[str, Any] = {
        "n": n,
        "layouts": layouts,
        "layout": writer.add(layout, np.int32),
        "columns": specs,
        "side": side,
    }
    if geometry is not None:
        spec["coords"] = writer.add(geometry[0], np.float64)
        spec["offsets"] = writer.add(geometry[1], np.int64)
    return spec


def gather(spec: tuple[Any, ...], arrays: Mapping[str, Any], rows: Any, writer: _Writer) -> Any:
    """The column ``spec`` (its arrays in ``arrays``) taken at ``rows``, written by ``writer``."""
    kind = spec[0]
    if kind in ("float", "bool", "int"):
        return (kind, writer.add(np.asarray(arrays[spec[1]])[rows]))
    if kind == "cat":
        return ("cat", writer.add(np.asarray(arrays[spec[1]])[rows]), spec[2])
    if kind == "opt":
        mask = writer.add(np.asarray(arrays[spec[1]])[rows])
        return ("opt", mask, gather(spec[2], arrays, rows, writer))
    return ("tuple", [gather(part, arrays, rows, writer) for part in spec[1]])


def column_values(spec: tuple[Any, ...] | None, arrays: Mapping[str, Any], n: int) -> list[Any]:
    """Every value of column ``spec`` over ``n`` rows (``_MISSING`` for every row if None)."""
    if spec is None:
        return [_MISSING] * n
    decode = _decoder(spec, arrays)
    return [decode(row) for row in range(n)]


def concat_columns(
    parts: Sequence[tuple[tuple[Any, ...] | None, Mapping[str, Any], int]], writer: _Writer
) -> tuple[Any, ...]:
    """One column made of ``parts`` one after the other, each ``(spec, arrays, rows)``.

    A part without the column (``spec`` None) is missing from every row. Parts of one
    shape are joined array by array (categories merged); others are decoded and encoded
    again, as :func:`_encode` would encode the values together.
    """
    shape: Any = None
    for spec, _, _ in parts:
        if spec is not None:
            shape = _shape(spec) if shape is None else _merge_shapes(shape, _shape(spec))
            if shape is False:
                break
    if shape is None or shape is False:
        values: list[Any] = []
        for spec, arrays, rows in parts:
            values.extend(column_values(spec, arrays, rows))
        return _encode(values, writer)
    lifted = [
        (_lift(spec, arrays, rows) if spec is not None else None, rows)
        for spec, arrays, rows in parts
    ]
    return _join(lifted, writer, shape)


def _merge_shapes(a: Any, b: Any) -> Any:
    """The shape of two columns' values encoded together, or False if not array by array."""
    if a is False or b is False:
        return False
    if a[0] == "opt" or b[0] == "opt":
        inner = _merge_shapes(a[1] if a[0] == "opt" else a, b[1] if b[0] == "opt" else b)
        return False if inner is False else ("opt", inner)
    if a[0] == "tuple" and b[0] == "tuple":
        if len(a[1]) != len(b[1]):
            return False
        parts = tuple(_merge_shapes(x, y) for x, y in zip(a[1], b[1], strict=True))
        return False if any(p is False for p in parts) else ("tuple", parts)
    return a if a == b else False


def _shape(spec: tuple[Any, ...]) -> Any:
    """What must agree for two columns to be joined array by array."""
    kind = spec[0]
    if kind == "opt":
        return ("opt", _shape(spec[2]))
    if kind == "tuple":
        return ("tuple", tuple(_shape(part) for part in spec[1]))
    return (kind,)


def _lift(spec: tuple[Any, ...], arrays: Mapping[str, Any], rows: int) -> Any:
    """``spec`` with its arrays resolved (names replaced by the arrays themselves)."""
    kind = spec[0]
    if kind in ("float", "bool", "int"):
        return (kind, np.asarray(arrays[spec[1]]))
    if kind == "cat":
        return ("cat", np.asarray(arrays[spec[1]]), spec[2])
    if kind == "opt":
        return ("opt", np.asarray(arrays[spec[1]]), _lift(spec[2], arrays, rows))
    return ("tuple", [_lift(part, arrays, rows) for part in spec[1]])


_FILL = {"float": np.float64, "bool": np.bool_, "int": np.int64, "cat": np.int32}


def _join(parts: list[tuple[Any, int]], writer: _Writer, shape: Any) -> tuple[Any, ...]:
    """Join lifted columns of one shape (a part may be None: missing, or plain where
    ``shape`` is optional: present on every row)."""
    kind = shape[0]
    if kind == "opt":
        masks, inner = [], []
        for part, rows in parts:
            if part is None:
                masks.append(np.ones(rows, dtype=bool))
                inner.append((None, rows))
            elif part[0] == "opt":
                masks.append(part[1])
                inner.append((part[2], rows))
            else:
                masks.append(np.zeros(rows, dtype=bool))
                inner.append((part, rows))
        mask = writer.add(np.concatenate(masks) if masks else np.zeros(0, bool), bool)
        return ("opt", mask, _join(inner, writer, shape[1]))
    if kind == "tuple":
        width = len(shape[1])
        return (
            "tuple",
            [
                _join(
                    [(None if p is None else p[1][i], rows) for p, rows in parts],
                    writer,
                    shape[1][i],
                )
                for i in range(width)
            ],
        )
    if kind == "cat":
        categories: list[Any] = []
        code_of: dict[Any, int] = {}
        chunks = []
        for part, rows in parts:
            if part is None:
                chunks.append(np.zeros(rows, dtype=np.int32))
                continue
            remap = np.array(
                [_category_code(value, code_of, categories) for value in part[2]], np.int32
            )
            chunks.append(remap[part[1]] if remap.size else np.zeros(rows, dtype=np.int32))
        codes = np.concatenate(chunks) if chunks else np.zeros(0, np.int32)
        return ("cat", writer.add(codes, np.int32), categories)
    dtype = _FILL[kind]
    chunks = [np.zeros(rows, dtype=dtype) if p is None else p[1] for p, rows in parts]
    return (kind, writer.add(np.concatenate(chunks) if chunks else np.zeros(0, dtype), dtype))


class _Records:
    """Reads back the records of :func:`_records_spec`, one dict at a time."""

    def __init__(self, spec: dict[str, Any], arrays: Mapping[str, Any]) -> None:
        self.n: int = spec["n"]
        self.layout = arrays[spec["layout"]]
        self.side: dict[int, dict[str, Any]] = spec["side"]
        self.specs: dict[str, Any] = spec["columns"]
        self.arrays = arrays
        decoders = {key: _decoder(col, arrays) for key, col in spec["columns"].items()}
        if "coords" in spec:
            coords, offsets = arrays[spec["coords"]], arrays[spec["offsets"]]
            decoders["geometry"] = lambda row: shapely.linestrings(
                coords[offsets[row] : offsets[row + 1]]
            )
            self.coords, self.offsets = coords, offsets
        self.layouts = [[(key, decoders[key]) for key in keys] for keys in spec["layouts"]]

    def record(self, row: int) -> dict[str, Any]:
        code = int(self.layout[row])
        if code < 0:
            return dict(self.side[row])
        return {key: decode(row) for key, decode in self.layouts[code]}

    def has(self, key: str) -> npt.NDArray[np.bool_]:
        """Which records hold ``key`` (with any value, None included)."""
        codes = [code for code, keys in enumerate(self.layouts) if any(k == key for k, _ in keys)]
        present = np.isin(np.asarray(self.layout), codes)
        for row, record in self.side.items():
            present[row] = key in record
        return present

    def values(self, key: str) -> npt.NDArray[np.object_]:
        """``record.get(key)`` of every record but the geometry, in one object array (no
        dicts made)."""
        out = np.full(self.n, None, dtype=object)
        spec = self.specs.get(key)
        if spec is not None:
            present = self.has(key)
            out[present] = _column_values(spec, self.arrays, self.n)[present]
        for row, record in self.side.items():
            out[row] = record.get(key)
        return out

    def floats(self, key: str) -> npt.NDArray[np.float64] | None:
        """Column ``key`` as float64 for every record (NaN where absent), or None."""
        spec = self.specs.get(key)
        if spec is None:
            return None
        values = _float_column(spec, self.arrays)
        if values is None:
            return None
        present = np.zeros(self.n, dtype=bool)
        for code, keys in enumerate(self.layouts):
            if any(name == key for name, _ in keys):
                present |= np.asarray(self.layout) == code
        out = np.where(present, values, np.nan)
        for row, record in self.side.items():
            value = record.get(key)
            out[row] = float(value) if isinstance(value, int | float) else np.nan
        return out


# ---------------------------------------------------------------------------- writing


def write_table(graph: nx.MultiGraph, folder: Path) -> None:
    """Write ``graph`` (integer nodes and keys) as the files of :class:`TableGraph` into ``folder``.

    Raises
    ------
    TableError
        If a node id or an edge key is not an integer, or the graph is not an undirected
        multigraph.
    """
    from planner.network.edge_index import attachable, projected_bounds, write_edge_index
    from planner.search.csr_graph import CSRGraph
    from planner.search.shortest_paths import STABLE_WEIGHTS

    if graph.is_directed() or not graph.is_multigraph():
        raise TableError("only an undirected MultiGraph is written as a table")
    nodes = list(graph._node)
    if any(type(node) is not int for node in nodes):
        raise TableError("node ids must be integers")
    writer = _Writer(folder)
    node_ids = np.asarray(nodes, dtype=np.int64)
    row_of = {node: i for i, node in enumerate(nodes)}
    node_spec = _records_spec([graph._node[n] for n in nodes], writer, geometry=False)

    # the adjacency as networkx holds it, numbering edges in graph.edges() order
    adj_ptr = np.zeros(len(nodes) + 1, dtype=np.int64)
    adj_nbr: list[int] = []
    slot_ptr: list[int] = [0]
    slot_edge: list[int] = []
    edge_of: dict[tuple[int, int, Any], int] = {}
    edges_u: list[int] = []
    edges_v: list[int] = []
    edges_key: list[int] = []
    records: list[dict[str, Any]] = []
    for i, (node, neighbours) in enumerate(graph._adj.items()):
        for other, keydict in neighbours.items():
            adj_nbr.append(row_of[other])
            for key, data in keydict.items():
                if type(key) is not int:
                    raise TableError("edge keys must be integers")
                pair = (node, other, key) if row_of[node] <= row_of[other] else (other, node, key)
                edge = edge_of.get(pair)
                if edge is None:
                    edge = edge_of[pair] = len(records)
                    edges_u.append(row_of[node])
                    edges_v.append(row_of[other])
                    edges_key.append(key)
                    records.append(data)
                slot_edge.append(edge)
            slot_ptr.append(len(slot_edge))
        adj_ptr[i + 1] = len(adj_nbr)
    del edge_of
    edge_spec = _records_spec(records, writer, geometry=True)
    meta: dict[str, Any] = {
        "version": TABLE_VERSION,
        "graph": dict(graph.graph),
        "nodes": node_spec,
        "edges": edge_spec,
        "node_ids": writer.add(node_ids),
        "adj_ptr": writer.add(adj_ptr),
        "adj_nbr": writer.add(adj_nbr, np.int64),
        "slot_ptr": writer.add(slot_ptr, np.int64),
        "slot_edge": writer.add(slot_edge, np.int64),
        "edge_u": writer.add(edges_u, np.int64),
        "edge_v": writer.add(edges_v, np.int64),
        "edge_key": writer.add(edges_key, np.int64),
    }
    # what a process would otherwise compute by walking every edge: the snapshots of the
    # stable weights, the corridor edges places attach to and the corridor lines' bounds
    snapshots: dict[str, Any] = {}
    for weight in sorted(STABLE_WEIGHTS):
        try:
            csr = CSRGraph.from_networkx(graph, weight)
        except ValueError:
            continue  # an edge without this weight: it is snapshot from the graph if asked
        ends = np.asarray([(csr.index[u], csr.index[v], k) for u, v, k in csr.edges])
        snapshots[weight] = snapshot_spec(csr, ends, writer)
    meta["snapshots"] = snapshots
    lines = [record.get("geometry") for record in records]
    attach = attachable(records)
    meta["attachable"] = writer.add(np.flatnonzero(attach), np.int64)
    attach_bounds = projected_bounds([lines[i] for i in np.flatnonzero(attach)])
    meta["attach_bounds"] = writer.add(attach_bounds)
    corridor = np.asarray(
        [record.get("kind") in {"rights_of_way", "fiber_routes"} for record in records], bool
    )
    meta["corridor_lines"] = writer.add(np.flatnonzero(corridor), np.int64)
    meta["corridor_bounds"] = writer.add(
        shapely.bounds(
            np.asarray([lines[i] for i in np.flatnonzero(corridor)], dtype=object)
        ).reshape(-1, 4)
    )
    write_edge_index(attach_bounds, folder / _EDGE_INDEX)
    write_meta(meta, folder)


def snapshot_spec(csr: Any, ends: npt.ArrayLike, writer: _Writer) -> dict[str, Any]:
    """Write the arrays of CSR snapshot ``csr`` whose edges are rows ``(u row, v row, key)``."""
    return {
        "alpha": csr.alpha,
        **{
            name: writer.add(getattr(csr, name))
            for name in ("indptr", "indices", "data", "entry_edge", "twin", "xyz")
        },
        "edge_rows": writer.add(np.asarray(ends).reshape(-1, 3).astype(np.int64)),
    }


def write_meta(meta: dict[str, Any], folder: Path) -> None:
    """Write the table's description last: a folder without it is no table."""
    with (folder / _META).open("wb") as handle:
        pickle.dump(meta, handle, protocol=pickle.HIGHEST_PROTOCOL)


# ---------------------------------------------------------------------------- reading


class _Arrays(Mapping[str, Any]):
    """The folder's arrays, each memory-mapped when first asked for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._open: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        array = self._open.get(name)
        if array is None:
            array = self._open[name] = mapped_array(self.folder / f"{name}.npy")
        return array

    def __iter__(self) -> Iterator[str]:
        return (p.stem for p in self.folder.glob("*.npy"))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _KeyedByNode(Mapping[Hashable, V]):
    """A mapping whose keys are the table's node ids, in the graph's node order."""

    def __init__(self, table: TableGraph) -> None:
        self._table = table

    def __getitem__(self, node: Hashable) -> V:
        raise NotImplementedError

    def __contains__(self, node: object) -> bool:
        return self._table.has_node_id(node)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._table.node_list())

    def __len__(self) -> int:
        return self._table.n


class _MadeOnDemand(_KeyedByNode[V]):
    """Node id to a value made from the node's row when first asked for, then kept.

    The graph's ``_node`` (attribute dicts) and ``_adj`` (``{neighbour: {key: edge
    dict}}``, whose parallel-edge and attribute dicts the table shares between both
    ends, as networkx does) are both such mappings; only how a row's value is made differs.
    """

    def __init__(self, table: TableGraph, make: Callable[[int], V]) -> None:
        super().__init__(table)
        self._make = make
        self._made: dict[int, V] = {}

    def __getitem__(self, node: Hashable) -> V:
        row = self._table.row(node)
        found = self._made.get(row)
        if found is None:
            with self._table.lock:
                found = self._made.get(row)
                if found is None:
                    found = self._made[row] = self._make(row)
        return found

    def __reduce__(self) -> Any:
        return (dict, (dict(self.items()),))


class _ParallelEdges(Mapping[Any, dict[str, Any]]):
    """Key to attribute dict of one node pair's parallel edges, each made when first asked for.

    A route reads one pair at each step, not every pair around the node (three or four
    on a street grid): making only the dicts asked for spares decoding the others.
    """

    __slots__ = ("_edges", "_table")

    def __init__(self, table: TableGraph, edges: dict[Any, int]) -> None:
        self._table = table
        self._edges = edges

    def __getitem__(self, key: Any) -> dict[str, Any]:
        return self._table.edge_data(self._edges[key])

    def __contains__(self, key: object) -> bool:
        return key in self._edges

    def __iter__(self) -> Iterator[Any]:
        return iter(self._edges)

    def __len__(self) -> int:
        return len(self._edges)

    def __reduce__(self) -> Any:
        return (dict, (dict(self.items()),))


class TableGraph(CorridorGraph):
    """A read-only :class:`CorridorGraph` over the files of :func:`write_table`.

    It has the same nodes, edges, keys and attribute dicts, in the same order, as the
    graph written; a node's neighbours and an edge's attributes are made when first
    touched. Changing it raises ``TypeError``: plan on an overlay
    (:func:`planner.network.overlay.overlay`).
    """

    def __init__(self, folder: Path) -> None:
        with (folder / _META).open("rb") as handle:
            meta = pickle.load(handle)
        if meta.get("version") != TABLE_VERSION:
            raise TableError(f"table version {meta.get('version')} is not {TABLE_VERSION}")
        super().__init__()
        self.folder = folder
        self.meta = meta
        self.arrays = _Arrays(folder)
        for name in list(self.arrays):
            # every file mapped now: an entry pruned later stays readable to this process
            self.arrays[name]
        self.lock = threading.RLock()
        self.graph.update(meta["graph"])
        self.node_ids = self.arrays[meta["node_ids"]]
        self.n = int(self.node_ids.size)
        self.identity = self.n == 0 or (
            int(self.node_ids[0]) == 0
            and int(self.node_ids[-1]) == self.n - 1
            and bool(np.all(np.diff(self.node_ids) == 1))
        )
        self._row_of: dict[int, int] | None = None
        self._node_list: list[int] | None = None
        self.node_records = _Records(meta["nodes"], self.arrays)
        self.edge_records = _Records(meta["edges"], self.arrays)
        self.m = self.edge_records.n
        self.adj_ptr = self.arrays[meta["adj_ptr"]]
        self.adj_nbr = self.arrays[meta["adj_nbr"]]
        self.slot_ptr = self.arrays[meta["slot_ptr"]]
        self.slot_edge = self.arrays[meta["slot_edge"]]
        self.edge_u = self.arrays[meta["edge_u"]]
        self.edge_v = self.arrays[meta["edge_v"]]
        self.edge_key = self.arrays[meta["edge_key"]]
        self._pairs: dict[tuple[int, int], _ParallelEdges] = {}
        self._edges: dict[int, dict[str, Any]] = {}
        self._index: Any = None
        self._node = _MadeOnDemand(self, self.node_records.record)
        self._adj = _MadeOnDemand(self, self.neighbours)

    def _changed(self) -> None:
        # every change of a CorridorGraph passes here first
        raise TypeError("a network read from its table is read-only; plan on an overlay of it")

    def __reduce__(self) -> Any:
        # pickled as a reference to its files (a process that unpickles it maps them)
        return (TableGraph, (self.folder,))

    # -- rows and ids

    def row(self, node: Hashable) -> int:
        """The row of node id ``node``; ``KeyError`` if it is not in the graph."""
        if self.identity:
            if type(node) is int and 0 <= node < self.n:
                return node
            integer = isinstance(node, int | np.integer) and not isinstance(node, bool | np.bool_)
            if integer and 0 <= int(node) < self.n:  # type: ignore[call-overload]
                return int(node)  # type: ignore[call-overload]
            raise KeyError(node)
        if self._row_of is None:
            self._row_of = {int(v): i for i, v in enumerate(self.node_ids.tolist())}
        try:
            return self._row_of[node]  # type: ignore[index]
        except TypeError:
            raise KeyError(node) from None

    def has_node_id(self, node: object) -> bool:
        try:
            self.row(node)
        except (KeyError, TypeError):
            return False
        return True

    def node_id(self, row: int) -> int:
        return row if self.identity else int(self.node_ids[row])

    def node_list(self) -> list[int]:
        if self._node_list is None:
            self._node_list = self.node_ids.tolist()
        return self._node_list

    # -- made on demand

    def edge_data(self, edge: int) -> dict[str, Any]:
        """The attribute dict of edge number ``edge`` (in ``graph.edges()`` order)."""
        found = self._edges.get(edge)
        if found is None:
            with self.lock:
                found = self._edges.get(edge)
                if found is None:
                    found = self._edges[edge] = self.edge_records.record(edge)
        return found

    def neighbours(self, row: int) -> dict[Hashable, Mapping[Any, dict[str, Any]]]:
        out: dict[Hashable, Mapping[Any, dict[str, Any]]] = {}
        start, stop = int(self.adj_ptr[row]), int(self.adj_ptr[row + 1])
        for slot, other in zip(range(start, stop), self.adj_nbr[start:stop].tolist(), strict=True):
            pair = (min(row, other), max(row, other))
            keydict = self._pairs.get(pair)
            if keydict is None:
                edges = self.slot_edge[self.slot_ptr[slot] : self.slot_ptr[slot + 1]].tolist()
                keydict = _ParallelEdges(self, {int(self.edge_key[e]): e for e in edges})
                self._pairs[pair] = keydict
            out[self.node_id(other)] = keydict
        return out

    # -- answered from the arrays

    def number_of_edges(self, u: Any = None, v: Any = None) -> int:
        if u is None and v is None:
            return self.m
        return int(super().number_of_edges(u, v))

    def size(self, weight: Any = None) -> Any:
        if weight is None:
            return self.m
        return super().size(weight)

    def edge_floats(self, key: str) -> npt.NDArray[np.float64] | None:
        """Attribute ``key`` of every edge as float64 (NaN where absent), or None."""
        return self.edge_records.floats(key)

    def edge_values(self, key: str) -> npt.NDArray[np.object_]:
        """``data.get(key)`` of every edge's attribute dict, in edge number order."""
        if key != "geometry":
            return self.edge_records.values(key)
        out = np.full(self.m, None, dtype=object)
        rows = np.flatnonzero(self.edge_records.has(key))
        out[rows] = self.lines(rows)
        return out

    def edge_line(self, edge: int) -> shapely.LineString | None:
        """Geometry of edge number ``edge`` (None where it has none)."""
        return self.edge_data(edge).get("geometry")

    def snapshot(self, weight: str) -> Any:
        """The persisted CSR snapshot for ``weight`` (None if not kept)."""
        from planner.search.csr_graph import CSRGraph

        found = self.meta["snapshots"].get(weight)
        if found is None or self.version != 0:
            return None
        arrays = self.arrays
        rows = arrays[found["edge_rows"]]
        return CSRGraph(
            indptr=arrays[found["indptr"]],
            indices=arrays[found["indices"]],
            data=arrays[found["data"]],
            nodes=NodeIds(self),
            index=NodeRows(self),
            entry_edge=arrays[found["entry_edge"]],
            edges=EdgeTriples(self, rows),
            twin=arrays[found["twin"]],
            xyz=arrays[found["xyz"]],
            alpha=float(found["alpha"]),
            weight=weight,
        )

    def attachable(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Edge numbers places may attach to and their EPSG:6372 bounds."""
        return self.arrays[self.meta["attachable"]], self.arrays[self.meta["attach_bounds"]]

    def corridor_lines(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Edge numbers of the corridor lines (no drops, no bridges) and their lon/lat bounds."""
        return self.arrays[self.meta["corridor_lines"]], self.arrays[self.meta["corridor_bounds"]]

    def corridor_index(self) -> tuple[Sequence[tuple[int, int, int]], Any]:
        """The edges places may attach to and their :class:`~planner.network.edge_index.EdgeIndex`
        (what :mod:`planner.network.attach` would otherwise build by walking every edge)."""
        from planner.network.edge_index import EdgeIndex, read_edge_index

        with self.lock:
            if self._index is None:
                edges, bounds = self.attachable()

                def line(i: int) -> Any:
                    return self.edge_line(int(edges[i]))

                def lines() -> Any:
                    return self.lines(edges)

                def lines_at(rows: npt.NDArray[np.intp]) -> Any:
                    return self.lines(edges[rows])

                try:
                    index = read_edge_index(
                        self.folder / _EDGE_INDEX, line, lines, lines_at=lines_at, bounds=bounds
                    )
                except OSError:  # written before the index was kept, or pruned since
                    index = EdgeIndex(bounds, line, lines, lines_at=lines_at)
                self._index = (EdgeNumbers(self, edges), index)
            return self._index

    def lines(self, edges: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
        """The geometries of edges numbered ``edges``, made in one vectorised call."""
        records = self.edge_records
        plain = np.asarray(records.layout)[edges] >= 0
        out = np.empty(edges.size, dtype=object)
        if plain.any():
            chosen = edges[plain]
            start, stop = records.offsets[chosen], records.offsets[chosen + 1]
            count = stop - start
            first = np.repeat(start - np.r_[0, np.cumsum(count)[:-1]], count)
            rows = np.arange(int(count.sum())) + first
            which = np.repeat(np.arange(chosen.size), count)
            out[plain] = shapely.linestrings(np.asarray(records.coords)[rows], indices=which)
        for i in np.flatnonzero(~plain).tolist():
            out[i] = self.edge_line(int(edges[i]))
        return out

    def edge_triple(self, edge: int) -> tuple[int, int, int]:
        """``(u, v, key)`` of edge number ``edge`` as ``graph.edges(keys=True)`` gives it."""
        return (
            self.node_id(int(self.edge_u[edge])),
            self.node_id(int(self.edge_v[edge])),
            int(self.edge_key[edge]),
        )


class NodeIds(ArrayView[Hashable]):
    """The node id of each row of a table's snapshot (a list would cost a million ints)."""

    def __init__(self, table: TableGraph) -> None:
        self._table = table

    def __len__(self) -> int:
        return self._table.n

    def _item(self, row: int) -> Hashable:
        return self._table.node_id(row)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NodeIds):
            return other._table is self._table
        return super().__eq__(other)


class NodeRows(_KeyedByNode[int]):
    """The row of each node id of a table's snapshot."""

    def __getitem__(self, node: Hashable) -> int:
        return self._table.row(node)


class EdgeTriples(ArrayView[tuple[Hashable, Hashable, Any]]):
    """``(u, v, key)`` of a snapshot's chosen edges, from rows ``(u row, v row, key)``."""

    def __init__(self, table: TableGraph, rows: npt.NDArray[np.int64]) -> None:
        self._table = table
        self._rows = rows

    def __len__(self) -> int:
        return int(self._rows.shape[0])

    def _item(self, row: int) -> tuple[Hashable, Hashable, Any]:
        u, v, key = self._rows[row].tolist()
        return (self._table.node_id(u), self._table.node_id(v), key)


class EdgeNumbers(ArrayView[tuple[int, int, int]]):
    """``(u, v, key)`` of the table's edges numbered ``edges``."""

    def __init__(self, table: TableGraph, edges: npt.NDArray[np.int64]) -> None:
        self._table = table
        self._edges = edges

    def __len__(self) -> int:
        return int(self._edges.size)

    def _item(self, row: int) -> tuple[int, int, int]:
        return self._table.edge_triple(int(self._edges[row]))


def read_table(folder: Path) -> TableGraph:
    """The graph written into ``folder`` by :func:`write_table`, its files memory-mapped."""
    return TableGraph(folder)
