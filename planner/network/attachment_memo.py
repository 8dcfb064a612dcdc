"""Attach the same many places to the same network once: what it changed, kept beside the store.

A last mile attaches every locality of its area and a candidate radio site near each to a
copy of the network: for a state, a few thousand places, each splitting a corridor edge
and adding a drop, about a quarter of a millisecond apiece in Python. Planned again (another
budget, coverage layer or technology price, a rerun), the same places attach to the same
network in the same way, so the result is kept as a build-cache entry
(:mod:`planner.network.build_cache`): the overlay's changes
(:meth:`planner.network.overlay.OverlayGraph.changes`) and the places' nodes, under a key
of the network's own key, every place's name and exact position, and the drop parameters.
A hit lays those changes over the fresh copy (:meth:`~planner.network.overlay.OverlayGraph.take`):
the same nodes, edges, attributes and orders as attaching them again, so every later step
plans on an identical graph. A layer load, another cost model or a changed planner gives
another network key, and other places another key, so a stale entry is never read.

Only large batches on a copy not changed yet are kept (:data:`MIN_PLACES`): a route's two
places attach in less time than an entry takes to read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from planner.network.build_cache import BuildCache, content_key
from planner.network.overlay import OverlayGraph
from planner.network.places import Place

ENTRY = "attached-places"
"""Build-cache entry name of attachments."""

KEPT = 40
"""Attachments kept beside a store, the newest first: every state of a national run (32)
and a few more. An entry is one to a few MB."""

MIN_PLACES = 500
"""Fewer places than this are attached every time: reading an entry costs about as much."""


@dataclass(frozen=True)
class AttachmentMemo:
    """Attachments to one network, kept in the build cache in ``folder`` under the network's
    build-cache key ``network_key``."""

    folder: Path
    network_key: str

    def attach(
        self,
        graph: OverlayGraph,
        places: Sequence[Place],
        parameters: dict[str, Any],
        attach: Callable[[], list[Hashable]],
    ) -> list[Hashable]:
        """``attach()``'s nodes for ``places``, its changes to ``graph`` read back if kept.

        ``graph`` is a copy of this memo's network not changed yet; ``attach`` attaches
        ``places`` to it (with ``parameters``, which it depends on besides them) and
        returns their nodes in order.
        """
        if not self.applies(graph, places):
            return attach()
        key = content_key(
            network=self.network_key, places=places_digest(places), parameters=parameters
        )
        attached: list[list[Hashable]] = []

        def build() -> tuple[list[Hashable], Any]:
            nodes = attach()
            attached.append(nodes)
            return nodes, graph.changes()

        nodes, changes = BuildCache(self.folder, keep=KEPT).get(ENTRY, key, build)
        if attached:  # attached here just now: the graph holds the changes already
            return attached[0]
        graph.take(changes)
        return list(nodes)

    @staticmethod
    def applies(graph: Any, places: Sequence[Place]) -> bool:
        """Whether attaching ``places`` to ``graph`` is kept: many places, untouched copy."""
        return isinstance(graph, OverlayGraph) and graph.version == 0 and len(places) >= MIN_PLACES


def places_digest(places: Sequence[Place]) -> str:
    """A hash of the places' names and exact positions, in order."""
    digest = hashlib.sha256()
    for place in places:
        digest.update(place.name.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    digest.update(np.array([(p.lon, p.lat) for p in places], dtype="<f8").tobytes())
    return digest.hexdigest()
