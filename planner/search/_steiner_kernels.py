"""Compiled kernels behind :mod:`planner.search.steiner`.

Everything here works on a symmetric CSR graph given as three arrays (``indptr``,
``indices``, ``weights``; int64, int64, float64) and on trees given as edge lists
(``tu``, ``tv``, ``tw``). The functions are compiled with numba and cached on disk, so
only the first call on a machine pays for compilation.

Workspace arrays of graph size (``loc``, ``dist``, ...) are allocated once per solve and
handed in; every kernel leaves them as it found them (``loc`` all -1, ``dist`` all inf,
``lab``/``pred`` all -1, ``done`` all False), so a move on a million-node graph costs
time proportional to the part of the graph it touches, not to the graph.

The local search follows Uchoa & Werneck (2010), "Fast local search for Steiner trees
in graphs": Steiner-vertex insertion, key-path exchange and key-vertex elimination, each
followed by an MST of the changed edge set and pruning of non-terminal leaves.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from planner.search.kernels import pop, push_growing

_EPS = 1e-9


@njit(cache=True, nogil=True)
def _grow_i(a, need):  # type: ignore[no-untyped-def]
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0] + 16), np.int64)
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True)
def _grow_f(a, need):  # type: ignore[no-untyped-def]
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0] + 16))
    b[: a.shape[0]] = a
    return b


@njit(cache=True, nogil=True)
def _find(uf, x):  # type: ignore[no-untyped-def]
    r = x
    while uf[r] != r:
        r = uf[r]
    while uf[x] != r:
        nxt = uf[x]
        uf[x] = r
        x = nxt
    return r


# --------------------------------------------------------------------------- basics


@njit(cache=True, nogil=True)
def reach(indptr, indices, start):  # type: ignore[no-untyped-def]
    """Boolean mask of the nodes reachable from ``start``."""
    n = indptr.shape[0] - 1
    seen = np.zeros(n, np.bool_)
    stack = np.empty(n, np.int64)
    top = 0
    stack[top] = start
    top += 1
    seen[start] = True
    while top > 0:
        top -= 1
        u = stack[top]
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            if not seen[v]:
                seen[v] = True
                stack[top] = v
                top += 1
    return seen


@njit(cache=True, nogil=True)
def _relabel(tu, tv, loc, capacity):  # type: ignore[no-untyped-def]
    """Number the endpoints of an edge list 0, 1, ... in order of first appearance.

    Returns ``nodes`` (``capacity`` long, the first ``k`` used: local id -> node), the
    local endpoints ``cu``, ``cv`` and ``k``. Leaves ``loc[node]`` = local id; the caller
    restores ``loc``.
    """
    m = tu.shape[0]
    nodes = np.empty(capacity, np.int64)
    k = 0
    cu = np.empty(m, np.int64)
    cv = np.empty(m, np.int64)
    for i in range(m):
        a = tu[i]
        if loc[a] < 0:
            loc[a] = k
            nodes[k] = a
            k += 1
        b = tv[i]
        if loc[b] < 0:
            loc[b] = k
            nodes[k] = b
            k += 1
        cu[i] = loc[a]
        cv[i] = loc[b]
    return nodes, cu, cv, k


@njit(cache=True, nogil=True)
def _local_adjacency(cu, cv, keep, k):  # type: ignore[no-untyped-def]
    """Edge ids by local node (CSR ``ptr``, ``adj``) over the edges with ``keep[i]``."""
    m = cu.shape[0]
    ptr = np.zeros(k + 1, np.int64)
    kept = 0
    for i in range(m):
        if keep[i]:
            ptr[cu[i] + 1] += 1
            ptr[cv[i] + 1] += 1
            kept += 1
    for i in range(k):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    adj = np.empty(2 * kept, np.int64)
    for i in range(m):
        if keep[i]:
            adj[fill[cu[i]]] = i
            fill[cu[i]] += 1
            adj[fill[cv[i]]] = i
            fill[cv[i]] += 1
    return ptr, adj


@njit(cache=True, nogil=True)
def kruskal_prune(tu, tv, tw, is_term, loc):  # type: ignore[no-untyped-def]
    """Minimum spanning forest of an edge list, then prune non-terminal leaves.

    ``loc`` is an all -1 workspace of graph size and is restored before returning.
    """
    m = tu.shape[0]
    nodes, cu, cv, k = _relabel(tu, tv, loc, 2 * m)
    for i in range(k):
        loc[nodes[i]] = -1
    order = np.argsort(tw, kind="mergesort")
    uf = np.arange(k)
    keep = np.zeros(m, np.bool_)
    deg = np.zeros(k, np.int64)
    nk = 0
    for t in range(m):
        i = order[t]
        ra = _find(uf, cu[i])
        rb = _find(uf, cv[i])
        if ra != rb:
            uf[ra] = rb
            keep[i] = True
            deg[cu[i]] += 1
            deg[cv[i]] += 1
            nk += 1
    # local adjacency of the kept edges, for pruning
    ptr, adj_e = _local_adjacency(cu, cv, keep, k)
    queue = np.empty(k, np.int64)
    qh = 0
    qt = 0
    for x in range(k):
        if deg[x] == 1 and not is_term[nodes[x]]:
            queue[qt] = x
            qt += 1
    while qh < qt:
        x = queue[qh]
        qh += 1
        if deg[x] != 1:
            continue
        for p in range(ptr[x], ptr[x + 1]):
            e = adj_e[p]
            if keep[e]:
                keep[e] = False
                nk -= 1
                deg[x] -= 1
                y = cv[e] if cu[e] == x else cu[e]
                deg[y] -= 1
                if deg[y] == 1 and not is_term[nodes[y]]:
                    queue[qt] = y
                    qt += 1
                break
    ou = np.empty(nk, np.int64)
    ov = np.empty(nk, np.int64)
    ow = np.empty(nk)
    j = 0
    for i in range(m):
        if keep[i]:
            ou[j] = tu[i]
            ov[j] = tv[i]
            ow[j] = tw[i]
            j += 1
    return ou, ov, ow


# --------------------------------------------------------------------------- constructions


@njit(cache=True, nogil=True)
def mehlhorn(indptr, indices, w, terms, is_term, loc):  # type: ignore[no-untyped-def]
    """Mehlhorn's 2-approximation: MST of the Voronoi-boundary distance network.

    Returns the tree (pruned MST of the union of the chosen shortest paths) as an edge
    list, and whether it joins all terminals (False if they are not all connected).
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -1, np.int64)
    predw = np.zeros(n)
    lab = np.full(n, -1, np.int64)
    done = np.zeros(n, np.bool_)
    hk = np.empty(n + 16)
    hv = np.empty(n + 16, np.int64)
    size = 0
    for i in range(terms.shape[0]):
        s = terms[i]
        if dist[s] > 0.0:
            dist[s] = 0.0
            lab[s] = i
            hk, hv, size = push_growing(hk, hv, size, 0.0, s)
    # boundary arcs, checked when the later endpoint is settled
    bu = np.empty(1024, np.int64)
    bv = np.empty(1024, np.int64)
    bw = np.empty(1024)
    bc = np.empty(1024)
    nb = 0
    while size > 0:
        d, u, size = pop(hk, hv, size)
        if done[u]:
            continue
        done[u] = True
        lu = lab[u]
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            wj = w[j]
            if done[v]:
                if lab[v] != lu:
                    if nb == bu.shape[0]:
                        bu = _grow_i(bu, nb + 1)
                        bv = _grow_i(bv, nb + 1)
                        bw = _grow_f(bw, nb + 1)
                        bc = _grow_f(bc, nb + 1)
                    bu[nb] = u
                    bv[nb] = v
                    bw[nb] = wj
                    bc[nb] = d + wj + dist[v]
                    nb += 1
                continue
            nd = d + wj
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                predw[v] = wj
                lab[v] = lu
                hk, hv, size = push_growing(hk, hv, size, nd, v)
    order = np.argsort(bc[:nb], kind="mergesort")
    nt = terms.shape[0]
    uf = np.arange(nt)
    joined = 1
    used = np.zeros(n, np.bool_)  # pred edge of x already taken
    eu = np.empty(1024, np.int64)
    ev = np.empty(1024, np.int64)
    ew = np.empty(1024)
    ne = 0
    for t in range(nb):
        i = order[t]
        ra = _find(uf, lab[bu[i]])
        rb = _find(uf, lab[bv[i]])
        if ra == rb:
            continue
        uf[ra] = rb
        joined += 1
        need = ne + 1
        eu = _grow_i(eu, need)
        ev = _grow_i(ev, need)
        ew = _grow_f(ew, need)
        eu[ne] = bu[i]
        ev[ne] = bv[i]
        ew[ne] = bw[i]
        ne += 1
        for x0 in (bu[i], bv[i]):
            x = x0
            while pred[x] >= 0 and not used[x]:
                used[x] = True
                need = ne + 1
                eu = _grow_i(eu, need)
                ev = _grow_i(ev, need)
                ew = _grow_f(ew, need)
                eu[ne] = x
                ev[ne] = pred[x]
                ew[ne] = predw[x]
                ne += 1
                x = pred[x]
    tu, tv, tw = kruskal_prune(eu[:ne], ev[:ne], ew[:ne], is_term, loc)
    return tu, tv, tw, joined == nt


