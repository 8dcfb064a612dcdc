"""Benchmark wireless site selection: time and optimality gap, HiGHS against the greedy.

Plain script, not a test: ``python bench/site_selection.py`` (Tabasco, then the whole
country at ``--min-population 250``; a few minutes) or ``--states Tabasco`` for one state.

Each instance is built from the bundled localities (2020 census) and elevation grid the
way the last-mile planner builds it (planner/plans/wireless.py): every locality of at least
``--min-population`` people is wholly unserved, candidate sites are the localities and the
highest cell within 3 km of each, coverage is a clear radio path (line of sight, k = 4/3,
60% of the first Fresnel zone at 5.8 GHz, 30 m mast, 6 m subscriber antenna, 10 km).
There is no network here, so every site's backhaul is priced as one microwave hop (link
plus mast at the backbone end, USD 50,000) and each locality's alternative is satellite.
The same-run baseline is the greedy heuristic of planner/plans/site_selection.py on the same
instance; the gap is against the best proven bound (HiGHS's bound on the lower programme of
each exactly solved group, or the Lagrangian bound, whichever is higher).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.network.cost_model import load_cost_model
from planner.plans.demand import households_for
from planner.plans.radio import ElevationGrid
from planner.plans.site_selection import SiteProblem, greedy_sites, relaxation_bound, select_sites
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-population", type=int, default=250)
    parser.add_argument("--node-limit", type=int, default=20_000)
    parser.add_argument(
        "--states", nargs="*", default=None, help="only these states (default: Tabasco, then all)"
    )
    args = parser.parse_args()
    cases = (
        [("Tabasco", ["Tabasco"]), ("Mexico", None)]
        if args.states is None
        else [(", ".join(args.states), args.states)]
    )
    header = (
        f"{'instance':<10} {'localities':>10} {'candidates':>10} {'pairs':>9} {'build s':>8} "
        f"{'solver':<28} {'sites':>6} {'cost USD':>14} {'gap':>8} {'time s':>7}"
    )
    print(header)
    print("-" * len(header))
    for label, states in cases:
        problem, build_s = instance(states, args.min_population)
        started = time.perf_counter()
        greedy = greedy_sites(problem)
        greedy_s = time.perf_counter() - started
        exact = select_sites(problem, node_limit=args.node_limit)
        started = time.perf_counter()
        relaxed = relaxation_bound(problem, greedy)
        relaxed_s = time.perf_counter() - started
        bound = max(exact.bound, relaxed) if math.isfinite(relaxed) else exact.bound
        print(
            f"{label}: bound USD {bound:,.0f} (Lagrangian alone USD {relaxed:,.0f} in "
            f"{relaxed_s:.1f} s, without the rule that a town over a full site cannot go "
            "wireless)"
        )
        for name, solution, seconds in (
            ("greedy (baseline)", greedy, greedy_s),
            (f"{exact.method} ({exact.status})", exact, exact.seconds),
        ):
            gap = (
                (solution.cost_usd - bound) / solution.cost_usd
                if math.isfinite(bound)
                else math.nan
            )
            print(
                f"{label:<10} {problem.n_localities:>10,} {problem.n_sites:>10,} "
                f"{problem.pair_site.size:>9,} {build_s:>8.1f} {name:<28} "
                f"{solution.open_sites.size:>6,} {solution.cost_usd:>14,.0f} {gap:>8.2%} "
                f"{seconds:>7.1f}"
            )
    print(
        "gap: (cost - best bound proven by HiGHS) / cost; cost: sites + CPE + satellite for "
        "the localities no site serves; every locality is wholly unserved in this instance"
    )


if __name__ == "__main__":
    main()
