"""Benchmark the corridor graph and routing engine against networkx, side by side.

Plain script, not a test: ``python bench/routing.py`` (1,000,000-node grid, several
minutes, ~10 GB) or ``python bench/routing.py --nodes 40000`` for a quick run. Prints one
table; the networkx baseline runs in the same process on the same graph.

The graph is road-like: a square lon/lat grid over Mexico (0.01° spacing), each street
as long as its geodesic length times a random detour factor in [1, 1.5], 10% of streets
removed, plus straight "highways" (detour factor 1) joining nodes up to 60 cells apart.
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.nx_baselines import nx_diverse_pair, nx_nearest_sources, nx_shortest_path
from planner.network.corridor_graph import geodesic_km
from planner.search.route_search import diverse_pair
from planner.search.shortest_paths import CSRGraph, nearest_sources, shortest_path

ROWS: list[tuple[str, str, str, str, str]] = []


def row(task: str, size: str, ours: float, baseline: float | None, note: str) -> None:
    speed = f"{baseline / ours:.1f}x" if baseline else "-"
    base = f"{baseline:.3f}" if baseline else "-"
    ROWS.append((task, size, f"{ours:.3f}", base, f"{speed}  {note}"))
    print(f"  {task}: {ours:.3f} s vs {base} s {note}", flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def road_grid(nodes: int, seed: int, corridors: bool = False) -> nx.Graph:
    """A seeded road-like grid with about ``nodes`` nodes (see module doc)."""
    side = math.isqrt(nodes)
    n = side * side
    rng = np.random.default_rng(seed)
    idx = np.arange(n).reshape(side, side)
    lon = -105.0 + (idx % side).ravel() * 0.01
    lat = 18.0 + (idx // side).ravel() * 0.01
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(u.size) > 0.10
    u, v = u[keep], v[keep]
    w = geodesic_km(lon[u], lat[u], lon[v], lat[v]) * rng.uniform(1.0, 1.5, u.size)
    hu = rng.integers(0, n, max(n // 5000, 2))
    hv = np.clip(
        hu + rng.integers(-60, 61, hu.size) * side + rng.integers(-60, 61, hu.size), 0, n - 1
    )
    hw = geodesic_km(lon[hu], lat[hu], lon[hv], lat[hv])
    graph = nx.Graph() if not corridors else nx.MultiGraph()
    graph.add_nodes_from(
        (i, {"x": x, "y": y})
        for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True))
    )
    # corridors: runs of 8 streets along a row or column are one feature
    run = (np.minimum(u, v) // 8) * 2 + (np.abs(u - v) == 1)
    graph.add_edges_from(
        (a, b, {"length_km": c, "corridor": ("streets", r)})
        for a, b, c, r in zip(u.tolist(), v.tolist(), w.tolist(), run.tolist(), strict=True)
    )
    graph.add_edges_from(
        (a, b, {"length_km": c, "corridor": ("highway", i)})
        for i, (a, b, c) in enumerate(zip(hu.tolist(), hv.tolist(), hw.tolist(), strict=True))
        if a != b
    )
    return graph


def bench_point_to_point(graph: nx.Graph, csr: CSRGraph, pairs: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    nodes = np.array(list(graph.nodes))
    shortest_path(csr, int(nodes[0]), int(nodes[1]))  # compile
    ours = base = 0.0
    done = 0
    while done < pairs:
        s, t = (int(x) for x in rng.choice(nodes, 2, replace=False))
        try:
            tb, (cost_b, _) = timed(partial(nx_shortest_path, graph, s, t, "length_km"))
        except nx.NetworkXNoPath:
            continue
        to, (cost_o, _) = timed(partial(shortest_path, csr, s, t))
        assert math.isclose(cost_o, cost_b, rel_tol=1e-9), (cost_o, cost_b)
        ours, base, done = ours + to, base + tb, done + 1
    row("point-to-point route (mean)", f"{csr.n:,} nodes", ours / pairs, base / pairs, "same cost")


def bench_nearest(graph: nx.Graph, csr: CSRGraph, sources: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    src = [int(x) for x in rng.choice(np.array(list(graph.nodes)), sources, replace=False)]
    to, got = timed(lambda: nearest_sources(csr, src))
    tb, ref = timed(lambda: nx_nearest_sources(graph, src, "length_km"))
    dist = np.array([ref[v][0] if v in ref else np.inf for v in csr.nodes])
    assert np.allclose(got.distance, dist, rtol=1e-9)
    row(f"nearest of {sources:,} sources, all nodes", f"{csr.n:,} nodes", to, tb, "same distances")


def bench_diverse(nodes: int, seed: int) -> None:
    graph = road_grid(nodes, seed + 1, corridors=True)
    rng = np.random.default_rng(seed)
    n = graph.number_of_nodes()
    side = math.isqrt(n)
    s = int(rng.integers(side // 8)) * side + int(rng.integers(side // 8))
    t = n - 1 - s
    to, ours = timed(lambda: diverse_pair(graph, s, t, exact_max_edges=0))
    tb, ref = timed(lambda: nx_diverse_pair(graph, s, t, exact_max_edges=0))
    assert math.isclose(ours.cost, ref.cost, rel_tol=1e-9)
    row("diverse pair (corridor-disjoint)", f"{n:,} nodes", to, tb, f"same cost, {ours.method}")


def bench_build(segments: int) -> None:
    """Graph build from ~``segments`` line segments, in a child process for its peak RSS."""
    root = str(Path(__file__).resolve().parent.parent)
    code = (
        f"import sys; sys.path.insert(0, {root!r}); import bench.routing as b; b._build({segments})"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    seconds, edges = out.stdout.split()
    note = f"{int(edges):,} edges, peak RSS {peak_gb:.2f} GB"
    row("graph build from line segments", f"{segments:,} segments", float(seconds), None, note)


def _build(segments: int) -> None:
    import geopandas as gpd
    import shapely

    from planner.network.corridor_graph import build_corridor_graph

    side = math.isqrt(segments // 2) + 1
    rng = np.random.default_rng(7)
    gx, gy = np.meshgrid(-105.0 + np.arange(side) * 0.01, 18.0 + np.arange(side) * 0.01)
    jitter = rng.uniform(-0.0001, 0.0001, gx.shape)  # ~10 m: ends need snapping
    h = np.stack([gx[:, :-1], gy[:, :-1] + jitter[:, :-1], gx[:, 1:], gy[:, 1:]], -1).reshape(
        -1, 2, 2
    )
    v = np.stack([gx[:-1, :], gy[:-1, :], gx[1:, :], gy[1:, :] + jitter[1:, :]], -1).reshape(
        -1, 2, 2
    )
    coords = np.concatenate([h, v])[:segments]
    lines = shapely.linestrings(coords)
    kinds = np.array(["highway", "rail", "pipeline", "power", "other"])[
        rng.integers(0, 5, lines.size)
    ]
    frame = gpd.GeoDataFrame({"row_type": kinds}, geometry=lines, crs="EPSG:4326")
    start = time.perf_counter()
    graph = build_corridor_graph({"row": frame})
    print(f"{time.perf_counter() - start:.3f} {graph.number_of_edges()}")


def bench_routing(nodes: int, pairs: int, sources: int, seed: int) -> None:
    tg, graph = timed(partial(road_grid, nodes, seed))
    tc, csr = timed(partial(CSRGraph.from_networkx, graph, "length_km"))
    note = f"(networkx build {tg:.1f} s)"
    row("networkx graph / CSR snapshot", f"{csr.n:,} nodes", tc, None, note)
    bench_point_to_point(graph, csr, pairs, seed)
    bench_nearest(graph, csr, min(sources, csr.n), seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000, help="nodes of the routing grid")
    parser.add_argument("--diverse-nodes", type=int, default=None, help="default: nodes / 10")
    parser.add_argument("--segments", type=int, default=None, help="default: nodes")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    segments = args.segments or args.nodes
    print(f"graph build from {segments:,} segments ...", flush=True)
    bench_build(segments)
    print(f"road grid of {args.nodes:,} nodes ...", flush=True)
    bench_routing(args.nodes, args.pairs, args.sources, args.seed)
    bench_diverse(args.diverse_nodes or max(args.nodes // 10, 100), args.seed)
    print()
    head = ("task", "size", "engine s", "networkx s", "speed-up")
    widths = [max(len(r[i]) for r in [head, *ROWS]) for i in range(5)]
    for r in [head, tuple("-" * w for w in widths), *ROWS]:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
