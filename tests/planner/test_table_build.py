"""The network written straight into a table is the networkx build written as one.

:func:`planner.network.table_build.build_network_table` never makes the networkx graph;
what it writes must read back as exactly what ``write_table(build_network(...).graph)``
reads back: every node, edge, key, attribute (key order and value types included), the
graph's attributes and both CSR snapshots. The bundled layers are compared in
``test_edge_table.py``; here small layers hold the cases they may not: islands of streets
on a regular grid (equally near nodes: the bridge goes where networkx's order puts it),
fiber laid on a road (its corridor shared), ids that are text, nulls, a value no column
takes, a layer in another CRS.
"""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.network.cost_model import load_cost_model
from planner.network.edge_table import read_table, write_table
from planner.network.planning_network import build_network
from planner.network.table_build import build_network_table
from tests.planner.test_edge_table import _assert_same_snapshot, _exactly


def _grid(side: int, x0: float, y0: float) -> list[shapely.LineString]:
    """Streets of a ``side`` x ``side`` grid 0.01° apart from ``(x0, y0)``, three vertices each."""
    lines = []
    for i in range(side):
        for j in range(side - 1):
            x, y = x0 + j * 0.01, y0 + i * 0.01
            lines.append(shapely.LineString([(x, y), (x + 0.005, y), (x + 0.01, y)]))
            x, y = x0 + i * 0.01, y0 + j * 0.01
            lines.append(shapely.LineString([(x, y), (x, y + 0.005), (x, y + 0.01)]))
    return lines


def _roads() -> gpd.GeoDataFrame:
    """A town and three islands of streets, two of them as far from it as each other."""
    lines = [
        *_grid(6, -93.0, 18.0),
        *_grid(2, -92.85, 18.0),
        *_grid(2, -93.0, 18.15),
        *_grid(3, -92.5, 18.5),
    ]
    n = len(lines)
    return gpd.GeoDataFrame(
        {
            "row_type": ["highway"] * n,
            "road_class": ["primary" if k % 3 == 0 else "local" for k in range(n)],
            "name": [f"calle {k}" if k % 4 else None for k in range(n)],
        },
        geometry=lines,
        crs="EPSG:4326",
    )


def _fiber() -> gpd.GeoDataFrame:
    """Fiber along the grid's first street (shares its corridor) and a stretch of its own."""
    return gpd.GeoDataFrame(
        {
            "id": ["f-1", "f-2"],
            # a list no column takes: f-2's edges keep their records whole
            "operator": ["CFE Telecom", ["Telmex", "Bestel"]],
            "lease_available": [True, False],
            "status": ["operational", "planned"],
        },
        geometry=[
            shapely.LineString([(-93.0, 18.0), (-92.995, 18.0), (-92.99, 18.0)]),
            shapely.LineString([(-92.97, 18.03), (-92.9, 18.1)]),
        ],
        crs="EPSG:4326",
    ).to_crs("EPSG:6372")


@pytest.mark.parametrize("bridge_km", [150.0, 0.0])
def test_the_table_is_the_networkx_build(tmp_path: Path, bridge_km: float) -> None:
    layers = {"roads": _roads(), "fiber": _fiber()}
    model = load_cost_model()
    built = build_network(dict(layers), model, max_bridge_km=bridge_km)
    write_table(built.graph, tmp_path / "reference")
    reference = read_table(tmp_path / "reference")
    network = build_network_table(
        {name: functools.partial(gpd.GeoDataFrame.copy, frame) for name, frame in layers.items()},
        model,
        tmp_path / "arrays",
        max_bridge_km=bridge_km,
    )
    table = network.graph
    assert network.bridges == (3 if bridge_km else 0)
    assert network.bridges == built.bridges and network.layers == built.layers
    assert table.graph == reference.graph
    assert _exactly(table) == _exactly(reference) == _exactly(built.graph)
    shared = [d for _, _, d in table.edges(data=True) if "fiber_corridor" in d]
    # f-1 runs along the first street (feature 0 of roads) from end to end
    found = [(d["corridor"], d["fiber_corridor"]) for d in shared]
    assert found == [(("roads", 0), ("fiber", "f-1"))]
    owners = {
        d["operator"] if d["feature_id"] == "f-1" else tuple(d["operator"])
        for d in (d for _, _, d in table.edges(data=True) if d["layer"] == "fiber")
    }
    assert owners == {"CFE Telecom", ("Telmex", "Bestel")}
    assert table.edge_records.side  # f-2's pieces
    for weight in ("cost_usd", "length_km"):
        _assert_same_snapshot(built.graph, table, weight)
    for kept in ("attachable", "corridor_lines"):
        for ours, theirs in zip(getattr(table, kept)(), getattr(reference, kept)(), strict=True):
            assert np.array_equal(ours, theirs)
