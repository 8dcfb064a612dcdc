"""Work a plan repeats on the same network and inputs, done once and kept beside the store.

A last mile attaches every locality of its area and a candidate radio site near each to a
copy of the network (for a state, a few thousand places, each splitting a corridor edge
and adding a drop, about a quarter of a millisecond apiece in Python), and surveys the
radio paths between those sites and localities over the terrain. Planned again (another
budget, a rerun, a service job), the same places attach in the same way and the same
paths have the same clearances, so both are kept as build-cache entries
(:mod:`planner.network.build_cache`) under a key of the network's own build key and every
input that is not part of the network: the places' names and exact positions, the
candidate sites', the terrain window's, the drop parameters. A layer load, another cost
model or a changed planner gives another network key, so a stale entry is never read.

Attaching is kept as the overlay's changes (:meth:`planner.network.overlay.OverlayGraph.changes`)
and the places' nodes; a hit lays those changes over the fresh copy
(:meth:`~planner.network.overlay.OverlayGraph.take`): the same nodes, edges, attributes and
orders as attaching them again, so every later step plans on an identical graph.

Only large batches are kept (:data:`WORTH_KEEPING`): a route's two places attach in less
time than an entry takes to read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from planner.network.build_cache import BuildCache, content_key
from planner.network.overlay import OverlayGraph
from planner.network.places import Place

T = TypeVar("T")

ATTACHED = "attached-places"
"""Build-cache entry name of attachments."""

KEPT = 40
"""Entries of each name kept beside a store, the newest first: every state of a national
run (32) and a few more. An entry is one to a few MB."""

WORTH_KEEPING = 500
"""Fewer places (or localities) than this are worked out every time: reading an entry
costs about as much."""


@dataclass(frozen=True)
class PlanningMemo:
    """Work kept in the build cache in ``folder`` for the network whose build-cache key is
    ``network_key``."""

    folder: Path
    network_key: str

    def kept(self, name: str, parts: dict[str, Any], compute: Callable[[], T]) -> T:
        """``compute()``, kept as entry ``name`` under this network and ``parts`` (JSON-able:
        everything besides the network the value depends on); computed once."""
        key = content_key(network=self.network_key, **parts)
        return BuildCache(self.folder, keep=KEPT).get(name, key, compute)

    def attach(
        self,
        graph: OverlayGraph,
        places: Sequence[Place],
        parameters: dict[str, Any],
        attach: Callable[[], list[Hashable]],
    ) -> list[Hashable]:
        """``attach()``'s nodes for ``places``, its changes to ``graph`` read back if kept.

        ``graph`` is a copy of this memo's network; ``attach`` attaches ``places`` to it
        (with ``parameters``, which it depends on besides them) and returns their nodes in
        order. Kept only for many places on a copy not changed yet.
        """
        if not (
            isinstance(graph, OverlayGraph) and graph.version == 0 and len(places) >= WORTH_KEEPING
        ):
            return attach()
        attached: list[list[Hashable]] = []

        def build() -> tuple[list[Hashable], Any]:
            nodes = attach()
            attached.append(nodes)
            return nodes, graph.changes()

        nodes, changes = self.kept(
            ATTACHED, {"places": places_digest(places), "parameters": parameters}, build
        )
        if attached:  # attached here just now: the graph holds the changes already
            return attached[0]
        graph.take(changes)
        return list(nodes)


def places_digest(places: Sequence[Place]) -> str:
    """A hash of the places' names and exact positions, in order."""
    digest = hashlib.sha256()
    for place in places:
        digest.update(place.name.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    digest.update(arrays_digest(np.array([(p.lon, p.lat) for p in places], dtype=float)).encode())
    return digest.hexdigest()


def arrays_digest(*arrays: Any) -> str:
    """A hash of arrays' types, shapes and exact values."""
    digest = hashlib.sha256()
    for array in arrays:
        values = np.ascontiguousarray(array)
        digest.update(f"{values.dtype.str}{values.shape}".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()
