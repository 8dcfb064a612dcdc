"""Cost model: what fiber, nodes and last-mile technologies cost, and where each number comes from.

A cost model is data. The defaults ship in ``data/cost_model.toml`` with a ``source`` next
to every number; :func:`load_cost_model` reads and validates that file (or a user's own),
and :meth:`CostModel.with_overrides` applies a scenario's partial changes on top. Every
validation problem becomes a :class:`CostModelError` naming the offending key, e.g.
``cost_model.toml: deployment.rail.usd_per_km must be > 0``.

All money is US dollars; lengths are kilometres.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from layers.bundled_data import BUNDLED_DATA_DIR
from layers.errors import CostModelError
from planner._toml import problem_location, read_toml

DEFAULT_COST_MODEL_PATH = BUNDLED_DATA_DIR / "cost_model.toml"

DeploymentType = Literal[
    "fiber_lease",
    "rail",
    "highway",
    "pipeline",
    "power_aerial",
    "greenfield",
    "subsea",
    "connector",
]
DEPLOYMENT_TYPES: tuple[str, ...] = get_args(DeploymentType)

_ROW_TO_DEPLOYMENT: dict[str, str] = {
    "rail": "rail",
    "highway": "highway",
    "pipeline": "pipeline",
    "power": "power_aerial",
    # "other" rights of way (canals, unspecified) carry no cost evidence: a cable along them
    # is costed as a new trench.
    "other": "greenfield",
}

Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]


class _Entry(BaseModel):
    """One sourced entry of the cost model; extra keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source


class Meta(_Entry):
    """What the model is priced in."""

    currency: Literal["USD"] = "USD"
    price_year: Annotated[int, Field(ge=1990, le=2100)]


class DeploymentCost(_Entry):
    """Cost per route-km of one way of deploying backbone fiber."""

    usd_per_km: PositiveFloat


class Deployments(BaseModel):
    """USD/km for every deployment type; all are required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fiber_lease: DeploymentCost
    rail: DeploymentCost
    highway: DeploymentCost
    pipeline: DeploymentCost
    power_aerial: DeploymentCost
    greenfield: DeploymentCost
    subsea: DeploymentCost
    connector: DeploymentCost


class RoadClasses(BaseModel):
    """USD/km for fiber along a road of each class (``road_class`` of a highway corridor).

    A road layer loaded from OpenStreetMap or INEGI's Red Nacional de Caminos carries a
    class; a highway corridor without one is priced at ``deployment.highway``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    motorway: DeploymentCost
    primary: DeploymentCost
    secondary: DeploymentCost
    local: DeploymentCost
    unpaved: DeploymentCost


class SpliceSite(_Entry):
    """An in-line amplifier / splice shelter every ``spacing_km`` of route."""

    spacing_km: PositiveFloat
    usd_each: NonNegativeFloat


class NodeCost(_Entry):
    """A one-off cost per node (landing, terminal point of presence)."""

    usd_each: NonNegativeFloat


class Nodes(BaseModel):
    """Per-node costs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    splice_site: SpliceSite
    landing: NodeCost
    terminal_pop: NodeCost


class FiberAccess(_Entry):
    """Fiber to the home: distribution cable per km plus drop/ONT per household."""

    usd_per_km: NonNegativeFloat
    usd_per_household: NonNegativeFloat


class FixedWireless(_Entry):
    """Point-to-multipoint fixed wireless: sites with a range and a capacity, CPE per subscriber."""

    usd_per_site: NonNegativeFloat
    max_range_km: PositiveFloat
    persons_per_site: PositiveFloat
    usd_per_subscriber: NonNegativeFloat


class Radio(_Entry):
    """How a wireless site reaches a locality: a clear path over the terrain."""

    method: str
    frequency_ghz: PositiveFloat
    mast_height_m: NonNegativeFloat
    cpe_height_m: NonNegativeFloat
    k_factor: PositiveFloat
    fresnel_clearance: NonNegativeFloat
    high_point_radius_km: NonNegativeFloat
    usd_per_extra_radio: NonNegativeFloat
    max_radios_per_site: Annotated[int, Field(ge=1, le=100)]


class Microwave(_Entry):
    """Microwave backhaul of a wireless site: hops to the backbone, with limits and costs."""

    frequency_ghz: PositiveFloat
    mast_height_m: NonNegativeFloat
    max_hop_km: PositiveFloat
    max_hops: Annotated[int, Field(ge=1, le=10)]
    usd_per_link: NonNegativeFloat
    usd_per_relay: NonNegativeFloat


class Satellite(_Entry):
    """Satellite broadband: one terminal per household plus yearly service."""

    usd_per_terminal: NonNegativeFloat
    usd_per_year: NonNegativeFloat


class Households(_Entry):
    """Average persons per household, to turn population into subscribers."""

    persons_per_household: PositiveFloat


class Horizon(_Entry):
    """Years over which recurring costs are counted."""

    years: Annotated[int, Field(gt=0, le=50)]


class LastMile(BaseModel):
    """Last-mile technology parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fiber: FiberAccess
    fixed_wireless: FixedWireless
    radio: Radio
    microwave: Microwave
    satellite: Satellite
    households: Households
    horizon: Horizon


