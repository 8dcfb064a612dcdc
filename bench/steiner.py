"""Solve OR-Library Steiner instances and compare with the known optima.

    python bench/steiner.py FILE... [--json] [--budget S] [--seed N] [--no-baseline]

For each file (OR-Library format, e.g. ``steinb10.txt``) prints nodes, edges, terminals,
the solver's cost, seconds and gap to the optimum (when the file stem is in ``OPTIMA``),
and, from the same run, the cost, gap and seconds of networkx's Steiner approximation
(``--no-baseline`` skips it; it can take a minute on the D/E sets). With ``--json``,
one JSON object per file instead of the table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import networkx as nx
from networkx.algorithms.approximation import steiner_tree as nx_steiner_tree

from planner.search.steiner import read_orlib, steiner_tree_csr


def _series(prefix: str, values: str) -> dict[str, int]:
    return {f"{prefix}{i}": int(v) for i, v in enumerate(values.split(), start=1)}


#: Optimal costs of J. E. Beasley's OR-Library sets B, C, D and E, by file stem
#: (as listed in SteinLib, where every one of them is proven optimal).
OPTIMA: dict[str, int] = {
    **_series("steinb", "82 83 138 59 61 122 111 104 220 86 88 174 165 235 318 127 131 218"),
    **_series(
        "steinc", "85 144 754 1079 1579 55 102 509 707 1093 32 46 258 323 556 11 18 113 146 267"
    ),
    **_series(
        "steind",
        "106 220 1565 1935 3250 67 103 1072 1448 2110 29 42 500 667 1116 13 23 223 310 537",
    ),
    **_series(
        "steine",
        "111 214 4013 5101 8128 73 145 2640 3604 5600 34 67 1280 1732 2784 15 25 564 758 1342",
    ),
}


def _gap(cost: float, opt: int | None) -> float | None:
    return None if opt is None else 100.0 * (cost / opt - 1.0)


def solve_file(path: Path, budget: float | None, seed: int, baseline: bool) -> dict[str, Any]:
    """Solve one instance; return a row with name, sizes, cost, seconds, gap, baseline."""
    matrix, terminals, n, m = read_orlib(path)
    opt = OPTIMA.get(path.stem)
    t = time.perf_counter()
    sol = steiner_tree_csr(matrix, terminals, time_budget_s=budget, seed=seed)
    seconds = time.perf_counter() - t
    row: dict[str, Any] = {
        "name": path.stem,
        "nodes": n,
        "edges": m,
        "terminals": int(terminals.size),
        "cost": sol.cost,
        "seconds": round(seconds, 3),
        "optimum": opt,
        "gap": _gap(sol.cost, opt),
        "mehlhorn_cost": sol.stats.get("mehlhorn_cost"),
        "starts": sol.stats.get("starts"),
    }
    if baseline:
        g = nx.from_scipy_sparse_array(matrix)
        t = time.perf_counter()
        tree = nx_steiner_tree(g, terminals.tolist(), weight="weight")
        nx_seconds = time.perf_counter() - t
        nx_cost = float(tree.size(weight="weight"))
        row.update(
            networkx_cost=nx_cost,
            networkx_gap=_gap(nx_cost, opt),
            networkx_seconds=round(nx_seconds, 3),
        )
    return row


def _fmt_gap(g: float | None) -> str:
    return "-" if g is None else f"{g:.2f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path, help="OR-Library Steiner files")
    ap.add_argument("--json", action="store_true", help="one JSON object per file")
    ap.add_argument("--budget", type=float, default=None, help="time budget per instance, s")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--no-baseline", action="store_true", help="skip networkx's approximation (slow)"
    )
    args = ap.parse_args()

    # load (or on a fresh machine compile) the kernels outside the timings
    steiner_tree_csr(read_orlib(args.files[0])[0], [0, 1], time_budget_s=0.1)

    header = (
        f"{'name':<10} {'nodes':>6} {'edges':>6} {'terms':>5} {'cost':>8} {'secs':>7} "
        f"{'gap':>7} | {'networkx':>8} {'nx gap':>7} {'nx secs':>7}"
    )
    if not args.json:
        print(header)
        print("-" * len(header))
    gaps: list[float] = []
    for path in args.files:
        row = solve_file(path, args.budget, args.seed, not args.no_baseline)
        if row["gap"] is not None:
            gaps.append(row["gap"])
        if args.json:
            print(json.dumps(row), flush=True)
            continue
        nx_part = (
            f"{row['networkx_cost']:>8.0f} {_fmt_gap(row['networkx_gap']):>7} "
            f"{row['networkx_seconds']:>7.2f}"
            if "networkx_cost" in row
            else f"{'-':>8} {'-':>7} {'-':>7}"
        )
        print(
            f"{row['name']:<10} {row['nodes']:>6} {row['edges']:>6} {row['terminals']:>5} "
            f"{row['cost']:>8.0f} {row['seconds']:>7.2f} {_fmt_gap(row['gap']):>7} | {nx_part}",
            flush=True,
        )
    if gaps and not args.json:
        print("-" * len(header))
        print(f"average gap {sum(gaps) / len(gaps):.3f}% over {len(gaps)} instances")


if __name__ == "__main__":
    main()
