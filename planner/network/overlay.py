"""A planning copy of the network that shares the network's memory until it changes it.

Planning attaches places to a copy of the network (see
:meth:`planner.network.planning_network.PlanningNetwork.copy`): it splits a few corridor
edges and adds a few drops. A full ``MultiGraph.copy`` copies every node and edge attribute
dict, which costs more than the search itself and, in the service, one network's worth of
memory per concurrent job. :class:`OverlayGraph` lays its own node and adjacency dicts
over the base's (nothing per node of the base) and takes its own copy of a node's
neighbours, of a node pair's parallel edges or of an attribute dict the first time it
changes them. The network it was
made from is never written to, so any number of requests, in any threads, can plan on
overlays of one shared network.

What it cannot see: a caller that writes into an attribute dict obtained by iterating
(``graph.edges(data=True)``, ``graph.nodes(data=True)``) changes the shared dict. The
planner changes attributes only of edges it has just added, and node attributes through
``graph.nodes[n]``, which hands out the overlay's own copy.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from planner.network.corridor_graph import CorridorGraph


class _Layered(MutableMapping[Hashable, Any]):
    """A dict over a base mapping that never writes to it: own entries first, then the base's.

    Iterates in the order ``dict(base)`` changed the same way would: the base's keys
    in place (an entry replaced keeps its place), then keys added, deleted base keys
    left out. Costs nothing per base entry, so an overlay of a million-node network
    costs what it changes.
    """

    __slots__ = ("base", "gone", "own")

    def __init__(self, base: Mapping[Hashable, Any]) -> None:
        self.base = base
        self.own: dict[Hashable, Any] = {}
        self.gone: set[Hashable] = set()
        """Base keys deleted (a key deleted and added again is in ``own`` too)."""

    def __getitem__(self, key: Hashable) -> Any:
        try:
            return self.own[key]
        except KeyError:
            if key in self.gone:
                raise
        return self.base[key]

    def __contains__(self, key: object) -> bool:
        return key in self.own or (key not in self.gone and key in self.base)

    def __setitem__(self, key: Hashable, value: Any) -> None:
        self.own[key] = value

    def __delitem__(self, key: Hashable) -> None:
        if key not in self:
            raise KeyError(key)
        self.own.pop(key, None)
        if key in self.base:
            self.gone.add(key)

    def __iter__(self) -> Iterator[Hashable]:
        gone = self.gone
        for key in self.base:
            if key not in gone:
                yield key
        base = self.base
        for key in list(self.own):
            if key in gone or key not in base:
                yield key

    def __len__(self) -> int:
        added = sum(1 for key in self.own if key in self.gone or key not in self.base)
        return len(self.base) - len(self.gone) + added

    def added(self) -> list[Hashable]:
        """Keys not in the base (or deleted from it and added again), in order added."""
        return [key for key in self.own if key in self.gone or key not in self.base]

    def items(self) -> Any:
        return ((key, self[key]) for key in self)

    def values(self) -> Any:
        return (self[key] for key in self)

    def __reduce__(self) -> Any:
        # pickled as the plain dict it stands for
        return (dict, (dict(self.items()),))


class _OwnNodes(_Layered):
    """A node's attribute dicts, each copied the first time it is looked up by node.

    Iterating (``graph.nodes(data=True)``) hands out the base's dicts uncopied.
    """

    __slots__ = ()

    def __getitem__(self, node: Hashable) -> Any:
        try:
            return self.own[node]
        except KeyError:
            if node in self.gone:
                raise
        value = dict(self.base[node])
        self.own[node] = value
        return value

    def _peek(self, node: Hashable) -> Any:
        return self.own[node] if node in self.own else self.base[node]

    def items(self) -> Any:
        return ((node, self._peek(node)) for node in self)

    def values(self) -> Any:
        return (self._peek(node) for node in self)


class OverlayGraph(CorridorGraph):
    """A :class:`~planner.network.corridor_graph.CorridorGraph` over another, copied on change.

    Made with :func:`overlay`; reads see the base graph's nodes and edges, changes
    (nodes and edges added or removed, attributes given through ``add_node`` /
    ``add_edge`` or ``graph.nodes[n]``) stay in the overlay.
    """

    base: CorridorGraph
    """The graph this overlay was made from (never changed through the overlay)."""

    _owned_adj: set[Hashable]
    _owned_pairs: set[frozenset[Hashable]]

    def __getstate__(self) -> dict[str, Any]:
        # a pickled overlay is a whole graph of its own: its base stays behind
        state = dict(self.__dict__)
        state.pop("base", None)
        return state

    def own_edge_data(self) -> None:
        """Take this overlay's own copy of every edge attribute dict (a full copy's cost).

        For a search that writes temporary weights into every edge
        (:func:`planner.search.alternatives.distinct_alternatives`): the shared network's dicts
        are then never written, whatever other requests run at the same time.
        """
        adjacency: dict[Hashable, Any] = {}
        current: dict[Hashable, Any] = vars(self)["_adj"]
        for node, neighbours in current.items():
            mine = adjacency[node] = {}
            for other, keys in neighbours.items():
                if other in adjacency and node in adjacency[other]:
                    mine[other] = adjacency[other][node]  # one dict per pair, both ways
                else:
                    mine[other] = {key: dict(data) for key, data in keys.items()}
        self._adj = adjacency  # networkx resets its views of the adjacency
        self._owned_pairs = set()

    def changed_nodes(self) -> set[Hashable]:
        """Every node whose edges may differ from the base graph's (and every new node)."""
        return set(self._owned_adj) | set(self.added_nodes())

    def added_nodes(self) -> list[Hashable]:
        """Nodes not in the base graph, in the order added."""
        adjacency = self._adj
        if isinstance(adjacency, _Layered):
            return adjacency.added()
        return [node for node in adjacency if node not in self.base]

    def lost_base_nodes(self) -> bool:
        """Whether a node of the base graph was removed (even if added again)."""
        adjacency = self._adj
        if isinstance(adjacency, _Layered):
            return bool(adjacency.gone)
        return any(node not in adjacency for node in self.base)

    def changes(self) -> OverlayChanges:
        """What this overlay changed of its base, to be laid again over an equal base
        (:meth:`take`)."""
        nodes, adjacency = self._node, self._adj
        if not isinstance(nodes, _Layered) or not isinstance(adjacency, _Layered):
            raise TypeError("the overlay's node and adjacency maps were replaced")
        return OverlayChanges(
            nodes=dict(nodes.own),
            nodes_gone=set(nodes.gone),
            adjacency=dict(adjacency.own),
            adjacency_gone=set(adjacency.gone),
            owned_adjacency=set(self._owned_adj),
            owned_pairs=set(self._owned_pairs),
            graph=dict(self.graph),
            version=self.version,
        )

    def take(self, changes: OverlayChanges) -> None:
        """Make this overlay, unchanged so far, what :meth:`changes` described: the same
        nodes, edges, attributes and orders, as if the same changes had been made here."""
        nodes, adjacency = self._node, self._adj
        if self.version != 0 or not isinstance(nodes, _Layered):
            raise ValueError("changes are taken only by an overlay not changed yet")
        if not isinstance(adjacency, _Layered):  # pragma: no cover - as made by overlay()
            raise TypeError("the overlay's adjacency map was replaced")
        nodes.own.clear()
        nodes.own.update(changes.nodes)
        nodes.gone = set(changes.nodes_gone)
        adjacency.own.clear()
        adjacency.own.update(changes.adjacency)
        adjacency.gone = set(changes.adjacency_gone)
        self._owned_adj = set(changes.owned_adjacency)
        self._owned_pairs = set(changes.owned_pairs)
        self.graph.clear()
        self.graph.update(changes.graph)
        self.version = changes.version

    # -- copy on write

    def _own_adj(self, node: Hashable) -> None:
        if node in self._adj and node not in self._owned_adj:
            self._adj[node] = dict(self._adj[node])
            self._owned_adj.add(node)

    def _own_pair(self, u: Hashable, v: Hashable) -> None:
        """Own ``u``'s and ``v``'s neighbours and the dict of their parallel edges."""
        self._own_adj(u)
        self._own_adj(v)
        pair = frozenset((u, v))
        if u in self._adj and v in self._adj[u] and pair not in self._owned_pairs:
            keys = dict(self._adj[u][v])
            self._adj[u][v] = keys
            self._adj[v][u] = keys
            self._owned_pairs.add(pair)

    # -- the changes networkx makes, routed through the copies above

    def add_nodes_from(self, nodes_for_adding: Any, **attr: Any) -> None:
        for item in nodes_for_adding:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], dict):
                self.add_node(item[0], **{**attr, **item[1]})
            else:
                self.add_node(item, **attr)

    def remove_node(self, n: Any) -> None:
        if n in self._adj:
            for neighbour in list(self._adj[n]):
                self._own_adj(neighbour)
        super().remove_node(n)

    def remove_nodes_from(self, nodes: Any) -> None:
        for n in list(nodes):
            if n in self._node:
                self.remove_node(n)

    def add_edge(self, u_for_edge: Any, v_for_edge: Any, key: Any = None, **attr: Any) -> Any:
        u, v = u_for_edge, v_for_edge
        self._own_pair(u, v)
        if key is not None and u in self._adj and v in self._adj[u] and key in self._adj[u][v]:
            self._adj[u][v][key] = dict(self._adj[u][v][key])  # updated in place below
        return super().add_edge(u, v, key, **attr)

    def add_edges_from(self, ebunch_to_add: Any, **attr: Any) -> Any:
        # networkx adds each edge through add_edge, then updates the dict add_edge gave it
        return super().add_edges_from(ebunch_to_add, **attr)

    def remove_edge(self, u: Any, v: Any, key: Any = None) -> None:
        self._own_pair(u, v)
        super().remove_edge(u, v, key)

    def remove_edges_from(self, ebunch: Any) -> None:
        for edge in list(ebunch):
            u, v = edge[0], edge[1]
            self._own_pair(u, v)
        super().remove_edges_from(ebunch)

    def clear_edges(self) -> None:
        for node in list(self._adj):
            self._own_adj(node)
        super().clear_edges()


