"""Benchmark wireless site selection: time and optimality gap, HiGHS against the greedy.

Plain script, not a test: ``python bench/site_selection.py`` (Tabasco, then the whole
country at ``--min-population 250`` state by state, as the national last mile partitions it;
a few minutes) or ``--states Tabasco`` for one state.

Each instance is built from the bundled localities (2020 census) and elevation grid the
way the last-mile planner builds it (planner/plans/wireless.py): every locality of at least
``--min-population`` people is wholly unserved, candidate sites are the localities and the
highest cell within 3 km of each, coverage is a clear radio path (line of sight, k = 4/3,
60% of the first Fresnel zone at 5.8 GHz, 30 m mast, 6 m subscriber antenna, 10 km).
There is no network here, so every site's backhaul is priced as one microwave hop (link
plus mast at the backbone end, USD 50,000) and each locality's alternative is satellite.
The same-run baseline is the greedy heuristic of planner/plans/site_selection.py on the same
instance; the gap is against the best proven bound (HiGHS's bound on the lower programme of
each exactly solved group, or the Lagrangian bound, whichever is higher). The Lagrangian
bound is shown without and with the sites' ceilings (6 radios of 1,500 people).

``--before DIR`` (a checkout of an earlier version, e.g. ``git archive COMMIT | tar -x -C
DIR``) adds a second table: the same instances solved by ``select_sites`` of that checkout
and of this one, each in fresh processes (``--repeats`` times, alternating, medians), with
CPU and wall seconds and whether the plans (cost to 1e-9, open sites, every locality's
site), bounds and gaps are the same. A fresh process's first solve loads the compiled
kernels of the bound, as a CLI command does.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.network.cost_model import load_cost_model
from planner.plans.demand import households_for
from planner.plans.radio import ElevationGrid
from planner.plans.site_selection import (
    DEFAULT_NODE_LIMIT,
    SiteProblem,
    greedy_sites,
    lagrangian_bound,
    relaxation_bound,
    select_sites,
)
from planner.plans.wireless import candidate_sites, coverage_pairs

ROOT = Path(__file__).resolve().parent.parent


def instance(states: list[str] | None, min_population: int) -> tuple[SiteProblem, float]:
    """The site-selection problem and the seconds spent building it (coverage on terrain)."""
    started = time.perf_counter()
    model = load_cost_model()
    lm = model.last_mile
    frame = pd.read_csv(ROOT / "data" / "layers" / "localities.csv.zip")
    frame = frame[frame["population"] >= min_population]
    if states:
        frame = frame[frame["state"].isin(states)]
    lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    grid = ElevationGrid.from_raster(ROOT / "data" / "layers" / "elevation.tif", bounds)
    c_lon, c_lat, _, _ = candidate_sites(grid, lon, lat, lm.radio.high_point_radius_km)
    pair_site, pair_loc, _ = coverage_pairs(grid, c_lon, c_lat, lon, lat, model)
    people = frame["population"].to_numpy(float)
    households = np.array(
        [households_for(int(p), lm.households.persons_per_household) for p in people], float
    )
    hop = lm.microwave.usd_per_link + lm.microwave.usd_per_relay
    problem = SiteProblem(
        site_usd=np.full(c_lon.size, lm.fixed_wireless.usd_per_site + hop),
        pair_site=pair_site,
        pair_locality=pair_loc,
        people=people,
        cpe_usd=households * lm.fixed_wireless.usd_per_subscriber,
        alternative_usd=households
        * (lm.satellite.usd_per_terminal + lm.satellite.usd_per_year * lm.horizon.years),
        capacity=lm.fixed_wireless.persons_per_site,
        radio_usd=lm.radio.usd_per_extra_radio,
        max_radios=lm.radio.max_radios_per_site,
    )
    return problem, time.perf_counter() - started


SOLVE = """
import json, sys, time
import numpy as np
from planner.plans.site_selection import SiteProblem, select_sites

arrays = np.load(sys.argv[1])
found = []
for k in range(int(arrays["count"])):
    problem = SiteProblem(
        **{name: arrays[f"{k}:{name}"] for name in (
            "site_usd", "pair_site", "pair_locality", "people", "cpe_usd", "alternative_usd")},
        capacity=float(arrays[f"{k}:capacity"]),
        radio_usd=float(arrays[f"{k}:radio_usd"]),
        max_radios=int(arrays[f"{k}:max_radios"]),
    )
    wall, cpu = time.perf_counter(), time.process_time()
    plan = select_sites(problem, node_limit=int(sys.argv[2]))
    found.append({
        "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
        "cost": plan.cost_usd, "bound": plan.bound, "gap": plan.gap, "status": plan.status,
        "open": plan.open_sites.tolist(), "site_of": plan.site_of.tolist(),
        "radios": plan.radios.tolist(),
    })
