"""Measure a planned proposal and store it under a free name.

One way to store a proposal for every adapter (command line, HTTP jobs): under the name
asked for (refused when taken, unless it may be replaced), or under the slug of the
proposal's own name, with ``_2``, ``_3``, ... added while that name is taken.
"""

from __future__ import annotations

import re
import unicodedata

from layers.errors import AlreadyExistsError
from layers.store_api import LayerStore
from planner.proposals.formats import proposal_to_geojson
from planner.proposals.metrics import ProposalMetrics, compute_metrics
from planner.proposals.proposal import Proposal
from usecases.context import PlanningContext

MAX_SUFFIX = 1000
"""How many numbered names are tried before a default name is given up on."""


def measure(context: PlanningContext, proposal: Proposal) -> ProposalMetrics:
    """The proposal's metrics, with states and municipalities crossed."""
    return compute_metrics(
        proposal,
        context.state_areas,
        context.municipality_areas,
        latency_us_per_km=context.network.cost_model.latency.us_per_km,
    )


def save_proposal(
    store: LayerStore, proposal: Proposal, metrics: ProposalMetrics, name: str, *, replace: bool
) -> dict[str, object]:
    """Store the proposal's GeoJSON document under ``name`` and return the document."""
    document = proposal_to_geojson(proposal, metrics)
    store.write_proposal(name, proposal.kind, document, replace=replace)
    return document


def store_proposal(
    store: LayerStore,
    proposal: Proposal,
    metrics: ProposalMetrics,
    name: str | None = None,
    *,
    replace: bool = False,
) -> tuple[str, dict[str, object]]:
    """Store a proposal; return the name it was stored under and its document.

    Parameters
    ----------
    name
        The name to store it under; a taken name is an ``AlreadyExistsError`` unless
        ``replace``. None: the slug of the proposal's name (:func:`proposal_slug`); with
        ``replace`` that name is replaced, else ``_2``, ``_3``, ... are added while the
        name is taken.
    replace
        Replace a stored proposal of the name.
    """
    base = proposal_slug(proposal.name)
    if name is not None or replace:
        name = name or base
        return name, save_proposal(store, proposal, metrics, name, replace=replace)
    # the document once, and the names taken read once: trying name after name, each a
    # write of the whole document, made every job slower than the last of its name
    document = proposal_to_geojson(proposal, metrics)
    taken = set(store.proposal_names())
    for n in range(1, MAX_SUFFIX):
        candidate = base if n == 1 else f"{base[:58]}_{n}"
        if candidate in taken:
            continue
        try:
            store.write_proposal(candidate, proposal.kind, document, replace=False)
        except AlreadyExistsError:
            continue  # taken meanwhile by another process: the next one
        return candidate, document
    raise AlreadyExistsError(f"too many proposals named {base!r}; give a name")


def proposal_slug(text: str) -> str:
    """A store name for a proposal title.

    Examples
    --------
    >>> proposal_slug("route-Villahermosa, Tabasco-Cancún")
    'route_villahermosa_tabasco_cancun'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"p_{slug}"
    return slug[:63].rstrip("_")
