"""Time the Steiner solver on a million-node road-like graph.

The graph is a ``side x side`` grid (4-neighbour streets) with 30% of one diagonal per cell
kept, like shortcuts, and 3% of street segments removed (closures); weights are random
integers 1..99 from a fixed seed. Terminals are drawn at random from the largest connected
component. Prints graph size, then the seconds and cost of Mehlhorn's tree alone and of
the full solver, both in the same run, after a warm-up solve on a tiny graph so that the
one-off kernel compilation on a fresh machine is not counted.

    python bench/steiner_large.py [--side 1000] [--terminals 200] [--seed 0] [--budget S]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from planner.search.steiner import mehlhorn_tree_csr, steiner_tree_csr


def road_like_graph(side: int, seed: int) -> sp.csr_array:
    """Symmetric CSR of a perturbed ``side x side`` grid with random weights."""
    rng = np.random.default_rng(seed)
    idx = np.arange(side * side, dtype=np.int64).reshape(side, side)
    streets_u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    streets_v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    open_ = rng.random(streets_u.size) >= 0.03
    diag_u = idx[:-1, :-1].ravel()
    diag_v = idx[1:, 1:].ravel()
    shortcut = rng.random(diag_u.size) < 0.3
    u = np.concatenate([streets_u[open_], diag_u[shortcut]])
    v = np.concatenate([streets_v[open_], diag_v[shortcut]])
    w = rng.integers(1, 100, u.size).astype(np.float64)
    n = side * side
    return sp.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=1000)
    ap.add_argument("--terminals", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=float, default=None, help="solver time budget, seconds")
    ap.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = ap.parse_args()

    t = time.perf_counter()
    m = road_like_graph(args.side, args.seed)
    _, labels = connected_components(m, directed=False)
    main_comp = np.bincount(labels).argmax()
    rng = np.random.default_rng(args.seed + 1)
    pool = np.flatnonzero(labels == main_comp)
    terms = rng.choice(pool, args.terminals, replace=False)
    build_s = time.perf_counter() - t

    # load (or, on a fresh machine, compile) the solver's kernels before timing
    t = time.perf_counter()
    warm = road_like_graph(8, 0)
    steiner_tree_csr(warm, [0, 9, 27, 63], time_budget_s=1.0)
    warmup_s = time.perf_counter() - t

    t = time.perf_counter()
    base = mehlhorn_tree_csr(m, terms)
    base_s = time.perf_counter() - t
    t = time.perf_counter()
    sol = steiner_tree_csr(m, terms, time_budget_s=args.budget, seed=args.seed)
    sol_s = time.perf_counter() - t
    row = {
        "name": f"grid{args.side}x{args.side}",
        "nodes": m.shape[0],
        "edges": m.nnz // 2,
        "terminals": args.terminals,
        "cost": sol.cost,
        "seconds": round(sol_s, 3),
        "mehlhorn_cost": base.cost,
        "mehlhorn_seconds": round(base_s, 3),
        "improvement_pct": round(100 * (1 - sol.cost / base.cost), 3),
        "tree_nodes": int(sol.nodes.size),
        "build_seconds": round(build_s, 3),
        "warmup_seconds": round(warmup_s, 3),
    }
    if args.json:
        print(json.dumps(row))
        return
    print(f"graph      {row['nodes']:,} nodes, {row['edges']:,} edges, built in {build_s:.2f} s")
    print(f"terminals  {args.terminals}")
    print(f"warm-up    {warmup_s:.2f} s (loading or compiling the kernels, not counted below)")
    print(f"mehlhorn   cost {base.cost:,.0f}  in {base_s:.2f} s")
    print(
        f"solver     cost {sol.cost:,.0f}  in {sol_s:.2f} s  "
        f"({row['improvement_pct']:.2f}% below Mehlhorn, {sol.nodes.size:,} tree nodes)"
    )


if __name__ == "__main__":
    main()
