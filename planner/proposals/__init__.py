"""Proposals: what every plan returns, the metrics a planner defends, and their exports.

The third level. A :class:`~planner.proposals.proposal.Proposal` is a value object of
costed segments (:mod:`~planner.proposals.proposal`), written out and read back by
:mod:`~planner.proposals.formats`; routed graph edges become those
segments in :mod:`~planner.proposals.segments`, and :mod:`~planner.proposals.make` adds the
node costs and notes every plan shares; :mod:`~planner.proposals.metrics` measures the
result. It imports only :mod:`planner.network` and :mod:`planner.search`.
"""

from typing import TYPE_CHECKING

from planner._lazy import lazy_attributes

if TYPE_CHECKING:
    from planner.proposals.formats import proposal_from_geojson, proposal_to_geojson
    from planner.proposals.make import make_proposal
    from planner.proposals.metrics import ProposalMetrics, compute_metrics
    from planner.proposals.proposal import Marker, Proposal, Segment
    from planner.proposals.segments import segments_from_edges

__all__ = [
    "Marker",
    "Proposal",
    "ProposalMetrics",
    "Segment",
    "compute_metrics",
    "make_proposal",
    "proposal_from_geojson",
    "proposal_to_geojson",
    "segments_from_edges",
]

__getattr__ = lazy_attributes(
    __name__,
    {
        "planner.proposals.formats": ("proposal_from_geojson", "proposal_to_geojson"),
        "planner.proposals.make": ("make_proposal",),
        "planner.proposals.metrics": ("ProposalMetrics", "compute_metrics"),
        "planner.proposals.proposal": ("Marker", "Proposal", "Segment"),
        "planner.proposals.segments": ("segments_from_edges",),
    },
)
