"""Shared wireless sites for a last-mile plan: coverage on terrain, backhaul, selection.

:func:`plan_wireless` takes the localities that need a connection (with what each would
cost on its own fiber or satellite) and the candidate sites (the localities themselves and
the highest ground within ``radio.high_point_radius_km`` of each), and:

1. **Coverage.** A candidate reaches a locality within ``fixed_wireless.max_range_km`` when
   the path from the mast (``radio.mast_height_m``) to the subscriber antenna
   (``radio.cpe_height_m``) is clear over the elevation grid at ``radio.frequency_ghz``
   (:func:`planner.plans.radio.path_margin_m`: earth curvature with ``k_factor``, the
   ``fresnel_clearance`` share of the first Fresnel zone free).
2. **Backhaul.** Each candidate is fed by the cheaper of its fiber feeder (cheapest path
   over the network from the backbone, priced as any feeder) and microwave: at most
   ``microwave.max_hops`` hops of at most ``microwave.max_hop_km`` with clear paths at the
   microwave frequency, to a backbone node, through relay masts at other candidates;
   each hop costs ``usd_per_link`` and each mast that is not a site (relays and the mast
   at the backbone end) ``usd_per_relay``.
3. **Selection.** :func:`planner.plans.site_selection.select_sites` chooses the sites (exact
   with HiGHS when small enough) against each locality's cheaper alternative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from planner.network.corridor_graph import to_analysis_crs
from planner.network.cost_model import CostModel
from planner.network.planning_memo import WORTH_KEEPING, PlanningMemo, arrays_digest
from planner.plans.radio import ElevationGrid, RadioPath, path_distance_m, path_margin_m
from planner.plans.site_selection import SiteProblem, SiteSolution, select_sites

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HOP_NEIGHBOURS = 12
"""Microwave hops are tried to the nearest this many candidates and backbone nodes in range."""

SURVEYED = "radio-survey"
"""Build-cache entry name of a kept radio survey (:func:`plan_wireless`)."""

Survey = tuple[
    tuple[IntArray, IntArray, FloatArray], tuple[FloatArray, list[list[tuple[str, int]]]]
]
"""What :func:`coverage_pairs` and :func:`microwave_backhaul` found, in that order."""


@dataclass(frozen=True)
class Candidates:
    """Candidate wireless sites: where, their ground, and their fiber feeder cost."""

    lon: FloatArray
    lat: FloatArray
    locality: IntArray  # the locality a candidate stands at or near
    at_locality: npt.NDArray[np.bool_]
    feeder_usd: FloatArray  # inf where no feeder reaches it


@dataclass
class WirelessSite:
    """One wireless site of the plan."""

    site_id: str
    candidate: int
    lon: float
    lat: float
    ground_m: float
    mast_height_m: float
    backhaul: str
    backhaul_usd: float
    radios: int
    localities: list[int]
    people_covered: int
    cost_usd: float
    hops: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class WirelessPlan:
    """The chosen sites, their microwave links and each locality's site."""

    sites: list[WirelessSite]
    site_of: IntArray  # locality -> position in ``sites``; -1 not wireless
    alternative: npt.NDArray[np.bool_]
    solution: SiteSolution
    candidates: int
    pairs: int
    grid_source: str
    margin_m: FloatArray  # locality -> clearance margin of its path to its site (nan: none)


def candidate_sites(
    grid: ElevationGrid, lon: FloatArray, lat: FloatArray, radius_km: float
) -> tuple[FloatArray, FloatArray, IntArray, npt.NDArray[np.bool_]]:
    """The localities and, where higher ground is near, the highest cell within ``radius_km``.

    Returns lon, lat, the locality each candidate comes from, and whether it stands at
    the locality itself. High points shared by several localities appear once.
    """
    hlon, hlat, hz = grid.highest_near(lon, lat, radius_km)
    ground = grid.ground_m(lon, lat)
    higher = np.flatnonzero((hz > ground + 1e-6) & ((hlon != lon) | (hlat != lat)))
    seen: dict[tuple[float, float], int] = {}
    keep = []
    for i in higher.tolist():
        key = (round(float(hlon[i]), 7), round(float(hlat[i]), 7))
        if key not in seen:
            seen[key] = i
            keep.append(i)
    idx = np.array(keep, dtype=np.int64)
    n = lon.size
    return (
        np.concatenate([lon, hlon[idx]]),
        np.concatenate([lat, hlat[idx]]),
        np.concatenate([np.arange(n, dtype=np.int64), idx]),
        np.concatenate([np.ones(n, dtype=bool), np.zeros(idx.size, dtype=bool)]),
    )


