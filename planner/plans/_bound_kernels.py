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


@njit(cache=True)
def reduced_costs(  # type: ignore[no-untyped-def]
    lam,
    serve_pair,
    pair_site,
    pair_locality,
    weight,
    by_site,
    site_start,
    site_usd,
    capacity,
    capacitated,
    reduced,
    share,
    value,
    cover,
    order,
    keys,
):
    """One Lagrangian subproblem at multipliers ``lam``, solved in place.

    ``reduced[p] = min(serve_pair[p] - lam[locality of p], 0)``, scaled by ``share[p]``,
    the part of pair ``p`` its site takes in its fractional knapsack when ``capacitated``
    (most negative per unit of weight first while ``capacity`` lasts; else 1 where the
    reduced cost is negative). ``value[s] = site_usd[s] +`` the sum of ``reduced`` over
    the pairs of ``s``; ``cover[l]`` is the share of locality ``l`` taken by the sites of
    negative value. ``share`` is only meaningful where ``reduced`` is negative.

    ``by_site`` lists the pairs grouped by site (ascending site, pair order within a
    site) and ``site_start`` where each site's group begins (and the end). ``order`` holds
    the same groups as the last call sorted them and ``keys`` their sort keys: multipliers
    move little from one subgradient step to the next, so each group is re-sorted from
    its last order by insertion in about one pass. The order is total (reduced cost per
    unit of weight, then pair), so it is the one a stable sort of the pairs gives.
    """
    n_pairs = pair_site.shape[0]
    value[:] = 0.0
    if capacitated:
        total = 0.0
        before = 0.0
        for k in range(site_start.shape[0] - 1):
            first, end = site_start[k], site_start[k + 1]
            for i in range(first, end):
                p = order[i]
                r = serve_pair[p] - lam[pair_locality[p]]
                if r < 0.0:
                    reduced[p] = r
                    key = r / max(weight[p], _LIGHTEST)
                else:
                    reduced[p] = 0.0
                    key = np.inf  # not taken: after every pair of negative reduced cost
                j = i
                while j > first and (
                    keys[j - 1] > key or (keys[j - 1] == key and order[j - 1] > p)
                ):
                    keys[j] = keys[j - 1]
                    order[j] = order[j - 1]
                    j -= 1
                keys[j] = key
                order[j] = p
            taken = False
            for i in range(first, end):
                if keys[i] == np.inf:
                    break
                p = order[i]
                w = max(weight[p], _LIGHTEST)
                total += w  # one running sum over every site's sorted pairs
                if not taken:
                    before = max(before, total - w)  # taken by the sites before this one
                    taken = True
                part = (capacity - (total - w - before)) / w
                share[p] = min(max(part, 0.0), 1.0)
                reduced[p] = reduced[p] * share[p]
            if taken:
                acc = 0.0  # in pair order, as np.bincount adds
                for i in range(first, end):
                    acc += reduced[by_site[i]]
                value[k] = acc
    else:
        for p in range(n_pairs):
            r = serve_pair[p] - lam[pair_locality[p]]
            if r < 0.0:
                reduced[p] = r
                share[p] = 1.0
                value[pair_site[p]] += r
            else:
                reduced[p] = 0.0
    for s in range(value.shape[0]):
        value[s] = site_usd[s] + value[s]
    cover[:] = 0.0
    for p in range(n_pairs):
        if reduced[p] < 0.0 and value[pair_site[p]] < 0.0:
            cover[pair_locality[p]] += share[p]


@njit(cache=True)
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
