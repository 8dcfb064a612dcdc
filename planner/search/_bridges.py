"""Bridges of an undirected graph in linear time, compiled with numba.

A bridge is an edge on no cycle: removing it disconnects its ends. Tarjan's (1974) test
finds them all in one depth-first search: the tree edge from ``p`` down to ``c`` is a
bridge exactly when nothing in ``c``'s subtree has an edge back to ``p`` or above it,
i.e. when the lowest discovery time reachable from the subtree is later than ``p``'s.
The search here keeps its own stack (a national backbone's paths are thousands of edges
deep, far beyond any recursion limit) and tells edges apart by their number, not their
ends, so two parallel edges are never bridges.

The graph is an edge list over nodes ``0..n-1`` (``eu[i]``-``ev[i]`` is edge ``i``), so a
caller that grows a subgraph edge by edge keeps two arrays and asks again after each
change; one call costs time in proportion to ``n`` plus the number of edges. The same
search counts the nodes on either side of each bridge (a subtree of the search and the
rest of its component), which tells a caller the smaller side without another search.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def bridges(n, eu, ev):  # type: ignore[no-untyped-def]
    """The bridges among the edges ``eu[i]``-``ev[i]`` and the size of their two sides.

    Returns ``(found, near, far)``: ``found[i]`` is True where edge ``i`` is a bridge;
    then removing it leaves ``near[i]`` nodes joined to ``eu[i]`` and ``far[i]`` joined to
    ``ev[i]`` (both 0 for other edges).
    """
    m = eu.shape[0]
    # adjacency in CSR form: the other end and the edge number of every arc
    start = np.zeros(n + 1, np.int64)
    for e in range(m):
        start[eu[e] + 1] += 1
        start[ev[e] + 1] += 1
    for x in range(n):
        start[x + 1] += start[x]
    fill = start[:-1].copy()
    other = np.empty(2 * m, np.int64)
    edge = np.empty(2 * m, np.int64)
    for e in range(m):
        a, b = eu[e], ev[e]
        other[fill[a]], edge[fill[a]] = b, e
        fill[a] += 1
        other[fill[b]], edge[fill[b]] = a, e
        fill[b] += 1

    found = np.zeros(m, np.bool_)
    near = np.zeros(m, np.int64)
    far = np.zeros(m, np.int64)
    below = np.ones(n, np.int64)  # nodes in the subtree of the search under each node
    disc = np.full(n, -1, np.int64)  # discovery time, -1 while unseen
    low = np.empty(n, np.int64)  # lowest discovery time reachable from the subtree
    up = np.full(n, -1, np.int64)  # the tree edge a node was reached by
    nxt = np.empty(n, np.int64)  # the next arc of the node to look at
    stack = np.empty(n, np.int64)
    clock = 0
    cut = np.empty(n, np.int64)  # the subtrees the current component's bridges cut off
    for root in range(n):
        if disc[root] >= 0:
            continue
        cuts = 0
        disc[root] = low[root] = clock
        clock += 1
        nxt[root] = start[root]
        stack[0] = root
        top = 1
        while top > 0:
            x = stack[top - 1]
            if nxt[x] < start[x + 1]:
                j = nxt[x]
                nxt[x] += 1
                if edge[j] == up[x]:
                    continue
                y = other[j]
                if disc[y] < 0:
                    disc[y] = low[y] = clock
                    clock += 1
                    up[y] = edge[j]
                    nxt[y] = start[y]
                    stack[top] = y
                    top += 1
                elif disc[y] < low[x]:
                    low[x] = disc[y]
                continue
            top -= 1
            if top > 0:  # x is done: hand its low time to its parent, test the tree edge
                p = stack[top - 1]
                below[p] += below[x]
                if low[x] < low[p]:
                    low[p] = low[x]
                if low[x] > disc[p]:
                    found[up[x]] = True
                    cut[cuts] = x
                    cuts += 1
        for i in range(cuts):  # the component is whole now: size both sides of its bridges
            x = cut[i]
            e = up[x]
            if ev[e] == x:
                near[e], far[e] = below[root] - below[x], below[x]
            else:
                near[e], far[e] = below[x], below[root] - below[x]
    return found, near, far
