"""Rings: the ring heuristic against exact optima and against the old tree-closing step.

    python bench/ring.py FILE... [--json] [--random K] [--exact-max-nodes N] [--seed S]
    python bench/ring.py --rnei [--repeat N] [--scenario-repeat M]

For each OR-Library Steiner file (e.g. ``steinb10.txt``; the terminals are the ring's) the
minimum-cost 2-edge-connected subgraph spanning the terminals (pairs the graph joins by
one edge only need one path) is solved by :func:`planner.search.ring.ring_subgraph`. On graphs up
to ``--exact-max-nodes`` nodes the optimum is proven by integer programming
(:func:`planner.search.ring.exact_ring`, HiGHS cut formulation) and the gap is printed. The same
run's baseline is the previous ring step: the Steiner tree closed by
:func:`planner.search.steiner.two_edge_connect` alone. ``--random K`` adds K seeded random
geometric instances of 40-60 nodes (the shared OR-Library files are 75 to 2,500 nodes).
With ``--json``, one line per instance: ``{"name", "cost", "seconds"}`` (and the rest).

``--rnei`` times the national ring instead: the bundled scenario ``rnei`` (a ring over about
230 terminals) is planned on the bundle loaded into a temporary store, the backbone it
closes into a ring is kept, and the closing
(:func:`planner.search.steiner.two_edge_connect`) is timed ``--repeat`` times against the
networkx version it replaced (``bench/nx_baselines.py``), with equal edges checked.
The whole scenario is then planned ``--scenario-repeat`` times as shipped and with the
networkx closing and longest-path search patched in (the same-run baseline), and the two
proposals' total cost and edges are compared. The Steiner search is bounded by work, as
shipped, so every run plans the same backbone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import networkx as nx
import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.search import steiner
from planner.search.ring import exact_ring, ring_subgraph
from planner.search.steiner import read_orlib, steiner_tree_csr, two_edge_connect


def random_instance(seed: int) -> tuple[str, sp.csr_array, np.ndarray]:
    """A connected random geometric graph of 40-60 nodes, integer weights, 6-12 terminals."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 61))
    graph = nx.random_geometric_graph(n, 0.28, seed=seed)
    while not nx.is_connected(graph):
        seed += 1000
        graph = nx.random_geometric_graph(n, 0.28, seed=seed)
    pos = nx.get_node_attributes(graph, "pos")
    u, v = np.array(list(graph.edges)).T
    w = np.array([round(100 * np.hypot(*np.subtract(pos[a], pos[b]))) + 1 for a, b in graph.edges])
    m = sp.coo_array((w.astype(float), (u, v)), shape=(n, n)).tocsr()
    terminals = np.sort(rng.choice(n, int(rng.integers(6, 13)), replace=False))
    return f"random{seed % 1000}", sp.csr_array(m + m.T), terminals


def solve(name: str, matrix: Any, terminals: np.ndarray, exact_max: int) -> dict[str, Any]:
    """Heuristic, baseline and (small graphs) exact optimum of one instance."""
    n = matrix.shape[0]
    started = time.perf_counter()
    ring = ring_subgraph(matrix, terminals)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    tree = steiner_tree_csr(matrix, terminals)
    closed = two_edge_connect(matrix, tree.edges)
    baseline = float(sum(matrix[int(a), int(b)] for a, b in closed))
    baseline_seconds = time.perf_counter() - started
    row: dict[str, Any] = {
        "name": name,
        "cost": ring.cost,
        "seconds": round(seconds, 3),
        "nodes": n,
        "edges": int(sp.triu(matrix, k=1).nnz),
        "terminals": int(np.unique(terminals).size),
        "baseline_cost": baseline,
        "baseline_seconds": round(baseline_seconds, 3),
        "optimum": None,
        "gap": None,
    }
    if n <= exact_max:
        started = time.perf_counter()
        optimum = exact_ring(matrix, terminals)
        row["optimum"] = optimum.cost
        row["exact_seconds"] = round(time.perf_counter() - started, 3)
        row["gap"] = 100.0 * (ring.cost / optimum.cost - 1.0) if optimum.cost else 0.0
        row["baseline_gap"] = 100.0 * (baseline / optimum.cost - 1.0) if optimum.cost else 0.0
    return row


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


