"""The priced network written as arrays and read back memory-mapped is the network built.

Every node, edge, key and attribute dict (key order and value types included) of the
graph read back must equal the built graph's, and so must the CSR snapshots kept with it;
the graph must be shared by processes through the files, never copied into each.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
import shapely
from shapely import LineString, Point

from planner.network.corridor_graph import CorridorGraph, project
from planner.network.edge_index import (
    EdgeIndex,
    projected_bounds,
    read_edge_index,
    write_edge_index,
)
from planner.network.edge_table import TableGraph, read_table, write_table
from planner.network.overlay import nodes_and_edges, overlay
from planner.network.places import Place
from planner.network.planning_network import attach_places
from planner.search.csr_graph import CSRGraph
from planner.search.shortest_paths import csr_of

REPO = Path(__file__).resolve().parents[2]


def _exactly(graph: nx.MultiGraph) -> list[Any]:
    """Nodes and edges in order, each dict as its items in order with each value's type."""
    out = []
    for item in nodes_and_edges(graph):
        data = item[-1]
        typed = [
            (k, type(v).__name__, v.wkb if isinstance(v, shapely.Geometry) else v)
            for k, v in data.items()
        ]
        out.append((*item[:-1], typed))
    return out


def _assert_same_snapshot(built: nx.MultiGraph, table: nx.MultiGraph, weight: str) -> None:
    fresh = CSRGraph.from_networkx(built, weight)
    kept = csr_of(table, weight)
    for name in ("indptr", "indices", "data", "entry_edge", "twin", "xyz"):
        assert np.array_equal(getattr(fresh, name), getattr(kept, name)), name
    assert kept.alpha == fresh.alpha
    assert list(kept.nodes) == list(fresh.nodes)
    assert list(kept.edges) == list(fresh.edges)
    assert all(kept.index[node] == row for node, row in fresh.index.items())


def _odd_graph() -> CorridorGraph:
    """Every kind of value a network holds, and some no column takes."""
    graph = CorridorGraph(crs="EPSG:4326", next_node=5)
    graph.add_node(0, x=-93.0, y=17.0)
    graph.add_node(1, x=-92.0, y=17.0, kind="shore")
    graph.add_node(2, x=-92.0, y=18.0, name="Cárdenas", population=91_558)
    graph.add_node(4, x=-91.0, y=18.0)
    graph.add_node(3, x=-91.5, y=18.5, extra={"not": "a column"})
    road = LineString([(-93.0, 17.0), (-92.5, 17.2), (-92.0, 17.0)])
    common = {"layer": "roads", "feature_id": 7, "corridor": ("roads", 7), "kind": "rights_of_way"}
    graph.add_edge(0, 1, **common, length_km=107.3, cost_usd=1.5e6, reuses_fiber=False)
    fiber = {**common, "feature_id": "a7", "corridor": ("fiber", "a7"), "length_km": 1.0}
    graph.add_edge(0, 1, **fiber)
    graph.add_edge(
        1,
        2,
        layer=None,
        feature_id=None,
        corridor=None,
        kind="bridge",
        landings=2,
        geometry=LineString([(-92.0, 17.0), (-92.0, 18.0)]),
        length_km=110.7,
    )
    graph.add_edge(2, 4, geometry=road, multipliers={"terrain": 1.2}, length_km=3.0)
    graph.add_edge(4, 2, geometry=Point(0, 1), length_km=0.0, flag=True)
    graph.add_edge(4, 4, geometry=road, length_km=0.5, big=2**70)
    graph.add_edge(3, 0, geometry=road, length_km=1, cost_usd=2)
    return graph


def test_every_value_comes_back_as_it_was(tmp_path: Path) -> None:
    graph = _odd_graph()
    write_table(graph, tmp_path / "t")
    table = read_table(tmp_path / "t")
    assert _exactly(table) == _exactly(graph)
    assert table.graph == graph.graph
    assert table.number_of_edges() == 7 and table.number_of_nodes() == 5
    assert table.number_of_edges(0, 1) == 2
    # one dict per edge, shared by both ends, as networkx shares it
    assert table._adj[0][1] is table._adj[1][0]
    assert table.edges[0, 1, 1] is table._adj[1][0][1]
    with pytest.raises(TypeError):
        table.add_edge(0, 2)


