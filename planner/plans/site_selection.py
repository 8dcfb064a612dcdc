"""Which wireless sites to build: a facility-location problem solved with HiGHS.

Every locality ``l`` with people to connect is served either by an *alternative* of known
cost ``alt[l]`` (its own fiber or satellite, whichever is cheaper) or by one open wireless
site ``s`` that reaches it (a clear radio path, see :mod:`planner.plans.radio`) at a per-locality
cost ``cpe[l]`` (customer equipment). Opening a site costs ``site[s]`` (mast, first sector
radio and backhaul); a site with ``L`` people needs ``ceil(L / capacity) - 1`` more sector
radios at ``radio`` each (:func:`plan_cost` prices a plan exactly so).

The integer programme (binary ``y[s]`` open, ``x[s,l]`` served by, ``a[l]`` alternative)::

    minimise   sum site[s] y[s] + sum (cpe[l] + radio / capacity x people[l]) x[s,l]
               + sum alt[l] a[l]
    subject to sum_s x[s,l] + a[l] = 1          every locality
               x[s,l] <= y[s]                    every reachable pair

prices the extra radios per person, which never undercharges a plan; the same programme
with one radio taken off every site never overcharges one, so its optimum (or HiGHS's
bound on it) is a lower bound of the true optimum and the gap is stated against it. With a
budget, a locality may also stay unserved (``u[l]``), the (never undercharged) capex is
held at or below the budget and the objective is the most people served, ties going to
the cheaper plan (the cost enters with a weight below one person).

:func:`select_sites` splits a problem without a budget into its independent groups of
localities. A group with at most ``max_exact_pairs`` reachable pairs is solved with
HiGHS (branch and cut, :mod:`planner.plans.milp`) within a node limit; the plan kept is the
better of HiGHS's and the greedy one. HiGHS's node limit does not bound the cutting planes
of its root node, which the sites' ceilings make costly, so a group where a site could
reach more people than it holds goes to HiGHS only up to :data:`EXACT_RADIO_PAIRS` pairs.
Larger groups, and budgets over large problems, get
the greedy heuristic (:func:`greedy_sites`) and a Lagrangian bound
(:func:`lagrangian_bound`); where a site could reach more people than its radios hold, the
bound keeps that ceiling (each site a fractional knapsack), which closes most of the gap
the uncapacitated bound leaves when sites fill up.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from planner.plans.milp import OPTIMAL, Constraint, MilpResult, solve_milp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_MAX_EXACT_PAIRS = 5_000
DEFAULT_NODE_LIMIT = 200
"""Branch-and-bound nodes HiGHS may explore per solve. The search is bounded by work, not
by the clock, so the same problem gives the same plan on any machine and under any load."""


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
    max_radios
        Sector radios one site holds at most, so it serves at most ``capacity x
        max_radios`` people.
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
    max_radios: int = 1_000_000

    @property
    def n_sites(self) -> int:
        return int(self.site_usd.size)

    @property
    def n_localities(self) -> int:
        return int(self.people.size)


@dataclass(frozen=True)
class Certificate:
    """What is proven about a plan: a bound on its objective, the gap to it and a status.

    Attributes
    ----------
    bound
        Best bound on the objective (a lower bound of the cost, or an upper bound of the
        people served with a budget).
    gap
        Relative optimality gap, ``|objective - bound| / |objective|`` (0: proven optimal).
    status
        ``"optimal"``, ``"gap"`` (HiGHS finished within its relative gap), ``"node limit"``
        or ``"heuristic"`` (the greedy plan and a Lagrangian bound).
    """

    bound: float
    gap: float
    status: str


UNCERTIFIED = Certificate(bound=math.nan, gap=math.nan, status="")


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
    method
        ``"milp"`` (HiGHS, with ``status`` saying whether optimality was proven) or
        ``"greedy + Lagrangian bound"``.
    seconds
        Time taken to choose the sites (a bound still computing not included).
    certificate
        The plan's :class:`Certificate`; ``bound``, ``gap`` and ``status`` read it.
    """

    open_sites: IntArray
    site_of: IntArray
    alternative: npt.NDArray[np.bool_]
    radios: IntArray
    cost_usd: float
    people_served: float
    method: str = ""
    seconds: float = 0.0
    details: dict[str, float] = field(default_factory=dict)
    _certificate: Certificate | Callable[[], Certificate] = field(default=UNCERTIFIED, repr=False)

    def certify(self, certificate: Certificate | Callable[[], Certificate]) -> None:
        """Set the certificate, or a function that gives it when first read."""
        self._certificate = certificate

    @property
    def certificate(self) -> Certificate:
        """The plan's certificate; reading one still computing waits for it."""
        if not isinstance(self._certificate, Certificate):
            self._certificate = self._certificate()
        return self._certificate

    def __getstate__(self) -> dict[str, Any]:
        # a certificate still computing is a thread's result: it is waited for, not pickled
        return {**self.__dict__, "_certificate": self.certificate}

    @property
    def bound(self) -> float:
        return self.certificate.bound

    @property
    def gap(self) -> float:
        return self.certificate.gap

    @property
    def status(self) -> str:
        return self.certificate.status


