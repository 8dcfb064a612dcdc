"""Which wireless sites to build: a capacitated facility-location problem solved with HiGHS.

Every locality ``l`` with people to connect is served either by an *alternative* of known
cost ``alt[l]`` (its own fiber or satellite, whichever is cheaper) or by one open wireless
site ``s`` that reaches it (a clear radio path, see :mod:`planner.radio`) at a per-locality
cost ``cpe[l]`` (customer equipment). Opening a site costs ``site[s]`` (mast, first sector
and backhaul); each further ``capacity`` people on a site need one more sector radio at
``radio``. The problem (binary ``y[s]`` open, ``x[s,l]`` served by, ``a[l]`` alternative,
integer ``z[s]`` extra radios)::

    minimise   sum site[s] y[s] + sum cpe[l] x[s,l] + sum alt[l] a[l] + radio sum z[s]
    subject to sum_s x[s,l] + a[l] = 1                       every locality
               x[s,l] <= y[s]                                 every reachable pair
               sum_l people[l] x[s,l] <= capacity (y[s] + z[s])   every site

With a budget, a locality may also stay unserved (``u[l]``), the capex is held at or below
the budget and the objective is the most people served, ties going to the cheaper plan
(the cost enters with a weight below one person, so it never trades people for dollars).

:func:`select_sites` solves it exactly with ``scipy.optimize.milp`` (HiGHS branch and cut)
when the problem has at most ``max_exact_pairs`` reachable pairs, within a time limit, and
reports HiGHS's own dual bound and gap. Larger problems get the greedy heuristic
(:func:`greedy_sites`: open the site with the largest net saving, or for a budget the most
people per dollar, until none helps) and the bound of the linear relaxation solved by HiGHS.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, linprog, milp
from scipy.sparse.csgraph import connected_components

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_MAX_EXACT_PAIRS = 60_000
DEFAULT_TIME_LIMIT_S = 30.0


@dataclass(frozen=True)
class SiteProblem:
    """One site-selection instance.

    Attributes
    ----------
    site_usd
        Cost of opening each candidate site (mast, first sector radio, backhaul).
    pair_site, pair_locality
        The reachable pairs: candidate ``pair_site[p]`` reaches locality ``pair_locality[p]``.
    people
        People to connect in each locality.
    cpe_usd
        Cost of serving each locality from a site (customer equipment).
    alternative_usd
        Cost of serving each locality without a site (its cheaper of fiber and satellite).
    capacity
        People one sector radio serves.
    radio_usd
        Cost of each sector radio beyond a site's first.
    budget_usd
        None: serve everyone at least cost; else the most people within this amount.
    """

    site_usd: FloatArray
    pair_site: IntArray
    pair_locality: IntArray
    people: FloatArray
    cpe_usd: FloatArray
    alternative_usd: FloatArray
    capacity: float
    radio_usd: float
    budget_usd: float | None = None

    @property
    def n_sites(self) -> int:
        return int(self.site_usd.size)

    @property
    def n_localities(self) -> int:
        return int(self.people.size)


@dataclass
class SiteSolution:
    """Which sites open and how each locality is served.

    Attributes
    ----------
    open_sites
        Positions of the open candidate sites.
    site_of
        For each locality the position of its site, -1 when it is not served by a site.
    alternative
        True where the locality takes its alternative.
    radios
        Sector radios of each open site (in ``open_sites`` order; 1 or more).
    cost_usd
        The plan's cost in this model.
    people_served
        People served by a site or the alternative.
    bound
        Best bound on the objective (a lower bound of the cost, or an upper bound of the
        people served with a budget).
    gap
        Relative optimality gap, ``|objective - bound| / |objective|`` (0: proven optimal).
    method
        ``"milp"`` (HiGHS, with ``status`` saying whether optimality was proven) or
        ``"greedy + LP bound"``.
    """

    open_sites: IntArray
    site_of: IntArray
    alternative: npt.NDArray[np.bool_]
    radios: IntArray
    cost_usd: float
    people_served: float
    bound: float
    gap: float
    method: str
    status: str
    seconds: float = 0.0
    details: dict[str, float] = field(default_factory=dict)


def plan_cost(problem: SiteProblem, site_of: IntArray, alternative: npt.NDArray[np.bool_]) -> float:
    """Cost of an assignment: its sites (with their radios), CPE and alternatives."""
    served = site_of >= 0
    total = float(problem.cpe_usd[served].sum() + problem.alternative_usd[alternative].sum())
    for s in np.unique(site_of[served]):
        load = float(problem.people[site_of == s].sum())
        total += float(problem.site_usd[s]) + problem.radio_usd * _extra_radios(
            load, problem.capacity
        )
    return total


def _extra_radios(load: float, capacity: float) -> int:
    return max(math.ceil(load / capacity - 1e-9) - 1, 0)


def select_sites(
    problem: SiteProblem,
    *,
    max_exact_pairs: int = DEFAULT_MAX_EXACT_PAIRS,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> SiteSolution:
    """Choose the sites; see the module documentation."""
    started = time.perf_counter()
    if problem.n_localities == 0:
        empty = np.zeros(0, dtype=np.int64)
        solution = _solution(problem, empty, np.zeros(0, dtype=bool))
        solution.bound, solution.gap, solution.method, solution.status = 0.0, 0.0, "none", "optimal"
        return solution
    if problem.budget_usd is None:
        parts = _components(problem)
        if len(parts) > 1:
            solution = _solve_parts(problem, parts, max_exact_pairs, time_limit_s)
            solution.seconds = time.perf_counter() - started
            return solution
    if problem.pair_site.size <= max_exact_pairs:
        solution = _solve_milp(problem, time_limit_s)
    else:
        solution = greedy_sites(problem)
        bound = _lp_bound(problem, time_limit_s)
        solution.bound = bound
        solution.gap = _gap(_objective(problem, solution), bound)
        solution.method = "greedy + LP bound"
        solution.status = "heuristic"
    solution.seconds = time.perf_counter() - started
    return solution


def _components(problem: SiteProblem) -> list[tuple[IntArray, IntArray]]:
    """Independent parts of a problem without a budget: (sites, localities) of each
    connected group of reachable pairs; localities no site reaches form one more part."""
    n_s, n_l = problem.n_sites, problem.n_localities
    graph = sp.coo_array(
        (np.ones(problem.pair_site.size), (problem.pair_site, n_s + problem.pair_locality)),
        shape=(n_s + n_l, n_s + n_l),
    )
    count, label = connected_components(graph, directed=False)
    parts = []
    for k in range(count):
        members = np.flatnonzero(label == k)
        sites = members[members < n_s]
        locs = members[members >= n_s] - n_s
        if locs.size:
            parts.append((sites.astype(np.int64), locs.astype(np.int64)))
    return parts


def _solve_parts(
    problem: SiteProblem,
    parts: list[tuple[IntArray, IntArray]],
    max_exact_pairs: int,
    time_limit_s: float,
) -> SiteSolution:
    """Solve each independent part alone and put the plans together (no budget only)."""
    site_of = np.full(problem.n_localities, -1, dtype=np.int64)
    alternative = np.zeros(problem.n_localities, dtype=bool)
    bound = 0.0
    statuses: set[str] = set()
    methods: set[str] = set()
    deadline = time.perf_counter() + time_limit_s
    # largest parts first, so they get the most time
    parts = sorted(parts, key=lambda part: -part[1].size)
    for sites, locs in parts:
        site_index = np.full(problem.n_sites, -1, dtype=np.int64)
        site_index[sites] = np.arange(sites.size)
        loc_index = np.full(problem.n_localities, -1, dtype=np.int64)
        loc_index[locs] = np.arange(locs.size)
        keep = site_index[problem.pair_site] >= 0
        sub = SiteProblem(
            site_usd=problem.site_usd[sites],
            pair_site=site_index[problem.pair_site[keep]],
            pair_locality=loc_index[problem.pair_locality[keep]],
            people=problem.people[locs],
            cpe_usd=problem.cpe_usd[locs],
            alternative_usd=problem.alternative_usd[locs],
            capacity=problem.capacity,
            radio_usd=problem.radio_usd,
        )
        left = max(deadline - time.perf_counter(), 1.0)
        if sub.pair_site.size == 0:
            alternative[locs] = True
            bound += float(sub.alternative_usd.sum())
            continue
        part = select_sites(sub, max_exact_pairs=max_exact_pairs, time_limit_s=left)
        chosen = part.site_of >= 0
        site_of[locs[chosen]] = sites[part.site_of[chosen]]
        alternative[locs] = part.alternative
        bound += part.bound if math.isfinite(part.bound) else math.nan
        statuses.add(part.status)
        methods.add(part.method)
    solution = _solution(problem, site_of, alternative)
    solution.bound = bound
    gap = _gap(solution.cost_usd, bound)
    solution.gap = 0.0 if gap < 1e-6 else gap
    solution.method = " and ".join(sorted(methods)) or "milp"
    solution.status = "optimal" if statuses <= {"optimal"} else "time limit"
    solution.details = {"parts": float(len(parts))}
    return solution


# ---------------------------------------------------------------------------- exact model


def _weight(problem: SiteProblem) -> float:
    """Weight of one USD against one person with a budget (keeps cost below one person)."""
    assert problem.budget_usd is not None
    return 0.5 / max(problem.budget_usd, 1.0)


def _objective(problem: SiteProblem, solution: SiteSolution) -> float:
    if problem.budget_usd is None:
        return solution.cost_usd
    return solution.people_served


def _layout(problem: SiteProblem) -> tuple[int, int, int, int, int]:
    """Column offsets: y, x, a, z, u (u only with a budget) and the column count."""
    n_s, n_p, n_l = problem.n_sites, problem.pair_site.size, problem.n_localities
    x0, a0, z0 = n_s, n_s + n_p, n_s + n_p + n_l
    u0 = z0 + n_s
    total = u0 + (n_l if problem.budget_usd is not None else 0)
    return x0, a0, z0, u0, total


def _model(
    problem: SiteProblem,
) -> tuple[FloatArray, list[LinearConstraint], Bounds, FloatArray]:
    n_s, n_p, n_l = problem.n_sites, problem.pair_site.size, problem.n_localities
    x0, a0, z0, u0, n_cols = _layout(problem)
    cost = np.concatenate(
        [
            problem.site_usd,
            problem.cpe_usd[problem.pair_locality],
            problem.alternative_usd,
            np.full(n_s, problem.radio_usd),
        ]
    )
    cost = np.concatenate([cost, np.zeros(n_cols - cost.size)])
    if problem.budget_usd is None:
        objective = cost
    else:
        objective = cost * _weight(problem)
        objective[u0:] = problem.people  # unserved people cost one each
    pairs = np.arange(n_p)
    locs = np.arange(n_l)
    # each locality: pairs + alternative (+ unserved) = 1
    rows = [problem.pair_locality, locs]
    cols = [x0 + pairs, a0 + locs]
    if problem.budget_usd is not None:
        rows.append(locs)
        cols.append(u0 + locs)
    assign = sp.csr_array(
        (np.ones(sum(r.size for r in rows)), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_l, n_cols),
    )
    # x[p] - y[s] <= 0
    link = sp.csr_array(
        (
            np.concatenate([np.ones(n_p), -np.ones(n_p)]),
            (np.concatenate([pairs, pairs]), np.concatenate([x0 + pairs, problem.pair_site])),
        ),
        shape=(n_p, n_cols),
    )
    # people x - capacity (y + z) <= 0
    sites = np.arange(n_s)
    load = sp.csr_array(
        (
            np.concatenate(
                [problem.people[problem.pair_locality], np.full(2 * n_s, -problem.capacity)]
            ),
            (
                np.concatenate([problem.pair_site, sites, sites]),
                np.concatenate([x0 + pairs, sites, z0 + sites]),
            ),
        ),
        shape=(n_s, n_cols),
    )
    constraints = [
        LinearConstraint(assign, 1.0, 1.0),
        LinearConstraint(link, -np.inf, 0.0),
        LinearConstraint(load, -np.inf, 0.0),
    ]
    if problem.budget_usd is not None:
        constraints.append(LinearConstraint(cost[None, :], -np.inf, problem.budget_usd))
    upper = np.ones(n_cols)
    upper[z0 : z0 + n_s] = np.inf
    return objective, constraints, Bounds(np.zeros(n_cols), upper), cost


def _solve_milp(problem: SiteProblem, time_limit_s: float) -> SiteSolution:
    objective, constraints, bounds, _ = _model(problem)
    result: OptimizeResult = milp(
        objective,
        constraints=constraints,
        integrality=np.ones(objective.size),
        bounds=bounds,
        options={"time_limit": time_limit_s, "mip_rel_gap": 1e-6},
    )
    if result.x is None:
        # no incumbent in the time allowed: fall back to the greedy plan
        solution = greedy_sites(problem)
        solution.bound = _lp_bound(problem, time_limit_s)
        solution.gap = _gap(_objective(problem, solution), solution.bound)
        solution.method = "greedy + LP bound"
        solution.status = f"HiGHS found no plan in {time_limit_s:g} s"
        return solution
    solution = _read(problem, np.round(result.x))
    bound = float(getattr(result, "mip_dual_bound", math.nan))
    if problem.budget_usd is not None:
        # the objective is unserved people + weighted cost; turn the bound into people
        total = float(problem.people.sum())
        bound = total - bound if math.isfinite(bound) else total
    solution.bound = bound
    gap = _gap(_objective(problem, solution), bound)
    solution.gap = 0.0 if result.status == 0 and not gap > 1e-6 else gap
    solution.method = "milp"
    solution.status = "optimal" if result.status == 0 else "time limit"
    return solution


def _read(problem: SiteProblem, values: FloatArray) -> SiteSolution:
    x0, a0, _, _, _ = _layout(problem)
    n_p, n_l = problem.pair_site.size, problem.n_localities
    chosen = np.flatnonzero(values[x0 : x0 + n_p] > 0.5)
    site_of = np.full(n_l, -1, dtype=np.int64)
    site_of[problem.pair_locality[chosen]] = problem.pair_site[chosen]
    alternative = values[a0 : a0 + n_l] > 0.5
    return _solution(problem, site_of, alternative)


def _solution(
    problem: SiteProblem, site_of: IntArray, alternative: npt.NDArray[np.bool_]
) -> SiteSolution:
    open_sites = np.unique(site_of[site_of >= 0])
    radios = np.array(
        [
            1 + _extra_radios(float(problem.people[site_of == s].sum()), problem.capacity)
            for s in open_sites
        ],
        dtype=np.int64,
    )
    served = (site_of >= 0) | alternative
    return SiteSolution(
        open_sites=open_sites.astype(np.int64),
        site_of=site_of,
        alternative=alternative,
        radios=radios,
        cost_usd=plan_cost(problem, site_of, alternative),
        people_served=float(problem.people[served].sum()),
        bound=math.nan,
        gap=math.nan,
        method="",
        status="",
    )


def _gap(value: float, bound: float) -> float:
    if not math.isfinite(bound):
        return math.nan
    if abs(value) < 1e-9:
        return 0.0 if abs(bound) < 1e-9 else math.inf
    return max(abs(value - bound) / abs(value), 0.0)


def _lp_bound(problem: SiteProblem, time_limit_s: float) -> float:
    """Bound from the linear relaxation (HiGHS); NaN when it does not finish."""
    objective, constraints, bounds, _ = _model(problem)
    a_ub, b_ub, a_eq, b_eq = [], [], [], []
    for c in constraints:
        matrix = sp.csr_array(c.A)
        lb, ub = np.broadcast_to(c.lb, matrix.shape[0]), np.broadcast_to(c.ub, matrix.shape[0])
        if np.array_equal(lb, ub):
            a_eq.append(matrix)
            b_eq.append(ub)
        else:
            a_ub.append(matrix)
            b_ub.append(ub)
    result = linprog(
        objective,
        A_ub=sp.vstack(a_ub),
        b_ub=np.concatenate(b_ub),
        A_eq=sp.vstack(a_eq),
        b_eq=np.concatenate(b_eq),
        bounds=np.column_stack([bounds.lb, bounds.ub]),
        method="highs",
        options={"time_limit": time_limit_s},
    )
    if result.status != 0:
        return math.nan
    if problem.budget_usd is None:
        return float(result.fun)
    return float(problem.people.sum()) - float(result.fun)


# ---------------------------------------------------------------------------- heuristic


def greedy_sites(problem: SiteProblem) -> SiteSolution:
    """Open sites one at a time while one helps (see the module documentation).

    Without a budget every locality starts on its alternative and each round opens the
    site whose localities save the most (alternative minus CPE, best first, until its
    radios stop paying) net of the site's cost. With a budget localities start unserved;
    each round takes the best people-per-dollar move that still fits: open a site for the
    localities it reaches, or give one locality its alternative.
    """
    n_s, n_l = problem.n_sites, problem.n_localities
    by_site: list[list[int]] = [[] for _ in range(n_s)]
    for p in range(problem.pair_site.size):
        by_site[int(problem.pair_site[p])].append(int(problem.pair_locality[p]))
    site_of = np.full(n_l, -1, dtype=np.int64)
    budgeted = problem.budget_usd is not None
    alternative = np.zeros(n_l, dtype=bool) if budgeted else np.ones(n_l, dtype=bool)
    is_open = np.zeros(n_s, dtype=bool)
    remaining = problem.budget_usd if budgeted else math.inf
    assert remaining is not None
    while True:
        best: tuple[float, int, list[int], float] | None = None
        for s in range(n_s):
            if is_open[s] or not by_site[s]:
                continue
            free = [j for j in by_site[s] if site_of[j] < 0 and not (budgeted and alternative[j])]
            if not free:
                continue
            move = _site_move(problem, s, free, budgeted, remaining)
            if move is not None and (best is None or move[0] > best[0]):
                best = (move[0], s, move[1], move[2])
        if budgeted:
            unserved = np.flatnonzero((site_of < 0) & ~alternative)
            fits = unserved[problem.alternative_usd[unserved] <= remaining + 1e-6]
            if fits.size:
                ratio = problem.people[fits] / np.maximum(problem.alternative_usd[fits], 1e-9)
                k = int(fits[int(np.argmax(ratio))])
                if best is None or float(ratio.max()) > best[0]:
                    alternative[k] = True
                    remaining -= float(problem.alternative_usd[k])
                    continue
        if best is None:
            break
        _, s, members, spend = best
        is_open[s] = True
        site_of[members] = s
        alternative[members] = False
        remaining -= spend
    return _solution(problem, site_of, alternative)


def _site_move(
    problem: SiteProblem, s: int, free: list[int], budgeted: bool, remaining: float
) -> tuple[float, list[int], float] | None:
    """The localities a new site ``s`` would take and the value of that move."""
    if budgeted:
        order = sorted(
            free, key=lambda j: -float(problem.people[j]) / max(float(problem.cpe_usd[j]), 1e-9)
        )
    else:
        saving = problem.alternative_usd - problem.cpe_usd
        order = sorted((j for j in free if saving[j] > 0), key=lambda j: -saving[j])
    members: list[int] = []
    spend = float(problem.site_usd[s])
    load = 0.0
    value = 0.0
    for j in order:
        new_load = load + float(problem.people[j])
        radios = _extra_radios(new_load, problem.capacity) - _extra_radios(load, problem.capacity)
        extra = float(problem.cpe_usd[j]) + radios * problem.radio_usd
        if budgeted:
            if spend + extra > remaining + 1e-6:
                continue
            value += float(problem.people[j])
        else:
            gain = float(problem.alternative_usd[j]) - extra
            if gain <= 0:
                continue
            value += gain
        members.append(j)
        spend += extra
        load = new_load
    if not members:
        return None
    if budgeted:
        if spend > remaining + 1e-6:
            return None
        return value / max(spend, 1e-9), members, spend
    net = value - float(problem.site_usd[s])
    if net <= 0:
        return None
    return net, members, spend
