"""Proposals as value objects: the costed segments a planner puts forward.

A :class:`Proposal` is what a route, backbone or last-mile plan returns: a tuple of
:class:`Segment` lines (each with its deployment type, geodesic length, cost and the right of
way it rides), lump-sum node costs (splice sites, landings, points of presence), the places it
connects and where its cost numbers came from. Proposals are immutable; the metrics a planner
defends (km by deployment, capex, reuse share, states crossed, latency) are derived from them by
:func:`planner.proposals.metrics.compute_metrics`.

Their other forms (GeoJSON, a GeoDataFrame, a bill of quantities) are in
:mod:`planner.proposals.formats`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import shapely
from pyproj import Geod
from shapely import LineString

from planner.network.cost_model import DEPLOYMENT_TYPES as BACKBONE_DEPLOYMENT_TYPES
from planner.network.places import Place

ProposalKind = Literal["route", "backbone", "last_mile"]
PROPOSAL_KINDS: tuple[str, ...] = get_args(ProposalKind)

#: The deployment types Trazo's planners produce. ``Segment.deployment_type`` stays an open
#: string so a cost model can add its own, but these are the ones the planners and maps know:
#:
#: - ``fiber_lease``: capacity on an existing fiber route (IRU or lease), no construction;
#: - ``rail``, ``highway``, ``pipeline``: new duct or cable along that right of way;
#: - ``power_aerial``: aerial cable (ADSS/OPGW) on power transmission towers;
#: - ``greenfield``: new trench across land with no existing right of way;
#: - ``subsea``: submarine cable;
#: - ``connector``: short link from a terminal or landing to the network;
#: - ``last_mile_fiber``, ``fixed_wireless``, ``satellite``: access to a locality.
DEPLOYMENT_TYPES: tuple[str, ...] = (
    *BACKBONE_DEPLOYMENT_TYPES,
    "last_mile_fiber",
    "fixed_wireless",
    "satellite",
)

BOQ_KM_DECIMALS = 3
"""A bill of quantities gives lengths to the metre."""
USD_DECIMALS = 2
"""Costs are kept to the cent."""
MULTIPLIER_DECIMALS = 4
"""Rate multipliers are kept to 4 decimals (a hundredth of a percent)."""

_GEOD = Geod(ellps="WGS84")
#: A length given to :class:`Segment` may differ this much (relative) from the geodesic length
#: of its geometry, so planar lengths in EPSG:6372 pass while degrees or metres are refused.
_LENGTH_TOLERANCE = 0.05


def line_length_km(line: LineString) -> float:
    """Return the geodesic length in km of an EPSG:4326 line on the WGS84 ellipsoid.

    Each pair of consecutive vertices is joined by the geodesic between them.

    Parameters
    ----------
    line : shapely.LineString
        Coordinates in longitude, latitude degrees.

    Returns
    -------
    float
        Length in kilometres.

    Examples
    --------
    >>> from shapely import LineString
    >>> round(line_length_km(LineString([(0, 0), (0, 1)])), 3)
    110.574
    """
    # pyproj's geometry_length reads the line through shapely's .xy, which costs more than
    # the geodesic sum on a short line: a route of a thousand street segments measures each
    xy = shapely.get_coordinates(line)
    return float(_GEOD.line_length(xy[:, 0], xy[:, 1])) / 1000.0


@dataclass(frozen=True)
class Segment:
    """One costed line of a proposal.

    Parameters
    ----------
    geometry : shapely.LineString
        The line in EPSG:4326 (longitude, latitude).
    deployment_type : str
        How the line is built; one of :data:`DEPLOYMENT_TYPES` for the planners' own output.
    length_km : float, optional
        Geodesic length in km (WGS84). Left out (NaN), it is computed from ``geometry``; a given
        value must be within 5 % of the geodesic length, which catches degrees or metres.
    cost_usd : float
        Capital cost of this line in US dollars, >= 0.
    source_layer : str or None
        Layer the line was taken from (a right of way, fiber route or cable), if any.
    corridor : str or None
        ``"layer:feature_id"`` of the corridor feature the line rides, if any.
    reuses_corridor : bool
        True when the line rides an existing right of way (rail, highway, pipeline, power).
    reuses_fiber : bool
        True when the line is capacity on existing fiber (a lease), not new cable.
    role : str
        Which part of the proposal the line belongs to: ``"primary"``, ``"alternative-1"``,
        ``"diverse-a"``, ``"diverse-b"``, ``"backbone"``, ``"ring"``, ``"last-mile"``, ...
    name : str or None
        A label for maps and tables.
    extra : dict
        Anything else worth keeping (JSON-serialisable values travel through GeoJSON).
    rate_usd_per_km : float or None
        The cost model's USD/km for ``deployment_type``. When given, ``cost_usd`` is not
        taken as given but computed: ``length_km × rate_usd_per_km × every multiplier``,
        so each segment's cost can be redone by hand from its own properties.
    multipliers : dict of str to float
        Named factors on the rate (``terrain``: slope of the ground crossed,
        ``corridor_ground``: the share of a new trench laid beside an existing right of way
        at that right of way's rate, ...); 4 decimals.

    Costs are kept to the cent, so the costs people read add up to the proposal's totals
    exactly.

    Examples
    --------
    >>> from shapely import LineString
    >>> seg = Segment.along(LineString([(-99, 19), (-99, 20)]), "highway", usd_per_km=30_000)
    >>> round(seg.length_km, 1), round(seg.cost_usd)
    (110.7, 3320944)
    """

    geometry: LineString
    deployment_type: str
    length_km: float = math.nan
    cost_usd: float = 0.0
    source_layer: str | None = None
    corridor: str | None = None
    reuses_corridor: bool = False
    reuses_fiber: bool = False
    role: str = "primary"
    name: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    rate_usd_per_km: float | None = None
    multipliers: Mapping[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.geometry, LineString) or self.geometry.is_empty:
            raise ValueError(
                "a segment's geometry must be a non-empty LineString; "
                "split MultiLineStrings into one segment per part"
            )
        if not self.deployment_type:
            raise ValueError("a segment needs a deployment_type, e.g. 'highway' or 'greenfield'")
        geodesic = line_length_km(self.geometry)
        given = self.length_km
        if given is None or math.isnan(given):
            object.__setattr__(self, "length_km", geodesic)
        else:
            given = float(given)
            if given < 0 or abs(given - geodesic) > _LENGTH_TOLERANCE * geodesic + 0.001:
                raise ValueError(
                    f"length_km={given:g} does not match the geodesic length of the geometry "
                    f"({geodesic:.3f} km); give km on the ellipsoid or leave length_km out"
                )
            object.__setattr__(self, "length_km", given)
        multipliers = {
            str(k): round(float(v), MULTIPLIER_DECIMALS) for k, v in self.multipliers.items()
        }
        if any(not (math.isfinite(v) and v > 0) for v in multipliers.values()):
            raise ValueError(f"multipliers must be finite numbers > 0, got {self.multipliers!r}")
        object.__setattr__(self, "multipliers", multipliers)
        cost = float(self.cost_usd)
        if self.rate_usd_per_km is not None:
            rate = float(self.rate_usd_per_km)
            if not math.isfinite(rate) or rate < 0:
                raise ValueError(f"rate_usd_per_km must be an amount >= 0, got {rate!r}")
            object.__setattr__(self, "rate_usd_per_km", rate)
            cost = self.length_km * rate * math.prod(multipliers.values())
        if not math.isfinite(cost) or cost < 0:
            raise ValueError(f"cost_usd must be a finite amount >= 0, got {self.cost_usd!r}")
        object.__setattr__(self, "cost_usd", round(cost, USD_DECIMALS))
        object.__setattr__(self, "extra", dict(self.extra))

    @classmethod
    def along(
        cls,
        geometry: LineString,
        deployment_type: str,
        *,
        usd_per_km: float,
        **fields: Any,
    ) -> Segment:
        """Build a segment costed at ``usd_per_km`` times its geodesic length.

        Parameters
        ----------
        geometry : shapely.LineString
            The line in EPSG:4326.
        deployment_type : str
            How the line is built.
        usd_per_km : float
            Unit cost in US dollars per km.
        **fields
            Any other :class:`Segment` field (``role``, ``corridor``, ...).

        Returns
        -------
        Segment
        """
        return cls(
            geometry=geometry,
            deployment_type=deployment_type,
            rate_usd_per_km=usd_per_km,
            **fields,
        )

    @property
    def usd_per_km(self) -> float | None:
        """Effective unit cost in USD/km, None for a zero-length segment."""
        return self.cost_usd / self.length_km if self.length_km > 0 else None


#: Roles of the proposal features that are not lines to build (:class:`Marker`).
MARKER_ROLES: tuple[str, ...] = ("wireless_site", "microwave_link", "locality")


@dataclass(frozen=True)
class Marker:
    """A proposal feature that is not a line to build: a wireless site, a microwave hop or
    a served locality.

    Its cost, if any, is already in the proposal's node costs (sites, links, per-locality
    equipment), so markers never add to the capex; they show where the money goes.

    Parameters
    ----------
    geometry : shapely.Point or shapely.LineString
        In EPSG:4326.
    role : str
        One of :data:`MARKER_ROLES`.
    properties : mapping
        JSON-serialisable attributes (``site_id``, ``people_covered``, ``cost_usd``, ...).
    """

    geometry: Any
    role: str
    properties: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.role not in MARKER_ROLES:
            raise ValueError(f"unknown marker role {self.role!r}; use one of {MARKER_ROLES}")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Proposal:
    """A costed plan: segments, node costs and the places it connects.

    Parameters
    ----------
    kind : {"route", "backbone", "last_mile"}
        What was planned.
    name : str
        A label, also used to store the proposal.
    segments : tuple of Segment
        The lines, in the order the planner produced them.
    terminals : sequence of planner.network.places.Place
        The places connected; for a route, origin first and destination last.
    node_costs_usd : mapping of str to float
        Lump-sum costs not tied to a length, e.g. ``{"splice_sites": 120000, "landing": 2e6}``.
        Keys must not repeat a deployment type of the segments (rename them, e.g.
        ``"satellite_terminals"``), so capex by deployment stays unambiguous.
    parameters : mapping
        The inputs that produced the proposal (JSON-serialisable values).
    people_covered : int or None
        People in the localities served, when the planner counts them.
    cost_model_source : str
        Which cost model file produced the costs, with its version or description.
    notes : sequence of str
        Caveats the planner wants shown with the proposal.
    markers : sequence of Marker
        Wireless sites, microwave links and served localities (last mile).
    created_at : str
        ISO 8601 UTC timestamp; now by default.
    """

    kind: ProposalKind
    name: str
    segments: tuple[Segment, ...]
    terminals: Sequence[Place] = ()
    node_costs_usd: Mapping[str, float] = field(default_factory=dict, hash=False)
    parameters: Mapping[str, Any] = field(default_factory=dict, hash=False)
    people_covered: int | None = None
    cost_model_source: str = ""
    notes: Sequence[str] = ()
    created_at: str = field(default_factory=utc_now)
    markers: Sequence[Marker] = ()

    def __post_init__(self) -> None:
        if self.kind not in PROPOSAL_KINDS:
            raise ValueError(
                f"unknown proposal kind {self.kind!r}; use one of: {', '.join(PROPOSAL_KINDS)}"
            )
        object.__setattr__(self, "segments", tuple(self.segments))
        object.__setattr__(self, "terminals", tuple(self.terminals))
        object.__setattr__(self, "markers", tuple(self.markers))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))
        object.__setattr__(self, "parameters", dict(self.parameters))
        costs: dict[str, float] = {}
        for key, value in self.node_costs_usd.items():
            amount = float(value)
            if not math.isfinite(amount) or amount < 0:
                raise ValueError(f"node cost {key!r} must be a finite amount >= 0, got {value!r}")
            costs[str(key)] = round(amount, USD_DECIMALS)
        clash = sorted(set(costs) & {s.deployment_type for s in self.segments})
        if clash:
            raise ValueError(
                f"node cost keys {clash} repeat a segment deployment type; "
                "rename them (e.g. 'satellite_terminals') so capex by deployment stays clear"
            )
        object.__setattr__(self, "node_costs_usd", costs)
        if self.people_covered is not None:
            people = int(self.people_covered)
            if people < 0:
                raise ValueError(f"people_covered must be >= 0, got {self.people_covered}")
            object.__setattr__(self, "people_covered", people)

    @property
    def roles(self) -> tuple[str, ...]:
        """The segment roles in order of first appearance."""
        return tuple(dict.fromkeys(s.role for s in self.segments))