# ------------------------------------------------------------------------- national ring


def _bundled_store(folder: Path) -> Path:
    """The bundle loaded into a store in ``folder``, with its planning cache."""
    from layers.bundle import load_bundle
    from layers.store import Store
    from usecases.context import planning_context

    path = folder / "store.gpkg"
    started = time.perf_counter()
    load_bundle(Store(path), Path(__file__).resolve().parent.parent / "data")
    planning_context(Store(path))
    print(f"bundle loaded into a temporary store in {time.perf_counter() - started:.0f} s")
    return path


@contextmanager
def _networkx_path() -> Iterator[None]:
    """Plan with the networkx ring closing and longest-path search these replaced."""
    from bench.nx_baselines import nx_longest_shortest_path, nx_two_edge_connect
    from planner.proposals import metrics

    with (
        mock.patch.object(steiner, "two_edge_connect", nx_two_edge_connect),
        mock.patch.object(metrics, "_longest_shortest_path", nx_longest_shortest_path),
    ):
        yield


def _plan_rnei(store_path: Path, folder: Path) -> tuple[float, dict[str, Any]]:
    """Plan the scenario (a rerun replaces the last run's proposal): wall seconds and what
    it proposed."""
    from layers.store import Store
    from planner.plans.scenario import list_scenarios
    from usecases.scenario import ScenarioWorkspace, run_scenario

    work = Path(tempfile.mkdtemp(dir=folder))
    store = Store(store_path)
    (spec,) = [s for s in list_scenarios() if s.name == "rnei"]
    started = time.perf_counter()
    result = run_scenario(spec, store, work / "out", workspace=ScenarioWorkspace(store))
    seconds = time.perf_counter() - started
    step = result.step("backbone")
    edges = sorted(
        (s.deployment_type, s.role or "", tuple(s.geometry.coords), s.length_km, s.cost_usd)
        for s in step.proposal.segments
    )
    shutil.rmtree(work)
    return seconds, {
        "capex_usd": step.metrics.capex_usd_total,
        "edges": edges,
        "latency_ms": step.metrics.one_way_latency_ms,
    }


def _median_seconds(run: Callable[[], Any], times: int) -> tuple[float, Any]:
    seconds, out = [], None
    for _ in range(times):
        started = time.perf_counter()
        out = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), out