print(json.dumps(found))
"""
"""Solve every problem of an ``.npz`` file with the ``select_sites`` of the checkout the
process runs in (its working directory) and print what each gave, as JSON."""


def solve_in(code: Path, problems: Path, node_limit: int) -> list[dict[str, Any]]:
    """``select_sites`` of checkout ``code`` on ``problems``, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", SOLVE, str(problems), str(node_limit)],
        cwd=code,
        capture_output=True,
        text=True,
        check=True,
    )
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def save_problems(problems: list[SiteProblem], path: Path) -> None:
    arrays: dict[str, Any] = {"count": len(problems)}
    for k, problem in enumerate(problems):
        for name in ("site_usd", "pair_site", "pair_locality", "people", "cpe_usd"):
            arrays[f"{k}:{name}"] = getattr(problem, name)
        arrays[f"{k}:alternative_usd"] = problem.alternative_usd
        arrays[f"{k}:capacity"] = problem.capacity
        arrays[f"{k}:radio_usd"] = problem.radio_usd
        arrays[f"{k}:max_radios"] = problem.max_radios
    np.savez(path, **arrays)


def same_plan(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same cost (1e-9 relative), open sites, site of every locality and radios."""
    cost_a, cost_b = float(a["cost"]), float(b["cost"])
    return math.isclose(cost_a, cost_b, rel_tol=1e-9) and all(
        a[key] == b[key] for key in ("open", "site_of", "radios")
    )


def against_before(
    cases: list[tuple[str, list[SiteProblem]]], before: Path, node_limit: int, repeats: int
) -> list[str]:
    """The before/now table: each case's problems solved by both checkouts."""
    header = (
        f"{'instance':<16} {'problems':>8} {'before CPU s':>12} {'now CPU s':>9} "
        f"{'speed-up':>8} {'before wall s':>13} {'now wall s':>10} {'same plans':>10} "
        f"{'bound':>10}"
    )
    lines = [header, "-" * len(header)]
    with tempfile.TemporaryDirectory(prefix="trazo-bench-") as tmp:
        for name, problems in cases:
            path = Path(tmp) / "problems.npz"
            save_problems(problems, path)
            runs: dict[str, list[list[dict[str, Any]]]] = {"before": [], "now": []}
            for _ in range(repeats):
                runs["before"].append(solve_in(before, path, node_limit))
                runs["now"].append(solve_in(ROOT, path, node_limit))
            cpu = {
                key: statistics.median(sum(float(p["cpu"]) for p in run) for run in found)
                for key, found in runs.items()
            }
            wall = {
                key: statistics.median(sum(float(p["wall"]) for p in run) for run in found)
                for key, found in runs.items()
            }
            old, new = runs["before"][0], runs["now"][0]
            same = all(same_plan(a, b) for a, b in zip(old, new, strict=True))
            bounds = [(float(a["bound"]), float(b["bound"])) for a, b in zip(old, new, strict=True)]
            if all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in bounds):
                bound = "identical"
            elif all(b >= a - 1e-9 * abs(a) for a, b in bounds):
                bound = "tighter"
            else:
                bound = "LOOSER"
            lines.append(
                f"{name:<16} {len(problems):>8} {cpu['before']:>12.2f} {cpu['now']:>9.2f} "
                f"{cpu['before'] / cpu['now']:>7.1f}x {wall['before']:>13.2f} "
                f"{wall['now']:>10.2f} {same!s:>10} {bound:>10}"
            )
    lines.append(
        f"select_sites of {before.name} (before) and of this checkout (now) on the same "
        f"instances, each in {repeats} fresh processes (medians; a process's first solve "
        "loads the bound's compiled kernels); same plans: cost to 1e-9, open sites, every "
        "locality's site and the radios; bound: the proven bound of every instance."
    )
    return lines


