"""What a planning request needs from the store: the priced network, places, admin layers.

Shared by the command line and the HTTP service so both plan on the same inputs.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.errors import NotFoundError
from layers.kinds import LayerKind
from layers.store_api import LayerStore
from planner.cost_model import load_cost_model
from planner.land import Land
from planner.metrics import ProposalMetrics, compute_metrics
from planner.network import PlanningNetwork, build_network
from planner.places import PlaceIndex
from planner.proposal import Proposal, proposal_to_geojson

logger = logging.getLogger(__name__)

CORRIDOR_KINDS = (LayerKind.RIGHTS_OF_WAY, LayerKind.FIBER_ROUTES)


@dataclass
class PlanningContext:
    """The inputs of every proposal, read once from the store."""

    store: LayerStore
    network: PlanningNetwork
    places: PlaceIndex
    states: gpd.GeoDataFrame | None
    municipalities: gpd.GeoDataFrame | None
    localities: gpd.GeoDataFrame | None
    coverage: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None


def planning_context(store: LayerStore, cost_model_path: Path | None = None) -> PlanningContext:
    """Build the priced network from every stored corridor layer, and the place index.

    The stored states are the land: corridors are cut at their coast and places outside
    them (and their margin) are refused; without a states layer the planner cannot tell
    land from water and plans as before.

    Raises ``NotFoundError`` when the store holds no rights of way or fiber routes.
    """
    cost_model = load_cost_model(cost_model_path)
    corridors = {
        info.name: store.read(info.name)
        for info in store.list_layers()
        if info.kind in CORRIDOR_KINDS
    }
    if not corridors:
        raise NotFoundError(
            "the store holds no rights_of_way or fiber_routes layers to route on; "
            "run `trazo demo` or load some with `trazo layers load`"
        )
    states = _concat(store, LayerKind.STATES)
    land = Land(states) if states is not None else None
    network = build_network(
        corridors,
        cost_model,
        elevation=_elevation(store),
        caveats=layer_caveats(store),
        land=land,
    )
    localities = _concat(store, LayerKind.LOCALITIES)
    return PlanningContext(
        store=store,
        network=network,
        places=PlaceIndex(localities, _concat(store, LayerKind.SUBSEA_LANDINGS), area=land),
        states=states,
        municipalities=_concat(store, LayerKind.MUNICIPALITIES),
        localities=localities,
        coverage=_concat(store, LayerKind.COVERAGE),
        sites=_concat(store, LayerKind.SITES),
    )


def layer_caveats(store: LayerStore) -> dict[str, str]:
    """The catalog's caveat of each stored layer that has one (a proxy, an assumption)."""
    caveats = {}
    for info in store.list_layers():
        caveat = info.report.get("caveat")
        if caveat:
            caveats[info.name] = str(caveat)
    return caveats


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
    """LayerStore the proposal's GeoJSON document under ``name`` and return the document."""
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


def _elevation(store: LayerStore) -> Path | None:
    """The elevation raster: the finest of those named ``elevation*`` or ``dem*`` (else of
    all rasters), so a user's finer DEM replaces the bundled 1 km grid."""
    rasters = [info.name for info in store.list_layers() if info.kind is LayerKind.RASTER]
    if not rasters:
        return None
    named = [n for n in rasters if n.lower().startswith(("elevation", "dem"))] or rasters
    paths = [store.raster_path(n) for n in sorted(named)]
    return min(paths, key=_cell_size)


def _cell_size(path: Path) -> float:
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        with rasterio.open(path) as src:
            return float(min(abs(src.res[0]), abs(src.res[1])))
    except RasterioIOError:
        return float("inf")


def _concat(store: LayerStore, kind: LayerKind) -> gpd.GeoDataFrame | None:
    frames = [store.read(info.name) for info in store.list_layers() if info.kind is kind]
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