@njit(cache=True, nogil=True)
def sph(indptr, indices, w, wsearch, terms, is_term, root, loc):  # type: ignore[no-untyped-def]
    """Shortest-path heuristic (Takahashi & Matsuyama) grown from ``root``.

    Paths are chosen with the weights ``wsearch`` (e.g. randomly perturbed) and costed
    with ``w``. One Dijkstra whose sources grow with the tree, so the whole construction
    costs about a few shortest-path trees.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -1, np.int64)
    predw = np.zeros(n)
    in_tree = np.zeros(n, np.bool_)
    hk = np.empty(n + 16)
    hv = np.empty(n + 16, np.int64)
    size = 0
    remaining = 0
    for i in range(terms.shape[0]):
        if not in_tree[terms[i]]:
            in_tree[terms[i]] = True  # mark unique, cleared below
            remaining += 1
    for i in range(terms.shape[0]):
        in_tree[terms[i]] = False
    remaining -= 1
    in_tree[root] = True
    dist[root] = 0.0
    hk, hv, size = push_growing(hk, hv, size, 0.0, root)
    eu = np.empty(1024, np.int64)
    ev = np.empty(1024, np.int64)
    ew = np.empty(1024)
    ne = 0
    while size > 0 and remaining > 0:
        d, u, size = pop(hk, hv, size)
        if d > dist[u]:
            continue
        if is_term[u] and not in_tree[u]:
            x = u
            while not in_tree[x]:
                in_tree[x] = True
                need = ne + 1
                eu = _grow_i(eu, need)
                ev = _grow_i(ev, need)
                ew = _grow_f(ew, need)
                eu[ne] = x
                ev[ne] = pred[x]
                ew[ne] = predw[x]
                ne += 1
                dist[x] = 0.0
                hk, hv, size = push_growing(hk, hv, size, 0.0, x)
                x = pred[x]
            remaining -= 1
            continue
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            nd = d + wsearch[j]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                predw[v] = w[j]
                hk, hv, size = push_growing(hk, hv, size, nd, v)
    return kruskal_prune(eu[:ne], ev[:ne], ew[:ne], is_term, loc)


# --------------------------------------------------------------------------- rooted tree


@njit(cache=True, nogil=True)
def root_tree(tu, tv, tw, is_term, loc):  # type: ignore[no-untyped-def]
    """Root the tree at a terminal and number its nodes in preorder.

    Returns ``nodes, parent, pw, size, depth, deg`` indexed by preorder number; the
    subtree of ``x`` is ``x .. x + size[x] - 1``. Sets ``loc[node] = preorder number``
    for every tree node (the caller resets it with ``loc[nodes] = -1``).
    """
    m = tu.shape[0]
    k = m + 1
    tmp, cu, cv, _ = _relabel(tu, tv, loc, k)
    ptr, adj = _local_adjacency(cu, cv, np.ones(m, np.bool_), k)
    r = 0
    for i in range(k):
        if is_term[tmp[i]]:
            r = i
            break
    pre = np.full(k, -1, np.int64)  # tmp id -> preorder number
    nodes = np.empty(k, np.int64)
    parent = np.full(k, -1, np.int64)
    pw = np.zeros(k)
    depth = np.zeros(k, np.int64)
    deg = np.zeros(k, np.int64)
    tparent = np.full(k, -1, np.int64)
    stack = np.empty(k, np.int64)
    top = 0
    stack[0] = r
    top = 1
    num = 0
    tpw = np.zeros(k)
    while top > 0:
        top -= 1
        x = stack[top]
        pre[x] = num
        nodes[num] = tmp[x]
        deg[num] = ptr[x + 1] - ptr[x]
        if tparent[x] >= 0:
            parent[num] = pre[tparent[x]]
            pw[num] = tpw[x]
            depth[num] = depth[parent[num]] + 1
        num += 1
        for p in range(ptr[x], ptr[x + 1]):
            e = adj[p]
            y = cv[e] if cu[e] == x else cu[e]
            if y != tparent[x] and pre[y] < 0:
                tparent[y] = x
                tpw[y] = tw[e]
                stack[top] = y
                top += 1
    size = np.ones(k, np.int64)
    for x in range(k - 1, 0, -1):
        size[parent[x]] += size[x]
    for x in range(k):
        loc[nodes[x]] = x
    return nodes, parent, pw, size, depth, deg


@njit(cache=True, nogil=True)
def _is_key(x, nodes, deg, is_term):  # type: ignore[no-untyped-def]
    return is_term[nodes[x]] or deg[x] >= 3


@njit(cache=True, nogil=True)
def _edges_without(nodes, parent, pw, drop, au, av, aw, na):  # type: ignore[no-untyped-def]
    """Tree edges whose child end is not flagged in ``drop``, plus ``na`` added edges."""
    k = nodes.shape[0]
    cnt = 0
    for x in range(1, k):
        if not drop[x]:
            cnt += 1
    ou = np.empty(cnt + na, np.int64)
    ov = np.empty(cnt + na, np.int64)
    ow = np.empty(cnt + na)
    j = 0
    for x in range(1, k):
        if not drop[x]:
            ou[j] = nodes[x]
            ov[j] = nodes[parent[x]]
            ow[j] = pw[x]
            j += 1
    for i in range(na):
        ou[j] = au[i]
        ov[j] = av[i]
        ow[j] = aw[i]
        j += 1
    return ou, ov, ow


# --------------------------------------------------------------------------- reconnection


@njit(cache=True, nogil=True)
def _reconnect(  # type: ignore[no-untyped-def]
    indptr, indices, w, nodes, comp, ncomp, big, limit, loc, dist, lab, pred, done, max_settle
):
    """Cheapest way (Voronoi/MST bound) to join the ``ncomp`` tree components again.

    ``comp[x]`` is the component of tree node ``x`` (preorder number, ``loc`` maps graph
    nodes to it) or -1 for tree nodes that were freed. All components but ``big`` grow at
    once by one multi-source Dijkstra; ``big`` (the largest, usually) is only a target,
    so the work is proportional to the smaller parts and the region explored. The parts
    are joined along an MST of the boundary edges found; exact for two components. The
    search stops as soon as no join cheaper than ``limit`` remains possible, or after
    ``max_settle`` settled nodes.

    Returns ``(ok, cost, au, av, aw)`` with the edges to add.
    """
    k = nodes.shape[0]
    hk = np.empty(64)
    hv = np.empty(64, np.int64)
    size = 0
    touched = np.empty(64, np.int64)
    nt = 0
    for x in range(k):
        c = comp[x]
        if c >= 0 and c != big:
            g = nodes[x]
            dist[g] = 0.0
            lab[g] = c
            hk, hv, size = push_growing(hk, hv, size, 0.0, g)
            touched = _grow_i(touched, nt + 1)
            touched[nt] = g
            nt += 1
    cu = np.empty(64, np.int64)
    cv = np.empty(64, np.int64)
    ca = np.empty(64, np.int64)
    cb = np.empty(64, np.int64)
    cw = np.empty(64)
    cc = np.empty(64)
    nc = 0
    best = np.inf
    settled = 0
    while size > 0:
        d, u, size = pop(hk, hv, size)
        if done[u]:
            continue
        bound = limit
        if ncomp == 2 and best < bound:
            bound = best
        if d >= bound or settled >= max_settle:
            break
        done[u] = True
        settled += 1
        lu = lab[u]
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            wj = w[j]
            lv = -1
            c = np.inf
            if loc[v] >= 0 and comp[loc[v]] == big:
                lv = big
                c = d + wj
            elif done[v]:
                if lab[v] != lu:
                    lv = lab[v]
                    c = d + wj + dist[v]
            else:
                nd = d + wj
                if nd < dist[v]:
                    if dist[v] == np.inf:
                        touched = _grow_i(touched, nt + 1)
                        touched[nt] = v
                        nt += 1
                    dist[v] = nd
                    pred[v] = u
                    lab[v] = lu
                    hk, hv, size = push_growing(hk, hv, size, nd, v)
                continue
            if lv >= 0 and c < limit:
                if nc == cu.shape[0]:
                    cu = _grow_i(cu, nc + 1)
                    cv = _grow_i(cv, nc + 1)
                    ca = _grow_i(ca, nc + 1)
                    cb = _grow_i(cb, nc + 1)
                    cw = _grow_f(cw, nc + 1)
                    cc = _grow_f(cc, nc + 1)
                cu[nc] = u
                cv[nc] = v
                ca[nc] = lu
                cb[nc] = lv
                cw[nc] = wj
                cc[nc] = c
                nc += 1
                if c < best:
                    best = c
    ok = False
    total = 0.0
    au = np.empty(0, np.int64)
    av = np.empty(0, np.int64)
    aw = np.empty(0)
    if nc > 0:
        order = np.argsort(cc[:nc], kind="mergesort")
        uf = np.arange(ncomp)
        chosen = np.empty(ncomp, np.int64)
        nch = 0
        for t in range(nc):
            i = order[t]
            ra = _find(uf, ca[i])
            rb = _find(uf, cb[i])
            if ra != rb:
                uf[ra] = rb
                chosen[nch] = i
                nch += 1
                total += cc[i]
                if nch == ncomp - 1:
                    break
        if nch == ncomp - 1 and total < limit:
            ok = True
            na = 0
            au = np.empty(64, np.int64)
            av = np.empty(64, np.int64)
            aw = np.empty(64)
            for q in range(nch):
                i = chosen[q]
                au = _grow_i(au, na + 1)
                av = _grow_i(av, na + 1)
                aw = _grow_f(aw, na + 1)
                au[na] = cu[i]
                av[na] = cv[i]
                aw[na] = cw[i]
                na += 1
                for x0 in (cu[i], cv[i]):
                    x = x0
                    while pred[x] >= 0:
                        p = pred[x]
                        # weight of arc x-p: find it in x's row
                        wx = np.inf
                        for j in range(indptr[x], indptr[x + 1]):
                            if indices[j] == p and w[j] < wx:
                                wx = w[j]
                        au = _grow_i(au, na + 1)
                        av = _grow_i(av, na + 1)
                        aw = _grow_f(aw, na + 1)
                        au[na] = x
                        av[na] = p
                        aw[na] = wx
                        na += 1
                        x = p
            au = au[:na]
            av = av[:na]
            aw = aw[:na]
    for i in range(nt):
        g = touched[i]
        dist[g] = np.inf
        lab[g] = -1
        pred[g] = -1
        done[g] = False
    return ok, total, au, av, aw


# --------------------------------------------------------------------------- local search


@njit(cache=True, nogil=True)
def _near(start, label, lim, comp, parent, pw, size, near):  # type: ignore[no-untyped-def]
    """Flag tree nodes of component ``label`` within tree distance ``lim`` of ``start``."""
    k = comp.shape[0]
    stack = np.empty(64, np.int64)
    sd = np.empty(64)
    stack[0] = start
    sd[0] = 0.0
    top = 1
    near[start] = True
    while top > 0:
        top -= 1
        x = stack[top]
        dx = sd[top]
        p = parent[x]
        # neighbours: parent, then children (preorder: x+1, then by subtree sizes)
        c = x + 1
        nxt = p
        first = True
        while True:
            if first:
                first = False
                z = nxt
                ok = z >= 0 and dx + pw[x] <= lim
                dz = dx + pw[x]
            else:
                if c >= x + size[x] or c >= k:
                    break
                z = c
                dz = dx + pw[c]
                ok = dz <= lim
                c += size[c]
            if ok and not near[z] and comp[z] == label:
                near[z] = True
                stack = _grow_i(stack, top + 1)
                sd = _grow_f(sd, top + 1)
                stack[top] = z
                sd[top] = dz
                top += 1
    return near


@njit(cache=True, nogil=True)
def _apply(nodes, parent, pw, drop, au, av, aw, is_term, loc):  # type: ignore[no-untyped-def]
    nu, nv, nw = _edges_without(nodes, parent, pw, drop, au, av, aw, au.shape[0])
    for x in range(nodes.shape[0]):
        loc[nodes[x]] = -1
    return kruskal_prune(nu, nv, nw, is_term, loc)


@njit(cache=True, nogil=True)
def key_pass(  # type: ignore[no-untyped-def]
    indptr,
    indices,
    w,
    is_term,
    tu,
    tv,
    tw,
    loc,
    dist,
    lab,
    pred,
    done,
    vertex_mode,
    max_moves,
    local,
    max_settle,
    start,
    max_evals,
):
    """One sweep of key-path exchange (``vertex_mode=False``) or key-vertex elimination.

    Key-path exchange removes one key path (a path whose inner nodes are Steiner nodes
    of degree two) and reconnects the two parts by a shortest path. Key-vertex
    elimination removes a Steiner node of degree three or more with all its key paths
    and reconnects the parts. A move is kept only if the pruned MST of the result is
    cheaper. Returns the new tree and the number of improving moves.

    The sweep starts at preorder position ``start`` and returns, as a fifth value, the
    position to resume from after ``max_evals`` evaluated moves (-1 when it finished),
    so the caller can watch the clock between slices.

    With ``local`` (for big graphs) only tree nodes within the removed cost of the cut,
    measured along the tree, start the reconnecting search, and no search settles more
    than ``max_settle`` nodes; the moves found are still exact improvements.
    """
    nodes, parent, pw, size, _depth, deg = root_tree(tu, tv, tw, is_term, loc)
    cur = tw.sum()
    moves = 0
    x = max(start, 1)
    evals = 0
    while x < nodes.shape[0] and moves < max_moves:
        if evals >= max_evals:
            break
        k = nodes.shape[0]
        here = x
        x += 1
        if vertex_mode:
            if is_term[nodes[here]] or deg[here] < 3:
                continue
        elif not _is_key(here, nodes, deg, is_term):
            continue
        drop = np.zeros(k, np.bool_)
        comp = np.empty(k, np.int64)
        rc = 0.0
        v = here
        hi = here
        nch = 0
        y = here
        if not vertex_mode:
            lo = here
            hi = here + size[here]
            for z in range(k):
                comp[z] = 0 if lo <= z < hi else 1
            ncomp = 2
            nfree = 0
            drop[here] = True
            rc += pw[here]
            y = parent[here]
            while not _is_key(y, nodes, deg, is_term):
                drop[y] = True
                rc += pw[y]
                comp[y] = -1
                nfree += 1
                y = parent[y]
            big = 0 if size[here] >= k - size[here] - nfree else 1
        else:
            v = here
            lo = v
            hi = v + size[v]
            nch = 0
            c = v + 1
            while c < hi:
                nch += 1
                c += size[c]
            ncomp = nch + 1
            for z in range(k):
                comp[z] = -1 if lo <= z < hi else nch
            idx = 0
            big = nch
            bigsize = k - size[v]
            c = v + 1
            while c < hi:
                z = c
                drop[z] = True
                rc += pw[z]
                while not _is_key(z, nodes, deg, is_term):
                    z = z + 1
                    drop[z] = True
                    rc += pw[z]
                for q in range(z, z + size[z]):
                    comp[q] = idx
                if size[z] > bigsize:
                    big = idx
                    bigsize = size[z]
                idx += 1
                c += size[c]
            drop[v] = True
            rc += pw[v]
            y = parent[v]
            while not _is_key(y, nodes, deg, is_term):
                drop[y] = True
                rc += pw[y]
                comp[y] = -1
                y = parent[y]
        if local:
            near = np.zeros(k, np.bool_)
            if not vertex_mode:
                _near(here if big == 1 else y, 1 - big, rc, comp, parent, pw, size, near)
            else:
                c = v + 1
                idx = 0
                while c < hi:
                    z = c
                    while not _is_key(z, nodes, deg, is_term):
                        z = z + 1
                    if idx != big:
                        _near(z, idx, rc, comp, parent, pw, size, near)
                    idx += 1
                    c += size[c]
                if nch != big:
                    _near(y, nch, rc, comp, parent, pw, size, near)
            for z in range(k):
                if comp[z] >= 0 and comp[z] != big and not near[z]:
                    comp[z] = -1
        limit = rc - _EPS * max(1.0, rc)
        evals += 1
        ok, _total, au, av, aw = _reconnect(
            indptr, indices, w, nodes, comp, ncomp, big, limit, loc, dist, lab, pred, done,
            max_settle,
        )  # fmt: skip
        if not ok:
            continue
        nu, nv, nw = _apply(nodes, parent, pw, drop, au, av, aw, is_term, loc)
        newc = nw.sum()
        if newc < cur - _EPS * max(1.0, cur):
            tu, tv, tw = nu, nv, nw
            cur = newc
            moves += 1
            x = here
        nodes, parent, pw, size, _depth, deg = root_tree(tu, tv, tw, is_term, loc)
    for z in range(nodes.shape[0]):
        loc[nodes[z]] = -1
    stop = x if x < nodes.shape[0] and evals >= max_evals else -1
    return tu, tv, tw, moves, stop


@njit(cache=True, nogil=True)
def insertion_pass(  # type: ignore[no-untyped-def]
    indptr, indices, w, is_term, tu, tv, tw, loc, mark, max_moves, max_walk
):
    """One sweep of Steiner-vertex insertion.

    For each node ``v`` outside the tree with two or more tree neighbours, the MST of the
    tree plus ``v``'s edges is found by Kruskal on the tree paths between those
    neighbours and ``v``'s edges (the only edges that can change). Improving insertions
    are applied at once, followed by pruning. ``mark`` is an all -1 workspace of graph
    size; ``max_walk`` caps the tree path length examined per candidate.
    """
    nodes, parent, pw, _size, depth, _deg = root_tree(tu, tv, tw, is_term, loc)
    cur = tw.sum()
    k = nodes.shape[0]
    cand = np.empty(64, np.int64)
    ncand = 0
    for z in range(k):
        g = nodes[z]
        for j in range(indptr[g], indptr[g + 1]):
            v = indices[j]
            if loc[v] < 0 and mark[v] < 0:
                mark[v] = 1
                cand = _grow_i(cand, ncand + 1)
                cand[ncand] = v
                ncand += 1
    for i in range(ncand):
        mark[cand[i]] = -1
    moves = 0
    emark = np.full(k, -1, np.int64)
    cstamp = np.full(k + 1, -1, np.int64)
    cmap = np.zeros(k + 1, np.int64)
    stamp = 0
    a_loc = np.empty(64, np.int64)
    a_w = np.empty(64)
    el = np.empty(64, np.int64)
    for ci in range(ncand):
        if moves >= max_moves:
            break
        v = cand[ci]
        if loc[v] >= 0:
            continue
        na = 0
        for j in range(indptr[v], indptr[v + 1]):
            u = indices[j]
            if loc[u] >= 0:
                a_loc = _grow_i(a_loc, na + 1)
                a_w = _grow_f(a_w, na + 1)
                a_loc[na] = loc[u]
                a_w[na] = w[j]
                na += 1
        if na < 2:
            continue
        stamp += 1
        ne = 0
        too_long = False
        for i in range(1, na):
            p = a_loc[0]
            q = a_loc[i]
            while p != q:
                if depth[p] >= depth[q]:
                    z = p
                    p = parent[p]
                else:
                    z = q
                    q = parent[q]
                if emark[z] != stamp:
                    emark[z] = stamp
                    el = _grow_i(el, ne + 1)
                    el[ne] = z
                    ne += 1
            if ne > max_walk:
                too_long = True
                break
        if too_long:
            continue
        # Kruskal over tree path edges (first, so they win ties) and v's edges
        tot = ne + na
        ew = np.empty(tot)
        for t in range(ne):
            ew[t] = pw[el[t]]
        for t in range(na):
            ew[ne + t] = a_w[t]
        order = np.argsort(ew, kind="mergesort")
        uf = np.arange(2 * tot + 1)
        nid = 0
        keep = np.zeros(tot, np.bool_)
        for t in range(tot):
            e = order[t]
            if e < ne:
                a = el[e]
                b = parent[a]
            else:
                a = k
                b = a_loc[e - ne]
            if cstamp[a] != stamp:
                cstamp[a] = stamp
                cmap[a] = nid
                nid += 1
            if cstamp[b] != stamp:
                cstamp[b] = stamp
                cmap[b] = nid
                nid += 1
            ra = _find(uf, cmap[a])
            rb = _find(uf, cmap[b])
            if ra != rb:
                uf[ra] = rb
                keep[e] = True
        gain = 0.0
        for t in range(ne):
            if not keep[t]:
                gain += ew[t]
        for t in range(na):
            if keep[ne + t]:
                gain -= ew[ne + t]
        if gain <= _EPS * max(1.0, cur):
            continue
        drop = np.zeros(k, np.bool_)
        for t in range(ne):
            if not keep[t]:
                drop[el[t]] = True
        nadd = 0
        for t in range(na):
            if keep[ne + t]:
                nadd += 1
        au = np.empty(nadd, np.int64)
        av = np.empty(nadd, np.int64)
        aw = np.empty(nadd)
        nadd = 0
        for t in range(na):
            if keep[ne + t]:
                au[nadd] = v
                av[nadd] = nodes[a_loc[t]]
                aw[nadd] = a_w[t]
                nadd += 1
        nu, nv, nw = _apply(nodes, parent, pw, drop, au, av, aw, is_term, loc)
        newc = nw.sum()
        if newc < cur - _EPS * max(1.0, cur):
            tu, tv, tw = nu, nv, nw
            cur = newc
            moves += 1
        nodes, parent, pw, _size, depth, _deg = root_tree(tu, tv, tw, is_term, loc)
        k = nodes.shape[0]
        emark = np.full(k, -1, np.int64)
        cstamp = np.full(k + 1, -1, np.int64)
        cmap = np.zeros(k + 1, np.int64)
    for z in range(nodes.shape[0]):
        loc[nodes[z]] = -1
    return tu, tv, tw, moves


@njit(cache=True, nogil=True)
def mst_induced(indptr, indices, w, is_term, tu, tv, tw, loc):  # type: ignore[no-untyped-def]
    """MST of the subgraph induced by the tree's nodes, then prune (MST-prune)."""
    m = tu.shape[0]
    nodes = np.empty(2 * m, np.int64)
    k = 0
    for i in range(m):
        for g in (tu[i], tv[i]):
            if loc[g] < 0:
                loc[g] = k
                nodes[k] = g
                k += 1
    cnt = 0
    for z in range(k):
        g = nodes[z]
        for j in range(indptr[g], indptr[g + 1]):
            h = indices[j]
            if loc[h] >= 0 and g < h:
                cnt += 1
    eu = np.empty(cnt, np.int64)
    ev = np.empty(cnt, np.int64)
    ew = np.empty(cnt)
    cnt = 0
    for z in range(k):
        g = nodes[z]
        for j in range(indptr[g], indptr[g + 1]):
            h = indices[j]
            if loc[h] >= 0 and g < h:
                eu[cnt] = g
                ev[cnt] = h
                ew[cnt] = w[j]
                cnt += 1
    for z in range(k):
        loc[nodes[z]] = -1
    return kruskal_prune(eu, ev, ew, is_term, loc)