def _projected(lon: FloatArray, lat: FloatArray) -> FloatArray:
    x, y = to_analysis_crs().transform(lon, lat)
    return np.column_stack([x, y])


def coverage_pairs(
    grid: ElevationGrid,
    site_lon: FloatArray,
    site_lat: FloatArray,
    loc_lon: FloatArray,
    loc_lat: FloatArray,
    model: CostModel,
) -> tuple[IntArray, IntArray, FloatArray]:
    """(site, locality, margin) of every clear path within the fixed-wireless range."""
    radio = model.last_mile.radio
    range_m = model.last_mile.fixed_wireless.max_range_km * 1000.0
    if site_lon.size == 0 or loc_lon.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    tree = cKDTree(_projected(loc_lon, loc_lat))
    found = tree.query_ball_point(_projected(site_lon, site_lat), r=range_m * 1.01)
    s = np.repeat(np.arange(site_lon.size), [len(f) for f in found]).astype(np.int64)
    loc = np.array([j for f in found for j in f], dtype=np.int64)
    distance = path_distance_m(site_lon[s], site_lat[s], loc_lon[loc], loc_lat[loc])
    within = distance <= range_m
    s, loc = s[within], loc[within]
    path = RadioPath(radio.frequency_ghz, radio.k_factor, radio.fresnel_clearance)
    margin = path_margin_m(
        grid,
        (site_lon[s], site_lat[s], np.full(s.size, radio.mast_height_m)),
        (loc_lon[loc], loc_lat[loc], np.full(s.size, radio.cpe_height_m)),
        path,
        distance_m=distance[within],
    )
    clear = margin >= 0
    return s[clear], loc[clear], margin[clear]


def microwave_backhaul(
    grid: ElevationGrid,
    cand_lon: FloatArray,
    cand_lat: FloatArray,
    fiber_lon: FloatArray,
    fiber_lat: FloatArray,
    model: CostModel,
) -> tuple[FloatArray, list[list[tuple[str, int]]]]:
    """Cheapest microwave backhaul of each candidate (USD, inf when none) and its hops.

    A hop-limited Bellman-Ford over the clear hops: after round ``h`` every candidate
    holds its cheapest way to a backbone node in at most ``h`` hops.
    """
    mw = model.last_mile.microwave
    n_c = cand_lon.size
    best = np.full(n_c, np.inf)
    chain: list[list[tuple[str, int]]] = [[] for _ in range(n_c)]
    if n_c == 0 or fiber_lon.size == 0:
        return best, chain
    path = RadioPath(
        mw.frequency_ghz, model.last_mile.radio.k_factor, model.last_mile.radio.fresnel_clearance
    )
    hop_usd = mw.usd_per_link + mw.usd_per_relay
    range_m = mw.max_hop_km * 1000.0
    cand_xy = _projected(cand_lon, cand_lat)

    def clear_hops(
        to_lon: FloatArray, to_lat: FloatArray, to_xy: FloatArray, same: bool
    ) -> tuple[IntArray, IntArray]:
        k = min(HOP_NEIGHBOURS + (1 if same else 0), to_lon.size)
        dist, idx = cKDTree(to_xy).query(cand_xy, k=k, distance_upper_bound=range_m)
        dist, idx = np.atleast_2d(dist.reshape(n_c, -1)), np.atleast_2d(idx.reshape(n_c, -1))
        src = np.repeat(np.arange(n_c), idx.shape[1])
        dst = idx.ravel()
        ok = np.isfinite(dist.ravel()) & (dst < to_lon.size)
        if same:
            ok &= dst != src
        src, dst = src[ok], dst[ok]
        if src.size == 0:
            return src.astype(np.int64), dst.astype(np.int64)
        length = path_distance_m(cand_lon[src], cand_lat[src], to_lon[dst], to_lat[dst])
        margin = path_margin_m(
            grid,
            (cand_lon[src], cand_lat[src], np.full(src.size, mw.mast_height_m)),
            (to_lon[dst], to_lat[dst], np.full(src.size, mw.mast_height_m)),
            path,
            distance_m=length,
        )
        good = (margin >= 0) & (length <= range_m)
        return src[good].astype(np.int64), dst[good].astype(np.int64)

    to_fiber = clear_hops(fiber_lon, fiber_lat, _projected(fiber_lon, fiber_lat), same=False)
    between = clear_hops(cand_lon, cand_lat, cand_xy, same=True)
    # one hop: straight to a backbone node
    nxt: list[tuple[str, int] | None] = [None] * n_c
    for c, f in zip(*to_fiber, strict=True):
        if hop_usd < best[c]:
            best[c] = hop_usd
            nxt[c] = ("f", int(f))
    chains = [[n] if n is not None else [] for n in nxt]
    for _ in range(mw.max_hops - 1):
        previous = best.copy()
        previous_chains = [list(c) for c in chains]
        for c, r in zip(*between, strict=True):
            via = hop_usd + previous[r]
            if via < best[c] - 1e-9:
                best[c] = via
                chains[c] = [("c", int(r)), *previous_chains[r]]
    return best, [list(c) for c in chains]