def plan_cost(problem: SiteProblem, site_of: IntArray, alternative: npt.NDArray[np.bool_]) -> float:
    """Cost of an assignment: its sites (with their radios), CPE and alternatives."""
    served = site_of >= 0
    total = float(problem.cpe_usd[served].sum() + problem.alternative_usd[alternative].sum())
    loads = _loads(problem, site_of)
    for s in np.unique(site_of[served]).tolist():
        total += float(problem.site_usd[s]) + problem.radio_usd * _extra_radios(
            float(loads[s]), problem.capacity
        )
    return total


def _loads(problem: SiteProblem, site_of: IntArray) -> FloatArray:
    """People on each candidate site (0 where closed).

    One pass for all sites; people are whole numbers (census counts), whose sums are
    exact in any order, so each load is the one a sum over the site's localities gives.
    """
    served = site_of >= 0
    return np.bincount(
        site_of[served], weights=problem.people[served], minlength=problem.n_sites
    ).astype(float)


def _extra_radios(load: float, capacity: float) -> int:
    return max(math.ceil(load / capacity - 1e-9) - 1, 0)


def select_sites(
    problem: SiteProblem,
    *,
    max_exact_pairs: int = DEFAULT_MAX_EXACT_PAIRS,
    node_limit: int = DEFAULT_NODE_LIMIT,
) -> SiteSolution:
    """Choose the sites; see the module documentation.

    A plan chosen by the greedy heuristic is returned as soon as it is chosen: its
    Lagrangian bound (:func:`relaxation_bound`, the heavy part) is computed in a thread of
    its own, and reading the solution's ``bound``, ``gap``, ``status`` or ``certificate``
    waits for it. A caller with more to do (the rest of a last-mile plan) does it
    meanwhile; the bound's compiled steps release the GIL, so it runs on another core.
    """
    started = time.perf_counter()
    problem = _usable_pairs(problem)
    if problem.n_localities == 0:
        empty = np.zeros(0, dtype=np.int64)
        solution = _solution(problem, empty, np.zeros(0, dtype=bool))
        solution.method = "none"
        solution.certify(Certificate(bound=0.0, gap=0.0, status="optimal"))
        return solution
    if problem.budget_usd is None:
        parts = _components(problem)
        if len(parts) > 1:
            solution = _solve_parts(problem, parts, max_exact_pairs, node_limit)
            solution.seconds = time.perf_counter() - started
            return solution
    exact = problem.pair_site.size <= max_exact_pairs and (
        problem.pair_site.size <= EXACT_RADIO_PAIRS or not _ceiling_can_bind(problem)
    )
    if exact:
        solution = _solve_milp(problem, node_limit)
    else:
        solution = greedy_sites(problem)
        solution.method = "greedy + Lagrangian bound"
        solution.certify(_in_background(_heuristic_certificate, problem, solution))
    solution.seconds = time.perf_counter() - started
    return solution


def _heuristic_certificate(problem: SiteProblem, plan: SiteSolution) -> Certificate:
    bound = relaxation_bound(problem, plan)
    return Certificate(bound=bound, gap=_gap(_objective(problem, plan), bound), status="heuristic")


