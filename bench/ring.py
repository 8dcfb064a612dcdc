"""Rings: the ring heuristic against exact optima and against the old tree-closing step.

    python bench/ring.py FILE... [--json] [--random K] [--exact-max-nodes N] [--seed S]

For each OR-Library Steiner file (e.g. ``steinb10.txt``; the terminals are the ring's) the
minimum-cost 2-edge-connected subgraph spanning the terminals (pairs the graph joins by
one edge only need one path) is solved by :func:`planner.search.ring.ring_subgraph`. On graphs up
to ``--exact-max-nodes`` nodes the optimum is proven by integer programming
(:func:`planner.search.ring.exact_ring`, HiGHS cut formulation) and the gap is printed. The same
run's baseline is the previous ring step: the Steiner tree closed by
:func:`planner.search.steiner.two_edge_connect` alone. ``--random K`` adds K seeded random
geometric instances of 40-60 nodes (the shared OR-Library files are 75 to 2,500 nodes).
With ``--json``, one line per instance: ``{"name", "cost", "seconds"}`` (and the rest).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

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


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="OR-Library Steiner files")
    ap.add_argument("--json", action="store_true", help="one JSON object per instance")
    ap.add_argument("--random", type=int, default=0, help="add K random instances")
    ap.add_argument("--seed", type=int, default=1, help="first random instance's seed")
    ap.add_argument("--exact-max-nodes", type=int, default=100, help="prove optima up to N nodes")
    args = ap.parse_args()

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