def plan_wireless(
    grid: ElevationGrid,
    model: CostModel,
    *,
    loc_lon: FloatArray,
    loc_lat: FloatArray,
    people: FloatArray,
    households: FloatArray,
    alternative_usd: FloatArray,
    candidates: Candidates,
    fiber_lon: FloatArray,
    fiber_lat: FloatArray,
    budget_usd: float | None,
    site_node_limit: int,
    memo: PlanningMemo | None = None,
) -> WirelessPlan:
    """Choose the sites; see the module documentation.

    ``memo``: where the radio survey (:func:`coverage_pairs`, :func:`microwave_backhaul`)
    of many localities is kept for the network the inputs come from.
    """
    lm = model.last_mile

    def survey() -> Survey:
        return (
            coverage_pairs(grid, candidates.lon, candidates.lat, loc_lon, loc_lat, model),
            microwave_backhaul(grid, candidates.lon, candidates.lat, fiber_lon, fiber_lat, model),
        )

    if memo is None or loc_lon.size < WORTH_KEEPING:
        coverage, microwave = survey()
    else:
        # the radio parameters are the cost model's, part of the network's key
        points = arrays_digest(
            candidates.lon, candidates.lat, loc_lon, loc_lat, fiber_lon, fiber_lat
        )
        coverage, microwave = memo.kept(
            SURVEYED, {"grid": grid.fingerprint(), "points": points}, survey
        )
    pair_site, pair_loc, margin = coverage
    mw_usd, mw_chain = microwave
    backhaul_usd = np.minimum(candidates.feeder_usd, mw_usd)
    feedable = np.isfinite(backhaul_usd)
    keep = feedable[pair_site]
    pair_site, pair_loc, margin = pair_site[keep], pair_loc[keep], margin[keep]
    site_usd = lm.fixed_wireless.usd_per_site + np.where(feedable, backhaul_usd, 0.0)
    problem = SiteProblem(
        site_usd=site_usd,
        pair_site=pair_site,
        pair_locality=pair_loc,
        people=people.astype(float),
        cpe_usd=households * lm.fixed_wireless.usd_per_subscriber,
        alternative_usd=alternative_usd,
        capacity=lm.fixed_wireless.persons_per_site,
        radio_usd=lm.radio.usd_per_extra_radio,
        budget_usd=budget_usd,
        max_radios=lm.radio.max_radios_per_site,
    )
    solution = select_sites(problem, node_limit=site_node_limit)
    sites: list[WirelessSite] = []
    position = {}
    ground = grid.ground_m(candidates.lon, candidates.lat)
    for k, c in enumerate(solution.open_sites.tolist()):
        members = np.flatnonzero(solution.site_of == c).tolist()
        fiber = candidates.feeder_usd[c] <= mw_usd[c]
        radios = int(solution.radios[k])
        backhaul = float(backhaul_usd[c])
        cost = (
            lm.fixed_wireless.usd_per_site + (radios - 1) * lm.radio.usd_per_extra_radio + backhaul
        )
        site = WirelessSite(
            site_id=f"W{k + 1:04d}",
            candidate=int(c),
            lon=float(candidates.lon[c]),
            lat=float(candidates.lat[c]),
            ground_m=float(ground[c]),
            mast_height_m=lm.radio.mast_height_m,
            backhaul="fiber" if fiber else "microwave",
            backhaul_usd=backhaul,
            radios=radios,
            localities=members,
            people_covered=int(people[members].sum()),
            cost_usd=cost,
        )
        position[int(c)] = k
        sites.append(site)
    relayed = [site for site in sites if site.backhaul == "microwave"]
    chains = [mw_chain[site.candidate] for site in relayed]
    hops = _hops(
        [site.candidate for site in relayed], chains, candidates, fiber_lon, fiber_lat, model
    )
    for site, site_hops in zip(relayed, hops, strict=True):
        site.hops = site_hops
    site_of = np.array(
        [position[int(c)] if c >= 0 else -1 for c in solution.site_of.tolist()], dtype=np.int64
    )
    margins = _path_margins(solution.site_of, pair_site, pair_loc, margin)
    return WirelessPlan(
        sites=sites,
        site_of=site_of,
        alternative=solution.alternative,
        solution=solution,
        candidates=int(candidates.lon.size),
        pairs=int(pair_site.size),
        grid_source=grid.source,
        margin_m=margins,
    )


