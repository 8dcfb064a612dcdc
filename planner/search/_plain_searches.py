"""The point-to-point searches' code: plain Python in numba's subset.

:mod:`planner.search.kernels` compiles these functions; :mod:`planner.search.shortest_paths`
runs them compiled, or interpreted for a process's first search (see its module doc). They
take a CSR snapshot's arrays (:class:`planner.search.csr_graph.CSRGraph`) and keep their
queues in the array heap of :mod:`planner.search._heap`.
"""

from __future__ import annotations

import numpy as np

from planner.search._heap import pop, push
from planner.search.csr_graph import BoolArray, FloatArray, IntArray


def chord(xyz: FloatArray, extra: FloatArray, a: int, b: int) -> float:
    """Straight distance between rows ``a`` and ``b`` on the unit sphere: the rows of
    ``xyz``, then those of ``extra`` (a planning copy's added nodes)."""
    n0 = xyz.shape[0]
    if a < n0:
        ax, ay, az = xyz[a, 0], xyz[a, 1], xyz[a, 2]
    else:
        ax, ay, az = extra[a - n0, 0], extra[a - n0, 1], extra[a - n0, 2]
    if b < n0:
        bx, by, bz = xyz[b, 0], xyz[b, 1], xyz[b, 2]
    else:
        bx, by, bz = extra[b - n0, 0], extra[b - n0, 1], extra[b - n0, 2]
    dx = ax - bx
    dy = ay - by
    dz = az - bz
    return float(np.sqrt(dx * dx + dy * dy + dz * dz))


def bidirectional(
    indptr: IntArray,
    indices: IntArray,
    data: FloatArray,
    over: IntArray,
    over_ptr: IntArray,
    over_indices: IntArray,
    over_data: FloatArray,
    s: int,
    t: int,
    xyz: FloatArray,
    extra_xyz: FloatArray,
    alpha: float,
    node_blocked: BoolArray,
    entry_blocked: BoolArray,
) -> tuple[float, IntArray]:
    """Bidirectional Dijkstra with average potentials; returns (cost, node path).

    The graph is a CSR snapshot (``indptr``, ``indices``, ``data``) whose rows may be
    replaced: where ``over[row] >= 0`` the row's entries are
    ``over_ptr[over[row]]:over_ptr[over[row] + 1]`` of ``over_indices`` / ``over_data``
    instead (a planning copy's changed rows and added nodes, numbered after the
    snapshot's rows; ``over`` is empty when nothing is replaced). Entries are numbered
    the snapshot's first, then the replacing ones (``entry_blocked``); positions are
    ``xyz``'s rows, then ``extra_xyz``'s.
    """
    n = indptr.size - 1 if over.size == 0 else over.size
    if s == t:
        return 0.0, np.array([s], dtype=np.int64)
    shift_over = indices.size
    cap = indices.size + over_indices.size + 2
    gf = np.full(n, np.inf)
    gr = np.full(n, np.inf)
    pf = np.full(n, -1, dtype=np.int64)
    pr = np.full(n, -1, dtype=np.int64)
    done_f = np.zeros(n, dtype=np.bool_)
    done_r = np.zeros(n, dtype=np.bool_)
    pot = np.full(n, np.nan)
    kf = np.empty(cap)
    vf = np.empty(cap, dtype=np.int64)
    kr = np.empty(cap)
    vr = np.empty(cap, dtype=np.int64)
    gf[s] = 0.0
    gr[t] = 0.0
    half = 0.5 * alpha
    pot_s = half * (chord(xyz, extra_xyz, s, t) - 0.0)
    pot_t = half * (0.0 - chord(xyz, extra_xyz, t, s))
    pot[s] = pot_s
    pot[t] = pot_t
    nf = push(kf, vf, 0, pot_s, s)
    nr = push(kr, vr, 0, -pot_t, t)
    mu = np.inf
    meet = -1
    while nf > 0 and nr > 0:
        if kf[0] + kr[0] >= mu:
            break
        forward = kf[0] <= kr[0]
        if forward:
            _, u, nf = pop(kf, vf, nf)
            if done_f[u]:
                continue
            done_f[u] = True
            g_here, g_mine, g_other, p_mine, done_mine = gf[u], gf, gr, pf, done_f
        else:
            _, u, nr = pop(kr, vr, nr)
            if done_r[u]:
                continue
            done_r[u] = True
            g_here, g_mine, g_other, p_mine, done_mine = gr[u], gr, gf, pr, done_r
        o = -1 if over.size == 0 else over[u]
        if o < 0:
            start, stop, shift = indptr[u], indptr[u + 1], 0
        else:
            start, stop, shift = over_ptr[o], over_ptr[o + 1], shift_over
        for k in range(start, stop):
            if entry_blocked[k + shift]:
                continue
            if o < 0:
                v = indices[k]
                w = data[k]
            else:
                v = over_indices[k]
                w = over_data[k]
            if node_blocked[v] or done_mine[v]:
                continue
            g = g_here + w
            if g < g_mine[v]:
                g_mine[v] = g
                p_mine[v] = u
                if np.isnan(pot[v]):
                    pot[v] = half * (chord(xyz, extra_xyz, v, t) - chord(xyz, extra_xyz, v, s))
                if forward:
                    nf = push(kf, vf, nf, g + pot[v], v)
                else:
                    nr = push(kr, vr, nr, g - pot[v], v)
                total = g + g_other[v]
                if total < mu:
                    mu = total
                    meet = v
    if meet < 0:
        return np.inf, np.empty(0, dtype=np.int64)
    head = []
    v = meet
    while v != -1:
        head.append(v)
        v = pf[v]
    path = np.empty(len(head), dtype=np.int64)
    for i in range(len(head)):
        path[i] = head[len(head) - 1 - i]
    tail = []
    v = pr[meet]
    while v != -1:
        tail.append(v)
        v = pr[v]
    out = np.empty(path.size + len(tail), dtype=np.int64)
    out[: path.size] = path
    for i in range(len(tail)):
        out[path.size + i] = tail[i]
    return mu, out


