"""What a planning request needs from the store: the priced network, places, admin layers.

Shared by the command line and the HTTP service so both plan on the same inputs.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd

from layers.errors import NotFoundError
from layers.kinds import LayerKind
from layers.store import LayerInfo
from layers.store_api import LayerStore
from planner.network.build_cache import BuildCache, content_key
from planner.network.cost_model import CostModel, load_cost_model
from planner.network.land import Land
from planner.network.places import PlaceIndex
from planner.network.planning_network import PlanningNetwork, build_network
from planner.proposals.metrics import ProposalMetrics, compute_metrics
from planner.proposals.proposal import Proposal, proposal_to_geojson

logger = logging.getLogger(__name__)

CORRIDOR_KINDS = (LayerKind.RIGHTS_OF_WAY, LayerKind.FIBER_ROUTES)
T = TypeVar("T")


@dataclass
class PlanningContext:
    """The inputs of every proposal, read once from the store.

    The network is loaded at once; the place index and the admin and locality layers are
    loaded the first time they are used (a route needs no localities frame).
    """

    store: LayerStore
    network: PlanningNetwork
    lookups: Callable[[str], Any] = field(repr=False)
    """Loads ``"places"``, ``"admin"`` (states, municipalities) or ``"localities"``."""

    @cached_property
    def places(self) -> PlaceIndex:
        """The index that resolves PLACE strings."""
        places: PlaceIndex = self.lookups("places")
        return places

    @cached_property
    def _admin(self) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
        admin: tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None] = self.lookups("admin")
        return admin

    @property
    def states(self) -> gpd.GeoDataFrame | None:
        """Every stored states layer, concatenated."""
        return self._admin[0]

    @property
    def municipalities(self) -> gpd.GeoDataFrame | None:
        """Every stored municipalities layer, concatenated."""
        return self._admin[1]

    @cached_property
    def localities(self) -> gpd.GeoDataFrame | None:
        """Every stored localities layer, concatenated."""
        localities: gpd.GeoDataFrame | None = self.lookups("localities")
        return localities

    @cached_property
    def coverage(self) -> gpd.GeoDataFrame | None:
        """Every stored coverage layer (existing service polygons), concatenated."""
        coverage: gpd.GeoDataFrame | None = self.lookups("coverage")
        return coverage

    @cached_property
    def sites(self) -> gpd.GeoDataFrame | None:
        """Every stored public-sites layer, concatenated."""
        sites: gpd.GeoDataFrame | None = self.lookups("sites")
        return sites


def planning_context(
    store: LayerStore, cost_model_path: Path | None = None, *, cache: bool = True
) -> PlanningContext:
    """The priced network from every stored corridor layer, the place index, admin layers.

    The stored states are the land: corridors are cut at their coast and places outside
    them (and their margin) are refused; without a states layer the planner cannot tell
    land from water and plans as before.

    Each input is built once per store content and cost model and kept beside the store
    (:func:`cache_folder`); later calls, in any process, load it. ``cache=False`` builds
    everything from the layers and keeps nothing (the reference path).

    Raises ``NotFoundError`` when the store holds no rights of way or fiber routes.
    """
    cost_model = load_cost_model(cost_model_path)
    infos = store.list_layers()
    corridors = [info for info in infos if info.kind in CORRIDOR_KINDS]
    if not corridors:
        raise NotFoundError(
            "the store holds no rights_of_way or fiber_routes layers to route on",
            subject="layers",
        )
    builds = BuildCache(cache_folder(store)) if cache else None

    def cached(name: str, layers: list[LayerInfo], build: Callable[[], T], **extra: Any) -> T:
        if builds is None:
            return build()
        key = content_key(layers=[_fingerprint(info) for info in layers], **extra)
        return builds.get(name, key, build)

    state_infos = _of_kind(infos, LayerKind.STATES)
    municipality_infos = _of_kind(infos, LayerKind.MUNICIPALITIES)
    localities_infos = _of_kind(infos, LayerKind.LOCALITIES)
    landing_infos = _of_kind(infos, LayerKind.SUBSEA_LANDINGS)

    @functools.cache
    def states() -> gpd.GeoDataFrame | None:
        return cached("states", state_infos, lambda: _concat(store, state_infos))

    @functools.cache
    def land() -> Land | None:
        frame = states()
        return Land(frame) if frame is not None else None

    elevation = _elevation_info(infos)
    network = cached(
        "network",
        [*corridors, *state_infos, *([elevation] if elevation else [])],
        lambda: _build_network(store, corridors, cost_model, elevation, land()),
        cost_model=cost_model.model_dump(mode="json"),
        caveats=layer_caveats(store),
    )

    def localities() -> gpd.GeoDataFrame | None:
        return cached("localities", localities_infos, lambda: _concat(store, localities_infos))

    def lookups(name: str) -> Any:
        if name == "localities":
            return localities()
        if name == "places":
            return cached(
                "places",
                [*localities_infos, *landing_infos, *state_infos],
                lambda: PlaceIndex(localities(), _concat(store, landing_infos), area=land()),
            )
        if name == "admin":
            return states(), cached(
                "municipalities",
                municipality_infos,
                lambda: _concat(store, municipality_infos),
            )
        if name in {"coverage", "sites"}:
            kind = LayerKind.COVERAGE if name == "coverage" else LayerKind.SITES
            return _concat(store, _of_kind(infos, kind))
        raise KeyError(name)

    # one load per process and store content, shared by every context made from this one
    return PlanningContext(store=store, network=network, lookups=functools.cache(lookups))


def layer_caveats(store: LayerStore) -> dict[str, str]:
    """The catalog's caveat of each stored layer that has one (a proxy, an assumption)."""
    caveats = {}
    for info in store.list_layers():
        caveat = info.report.get("caveat")
        if caveat:
            caveats[info.name] = str(caveat)
    return caveats


