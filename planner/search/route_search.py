"""Routes on the corridor graph: the best one, k alternatives, and a diverse pair.

Every function takes the edge attribute to minimise (``weight``: ``length_km`` now, the
cost model's ``cost_usd`` later) and runs the compiled searches of
:mod:`planner.search.shortest_paths`. Between two nodes joined by parallel edges a route uses
the cheapest one, except in :func:`diverse_pair`, which may use both.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

import networkx as nx
import numpy as np

from layers.errors import (
    NoRouteError,
    PlaceNotFoundError,
)
from planner.search.shortest_paths import (
    ArcGraph,
    CSRGraph,
    arc_search,
    astar,
    csr_of,
    search_snapshot,
    shortest_path_rows,
)

EdgeKey = tuple[Hashable, Hashable, Any]


@dataclass(frozen=True)
class Route:
    """One route: its nodes, the exact edges it uses, and what it costs.

    Attributes
    ----------
    nodes
        Node ids from source to target.
    edges
        ``(u, v, key)`` of each edge in order, oriented along the route (``key`` is
        ``None`` on a simple graph).
    cost
        Sum of the ``weight`` attribute over ``edges``.
    length_km
        Sum of ``length_km`` over ``edges`` (``nan`` if an edge has none).
    corridors
        Distinct corridor ids ``(layer, feature id)`` used, in route order (connectors,
        which have none, are left out).
    weight
        Name of the attribute ``cost`` sums.
    """

    nodes: tuple[Hashable, ...]
    edges: tuple[EdgeKey, ...]
    cost: float
    length_km: float
    corridors: tuple[Hashable, ...]
    weight: str


DiverseMethod = Literal["suurballe", "milp", "heuristic"]


@dataclass(frozen=True)
class DiversePair:
    """Two routes from ``s`` to ``t`` that share no risk group.

    Attributes
    ----------
    first, second
        The two routes, cheaper first.
    cost
        Their total cost.
    risk
        ``"corridor"`` (no corridor used by both) or ``"edge"`` (no edge used by both).
    method
        ``"suurballe"``: the least-cost edge-disjoint pair already shared no corridor
        (optimal); ``"milp"``: optimal by integer programming; ``"heuristic"``: the best
        pair found by rerouting around one route's corridors, not proven optimal.
    """

    first: Route
    second: Route
    cost: float
    risk: str
    method: DiverseMethod


# ---------------------------------------------------------------------------- helpers


def _check_nodes(graph: nx.Graph, *nodes: Hashable) -> None:
    for node in nodes:
        if node not in graph:
            raise PlaceNotFoundError(
                f"node {node!r} is not in the corridor graph; attach the place first "
                "(planner.network.attach.attach_point)"
            )


def _cheapest(graph: nx.Graph, u: Hashable, v: Hashable, weight: str) -> tuple[Any, dict[str, Any]]:
    if graph.is_multigraph():
        return min(graph[u][v].items(), key=lambda item: item[1][weight])
    return None, graph[u][v]


def route_from_edges(
    graph: nx.Graph, edges: Sequence[EdgeKey], weight: str, start: Hashable
) -> Route:
    """Build a :class:`Route` from oriented edges ``(u, v, key)`` starting at ``start``."""
    nodes = [start]
    cost = 0.0
    length = 0.0
    corridors: dict[Hashable, None] = {}
    for u, v, key in edges:
        data = graph.edges[u, v, key] if graph.is_multigraph() else graph.edges[u, v]
        cost += float(data[weight])
        length += float(data.get("length_km", math.nan))
        nodes.append(v)
        if data.get("corridor") is not None:
            corridors[data["corridor"]] = None
    return Route(tuple(nodes), tuple(edges), cost, length, tuple(corridors), weight)


def route_from_nodes(graph: nx.Graph, nodes: Sequence[Hashable], weight: str) -> Route:
    """Build a :class:`Route` along ``nodes`` using the cheapest edge between each pair."""
    edges = [(u, v, _cheapest(graph, u, v, weight)[0]) for u, v in pairwise(nodes)]
    return route_from_edges(graph, edges, weight, nodes[0])


def _no_route(source: Hashable, target: Hashable) -> NoRouteError:
    return NoRouteError(
        f"no route from {source!r} to {target!r}: the target is not reachable from the "
        "source (they lie in parts of the corridor graph that no corridor joins); add a "
        "layer that links them or attach the places to other corridors"
    )


# ---------------------------------------------------------------------------- shortest


def shortest_route(
    graph: nx.Graph,
    source: Hashable,
    target: Hashable,
    weight: str = "length_km",
    *,
    csr: CSRGraph | None = None,
) -> Route:
    """The least-``weight`` route from ``source`` to ``target``.

    Parameters
    ----------
    graph
        Corridor graph (``Graph`` or ``MultiGraph``).
    source, target
        Node ids (attach places first with :mod:`planner.network.attach`).
    weight
        Edge attribute to minimise.
    csr
        A snapshot of ``graph`` for ``weight`` to reuse across calls.

    Raises
    ------
    PlaceNotFoundError
        If an endpoint is not in the graph.
    NoRouteError
        If no route joins them.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.MultiGraph()
    >>> _ = g.add_edge("a", "b", length_km=2.0)
    >>> _ = g.add_edge("b", "c", length_km=1.0)
    >>> shortest_route(g, "a", "c").nodes
    ('a', 'b', 'c')
    """
    _check_nodes(graph, source, target)
    found = csr if csr is not None else search_snapshot(graph, weight)
    _, rows = shortest_path_rows(found, found.row(source), found.row(target))
    if rows.size == 0:
        raise _no_route(source, target)
    return route_from_nodes(graph, [found.nodes[i] for i in rows], weight)


# ---------------------------------------------------------------------------- k alternatives


def k_alternatives(
    graph: nx.Graph,
    source: Hashable,
    target: Hashable,
    k: int,
    weight: str = "length_km",
    *,
    csr: CSRGraph | None = None,
) -> list[Route]:
    """The ``k`` least-``weight`` loopless routes, cheapest first (Yen's algorithm).

    Fewer than ``k`` are returned when fewer exist. Yen's spur searches run as A* guided
    by exact distances to ``target`` (one reverse Dijkstra), which stay admissible when
    Yen removes edges and nodes.

    Raises
    ------
    PlaceNotFoundError, NoRouteError
        As :func:`shortest_route`.
    ValueError
        If ``k < 1``.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    _check_nodes(graph, source, target)
    csr = csr if csr is not None else csr_of(graph, weight)
    rows = _yen(csr, csr.row(source), csr.row(target), k)
    if not rows:
        raise _no_route(source, target)
    return [route_from_nodes(graph, [csr.nodes[i] for i in path], weight) for path in rows]


def _path_cost(csr: CSRGraph, path: Sequence[int]) -> float:
    total = 0.0
    for a, b in pairwise(path):
        total += float(csr.data[csr.entry(a, b)])
    return total


def _yen(csr: CSRGraph, s: int, t: int, k: int) -> list[tuple[int, ...]]:
    """Yen's k shortest loopless paths over rows of ``csr``."""
    from scipy.sparse.csgraph import dijkstra

    h = np.asarray(dijkstra(csr.matrix, directed=True, indices=t), dtype=np.float64)
    if not math.isfinite(h[s]):
        return []
    node_blocked = np.zeros(csr.n, dtype=np.bool_)
    entry_blocked = np.zeros(csr.indices.size, dtype=np.bool_)
    first = _spur(csr, s, t, h, node_blocked, entry_blocked)
    assert first is not None
    accepted: list[tuple[int, ...]] = [first]
    seen = {first}
    candidates: list[tuple[float, tuple[int, ...]]] = []
    while len(accepted) < k:
        last = accepted[-1]
        for i in range(len(last) - 1):
            root = last[: i + 1]
            spur = last[i]
            blocked_entries = []
            for path in accepted:
                if path[: i + 1] == root and len(path) > i + 1:
                    e = csr.entry(path[i], path[i + 1])
                    blocked_entries += [e, int(csr.twin[e])]
            entry_blocked[blocked_entries] = True
            node_blocked[list(root[:-1])] = True
            tail = _spur(csr, spur, t, h, node_blocked, entry_blocked)
            entry_blocked[blocked_entries] = False
            node_blocked[list(root[:-1])] = False
            if tail is None:
                continue
            path = root[:-1] + tail
            if path not in seen:
                seen.add(path)
                heapq.heappush(candidates, (_path_cost(csr, path), path))
        if not candidates:
            break
        accepted.append(heapq.heappop(candidates)[1])
    return accepted


def _spur(
    csr: CSRGraph,
    s: int,
    t: int,
    h: np.ndarray,
    node_blocked: np.ndarray,
    entry_blocked: np.ndarray,
) -> tuple[int, ...] | None:
    dist, pred, _ = astar(csr.indptr, csr.indices, csr.data, s, t, h, node_blocked, entry_blocked)
    if not math.isfinite(dist[t]):
        return None
    path = [t]
    while path[-1] != s:
        path.append(int(pred[path[-1]]))
    return tuple(reversed(path))


# ---------------------------------------------------------------------------- diverse pair


def diverse_pair(
    graph: nx.Graph,
    source: Hashable,
    target: Hashable,
    weight: str = "length_km",
    *,
    risk: Literal["corridor", "edge"] = "corridor",
    exact_max_edges: int = 20_000,
    node_limit: int = 20_000,
) -> DiversePair:
    """Two routes of least total ``weight`` that share no risk group.

    With ``risk="corridor"`` no corridor (same layer and feature) may carry both routes;
    connector edges (``corridor`` is ``None``) are exempt, so both routes may leave the
    source and reach the target through the same connector. With ``risk="edge"`` only
    edges may not be shared (parallel edges are different edges).

    Method: Suurballe/Bhandari (two shortest-path searches on a residual graph) gives
    the least-cost edge-disjoint pair; if it shares no corridor it is optimal. Otherwise
    routes are re-planned around the corridors of each candidate route (a heuristic
    that gives an upper bound), then, when the subgraph of nodes that can lie on a
    better pair (``d(s, v) + d(v, t) <= bound - d(s, t)``) has at most
    ``exact_max_edges`` edges, a two-path integer programme with one corridor-assignment
    variable per corridor (scipy ``milp``, HiGHS) proves the optimum. Beyond that size,
    or past ``node_limit`` branch-and-bound nodes (a bound on work, not on the clock, so
    the answer never depends on the machine), the best pair found is returned with
    ``method="heuristic"``.

    Raises
    ------
    PlaceNotFoundError
        If an endpoint is not in the graph.
    NoRouteError
        If the target is unreachable, or no pair without a shared risk exists.
    """
    _check_nodes(graph, source, target)
    if source == target:
        raise NoRouteError("a diverse pair needs two different endpoints")
    return _solve_diverse(
        graph,
        source,
        target,
        weight,
        risk=risk,
        exact_max_edges=exact_max_edges,
        node_limit=node_limit,
    )


def shares_risk(first: Route, second: Route, risk: str = "corridor") -> bool:
    """Whether two routes share a corridor (``risk="corridor"``) or an edge (``"edge"``)."""
    if risk == "edge":
        return bool(_edge_set(first.edges) & _edge_set(second.edges))
    return bool(set(first.corridors) & set(second.corridors))


def _edge_set(edges: Iterable[EdgeKey]) -> set[tuple[frozenset[Hashable], Any]]:
    return {(frozenset((u, v)), k) for u, v, k in edges}


def _solve_diverse(
    graph: nx.Graph,
    source: Hashable,
    target: Hashable,
    weight: str,
    *,
    risk: str,
    exact_max_edges: int,
    node_limit: int,
) -> DiversePair:
    arcs = ArcGraph.from_networkx(graph, weight, risk)
    s, t = arcs.index[source], arcs.index[target]
    cost = np.repeat(arcs.weight, 2)
    arc_group = np.repeat(arcs.group, 2)
    ds, pred = arc_search(arcs.n, arcs.tail, arcs.head, cost, s)
    if not math.isfinite(ds[t]):
        raise _no_route(source, target)
    first = _walk_back(arcs, pred, s, t)
    second = _suurballe_second(arcs, cost, ds, first, s, t)
    if second is None:
        raise _no_pair(source, target, risk)
    pair = _decompose(arcs, _net_flow(arcs, first, second), s, t)

    def finish(paths: tuple[list[int], list[int]], method: DiverseMethod) -> DiversePair:
        routes = sorted(
            (route_from_edges(graph, _oriented(arcs, p), weight, source) for p in paths),
            key=lambda r: r.cost,
        )
        return DiversePair(routes[0], routes[1], routes[0].cost + routes[1].cost, risk, method)

    if not _conflict(arc_group, *pair):
        return finish(pair, "suurballe")
    best: tuple[list[int], list[int]] | None = None
    best_cost = math.inf
    for base in (pair[0], pair[1], first):
        groups = np.unique(arc_group[base])
        blocked = np.isin(arc_group, groups[groups >= 0])
        dist, pred_b = arc_search(arcs.n, arcs.tail, arcs.head, cost, s, t, blocked=blocked)
        if math.isfinite(dist[t]):
            other = _walk_back(arcs, pred_b, s, t)
            total = float(cost[base].sum() + cost[other].sum())
            if total < best_cost:
                best, best_cost = (base, other), total
    dt, _ = arc_search(arcs.n, arcs.tail, arcs.head, cost, t)
    slack = best_cost - ds[t] if best is not None else math.inf
    through = np.minimum(
        ds[arcs.tail[0::2]] + arcs.weight + dt[arcs.head[0::2]],
        ds[arcs.head[0::2]] + arcs.weight + dt[arcs.tail[0::2]],
    )
    keep = np.isfinite(through) & (through <= slack + 1e-9 * max(1.0, abs(slack)))
    if int(keep.sum()) <= exact_max_edges:
        status, paths = _milp_pair(arcs, cost, arc_group, np.flatnonzero(keep), s, t, node_limit)
        if status == "optimal" and paths is not None:
            return finish(paths, "milp")
        if status == "infeasible" and best is None:
            raise _no_pair(source, target, risk)
        if paths is not None and _pair_cost(cost, paths) < best_cost:
            best, best_cost = paths, _pair_cost(cost, paths)
    if best is None:
        raise NoRouteError(
            f"no {risk}-disjoint pair of routes from {source!r} to {target!r} was found: "
            f"rerouting around each route failed and the search region has "
            f"{int(keep.sum())} edges, more than exact_max_edges={exact_max_edges}; "
            "raise exact_max_edges for an exact answer"
        )
    return finish(best, "heuristic")


def _no_pair(source: Hashable, target: Hashable, risk: str) -> NoRouteError:
    return NoRouteError(
        f"no two routes from {source!r} to {target!r} avoid sharing a {risk}: every "
        f"route must cross the same {risk} somewhere; add an alternative corridor there"
    )


def _pair_cost(cost: np.ndarray, paths: tuple[list[int], list[int]]) -> float:
    return float(cost[paths[0]].sum() + cost[paths[1]].sum())


def _oriented(arcs: ArcGraph, path: list[int]) -> list[EdgeKey]:
    out = []
    for a in path:
        u, v, key = arcs.edges[a // 2]
        out.append((u, v, key) if a % 2 == 0 else (v, u, key))
    return out


def _walk_back(arcs: ArcGraph, pred_arc: np.ndarray, s: int, t: int) -> list[int]:
    path: list[int] = []
    node = t
    while node != s:
        a = int(pred_arc[node])
        path.append(a)
        node = int(arcs.tail[a])
    return path[::-1]


def _conflict(arc_group: np.ndarray, a: list[int], b: list[int]) -> bool:
    ga = set(arc_group[a].tolist()) - {-1}
    return bool(ga & set(arc_group[b].tolist()))


def _suurballe_second(
    arcs: ArcGraph,
    cost: np.ndarray,
    ds: np.ndarray,
    first: list[int],
    s: int,
    t: int,
) -> list[int] | None:
    """Second search of Suurballe/Bhandari on the residual graph of ``first``.

    Arcs carry reduced costs ``w + d(tail) - d(head)``; the arcs of ``first`` are replaced
    by zero-cost reverse arcs (numbered from ``2m``) that cancel them. Exempt edges keep
    their forward arc, so both routes may use them.
    """
    with np.errstate(invalid="ignore"):
        reduced = np.maximum(cost + ds[arcs.tail] - ds[arcs.head], 0.0)
    blocked = ~np.isfinite(reduced)
    first_arr = np.asarray(first, dtype=np.int64)
    shared = arcs.group[first_arr // 2] < 0
    blocked[first_arr[~shared]] = True
    blocked[first_arr[~shared] ^ 1] = True
    tail = np.concatenate([arcs.tail, arcs.head[first_arr]])
    head = np.concatenate([arcs.head, arcs.tail[first_arr]])
    res_cost = np.concatenate([np.where(blocked, 0.0, reduced), np.zeros(first_arr.size)])
    res_blocked = np.concatenate([blocked, np.zeros(first_arr.size, dtype=bool)])
    dist, pred = arc_search(arcs.n, tail, head, res_cost, s, t, blocked=res_blocked)
    if not math.isfinite(dist[t]):
        return None
    path: list[int] = []
    node = t
    while node != s:
        a = int(pred[node])
        path.append(a)
        node = int(tail[a])
    m2 = arcs.tail.size
    return [a if a < m2 else -1 - int(first_arr[a - m2]) for a in path[::-1]]


def _net_flow(arcs: ArcGraph, first: list[int], second: list[int]) -> Counter[int]:
    """Arc multiplicities of the two-unit flow (negative entries of ``second`` cancel)."""
    flow: Counter[int] = Counter(first)
    for a in second:
        if a >= 0:
            flow[a] += 1
        else:
            flow[-1 - a] -= 1
    return flow


def _decompose(arcs: ArcGraph, flow: Counter[int], s: int, t: int) -> tuple[list[int], list[int]]:
    """Split a two-unit s-t flow into two simple paths (cycles are dropped)."""
    out: defaultdict[int, list[int]] = defaultdict(list)
    for a, count in flow.items():
        out[int(arcs.tail[a])].extend([a] * max(count, 0))
    paths = []
    for _ in range(2):
        walk: list[int] = []
        node = s
        while node != t:
            a = out[node].pop()
            walk.append(a)
            node = int(arcs.head[a])
        paths.append(_drop_cycles(arcs, walk, s))
    return paths[0], paths[1]


def _drop_cycles(arcs: ArcGraph, walk: list[int], s: int) -> list[int]:
    path: list[int] = []
    seen = {s: 0}
    for a in walk:
        head = int(arcs.head[a])
        if head in seen:
            del path[seen[head] :]
            seen = {int(arcs.tail[b]): i for i, b in enumerate(path)}
            seen[head] = len(path)
            continue
        path.append(a)
        seen[head] = len(path)
    return path


def _milp_pair(
    arcs: ArcGraph,
    cost: np.ndarray,
    arc_group: np.ndarray,
    edges: np.ndarray,
    s: int,
    t: int,
    node_limit: int,
) -> tuple[str, tuple[list[int], list[int]] | None]:
    """Least-cost pair of s-t paths with no shared group, as a 0/1 programme.

    Variables: one per (route, arc) and one per group (which route owns it).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    sel = np.concatenate([2 * edges, 2 * edges + 1])
    k = sel.size
    nodes, local = np.unique(np.concatenate([arcs.tail[sel], arcs.head[sel]]), return_inverse=True)
    if s not in nodes or t not in nodes:
        return "infeasible", None
    tl, hl = local[:k], local[k:]
    nn = nodes.size
    groups, gl = np.unique(arc_group[sel], return_inverse=True)
    guarded = arc_group[sel] >= 0
    n_groups = groups.size
    nvar = 2 * k + n_groups
    rows, cols, vals = [], [], []
    for p in range(2):
        rows += [p * nn + tl, p * nn + hl]
        cols += [p * k + np.arange(k)] * 2
        vals += [np.ones(k), -np.ones(k)]
    supply = np.zeros(2 * nn)
    si, ti = int(np.searchsorted(nodes, s)), int(np.searchsorted(nodes, t))
    supply[[si, nn + si]] = 1.0
    supply[[ti, nn + ti]] = -1.0
    flow_rows = coo_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(2 * nn, nvar)
    )
    g_arcs = np.flatnonzero(guarded)
    ng = g_arcs.size
    r2 = np.concatenate([np.arange(ng), np.arange(ng), ng + np.arange(ng), ng + np.arange(ng)])
    c2 = np.concatenate([g_arcs, 2 * k + gl[g_arcs], k + g_arcs, 2 * k + gl[g_arcs]])
    v2 = np.concatenate([np.ones(ng), np.ones(ng), np.ones(ng), -np.ones(ng)])
    upper = np.concatenate([np.ones(ng), np.zeros(ng)])
    guard_rows = coo_array((v2, (r2, c2)), shape=(2 * ng, nvar))
    objective = np.concatenate([cost[sel], cost[sel], np.zeros(n_groups)])
    constraints = [LinearConstraint(flow_rows.tocsr(), supply, supply)]
    if ng:
        constraints.append(LinearConstraint(guard_rows.tocsr(), -np.inf, upper))
    result = milp(
        objective,
        constraints=constraints,
        integrality=np.ones(nvar),
        bounds=Bounds(0, 1),
        options={"node_limit": node_limit},
    )
    if result.status == 2:
        return "infeasible", None
    if result.x is None:
        return "unsolved", None
    x = result.x > 0.5
    paths = []
    for p in range(2):
        flow: Counter[int] = Counter(sel[x[p * k : (p + 1) * k]].tolist())
        out: defaultdict[int, list[int]] = defaultdict(list)
        for a, c in flow.items():
            out[int(arcs.tail[a])].extend([a] * c)
        walk: list[int] = []
        node = s
        while node != t:
            a = out[node].pop()
            walk.append(a)
            node = int(arcs.head[a])
        paths.append(_drop_cycles(arcs, walk, s))
    status = "optimal" if result.status == 0 else "unsolved"
    return status, (paths[0], paths[1])