def rnei(repeat: int, scenario_repeat: int) -> None:
    """Time the national ring's closing and the rnei scenario, old against new."""
    from bench.nx_baselines import nx_two_edge_connect

    folder = Path(tempfile.mkdtemp(prefix="trazo-bench-ring-"))
    try:
        store_path = _bundled_store(folder)
        closings: list[tuple[Any, np.ndarray]] = []

        def keep(matrix: Any, tree_edges: Any) -> np.ndarray:
            closings.append((matrix, np.asarray(tree_edges)))
            return two_edge_connect(matrix, tree_edges)

        with mock.patch.object(steiner, "two_edge_connect", keep):
            # the first run also builds the place index and loads the numba kernels
            _plan_rnei(store_path, folder)
        matrix, tree = closings[-1]
        old_s, old_ring = _median_seconds(lambda: nx_two_edge_connect(matrix, tree), repeat)
        new_s, new_ring = _median_seconds(lambda: two_edge_connect(matrix, tree), repeat)
        print(
            f"\nrnei ring closing: a {len(tree):,}-edge backbone on a {matrix.shape[0]:,}-node "
            f"graph closed with {len(new_ring) - len(tree):,} edges; median of {repeat}"
        )
        print(f"{'':<26} {'seconds':>8}")
        print(f"{'networkx bridges (old)':<26} {old_s:>8.2f}")
        print(f"{'compiled bridges (new)':<26} {new_s:>8.2f}")
        print(f"{'ratio old/new':<26} {old_s / new_s:>8.1f}")
        print(f"same edges: {'yes' if np.array_equal(old_ring, new_ring) else 'NO'}")

        shipped: list[float] = []
        baseline: list[float] = []
        plans: dict[str, dict[str, Any]] = {}
        for _ in range(scenario_repeat):
            with _networkx_path():
                seconds, plans["old"] = _plan_rnei(store_path, folder)
            baseline.append(seconds)
            seconds, plans["new"] = _plan_rnei(store_path, folder)
            shipped.append(seconds)
        old_wall, new_wall = statistics.median(baseline), statistics.median(shipped)
        print("\nrnei scenario wall time (work-bounded Steiner search, as shipped)")
        print(f"{'':<44} {'median s':>8} {'runs':>5}")
        label = "networkx closing and longest path (old)"
        print(f"{label:<44} {old_wall:>8.1f} {len(baseline):>5}")
        print(f"{'as shipped (new)':<44} {new_wall:>8.1f} {len(shipped):>5}")
        print(f"{'ratio old/new':<44} {old_wall / new_wall:>8.2f}")
        old, new = plans["old"], plans["new"]
        latency = abs(old["latency_ms"] / new["latency_ms"] - 1.0)
        print(
            f"total cost USD {new['capex_usd']:,.2f} "
            f"({'equal' if old['capex_usd'] == new['capex_usd'] else 'DIFFERENT'}), "
            f"{len(new['edges']):,} segments "
            f"({'equal' if old['edges'] == new['edges'] else 'DIFFERENT'}), "
            f"latency {new['latency_ms']:.6f} ms (relative difference {latency:.1e})"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="OR-Library Steiner files")
    ap.add_argument("--json", action="store_true", help="one JSON object per instance")
    ap.add_argument("--random", type=int, default=0, help="add K random instances")
    ap.add_argument("--seed", type=int, default=1, help="first random instance's seed")
    ap.add_argument("--exact-max-nodes", type=int, default=100, help="prove optima up to N nodes")
    ap.add_argument("--rnei", action="store_true", help="time the national ring scenario")
    ap.add_argument("--repeat", type=int, default=3, help="with --rnei: closings timed")
    ap.add_argument("--scenario-repeat", type=int, default=1, help="with --rnei: scenario runs")
    args = ap.parse_args()
    if args.rnei:
        rnei(args.repeat, args.scenario_repeat)
        return

    instances: list[tuple[str, Any, np.ndarray]] = []
    for path in args.files:
        matrix, terminals, _, _ = read_orlib(path)
        instances.append((path.stem, matrix, terminals))
    instances += [random_instance(args.seed + k) for k in range(args.random)]
    if not instances:
        ap.error("give OR-Library files or --random K")
    # load (or compile) the Steiner kernels outside the timings
    steiner_tree_csr(instances[0][1], instances[0][2][:2])

    header = (
        f"{'name':<10} {'nodes':>5} {'edges':>5} {'terms':>5} {'ring':>8} {'secs':>6} "
        f"{'optimum':>8} {'gap':>7} | {'closed tree':>11} {'gap':>7}"
    )
    if not args.json:
        print(header)
        print("-" * len(header))
    rows = []
    for name, matrix, terminals in instances:
        row = solve(name, matrix, terminals, args.exact_max_nodes)
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
            continue
        optimum = "-" if row["optimum"] is None else f"{row['optimum']:.0f}"
        print(
            f"{name:<10} {row['nodes']:>5} {row['edges']:>5} {row['terminals']:>5} "
            f"{row['cost']:>8.0f} {row['seconds']:>6.2f} {optimum:>8} {_pct(row['gap']):>7} | "
            f"{row['baseline_cost']:>11.0f} {_pct(row.get('baseline_gap')):>7}",
            flush=True,
        )
    if args.json:
        return
    proven = [r for r in rows if r["gap"] is not None]
    if proven:
        print("-" * len(header))
        gap = statistics.mean(r["gap"] for r in proven)
        baseline_gap = statistics.mean(r["baseline_gap"] for r in proven)
        print(
            f"{len(proven)} proven optima: mean gap {gap:.2f}% "
            f"(closed tree {baseline_gap:.2f}%), "
            f"median {statistics.median(r['seconds'] for r in proven):.2f} s, "
            f"slowest {max(r['seconds'] for r in proven):.2f} s"
        )


if __name__ == "__main__":
    main()