class Latency(_Entry):
    """One-way propagation delay in fiber."""

    us_per_km: PositiveFloat
    group_index: Annotated[float, Field(ge=1.0, le=2.0)]


class SlopeBand(_Entry):
    """Greenfield cost multiplier for slopes below ``max_deg`` degrees."""

    max_deg: Annotated[float, Field(gt=0, le=90)]
    multiplier: PositiveFloat


class NoData(_Entry):
    """How greenfield treats cells without elevation (sea, outside the grid)."""

    policy: Literal["impassable", "high_cost"]
    multiplier: PositiveFloat


class Terrain(BaseModel):
    """Slope multiplier table and no-data handling for greenfield trenching."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slope: Annotated[tuple[SlopeBand, ...], Field(min_length=1)]
    nodata: NoData

    @model_validator(mode="after")
    def _bands_cover_all_slopes(self) -> Terrain:
        bounds = [band.max_deg for band in self.slope]
        if any(b >= a for a, b in zip(bounds[1:], bounds, strict=False)):
            raise ValueError("slope bands must be in increasing order of max_deg")
        if bounds[-1] != 90:
            raise ValueError("the last slope band must have max_deg = 90")
        return self


@dataclass(frozen=True)
class NodeCostBreakdown:
    """Node costs of a network: counts and USD per kind, and their total."""

    splice_sites: int
    splice_usd: float
    landings: int
    landing_usd: float
    terminals: int
    terminal_usd: float

    @property
    def total_usd(self) -> float:
        """Sum of splice-site, landing and terminal costs in USD."""
        return self.splice_usd + self.landing_usd + self.terminal_usd


class CostModel(BaseModel):
    """A validated, immutable cost model; every number carries its source.

    Build one with :func:`load_cost_model`; derive a scenario's variant with
    :meth:`with_overrides`.

    Examples
    --------
    >>> model = load_cost_model()
    >>> model.edge_cost_usd("rail", 10.0)
    160000.0
    >>> round(model.latency_ms(1000.0), 3)
    4.9
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    meta: Meta
    deployment: Deployments
    road_class: RoadClasses | None = None
    nodes: Nodes
    last_mile: LastMile
    latency: Latency
    terrain: Terrain

    def usd_per_km(self, deployment_type: str) -> float:
        """Return the USD per route-km of a deployment type.

        Parameters
        ----------
        deployment_type : str
            One of :data:`DEPLOYMENT_TYPES`.

        Returns
        -------
        float
            Cost in USD per km.

        Raises
        ------
        CostModelError
            For an unknown deployment type.
        """
        if deployment_type not in DEPLOYMENT_TYPES:
            known = ", ".join(DEPLOYMENT_TYPES)
            raise CostModelError(
                f"unknown deployment type {deployment_type!r}; use one of: {known}"
            )
        entry: DeploymentCost = getattr(self.deployment, deployment_type)
        return entry.usd_per_km

    def corridor_usd_per_km(self, deployment_type: str, road_class: str | None = None) -> float:
        """USD per route-km along a corridor: its road class's rate on a classed road.

        Parameters
        ----------
        deployment_type : str
            One of :data:`DEPLOYMENT_TYPES`.
        road_class : str, optional
            The corridor's road class (``motorway``, ``primary``, ``secondary``, ``local``,
            ``unpaved``); only a ``highway`` deployment has one. Without one, or without a
            ``[road_class]`` table in the model, the deployment's own rate applies.

        Raises
        ------
        CostModelError
            For an unknown deployment type or road class.
        """
        if deployment_type != "highway" or road_class is None or self.road_class is None:
            return self.usd_per_km(deployment_type)
        entry: DeploymentCost | None = getattr(self.road_class, road_class, None)
        if not isinstance(entry, DeploymentCost):
            known = ", ".join(RoadClasses.model_fields)
            raise CostModelError(f"unknown road class {road_class!r}; use one of: {known}")
        return entry.usd_per_km

    def deployment_for_row_type(
        self, row_type: str, is_fiber: bool = False, lease_available: bool = False
    ) -> str:
        """Return the deployment type for a cable laid along a corridor.

        Existing fiber that can be leased is ``fiber_lease``. Otherwise the right-of-way type
        decides: rail, highway and pipeline map to themselves, power lines to
        ``power_aerial`` and ``other`` to ``greenfield`` (no cost evidence for other rights
        of way). A fiber route that cannot be leased is costed by its ``row_type`` as a new
        cable along the same corridor.

        Parameters
        ----------
        row_type : str
            The corridor's right-of-way type (``rail``, ``highway``, ``pipeline``, ``power``,
            ``other``; case-insensitive).
        is_fiber : bool
            Whether the corridor is an existing fiber route.
        lease_available : bool
            Whether capacity on that fiber can be leased (IRU).

        Returns
        -------
        str
            A deployment type accepted by :meth:`usd_per_km`.

        Raises
        ------
        CostModelError
            For an unknown right-of-way type.
        """
        if is_fiber and lease_available:
            return "fiber_lease"
        key = row_type.strip().lower()
        if key not in _ROW_TO_DEPLOYMENT:
            known = ", ".join(sorted(_ROW_TO_DEPLOYMENT))
            raise CostModelError(f"unknown right-of-way type {row_type!r}; use one of: {known}")
        return _ROW_TO_DEPLOYMENT[key]

    def edge_cost_usd(
        self, deployment: str, length_km: float, terrain_multiplier: float = 1.0
    ) -> float:
        """Return the cost of a cable section: km x USD/km x terrain multiplier.

        Parameters
        ----------
        deployment : str
            Deployment type.
        length_km : float
            Route length in km (>= 0).
        terrain_multiplier : float
            Terrain factor (> 0); 1.0 for flat ground or along a right of way.

        Returns
        -------
        float
            Cost in USD.
        """
        if not length_km >= 0 or not math.isfinite(length_km):
            raise CostModelError(f"length_km must be a finite number >= 0, got {length_km!r}")
        if not terrain_multiplier > 0 or not math.isfinite(terrain_multiplier):
            raise CostModelError(
                f"terrain_multiplier must be a finite number > 0, got {terrain_multiplier!r}"
            )
        return self.usd_per_km(deployment) * length_km * terrain_multiplier

    def splice_sites(self, length_km: float) -> int:
        """Return the number of in-line amplifier / splice sites along ``length_km`` of route."""
        if not length_km >= 0:
            raise CostModelError(f"length_km must be >= 0, got {length_km!r}")
        return math.floor(length_km / self.nodes.splice_site.spacing_km)

    def node_costs_usd(
        self, length_km: float, n_landings: int = 0, n_terminals: int = 0
    ) -> NodeCostBreakdown:
        """Return the node costs of a network of ``length_km`` route km.

        Splice sites are ``floor(length_km / spacing_km)``; each landing and terminal
        point of presence costs its one-off amount.

        Parameters
        ----------
        length_km : float
            Total route length of the new cable in km.
        n_landings : int
            Cable landings interconnected.
        n_terminals : int
            Terminal towns with a point of presence.

        Returns
        -------
        NodeCostBreakdown
            Counts and USD per kind; ``total_usd`` sums them.
        """
        if n_landings < 0 or n_terminals < 0:
            raise CostModelError("n_landings and n_terminals must be >= 0")
        sites = self.splice_sites(length_km)
        nodes = self.nodes
        return NodeCostBreakdown(
            splice_sites=sites,
            splice_usd=sites * nodes.splice_site.usd_each,
            landings=n_landings,
            landing_usd=n_landings * nodes.landing.usd_each,
            terminals=n_terminals,
            terminal_usd=n_terminals * nodes.terminal_pop.usd_each,
        )

    def latency_ms(self, length_km: float) -> float:
        """Return the one-way propagation delay in milliseconds over ``length_km`` of fiber."""
        return length_km * self.latency.us_per_km / 1000.0

    def slope_multiplier(self, slope_deg: np.ndarray) -> np.ndarray:
        """Return the greenfield terrain multiplier of each slope (degrees).

        A slope uses the first band whose ``max_deg`` exceeds it; slopes of 90 degrees use
        the last band. NaN slopes give NaN.

        Parameters
        ----------
        slope_deg : numpy.ndarray
            Slopes in degrees, any shape.

        Returns
        -------
        numpy.ndarray
            Multipliers (float64), same shape.
        """
        slopes = np.asarray(slope_deg, dtype="float64")
        bounds = np.array([band.max_deg for band in self.terrain.slope])
        factors = np.array([band.multiplier for band in self.terrain.slope])
        index = np.clip(np.searchsorted(bounds, slopes, side="right"), 0, len(bounds) - 1)
        out = factors[index]
        out[np.isnan(slopes)] = np.nan
        return out

    @property
    def min_terrain_multiplier(self) -> float:
        """The smallest slope multiplier in the table."""
        return min(band.multiplier for band in self.terrain.slope)

    def describe(self) -> dict[str, dict[str, Any]]:
        """Return every value with its source, keyed by dotted path, for reports.

        Returns
        -------
        dict
            ``{"deployment.rail.usd_per_km": {"value": 16000.0, "source": "..."}, ...}``;
            slope bands are keyed ``terrain.slope[0].multiplier`` and so on.
        """
        out: dict[str, dict[str, Any]] = {}

        def walk(node: Any, prefix: str) -> None:
            if isinstance(node, dict):
                if "source" in node:
                    for key, value in node.items():
                        if key != "source":
                            out[f"{prefix}.{key}"] = {"value": value, "source": node["source"]}
                    return
                for key, value in node.items():
                    walk(value, f"{prefix}.{key}" if prefix else key)
            elif isinstance(node, (list, tuple)):
                for i, item in enumerate(node):
                    walk(item, f"{prefix}[{i}]")

        walk(self.model_dump(), "")
        return out

    def with_overrides(self, overrides: dict[str, Any]) -> CostModel:
        """Return a copy with ``overrides`` merged over this model, validated again.

        Nested dicts merge key by key; lists (the slope table) are replaced whole. Keys may
        also be dotted paths (``{"deployment.rail.usd_per_km": 9000}``). An entry whose
        values change without a new ``source`` gets the source
        ``"scenario override (default: ...)"`` so reports never attribute a changed number
        to the original reference.

        Parameters
        ----------
        overrides : dict
            Partial cost model with the same structure as the TOML file.

        Returns
        -------
        CostModel
            The merged model.

        Raises
        ------
        CostModelError
            If a key is unknown or a value invalid; the message names the key.
        """
        if not isinstance(overrides, dict):
            raise CostModelError("cost model overrides must be a table (dict)")
        expanded = _expand_dotted(overrides)
        merged = _merge(self.model_dump(), expanded)
        return _validate(merged, "overrides")