def astar(
    indptr: IntArray,
    indices: IntArray,
    data: FloatArray,
    s: int,
    t: int,
    h: FloatArray,
    node_blocked: BoolArray,
    entry_blocked: BoolArray,
) -> tuple[FloatArray, IntArray, IntArray]:
    """A* (Dijkstra when ``h`` is zero) over CSR rows from ``s``; stops at ``t`` unless ``t < 0``.

    ``indptr``, ``indices`` and ``data`` are a CSR graph's arrays (:class:`CSRGraph`), ``h``
    an admissible estimate of the distance to ``t`` per row (zeros for Dijkstra), and the
    searches skip rows in ``node_blocked`` and entries in ``entry_blocked``. Returns
    distances, predecessor node and predecessor entry of every reached node. Parallel
    entries (the same pair twice) are allowed.
    """
    n = indptr.size - 1
    cap = indices.size + 2
    g = np.full(n, np.inf)
    pred = np.full(n, -1, dtype=np.int64)
    pred_entry = np.full(n, -1, dtype=np.int64)
    done = np.zeros(n, dtype=np.bool_)
    keys = np.empty(cap)
    vals = np.empty(cap, dtype=np.int64)
    g[s] = 0.0
    size = push(keys, vals, 0, h[s], s)
    while size > 0:
        _, u, size = pop(keys, vals, size)
        if done[u]:
            continue
        done[u] = True
        if u == t:
            break
        for k in range(indptr[u], indptr[u + 1]):
            if entry_blocked[k]:
                continue
            v = indices[k]
            if node_blocked[v] or done[v]:
                continue
            cand = g[u] + data[k]
            if cand < g[v]:
                g[v] = cand
                pred[v] = u
                pred_entry[v] = k
                size = push(keys, vals, size, cand + h[v], v)
    return g, pred, pred_entry
