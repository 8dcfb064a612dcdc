"""Search: graph algorithms that know nothing of geography or money.

The lowest level of the planner. Every function here takes a graph (a networkx graph or
its compiled CSR snapshot) and an edge weight, and answers a graph question: the shortest
path (:mod:`~planner.search.shortest_paths`), the best route, k alternatives and a diverse
pair (:mod:`~planner.search.route_search`, :mod:`~planner.search.alternatives`), a
near-optimal Steiner tree (:mod:`~planner.search.steiner`) or a 2-edge-connected ring
(:mod:`~planner.search.ring`). Nothing here imports the other levels.
"""

from typing import TYPE_CHECKING

from planner._lazy import lazy_attributes

if TYPE_CHECKING:
    from planner.search.alternatives import distinct_alternatives
    from planner.search.ring import RingSolution, exact_ring, ring_subgraph
    from planner.search.route_search import (
        DiversePair,
        Route,
        diverse_pair,
        k_alternatives,
        shortest_route,
    )
    from planner.search.shortest_paths import CSRGraph, csr_of
    from planner.search.steiner import SteinerSolution, steiner_tree, steiner_tree_csr

__all__ = [
    "CSRGraph",
    "DiversePair",
    "RingSolution",
    "Route",
    "SteinerSolution",
    "csr_of",
    "distinct_alternatives",
    "diverse_pair",
    "exact_ring",
    "k_alternatives",
    "ring_subgraph",
    "shortest_route",
    "steiner_tree",
    "steiner_tree_csr",
]

__getattr__ = lazy_attributes(
    __name__,
    {
        "planner.search.alternatives": ("distinct_alternatives",),
        "planner.search.ring": ("RingSolution", "exact_ring", "ring_subgraph"),
        "planner.search.route_search": (
            "DiversePair",
            "Route",
            "diverse_pair",
            "k_alternatives",
            "shortest_route",
        ),
        "planner.search.shortest_paths": ("CSRGraph", "csr_of"),
        "planner.search.steiner": ("SteinerSolution", "steiner_tree", "steiner_tree_csr"),
    },
)