def test_a_column_of_every_edge_is_what_each_dict_holds(tmp_path: Path) -> None:
    graph = _odd_graph()
    write_table(graph, tmp_path / "t")
    table = read_table(tmp_path / "t")
    datas = [data for _, _, data in graph.edges(data=True)]
    for key in {key for data in datas for key in data} | {"absent"}:
        column = table.edge_values(key)
        expected = [data.get(key) for data in datas]
        assert len(column) == len(expected)
        for got, want in zip(column, expected, strict=True):
            assert type(got) is type(want), key
            if isinstance(want, shapely.Geometry):
                assert shapely.equals_exact(got, want, tolerance=0.0), key
            else:
                assert got == want, key


def test_the_bundled_network_reads_back_equal(bundled_store: Path) -> None:
    from layers.store import Store
    from usecases.context import planning_context

    built = planning_context(Store(bundled_store), cache=False).network
    loaded = planning_context(Store(bundled_store)).network
    table = loaded.graph
    assert isinstance(table, TableGraph) and not isinstance(built.graph, TableGraph)
    assert _exactly(table) == _exactly(built.graph)
    assert table.graph == built.graph.graph
    assert table.number_of_edges() == built.graph.number_of_edges()
    for weight in ("cost_usd", "length_km"):
        _assert_same_snapshot(built.graph, table, weight)
    # a planning copy is laid over the shared network, not copied from it
    copy = overlay(table)
    assert copy._adj.own == {} and len(copy) == len(table)  # type: ignore[attr-defined]
    assert loaded.bridges == built.bridges and loaded.layers == built.layers
    # places attached to a copy of each (splits, drops, a subsea drop to Cozumel) give
    # equal graphs, and the copy's patched snapshot is the one taken from scratch
    places = [
        Place("Villahermosa", -92.9303, 17.9892),
        Place("Cancún", -86.8515, 21.1619),
        Place("San Miguel de Cozumel", -86.9495, 20.5083),
    ]
    copies = [network.copy() for network in (built, loaded)]
    nodes = [attach_places(copy, places) for copy in copies]
    assert nodes[0] == nodes[1]
    assert _exactly(copies[0].graph) == _exactly(copies[1].graph)
    _assert_same_snapshot(copies[0].graph, copies[1].graph, "cost_usd")
    assert _exactly(table) == _exactly(built.graph)  # the shared network is untouched
    # the attachments asked the index kept with the network, not one built from it
    assert isinstance(table.corridor_index()[1].grid.order.base, np.memmap)


def test_two_processes_map_the_same_files(tmp_path: Path) -> None:
    write_table(_odd_graph(), tmp_path / "t")
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from planner.network.edge_table import read_table\n"
        "table = read_table(Path(sys.argv[1]))\n"
        "assert table.number_of_edges() == 7\n"
        "print(open('/proc/self/maps').read())\n"
    )

    def mapped(text: str) -> set[tuple[str, str]]:
        """(inode, path) of every shared read-only mapping of the table's files."""
        found = set()
        for line in text.splitlines():
            fields = line.split()
            if len(fields) >= 6 and fields[5].startswith(str(tmp_path / "t")):
                assert fields[1] == "r--s", line  # read-only, shared with other processes
                found.add((fields[4], fields[5]))
        return found

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", program, str(tmp_path / "t")],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=REPO,
        ).stdout
        for _ in range(2)
    ]
    first, second = mapped(runs[0]), mapped(runs[1])
    arrays = {str(p) for p in (tmp_path / "t").glob("*.npy") if p.stat().st_size > 128}
    assert arrays and {path for _, path in first} >= arrays
    assert first == second  # the same files (same inodes), mapped by both