def load_cost_model(path: Path | None = None) -> CostModel:
    """Read and validate a cost model TOML file.

    Parameters
    ----------
    path : pathlib.Path, optional
        A cost model file; defaults to the bundled ``data/cost_model.toml``.

    Returns
    -------
    CostModel
        The validated model.

    Raises
    ------
    CostModelError
        If the file is missing, is not valid TOML, or a value is invalid; the message names
        the file and the key.

    Examples
    --------
    >>> model = load_cost_model()
    >>> model.usd_per_km("greenfield") > model.usd_per_km("power_aerial")
    True
    """
    file = DEFAULT_COST_MODEL_PATH if path is None else Path(path)
    raw = read_toml(file, what="cost model file", error=CostModelError)
    return _validate(raw, file.name)


def _validate(raw: dict[str, Any], label: str) -> CostModel:
    try:
        return CostModel.model_validate(raw)
    except ValidationError as err:
        problems = [_describe_error(e) for e in err.errors(include_url=False)]
        raise CostModelError(f"{label}: " + "; ".join(problems)) from None


def _describe_error(error: Any) -> str:
    loc = problem_location(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "greater_than":
        text = f"must be > {_number(ctx['gt'])}"
    elif kind == "greater_than_equal":
        text = f"must be >= {_number(ctx['ge'])}"
    elif kind == "less_than_equal":
        text = f"must be <= {_number(ctx['le'])}"
    elif kind == "missing":
        text = "is missing"
    elif kind == "extra_forbidden":
        text = "is not a known key (check the spelling)"
    elif kind == "string_too_short":
        text = "must not be empty"
    elif kind in {"float_parsing", "float_type", "int_parsing", "int_type"}:
        text = "must be a number"
    elif kind == "value_error":
        return f"{loc}: {ctx.get('error', error['msg'])}" if loc else str(ctx.get("error"))
    else:
        text = str(error["msg"]).lower()
    return f"{loc} {text}" if loc else text


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _expand_dotted(overrides: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        parts = str(key).split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise CostModelError(f"overrides: {key} conflicts with another override")
        leaf = parts[-1]
        if isinstance(value, dict):
            existing = node.get(leaf, {})
            node[leaf] = _merge(existing, _expand_dotted(value))
        else:
            node[leaf] = value
    return out


def _merge(base: Any, override: Any) -> Any:
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return copy.deepcopy(override)
    merged = copy.deepcopy(base)
    changed_values = False
    for key, value in override.items():
        if key in merged and isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = _merge(merged[key], value)
        else:
            if key != "source":
                changed_values = changed_values or merged.get(key) != value
            merged[key] = copy.deepcopy(value)
    if "source" in base and changed_values and "source" not in override:
        merged["source"] = f"scenario override (default: {base['source']})"
    return merged
