"""Compile the planner's numba kernels into their on-disk cache, before the tests need them.

numba caches compiled kernels beside their source (``cache=True``), keyed by the source
file's path and modification time, so a fresh clone compiles every kernel again (about
45 s of one core). ``make test`` runs this script in the background while ruff, mypy and
the browser, PostGIS and QGIS installs run, and waits for it before pytest starts; pytest
(and every server or worker process it starts) then loads the kernels from the cache.

Each kernel is compiled for the argument types it is called with, so this calls the public
searches on tiny graphs with the same types the planner uses rather than the kernels
themselves. Run it by hand with ``.venv/bin/python tests/compile_kernels.py``.
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np


def compile_kernels() -> None:
    """Run the route searches, the Steiner solver and the ring closing once on tiny graphs,
    and the Lagrangian bound of site selection on two towns."""
    from planner.plans.site_selection import SiteProblem, greedy_sites, relaxation_bound
    from planner.search.shortest_paths import CSRGraph, arc_search, shortest_path
    from planner.search.steiner import steiner_tree, two_edge_connect

    ring = nx.cycle_graph(6)
    for u, v in ring.edges:
        ring.edges[u, v]["length_km"] = 1.0 + u
        ring.nodes[u]["x"], ring.nodes[u]["y"] = -92.9 + 0.1 * u, 17.9 + 0.05 * u
    # a process's first point-to-point search runs interpreted; the second is compiled
    for _ in range(2):
        shortest_path(CSRGraph.from_networkx(ring, "length_km"), 0, 3)
    tail = np.array([0, 1, 2], dtype=np.int64)
    head = np.array([1, 2, 0], dtype=np.int64)
    arc_search(3, tail, head, np.array([1.0, 2.0, 3.0]), 0, 2)
    steiner_tree(ring, [0, 2, 4], weight="length_km")
    two_edge_connect(nx.to_scipy_sparse_array(ring, weight="length_km"), [(0, 1), (1, 2)])
    towns = SiteProblem(
        site_usd=np.array([60_000.0]),
        pair_site=np.array([0, 0], dtype=np.int64),
        pair_locality=np.array([0, 1], dtype=np.int64),
        people=np.array([5000.0, 5000.0]),
        cpe_usd=np.array([10_000.0, 10_000.0]),
        alternative_usd=np.array([100_000.0, 100_000.0]),
        capacity=1500.0,
        radio_usd=8000.0,
        max_radios=6,
    )
    relaxation_bound(towns, greedy_sites(towns))


if __name__ == "__main__":
    started = time.perf_counter()
    compile_kernels()
    print(f"numba kernels compiled or loaded in {time.perf_counter() - started:.1f} s")