@dataclass
class OverlayChanges:
    """An overlay's own nodes, adjacency and bookkeeping (:meth:`OverlayGraph.changes`).

    Picklable: the base's parallel-edge maps an owned adjacency still refers to are kept
    as plain dicts of their (equal) attribute dicts.
    """

    nodes: dict[Hashable, Any]
    nodes_gone: set[Hashable]
    adjacency: dict[Hashable, Any]
    adjacency_gone: set[Hashable]
    owned_adjacency: set[Hashable]
    owned_pairs: set[frozenset[Hashable]]
    graph: dict[str, Any]
    version: int


def overlay(base: CorridorGraph) -> OverlayGraph:
    """A graph equal to ``base`` that shares its memory and never changes it.

    Costs one pointer per node instead of a copy of every attribute dict.
    """
    graph = OverlayGraph()
    graph.base = base
    graph.graph = dict(base.graph)
    graph._node = _OwnNodes(base._node)
    graph._adj = _Layered(base._adj)  # type: ignore[assignment]
    graph._owned_adj = set()
    graph._owned_pairs = set()
    return graph


def nodes_and_edges(graph: CorridorGraph) -> Iterable[tuple[Any, ...]]:
    """Every node with its attributes and every edge with its key and attributes, in order.

    For tests and checks: two graphs are equal when these are.
    """
    for node, attrs in graph.nodes(data=True):
        yield ("node", node, dict(attrs))
    for u, v, key, data in graph.edges(keys=True, data=True):
        yield ("edge", u, v, key, dict(data))