def _path_margins(
    site_of: IntArray, pair_site: IntArray, pair_loc: IntArray, margin: FloatArray
) -> FloatArray:
    """Each locality's margin on the path to its site (nan: no site), looked up among the
    pairs' margins in one pass (tens of thousands of pairs, a few thousand localities)."""
    found = np.full(site_of.size, math.nan)
    served = np.flatnonzero(site_of >= 0)
    if served.size == 0 or pair_site.size == 0:
        return found
    keys = pair_site.astype(np.int64) * site_of.size + pair_loc
    order = np.argsort(keys, kind="stable")
    wanted = site_of[served].astype(np.int64) * site_of.size + served
    at = np.minimum(np.searchsorted(keys[order], wanted), keys.size - 1)
    hit = keys[order[at]] == wanted
    found[served[hit]] = margin[order[at[hit]]]
    return found


def _hops(
    starts: list[int],
    chains: list[list[tuple[str, int]]],
    candidates: Candidates,
    fiber_lon: FloatArray,
    fiber_lat: FloatArray,
    model: CostModel,
) -> list[list[dict[str, Any]]]:
    """The microwave hops of each site, from candidate ``starts[i]`` along ``chains[i]``,
    with length and cost (every hop measured in one geodesic call)."""
    mw = model.last_mile.microwave
    ends: list[list[tuple[tuple[float, float], tuple[float, float], bool]]] = []
    for start, chain in zip(starts, chains, strict=True):
        here = (float(candidates.lon[start]), float(candidates.lat[start]))
        site_ends = []
        for kind, index in chain:
            if kind == "c":
                there = (float(candidates.lon[index]), float(candidates.lat[index]))
            else:
                there = (float(fiber_lon[index]), float(fiber_lat[index]))
            site_ends.append((here, there, kind == "f"))
            here = there
        ends.append(site_ends)
    flat = [hop for site_ends in ends for hop in site_ends]
    if not flat:
        return [[] for _ in ends]
    lengths = iter(
        path_distance_m(
            np.array([a[0] for a, _, _ in flat]),
            np.array([a[1] for a, _, _ in flat]),
            np.array([b[0] for _, b, _ in flat]),
            np.array([b[1] for _, b, _ in flat]),
        )
        / 1000.0
    )
    found: list[list[dict[str, Any]]] = []
    for site_ends in ends:
        found.append(
            [
                {
                    "from": a,
                    "to": b,
                    "km": float(next(lengths)),
                    "cost_usd": mw.usd_per_link + mw.usd_per_relay,
                    "to_backbone": to_backbone,
                }
                for a, b, to_backbone in site_ends
            ]
        )
    return found