@dataclass
class Row:
    """One solver's figures on one instance (or summed over a country's states)."""

    localities: int = 0
    candidates: int = 0
    pairs: int = 0
    build_s: float = 0.0
    sites: int = 0
    cost: float = 0.0
    bound: float = 0.0
    seconds: float = 0.0
    slowest_s: float = 0.0

    def add(self, other: Row) -> None:
        for name in ("localities", "candidates", "pairs", "sites"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("build_s", "cost", "bound", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.slowest_s = max(self.slowest_s, other.seconds)


def solve(problem: SiteProblem, build_s: float, node_limit: int) -> tuple[Row, Row, float, float]:
    """Greedy (baseline) and select_sites rows, and the bounds without and with ceilings.

    Both rows are measured against the best bound: HiGHS's on exactly solved groups, else
    the Lagrangian one (with the sites' ceilings where they can fill up).
    """
    started = time.perf_counter()
    greedy = greedy_sites(problem)
    greedy_s = time.perf_counter() - started
    started = time.perf_counter()
    chosen = select_sites(problem, node_limit=node_limit)
    chosen.certificate  # noqa: B018 - its bound, which may still be computing, is part of it
    chosen_s = time.perf_counter() - started
    uncapacitated = lagrangian_bound(
        problem.site_usd - problem.radio_usd,
        problem.pair_site,
        problem.pair_locality,
        problem.cpe_usd + problem.radio_usd / problem.capacity * problem.people,
        problem.alternative_usd,
        upper=greedy.cost_usd,
    )
    capped = relaxation_bound(problem, greedy)
    bound = max(chosen.bound, capped) if math.isfinite(capped) else chosen.bound
    shared = {
        "localities": problem.n_localities,
        "candidates": problem.n_sites,
        "pairs": int(problem.pair_site.size),
        "build_s": build_s,
        "bound": bound,
    }
    rows = (
        Row(**shared, sites=int(greedy.open_sites.size), cost=greedy.cost_usd, seconds=greedy_s),
        Row(
            **shared,
            sites=int(chosen.open_sites.size),
            cost=chosen.cost_usd,
            seconds=chosen_s,
        ),
    )
    for row in rows:
        row.slowest_s = row.seconds
    return rows[0], rows[1], uncapacitated, capped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-population", type=int, default=250)
    parser.add_argument("--node-limit", type=int, default=DEFAULT_NODE_LIMIT)
    parser.add_argument(
        "--states", nargs="*", default=None, help="only these states (default: Tabasco, then all)"
    )
    parser.add_argument(
        "--before", type=Path, default=None, help="a checkout to compare select_sites with"
    )
    parser.add_argument("--repeats", type=int, default=3, help="processes per checkout")
    args = parser.parse_args()
    states = sorted(
        pd.read_csv(ROOT / "data" / "layers" / "localities.csv.zip", usecols=["state"])[
            "state"
        ].unique()
    )
    cases = (
        [("Tabasco", [["Tabasco"]]), ("Mexico", [[state] for state in states])]
        if args.states is None
        else [(", ".join(args.states), [args.states])]
    )
    header = (
        f"{'instance':<16} {'localities':>10} {'candidates':>10} {'pairs':>9} {'build s':>8} "
        f"{'solver':<20} {'sites':>6} {'cost USD':>14} {'gap':>7} {'time s':>7} {'worst s':>7}"
    )
    lines = [header, "-" * len(header)]
    bounds = []
    solved: list[tuple[str, list[SiteProblem]]] = []
    for label, groups in cases:
        name = label if len(groups) == 1 else f"{label} by state"
        greedy_total, chosen_total = Row(), Row()
        loose_total = capped_total = 0.0
        solved.append((name, []))
        for group in groups:
            problem, build_s = instance(group, args.min_population)
            if problem.n_localities == 0:
                continue
            solved[-1][1].append(problem)
            greedy, chosen, loose, capped = solve(problem, build_s, args.node_limit)
            greedy_total.add(greedy)
            chosen_total.add(chosen)
            loose_total += loose
            capped_total += capped
            if len(groups) > 1:
                print(f"  {group[0]}: {chosen.seconds:.1f} s", flush=True)
        for solver, row in (("greedy (baseline)", greedy_total), ("select_sites", chosen_total)):
            gap = (row.cost - row.bound) / row.cost if row.cost else 0.0
            lines.append(
                f"{name:<16} {row.localities:>10,} {row.candidates:>10,} {row.pairs:>9,} "
                f"{row.build_s:>8.1f} {solver:<20} {row.sites:>6,} {row.cost:>14,.0f} "
                f"{gap:>7.2%} {row.seconds:>7.1f} {row.slowest_s:>7.1f}"
            )
        cost = chosen_total.cost
        bounds.append(
            f"{name}: Lagrangian bound without the sites' ceilings USD {loose_total:,.0f} "
            f"({(cost - loose_total) / cost:.2%} below the plan), with them USD "
            f"{capped_total:,.0f} ({(cost - capped_total) / cost:.2%})"
        )
    print("\n".join(lines))
    print("\n".join(bounds))
    print(
        "gap: (cost - best bound: HiGHS's on exactly solved groups, else the Lagrangian with "
        "the sites' ceilings) / cost; cost: sites + CPE + satellite for the localities no "
        "site serves; every locality is wholly unserved in this instance. 'Mexico by state' "
        "sums the 32 states solved one by one as the national last mile partitions them; "
        "worst s is the slowest single instance."
    )
    if args.before is not None:
        print()
        print("\n".join(against_before(solved, args.before, args.node_limit, args.repeats)))


if __name__ == "__main__":
    main()