@pytest.mark.parametrize("kept", [False, True], ids=["built", "written and read back"])
def test_the_edge_index_answers_as_the_tree(kept: bool, tmp_path: Path) -> None:
    # 2,000 random short lines and 20 long ones; 300 random points, some on a line's end
    rng = np.random.default_rng(3)
    start = rng.uniform([-94.0, 17.0], [-92.0, 19.0], (2000, 2))
    lines = list(shapely.linestrings(np.stack([start, start + rng.normal(0, 0.02, (2000, 2))], 1)))
    far = rng.uniform([-94.0, 17.0], [-92.0, 19.0], (20, 2))
    lines += list(shapely.linestrings(np.stack([far, far[::-1]], 1)))
    projected = project(np.asarray(lines, dtype=object))
    tree = shapely.STRtree(projected)
    index = EdgeIndex(
        projected_bounds(lines), lambda i: lines[i], lambda: np.asarray(lines, dtype=object)
    )
    if kept:
        write_edge_index(projected_bounds(lines), tmp_path / "index")
        index = read_edge_index(
            tmp_path / "index", lambda i: lines[i], lambda: np.asarray(lines, dtype=object)
        )
        assert isinstance(index.grid.order.base, np.memmap)  # mapped, not built
    points = project(shapely.points(rng.uniform([-94.2, 16.8], [-91.8, 19.2], (300, 2))))
    ends = shapely.get_coordinates(projected[2000:])  # the long lines' corners, just outside
    beyond = shapely.points(
        ends + np.sign(ends - ends.mean(axis=0)) * rng.uniform(1, 50, ends.shape)
    )
    points = np.concatenate(
        [points, [shapely.get_point(projected[i], 0) for i in range(10)], beyond]
    )
    expected = tree.query_nearest(points)
    got = index.query_nearest(points)
    first = lambda found: {int(p): int(e) for p, e in found.T[::-1]}  # noqa: E731
    assert first(got) == first(expected)
    # all of a point's equally near lines, as the tree gives them and as one point asks
    assert np.array_equal(got, expected)
    for i in range(0, len(points), 7):
        assert np.array_equal(index.query_nearest(points[i]), got[1, got[0] == i])
    # lines made many at once answer the same
    at_once = EdgeIndex(
        projected_bounds(lines),
        lambda i: lines[i],
        lambda: np.asarray(lines, dtype=object),
        lines_at=lambda rows: np.asarray(lines, dtype=object)[rows],
    )
    assert np.array_equal(at_once.query_nearest(points), expected)
    for point in points[:50]:
        for km in (0.5, 5.0, 40.0):
            want = np.sort(tree.query(point, predicate="dwithin", distance=km * 1000))
            assert np.array_equal(np.sort(index.query(point, distance=km * 1000)), want)


def test_the_edge_index_leaves_equally_near_lines_to_the_tree() -> None:
    # three lines leave one corner outwards: a point beyond the corner is equally near
    # all three (the corner), and the tree's order of equals says which one it joins
    corner = (-93.0, 18.0)
    lines = [
        LineString([corner, (-92.9, 18.0)]),
        LineString([corner, (-93.0, 18.1)]),
        LineString([corner, (-92.95, 18.05)]),
        LineString([(-92.0, 17.0), (-91.9, 17.1)]),
    ]
    projected = project(np.asarray(lines, dtype=object))
    index = EdgeIndex(
        projected_bounds(lines), lambda i: lines[i], lambda: np.asarray(lines, dtype=object)
    )
    points = project(shapely.points([(-93.01, 17.99), (-93.05, 17.95), (-92.9, 18.01)] * 20))
    got = index.query_nearest(points)  # many points: each step taken for all at once
    assert np.array_equal(got, shapely.STRtree(projected).query_nearest(points))
    assert sorted(got[1, got[0] == 0].tolist()) == [0, 1, 2]
    assert got[1, got[0] == 2].tolist() == [0]
    for i in range(3):
        assert np.array_equal(index.query_nearest(points[i]), got[1, got[0] == i])


@pytest.mark.parametrize(
    "lines",
    [
        [LineString([(-93.0, 18.0), (-92.9, 18.1)])],  # one line
        [LineString([(-93.0, 18.0 + i * 1e-3), (-92.9, 18.0 + i * 1e-3)]) for i in range(5)],
        [LineString([(-93.0, 18.0), (-92.9, 18.1)])] * 4,  # one centre, four equal lines
    ],
    ids=["one line", "five parallel", "four equal"],
)
def test_the_edge_index_answers_as_the_tree_on_few_lines(lines: list[LineString]) -> None:
    # points on, beside and 1,000 km away from the lines: a grid of one cell or a few
    projected = project(np.asarray(lines, dtype=object))
    tree = shapely.STRtree(projected)
    index = EdgeIndex(
        projected_bounds(lines), lambda i: lines[i], lambda: np.asarray(lines, dtype=object)
    )
    points = project(shapely.points([(-93.0, 18.0), (-92.95, 18.02), (-92.0, 17.0), (-83.0, 25.0)]))
    assert np.array_equal(index.query_nearest(points), tree.query_nearest(points))
    for point in points:
        want = np.sort(tree.query(point, predicate="dwithin", distance=5_000.0))
        assert np.array_equal(np.sort(index.query(point, distance=5_000.0)), want)