def cache_folder(store: LayerStore) -> Path:
    """Where the store's built planning inputs are kept (beside a GeoPackage:
    ``<store stem>.cache``)."""
    return store.side_folder("cache")


def _fingerprint(info: LayerInfo) -> list[object]:
    """What identifies a stored layer's content, as the store's catalog reports it."""
    return [info.name, info.kind.value, info.loaded_at, info.feature_count, info.source]


def _build_network(
    store: LayerStore,
    corridors: list[LayerInfo],
    cost_model: CostModel,
    elevation: LayerInfo | None,
    land: Land | None,
) -> PlanningNetwork:
    frames = {info.name: store.read(info.name) for info in corridors}
    path = None if elevation is None else store.raster_path(elevation.name)
    return build_network(
        frames, cost_model, elevation=path, caveats=layer_caveats(store), land=land
    )


def measure(context: PlanningContext, proposal: Proposal) -> ProposalMetrics:
    """The proposal's metrics, with states and municipalities crossed."""
    return compute_metrics(
        proposal,
        context.states,
        context.municipalities,
        latency_us_per_km=context.network.cost_model.latency.us_per_km,
    )


def save_proposal(
    store: LayerStore, proposal: Proposal, metrics: ProposalMetrics, name: str, *, replace: bool
) -> dict[str, object]:
    """Store the proposal's GeoJSON document under ``name`` and return the document."""
    document = proposal_to_geojson(proposal, metrics)
    store.write_proposal(name, proposal.kind, document, replace=replace)
    return document


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


def _elevation_info(infos: list[LayerInfo]) -> LayerInfo | None:
    rasters = [info for info in infos if info.kind is LayerKind.RASTER]
    if not rasters:
        return None
    named = [info for info in rasters if info.name == "elevation"]
    return (named or rasters)[0]


def _of_kind(infos: list[LayerInfo], kind: LayerKind) -> list[LayerInfo]:
    return [info for info in infos if info.kind is kind]


def _concat(store: LayerStore, infos: list[LayerInfo]) -> gpd.GeoDataFrame | None:
    frames = [store.read(info.name) for info in infos]
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
