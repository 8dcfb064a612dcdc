"""Compiled kernels behind the Lagrangian bound of :mod:`planner.plans.site_selection`.

Each subgradient step of :func:`planner.plans.site_selection.lagrangian_bound` walks every
reachable pair (tens of thousands in one large group of localities) and, where sites have a
ceiling, sorts each site's pairs for its fractional knapsack. In numpy that is a dozen passes
and a global sort per step; here it is one pass over the pairs grouped by site, each site's
few pairs sorted in place.

The kernels do the same floating-point operations in the same order as the numpy
expressions they replace (a running sum in pair order for ``np.bincount``, one running sum
over the sorted pairs for ``np.cumsum``, a stable sort by site then by reduced cost per
person for ``np.lexsort``), so the bound is the same to the last bit. The sums over all
localities or sites (numpy's pairwise summation) stay in numpy.

They release the GIL, so the two bounds of :func:`planner.plans.site_selection.relaxation_bound`
run side by side on two cores.

numba compiles them once per checkout into its on-disk cache (``cache=True``, beside this
file); a process loads them from there on first use. Only
:mod:`planner.plans.site_selection` imports this module, and only when it needs a bound,
so a plan without a large group of localities never imports numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_LIGHTEST = 1e-12
"""Weights are taken as at least this, so the reduced cost per person stays finite."""


@njit(cache=True, nogil=True)
def reduced_costs(  # type: ignore[no-untyped-def]
    lam,
    serve_usd,
    people,
    pair_site,
    pair_locality,
    site_start,
    by_site,
    locality_start,
    by_locality,
    site_usd,
    capacity,
    capacitated,
    reduced,
    share,
    value,
    cover,
    scratch,
):
    """One Lagrangian subproblem at multipliers ``lam``, solved in place.

    ``reduced[p] = min(serve_usd[l] - lam[l], 0)`` for pair ``p`` of locality ``l``,
    scaled by ``share[p]``, the part of the pair its site takes in its fractional
    knapsack when ``capacitated`` (most negative per person first while ``capacity``
    lasts; else 1 where the reduced cost is negative). ``value[s] = site_usd[s] +`` the
    sum of ``reduced`` over the pairs of ``s``; ``cover[l]`` is the share of locality
    ``l`` taken by the sites of negative value. ``share`` is only meaningful where
    ``reduced`` is negative.

    ``by_site[site_start[s]:site_start[s + 1]]`` are the pairs of site ``s`` in pair
    order, ``by_locality[locality_start[l]:locality_start[l + 1]]`` those of locality
    ``l``; ``scratch`` is a :class:`Scratch`'s arrays.

    A pair's reduced cost per person is its locality's, so one order of the localities
    ranks every site's pairs: the localities of negative reduced cost are sorted once
    and their pairs dealt to their sites in that order (a stable bucket sort), then each
    site's pairs of equal key are put in pair order, the order a stable sort of the pairs
    by site and key gives.
    """
    rate, ranked, bucket, fill = scratch
    n_pairs = pair_site.shape[0]
    n_loc = lam.shape[0]
    value[:] = 0.0
    for p in range(n_pairs):
        r = serve_usd[pair_locality[p]] - lam[pair_locality[p]]
        if r < 0.0:
            reduced[p] = r
            share[p] = 1.0
            if not capacitated:
                value[pair_site[p]] += r
        else:
            reduced[p] = 0.0
    if capacitated:
        m = 0
        for j in range(n_loc):
            r = serve_usd[j] - lam[j]
            if r < 0.0:
                rate[j] = r / max(people[j], _LIGHTEST)
                ranked[m] = j
                m += 1
        ranked_rates = np.empty(m)
        for t in range(m):
            ranked_rates[t] = rate[ranked[t]]
        by_rate = np.argsort(ranked_rates)
        for k in range(fill.shape[0]):
            fill[k] = site_start[k]
        for t in range(m):
            j = ranked[by_rate[t]]
            for i in range(locality_start[j], locality_start[j + 1]):
                p = by_locality[i]
                bucket[fill[pair_site[p]]] = p
                fill[pair_site[p]] += 1
        total = 0.0
        before = 0.0
        for k in range(fill.shape[0]):
            first, end = site_start[k], fill[k]
            if end == first:
                continue
            for i in range(first + 1, end):  # equal rates in pair order
                p = bucket[i]
                key = rate[pair_locality[p]]
                j = i
                while j > first:
                    q = bucket[j - 1]
                    other = rate[pair_locality[q]]
                    if other < key or (other == key and q < p):
                        break
                    bucket[j] = q
                    j -= 1
                bucket[j] = p
            for i in range(first, end):
                p = bucket[i]
                w = max(people[pair_locality[p]], _LIGHTEST)
                total += w  # one running sum over every site's sorted pairs
                if i == first:
                    before = max(before, total - w)  # taken by the sites before this one
                part = (capacity - (total - w - before)) / w
                share[p] = min(max(part, 0.0), 1.0)
                reduced[p] = reduced[p] * share[p]
            acc = 0.0  # in pair order, as np.bincount adds
            for i in range(site_start[k], site_start[k + 1]):
                acc += reduced[by_site[i]]
            value[k] = acc
    for s in range(value.shape[0]):
        value[s] = site_usd[s] + value[s]
    cover[:] = 0.0
    for p in range(n_pairs):
        if reduced[p] < 0.0 and value[pair_site[p]] < 0.0:
            cover[pair_locality[p]] += share[p]


@njit(cache=True, nogil=True)
def dual_ascent(site_usd, serve_usd, alternative_usd, locality_start, locality_site, passes):  # type: ignore[no-untyped-def]
    """Erlenkotter's dual ascent (see :func:`planner.plans.site_selection.dual_ascent`);
    ``locality_site[locality_start[l]:locality_start[l + 1]]`` are the sites reaching
    locality ``l``, each once."""
    n_loc = alternative_usd.shape[0]
    v = np.minimum(serve_usd, alternative_usd)
    slack = site_usd.copy()
    for round_ in range(passes):
        share = 1.0 / (passes - round_)  # the last pass raises to the full slack
        last = round_ == passes - 1
        for j in range(n_loc):
            room = alternative_usd[j] - v[j]
            if room <= 0:
                continue
            first, end = locality_start[j], locality_start[j + 1]
            limit = np.inf
            for i in range(first, end):
                limit = min(limit, slack[locality_site[i]])
            step = min(room, limit) if last else min(room * share, limit)
            if step <= 0:
                continue
            v[j] += step
            for i in range(first, end):
                slack[locality_site[i]] -= step
    return v