def _in_background(
    work: Callable[[SiteProblem, SiteSolution], Certificate],
    problem: SiteProblem,
    plan: SiteSolution,
) -> Callable[[], Certificate]:
    """Start ``work(problem, plan)`` in a thread of its own; return what waits for it."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(work, problem, plan)
    pool.shutdown(wait=False)  # the thread ends with the work
    return future.result


def _ceiling_can_bind(problem: SiteProblem) -> bool:
    """Whether some site reaches more people than its radios hold.

    Only then do the sites' ceilings constrain the programme, and HiGHS's root node over
    those knapsack rows is costly (Baja California's largest group: 15 s of cutting planes
    before the first branch, where the same group without ceilings solves in 0.05 s).
    """
    reachable = np.bincount(
        problem.pair_site,
        weights=problem.people[problem.pair_locality],
        minlength=problem.n_sites,
    )
    return bool((reachable > problem.capacity * problem.max_radios + 1e-9).any())


def _usable_pairs(problem: SiteProblem) -> SiteProblem:
    """The problem without the pairs no site can serve: a locality larger than a full site."""
    fits = problem.people[problem.pair_locality] <= problem.capacity * problem.max_radios + 1e-9
    if fits.all():
        return problem
    return dataclasses.replace(
        problem, pair_site=problem.pair_site[fits], pair_locality=problem.pair_locality[fits]
    )


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
    for members in _grouped(label, count):
        sites = members[members < n_s]
        locs = members[members >= n_s] - n_s
        if locs.size:
            parts.append((sites.astype(np.int64), locs.astype(np.int64)))
    return parts


def _grouped(labels: IntArray, count: int) -> list[IntArray]:
    """For each label ``0 .. count - 1``, the positions holding it, in increasing order: one
    stable sort, not a scan of every position per label."""
    if count == 0:
        return []
    order = np.argsort(labels, kind="stable")
    ends = np.searchsorted(labels[order], np.arange(count), side="right")
    return np.split(order, ends[:-1])


def _solve_parts(
    problem: SiteProblem,
    parts: list[tuple[IntArray, IntArray]],
    max_exact_pairs: int,
    node_limit: int,
) -> SiteSolution:
    """Solve each independent part alone and put the plans together (no budget only)."""
    site_of = np.full(problem.n_localities, -1, dtype=np.int64)
    alternative = np.zeros(problem.n_localities, dtype=bool)
    # each part's bound, in the order they add up (a part's own may still be computing)
    bounds: list[float | SiteSolution] = []
    methods: set[str] = set()
    # largest parts first, so the plan is assembled in one order whatever the input order
    parts = sorted(parts, key=lambda part: (-part[1].size, int(part[1][0])))
    # the parts are disjoint: one array holds every site's and locality's place in its own
    # part, and the pairs are grouped by part in one go
    site_index = np.full(problem.n_sites, -1, dtype=np.int64)
    loc_index = np.full(problem.n_localities, -1, dtype=np.int64)
    part_of_site = np.full(problem.n_sites, -1, dtype=np.int64)
    for k, (sites, locs) in enumerate(parts):
        site_index[sites] = np.arange(sites.size)
        loc_index[locs] = np.arange(locs.size)
        part_of_site[sites] = k
    part_pairs = _grouped(part_of_site[problem.pair_site], len(parts))
    for (sites, locs), pairs in zip(parts, part_pairs, strict=True):
        sub = SiteProblem(
            site_usd=problem.site_usd[sites],
            pair_site=site_index[problem.pair_site[pairs]],
            pair_locality=loc_index[problem.pair_locality[pairs]],
            people=problem.people[locs],
            cpe_usd=problem.cpe_usd[locs],
            alternative_usd=problem.alternative_usd[locs],
            capacity=problem.capacity,
            radio_usd=problem.radio_usd,
            max_radios=problem.max_radios,
        )
        if sub.pair_site.size == 0:
            alternative[locs] = True
            bounds.append(float(sub.alternative_usd.sum()))
            continue
        part = select_sites(sub, max_exact_pairs=max_exact_pairs, node_limit=node_limit)
        chosen = part.site_of >= 0
        site_of[locs[chosen]] = sites[part.site_of[chosen]]
        alternative[locs] = part.alternative
        bounds.append(part)
        methods.add(part.method)
    solution = _solution(problem, site_of, alternative)
    solution.method = " and ".join(sorted(methods)) or "milp"
    solution.details = {"parts": float(len(parts))}
    solution.certify(functools.partial(_parts_certificate, solution.cost_usd, bounds))
    return solution


def _parts_certificate(cost_usd: float, bounds: list[float | SiteSolution]) -> Certificate:
    """The certificate of a plan put together from parts, from theirs (waiting for any)."""
    bound = 0.0
    statuses: set[str] = set()
    for part in bounds:
        if isinstance(part, float):
            bound += part
            continue
        bound += part.bound if math.isfinite(part.bound) else math.nan
        statuses.add(part.status)
    gap = _gap(cost_usd, bound)
    gap = 0.0 if gap < 1e-6 else gap
    if gap == 0 or statuses <= {"optimal"}:
        status = "optimal"
    elif "node limit" in statuses:
        status = "node limit"
    else:
        status = "heuristic" if "heuristic" in statuses else "gap"
    return Certificate(bound=bound, gap=gap, status=status)


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
    """Column offsets: y, x, a, r (radios), u (only with a budget) and the column count."""
    n_s, n_p, n_l = problem.n_sites, problem.pair_site.size, problem.n_localities
    x0, a0 = n_s, n_s + n_p
    r0 = a0 + n_l
    u0 = r0 + n_s
    total = u0 + (n_l if problem.budget_usd is not None else 0)
    return x0, a0, r0, u0, total


Mode = str  # "exact", "upper" or "lower"


def _model(
    problem: SiteProblem, mode: Mode = "exact"
) -> tuple[FloatArray, list[Constraint], FloatArray, FloatArray, FloatArray]:
    """The programme in one of three forms, differing only in how radios are counted.

    ``exact``: ``r[s]`` integer extra radios with ``people x <= capacity (y + r)``.
    ``upper``: no ``r``; ``radio / capacity`` per person served on top of the CPE, which
    never undercharges (``ceil(L / capacity) - 1 <= L / capacity``).
    ``lower``: ``r[s]`` continuous, the same constraint: at most the exact count, so its
    optimum bounds the exact one from below.
    """
    n_s, n_p, n_l = problem.n_sites, problem.pair_site.size, problem.n_localities
    x0, a0, r0, u0, n_cols = _layout(problem)
    pair = problem.cpe_usd[problem.pair_locality].astype(float)
    if mode == "upper":
        pair = pair + problem.radio_usd / problem.capacity * problem.people[problem.pair_locality]
    cost = np.zeros(n_cols)
    cost[:n_s] = problem.site_usd
    cost[x0:a0] = pair
    cost[a0:r0] = problem.alternative_usd
    cost[r0:u0] = 0.0 if mode == "upper" else problem.radio_usd
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
    constraints: list[Constraint] = [(assign, 1.0, 1.0), (link, -np.inf, 0.0)]
    upper = np.ones(n_cols)
    upper[r0:u0] = 0.0
    integrality = np.ones(n_cols)
    if mode != "upper":
        # people x - capacity (y + r) <= 0
        sites = np.arange(n_s)
        load = sp.csr_array(
            (
                np.concatenate(
                    [problem.people[problem.pair_locality], np.full(2 * n_s, -problem.capacity)]
                ),
                (
                    np.concatenate([problem.pair_site, sites, sites]),
                    np.concatenate([x0 + pairs, sites, r0 + sites]),
                ),
            ),
            shape=(n_s, n_cols),
        )
        constraints.append((load, -np.inf, 0.0))
        upper[r0:u0] = max(problem.max_radios - 1, 0)
        if mode == "lower":
            integrality[r0:u0] = 0
    elif problem.max_radios < 1_000_000:
        # people x - capacity x max_radios y <= 0
        full = sp.csr_array(
            (
                np.concatenate(
                    [
                        problem.people[problem.pair_locality],
                        np.full(n_s, -problem.capacity * problem.max_radios),
                    ]
                ),
                (
                    np.concatenate([problem.pair_site, np.arange(n_s)]),
                    np.concatenate([x0 + pairs, np.arange(n_s)]),
                ),
            ),
            shape=(n_s, n_cols),
        )
        constraints.append((full, -np.inf, 0.0))
    if problem.budget_usd is not None:
        constraints.append((sp.csr_array(cost[None, :]), -np.inf, problem.budget_usd))
    return objective, constraints, upper, cost, integrality


def _run_milp(problem: SiteProblem, mode: Mode, node_limit: int) -> MilpResult:
    objective, constraints, upper, _, integrality = _model(problem, mode)
    return solve_milp(
        objective,
        constraints,
        np.zeros(upper.size),
        upper,
        integrality,
        node_limit=node_limit,
        mip_rel_gap=1e-4,
    )


def _milp_bound(problem: SiteProblem, result: MilpResult) -> float:
    """The bound a finished or stopped HiGHS run proves, in cost or in people."""
    bound = result.mip_dual_bound
    if result.status == OPTIMAL and result.fun is not None:
        bound = float(result.fun)
    if problem.budget_usd is None:
        return bound
    # the objective is unserved people + weighted cost (below one person): people served
    # are at most everyone minus the bound, rounded down to whole people plus the weight
    total = float(problem.people.sum())
    if not math.isfinite(bound):
        return total
    most = total - bound + 0.5
    whole = bool(np.all(problem.people == np.round(problem.people)))
    return math.floor(most + 1e-9) if whole else most


def _better(problem: SiteProblem, a: SiteSolution, b: SiteSolution) -> bool:
    """Whether plan ``a`` is better than ``b`` (cheaper, or more people within a budget)."""
    if problem.budget_usd is None:
        return a.cost_usd < b.cost_usd - 1e-6
    if a.people_served != b.people_served:
        return a.people_served > b.people_served
    return a.cost_usd < b.cost_usd - 1e-6


EXACT_RADIO_PAIRS = 400
"""Up to this many pairs, the programme with integer radios is solved as it is."""


def _solve_milp(problem: SiteProblem, node_limit: int) -> SiteSolution:
    """Choose the sites with HiGHS; see the module documentation."""
    greedy = greedy_sites(problem)
    solution = greedy
    if problem.pair_site.size <= EXACT_RADIO_PAIRS:
        result = _run_milp(problem, "exact", node_limit)
        lower = result
    else:
        result = _run_milp(problem, "upper", node_limit)
        lower = _run_milp(problem, "lower", node_limit)
    if result.x is not None:
        chosen = _read(problem, np.round(result.x))
        if not _better(problem, greedy, chosen):
            solution = chosen
    bound = _milp_bound(problem, lower)
    if not math.isfinite(bound):
        bound = relaxation_bound(problem, solution)
    gap = _gap(_objective(problem, solution), bound)
    gap = 0.0 if gap < 1e-6 else gap
    solution.method = "milp"
    finished = result.status == OPTIMAL and lower.status == OPTIMAL
    status = "optimal" if gap == 0 else ("gap" if finished else "node limit")
    solution.certify(Certificate(bound=bound, gap=gap, status=status))
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
    loads = _loads(problem, site_of)
    radios = np.array(
        [1 + _extra_radios(float(loads[s]), problem.capacity) for s in open_sites.tolist()],
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
    )


def _gap(value: float, bound: float) -> float:
    if not math.isfinite(bound):
        return math.nan
    if abs(value) < 1e-9:
        return 0.0 if abs(bound) < 1e-9 else math.inf
    return max(abs(value - bound) / abs(value), 0.0)


def relaxation_bound(problem: SiteProblem, plan: SiteSolution | None = None) -> float:
    """Bound of the problem from its Lagrangian relaxation (see :func:`lagrangian_bound`).

    Without a budget, a lower bound of the cost; with one, an upper bound of the people
    served: for any price ``mu`` >= 0 of a dollar in people, people served <= ``mu`` x
    budget - min(``mu`` x cost - people served), and the minimum is bounded below by the
    Lagrangian bound of the same problem with those costs. Prices are tried on a
    log-spaced grid, then refined around the best.
    """
    greedy = plan or greedy_sites(problem)
    # extra radios are at least radio x (L / capacity - 1) on a site of L people: charge
    # them per person and take one radio off every site, which never overcharges a plan
    per_person = problem.radio_usd / problem.capacity
    site = problem.site_usd - problem.radio_usd
    serve = problem.cpe_usd + per_person * problem.people
    if problem.budget_usd is None:
        cost_bound = functools.partial(
            lagrangian_bound,
            site,
            problem.pair_site,
            problem.pair_locality,
            serve,
            problem.alternative_usd,
            upper=greedy.cost_usd,
        )
        if not _ceiling_can_bind(problem):
            return cost_bound()
        # sites may fill up: the bound that knows their ceiling is far closer
        # (Tabasco's largest group: 4.7% below the greedy plan instead of 14.9%); the two
        # are independent and their compiled steps release the GIL: one runs in a thread
        with ThreadPoolExecutor(max_workers=1) as pool:
            capacitated = pool.submit(
                cost_bound,
                iterations=CAPACITATED_ITERATIONS,
                people=problem.people,
                site_capacity=problem.capacity * problem.max_radios,
            )
            return max(cost_bound(), capacitated.result())
    budget = float(problem.budget_usd)
    people = problem.people

    def bound_at(mu: float) -> float:
        plan_value = mu * greedy.cost_usd - greedy.people_served
        low = lagrangian_bound(
            mu * site,
            problem.pair_site,
            problem.pair_locality,
            mu * serve - people,
            np.minimum(mu * problem.alternative_usd - people, 0.0),
            upper=plan_value,
            iterations=250,
        )
        return mu * budget - low

    best_mu, best = 0.0, float(people.sum())
    for mu in np.geomspace(1e-8, 1e-1, 15):
        value = bound_at(float(mu))
        if value < best:
            best_mu, best = float(mu), value
    if best_mu > 0:
        for mu in best_mu * np.geomspace(0.4, 2.5, 9):
            best = min(best, bound_at(float(mu)))
    return max(best, float(greedy.people_served))


CAPACITATED_ITERATIONS = 300
"""Subgradient steps of the bound with site ceilings (each sorts the pairs once)."""


def dual_ascent(
    site_usd: FloatArray,
    pair_site: IntArray,
    pair_locality: IntArray,
    serve_usd: FloatArray,
    alternative_usd: FloatArray,
    passes: int = 8,
) -> FloatArray:
    """A feasible solution ``v`` of the LP dual of the facility-location problem.

    The dual: maximise ``sum v[l]`` with ``v[l] <= alt[l]`` and, for every site,
    ``sum_l max(0, v[l] - serve[l]) <= site[s]`` over the localities it reaches. Every
    ``v[l]`` starts at ``min(serve[l], alt[l])`` and is raised in turn as far as the
    slack of every site reaching it allows (Erlenkotter's dual ascent, 1978), first in
    small steps shared fairly over the localities, then to the full slack; ``sum v`` is a
    lower bound of the optimum.
    """
    from planner.plans import _bound_kernels

    # each locality's sites once (numpy's slack[near] -= step took a repeated site once)
    order = np.lexsort((pair_site, pair_locality))
    locality, site = pair_locality[order].astype(np.int64), pair_site[order].astype(np.int64)
    once = np.ones(order.size, dtype=bool)
    once[1:] = (locality[1:] != locality[:-1]) | (site[1:] != site[:-1])
    return np.asarray(
        _bound_kernels.dual_ascent(
            np.array(site_usd, dtype=np.float64),
            np.asarray(serve_usd, dtype=np.float64),
            np.asarray(alternative_usd, dtype=np.float64),
            _group_starts(locality[once], alternative_usd.size),
            site[once],
            passes,
        )
    )


def _group_starts(sorted_keys: IntArray, n_groups: int) -> IntArray:
    """Where each group ``0 .. n_groups - 1`` begins in ``sorted_keys`` (ascending), and
    its end as the last entry."""
    return np.searchsorted(sorted_keys, np.arange(n_groups + 1)).astype(np.int64)


def lagrangian_bound(
    site_usd: FloatArray,
    pair_site: IntArray,
    pair_locality: IntArray,
    serve_usd: FloatArray,
    alternative_usd: FloatArray,
    *,
    upper: float,
    iterations: int = 1000,
    people: FloatArray | None = None,
    site_capacity: float = math.inf,
) -> float:
    """Lower bound of an uncapacitated facility-location problem by Lagrangian relaxation.

    The problem (:func:`select_sites` passes the lower model, whose optimum is at most the
    true one): minimise ``sum site[s] y[s] + sum serve[l] x[s,l] + sum alt[l] a[l]`` with
    ``sum_s x[s,l] + a[l] = 1`` and ``x[s,l] <= y[s]``. Relaxing each locality's equation
    with a multiplier ``lam[l]`` leaves ``sum lam + sum_s min(0, site[s] + sum_l min(0,
    serve[l] - lam[l])) + sum_l min(0, alt[l] - lam[l])``, a lower bound for any ``lam``
    (Cornuejols, Fisher and Nemhauser 1977); subgradient steps towards ``upper``, the
    value of a known plan (Held and Karp's step, halved when the bound stalls), raise it
    towards the bound of the linear relaxation. The multipliers start from
    :func:`dual_ascent` (whose bound is their sum), so the result is never below it.

    With ``people`` and a finite ``site_capacity`` the capacity of a site (``people x <=
    site_capacity y``) stays in the subproblem: each site takes its localities of negative
    reduced cost best per person first, up to its capacity with the last one in part (a
    fractional knapsack), which bounds the capacitated problem from below and much closer
    when sites fill up.

    Each step's pass over the pairs runs compiled
    (:func:`planner.plans._bound_kernels.reduced_costs`).
    """
    from planner.plans import _bound_kernels

    n_sites, n_loc = site_usd.size, alternative_usd.size
    if n_loc == 0:
        return 0.0
    capacitated = people is not None and math.isfinite(site_capacity)
    lam = dual_ascent(site_usd, pair_site, pair_locality, serve_usd, alternative_usd)
    pair_site = np.ascontiguousarray(pair_site, dtype=np.int64)
    pair_locality = np.ascontiguousarray(pair_locality, dtype=np.int64)
    by_site = np.argsort(pair_site, kind="stable").astype(np.int64)
    by_locality = np.argsort(pair_locality, kind="stable").astype(np.int64)
    layout = (
        pair_site,
        pair_locality,
        _group_starts(pair_site[by_site], n_sites),
        by_site,
        _group_starts(pair_locality[by_locality], n_loc),
        by_locality,
        np.asarray(site_usd, dtype=np.float64),
    )
    serve = np.asarray(serve_usd, dtype=np.float64)
    weight = np.asarray(people if capacitated else np.zeros(n_loc), dtype=np.float64)
    ceiling = float(site_capacity)
    reduced, share = np.empty(pair_site.size), np.empty(pair_site.size)
    value, cover = np.empty(n_sites), np.empty(n_loc)
    scratch = (
        np.empty(n_loc),
        np.empty(n_loc, dtype=np.int64),
        np.empty(pair_site.size, dtype=np.int64),
        np.empty(n_sites, dtype=np.int64),
    )
    best = -math.inf
    theta = 2.0
    stall = 0
    for _ in range(iterations):
        _bound_kernels.reduced_costs(
            lam, serve, weight, *layout, ceiling, capacitated, reduced, share, value, cover,
            scratch,
        )  # fmt: skip
        opened = value < 0
        alt_reduced = alternative_usd - lam
        bound = float(lam.sum() + value[opened].sum() + np.minimum(alt_reduced, 0.0).sum())
        if not math.isfinite(best) or bound > best + 1e-9 * max(abs(best), 1.0):
            best, stall = bound, 0
        else:
            stall += 1
            if stall >= 25:
                theta, stall = theta / 2, 0
        gradient = 1.0 - (cover + (alt_reduced < 0))
        norm = float(gradient @ gradient)
        if norm == 0 or theta < 1e-6:
            break
        step = theta * max(upper - bound, 1e-6 * abs(upper) + 1e-9) / norm
        lam = lam + step * gradient
    return best


# ---------------------------------------------------------------------------- heuristic


def greedy_sites(problem: SiteProblem) -> SiteSolution:
    """Open sites one at a time while one helps, then close the sites that do not pay.

    Without a budget every locality starts on its alternative and each round opens the
    site whose localities save the most (alternative minus CPE, best first, until its
    radios stop paying) net of the site's cost; a last pass closes any open site whose
    localities are served more cheaply by the other open sites or their alternatives.
    With a budget localities start unserved; each round takes the best people-per-dollar
    move that still fits: open a site for the localities it reaches, or give one locality
    its alternative. A site's value only falls as its localities are taken, so values are
    recomputed lazily (a stale value at the top of the queue is refreshed before use).
    """
    n_s, n_l = problem.n_sites, problem.n_localities
    by_site = _localities_by_site(problem)
    numbers = _Numbers.of(problem)
    site_of = np.full(n_l, -1, dtype=np.int64)
    budgeted = problem.budget_usd is not None
    alternative = np.zeros(n_l, dtype=bool) if budgeted else np.ones(n_l, dtype=bool)
    taken = [False] * n_l  # on a site, or (with a budget) on its alternative
    remaining = problem.budget_usd if budgeted else math.inf
    assert remaining is not None

    def move(s: int) -> tuple[float, list[int], float] | None:
        free = [j for j in by_site[s] if not taken[j]]
        return _site_move(numbers, s, free, budgeted, remaining) if free else None

    queue = []
    for s in range(n_s):
        found = move(s) if by_site[s] else None
        if found is not None:
            queue.append((-found[0], s))
    heapq.heapify(queue)
    while True:
        best: tuple[float, int, list[int], float] | None = None
        while queue:
            _, s = heapq.heappop(queue)
            found = move(s)
            if found is None:
                continue
            if not queue or found[0] >= -queue[0][0] - 1e-12:
                best = (found[0], s, found[1], found[2])
                break
            heapq.heappush(queue, (-found[0], s))
        if budgeted:
            unserved = np.flatnonzero((site_of < 0) & ~alternative)
            fits = unserved[problem.alternative_usd[unserved] <= remaining + 1e-6]
            if fits.size:
                ratio = problem.people[fits] / np.maximum(problem.alternative_usd[fits], 1e-9)
                if best is None or float(ratio.max()) > best[0]:
                    k = int(fits[int(np.argmax(ratio))])
                    alternative[k] = True
                    taken[k] = True
                    remaining -= float(problem.alternative_usd[k])
                    if best is not None:
                        heapq.heappush(queue, (-best[0], best[1]))
                    continue
        if best is None:
            break
        _, s, members, spend = best
        site_of[members] = s
        alternative[members] = False
        for j in members:
            taken[j] = True
        remaining -= spend
    if not budgeted:
        _close_unpaying(problem, by_site, site_of, alternative)
    return _solution(problem, site_of, alternative)


def _localities_by_site(problem: SiteProblem) -> list[list[int]]:
    """The localities each candidate site reaches, in pair order."""
    if problem.n_sites == 0:
        return []
    order = np.argsort(problem.pair_site, kind="stable")
    ends = np.searchsorted(problem.pair_site[order], np.arange(1, problem.n_sites + 1))
    return [part.tolist() for part in np.split(problem.pair_locality[order], ends[:-1])]


@dataclass(frozen=True)
class _Numbers:
    """A problem's per-locality and per-site figures as Python floats.

    The greedy looks at one locality at a time; reading a list is several times faster
    than reading one element of an array, and the figures are the same floats.
    """

    people: list[float]
    cpe_usd: list[float]
    alternative_usd: list[float]
    saving_usd: list[float]
    site_usd: list[float]
    capacity: float
    radio_usd: float
    most_people: float

    @classmethod
    def of(cls, problem: SiteProblem) -> _Numbers:
        return cls(
            people=problem.people.tolist(),
            cpe_usd=problem.cpe_usd.tolist(),
            alternative_usd=problem.alternative_usd.tolist(),
            saving_usd=(problem.alternative_usd - problem.cpe_usd).tolist(),
            site_usd=problem.site_usd.tolist(),
            capacity=problem.capacity,
            radio_usd=problem.radio_usd,
            most_people=problem.capacity * problem.max_radios,
        )


def _close_unpaying(
    problem: SiteProblem,
    by_site: list[list[int]],
    site_of: IntArray,
    alternative: npt.NDArray[np.bool_],
) -> None:
    """Close each open site whose localities cost less elsewhere (in place)."""
    covering: dict[int, list[int]] = {}
    for s, members in enumerate(by_site):
        for j in members:
            covering.setdefault(j, []).append(s)
    people = problem.people.tolist()
    most = problem.capacity * problem.max_radios
    current = plan_cost(problem, site_of, alternative)
    for s in np.unique(site_of[site_of >= 0]).tolist():
        trial_site, trial_alt = site_of.copy(), alternative.copy()
        open_now = set(np.unique(trial_site[trial_site >= 0]).tolist()) - {s}
        loads = _loads(problem, trial_site).tolist()
        for j in np.flatnonzero(site_of == s).tolist():
            other = [
                t
                for t in covering.get(j, [])
                if t in open_now and loads[t] + people[j] <= most + 1e-9
            ]
            if other and problem.cpe_usd[j] < problem.alternative_usd[j]:
                trial_site[j] = other[0]
                loads[other[0]] += people[j]
            else:
                trial_site[j] = -1
                trial_alt[j] = True
        cost = plan_cost(problem, trial_site, trial_alt)
        if cost < current - 1e-6:
            site_of[:], alternative[:] = trial_site, trial_alt
            current = cost


def _site_move(
    numbers: _Numbers, s: int, free: list[int], budgeted: bool, remaining: float
) -> tuple[float, list[int], float] | None:
    """The localities a new site ``s`` would take and the value of that move."""
    people, cpe = numbers.people, numbers.cpe_usd
    if budgeted:
        order = sorted(free, key=lambda j: -people[j] / max(cpe[j], 1e-9))
    else:
        saving = numbers.saving_usd
        # best saving first; equal savings keep their order, as a stable sort on -saving
        order = sorted((j for j in free if saving[j] > 0), key=saving.__getitem__, reverse=True)
    members: list[int] = []
    spend = numbers.site_usd[s]
    load = 0.0
    held = 0  # extra radios at ``load``
    value = 0.0
    most = numbers.most_people
    capacity, radio_usd = numbers.capacity, numbers.radio_usd
    for j in order:
        new_load = load + people[j]
        if new_load > most + 1e-9:
            continue
        needed = _extra_radios(new_load, capacity)
        extra = cpe[j] + (needed - held) * radio_usd
        if budgeted:
            if spend + extra > remaining + 1e-6:
                continue
            value += people[j]
        else:
            gain = numbers.alternative_usd[j] - extra
            if gain <= 0:
                continue
            value += gain
        members.append(j)
        spend += extra
        load = new_load
        held = needed
    if not members:
        return None
    if budgeted:
        if spend > remaining + 1e-6:
            return None
        return value / max(spend, 1e-9), members, spend
    net = value - numbers.site_usd[s]
    if net <= 0:
        return None
    return net, members, spend
