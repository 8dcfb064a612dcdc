"""What a planning request needs from the store: the priced network, places, admin layers.

Every use case plans on a :class:`PlanningContext`: the command line builds one per
command (:func:`planning_context`), job workers and national partitions share one per
process and store version (:func:`shared_context`), and the HTTP service checks requests
against the place and area layers alone (:func:`request_lookups`) before it queues them.
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from layers.catalog import LayerInfo
from layers.errors import NotFoundError
from layers.kinds import CORRIDOR_KINDS, LayerKind
from layers.store_api import LayerStore
from planner.network.build_cache import BuildCache, content_key
from planner.network.cost_model import CostModel, load_cost_model
from planner.network.land import Land
from planner.network.places import PlaceIndex
from planner.network.planning_memo import PlanningMemo
from planner.network.planning_network import PlanningNetwork, build_network
from planner.proposals.areas import Areas

if TYPE_CHECKING:
    import geopandas as gpd

    from planner.plans.demand import PointLayer

logger = logging.getLogger(__name__)

T = TypeVar("T")


def no_corridors() -> NotFoundError:
    """The error of a store without a layer to route on."""
    return NotFoundError(
        "the store holds no rights_of_way or fiber_routes layers to route on",
        subject="layers",
    )


def stored_localities(localities: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The stored localities; ``NotFoundError`` when the store holds none."""
    if localities is None:
        raise NotFoundError("the store holds no localities layer", subject="layers")
    return localities


def stored_states(states: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The stored states; ``NotFoundError`` when the store holds none (area all needs them)."""
    if states is None:
        raise NotFoundError(
            "the store holds no states layer: area 'all' plans every stored state",
            subject="layers",
        )
    return states


@dataclass(frozen=True)
class Lookups:
    """The store's layers a request is checked against: places, areas, localities."""

    places: PlaceIndex
    states: gpd.GeoDataFrame | None
    municipalities: gpd.GeoDataFrame | None
    localities: gpd.GeoDataFrame | None


@dataclass
class PlanningContext:
    """The inputs of every proposal, read once from the store.

    The network is loaded at once; the place index and the admin and locality layers are
    loaded the first time they are used (a route needs no localities frame).
    """

    store: LayerStore
    network: PlanningNetwork
    lookups: Callable[[str], Any] = field(repr=False)
    """Loads ``"places"``, ``"admin"`` (states, municipalities), ``"areas"`` (their
    :class:`~planner.proposals.areas.Areas`), ``"localities"`` or ``"locality_points"``."""
    cost_model_path: Path | None = None
    """The cost model file the network was priced with (None: the bundled one)."""

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
    def _areas(self) -> tuple[Areas | None, Areas | None]:
        areas: tuple[Areas | None, Areas | None] = self.lookups("areas")
        return areas

    @property
    def state_areas(self) -> Areas | None:
        """The states' labels, codes and polygons: what a proposal is measured against."""
        return self._areas[0]

    @property
    def municipality_areas(self) -> Areas | None:
        """The municipalities' labels, codes and polygons."""
        return self._areas[1]

    @cached_property
    def localities(self) -> gpd.GeoDataFrame | None:
        """Every stored localities layer, concatenated."""
        localities: gpd.GeoDataFrame | None = self.lookups("localities")
        return localities

    @cached_property
    def locality_points(self) -> PointLayer | None:
        """The stored localities as coordinates beside their columns (None without a
        localities layer, or one not all of points): an area's are found without making
        every point (:meth:`planner.plans.demand.PointLayer.in_area`)."""
        points: PointLayer | None = self.lookups("locality_points")
        return points

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
        raise no_corridors()
    builds = BuildCache(cache_folder(store)) if cache else None

    def cached(name: str, layers: list[LayerInfo], build: Callable[[], T], **extra: Any) -> T:
        return _cached(builds, name, layers, build, **extra)

    state_infos = _of_kind(infos, LayerKind.STATES)
    municipality_infos = _of_kind(infos, LayerKind.MUNICIPALITIES)
    localities_infos = _of_kind(infos, LayerKind.LOCALITIES)
    landing_infos = _of_kind(infos, LayerKind.SUBSEA_LANDINGS)

    def frames(kind: LayerKind) -> gpd.GeoDataFrame | None:
        return _cached_frames(builds, store, _of_kind(infos, kind))

    @functools.cache
    def states() -> gpd.GeoDataFrame | None:
        return frames(LayerKind.STATES)

    @functools.cache
    def land() -> Land | None:
        frame = states()
        return Land(frame) if frame is not None else None

    elevations = elevation_infos(infos)

    def build() -> PlanningNetwork:
        return _build_network(store, corridors, cost_model, elevations, land(), builds)

    if builds is None:
        network = build()
    else:
        network_key = _key(
            [*corridors, *state_infos, *elevations],
            cost_model=cost_model.model_dump(mode="json"),
            caveats=layer_caveats(store),
        )
        network = builds.get("network", network_key, build)
        network.memo = PlanningMemo(builds.folder, network_key)

    def localities() -> gpd.GeoDataFrame | None:
        return frames(LayerKind.LOCALITIES)

    def lookups(name: str) -> Any:
        if name == "localities":
            return localities()
        if name == "locality_points":
            return cached("locality_points", localities_infos, lambda: _point_layer(localities()))
        if name == "places":
            return cached(
                "places",
                [*localities_infos, *landing_infos, *state_infos],
                lambda: PlaceIndex(localities(), _concat(store, landing_infos), area=land()),
            )
        if name == "admin":
            return states(), frames(LayerKind.MUNICIPALITIES)
        if name == "areas":
            # kept apart from the frames: measuring a proposal then loads neither the
            # frames nor pandas
            return cached(
                "areas", [*state_infos, *municipality_infos], lambda: _areas(*lookups("admin"))
            )
        if name in {"coverage", "sites"}:
            kind = LayerKind.COVERAGE if name == "coverage" else LayerKind.SITES
            return _concat(store, _of_kind(infos, kind))
        raise KeyError(name)

    # one load per process and store content, shared by every context made from this one
    return PlanningContext(
        store=store,
        network=network,
        lookups=functools.cache(lookups),
        cost_model_path=cost_model_path,
    )


def _point_layer(frame: gpd.GeoDataFrame | None) -> PointLayer | None:
    from planner.plans.demand import PointLayer

    return None if frame is None else PointLayer.of(frame)


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
    elevations: list[LayerInfo],
    land: Land | None,
    builds: BuildCache | None,
) -> PlanningNetwork:
    """The priced network: written straight into a table of the cache, or (cache off)
    built as a networkx graph, the reference the table is tested against."""
    paths = [store.raster_path(info.name) for info in elevations]
    if builds is not None:
        from planner.network.table_build import build_network_table

        return build_network_table(
            {info.name: functools.partial(store.read, info.name) for info in corridors},
            cost_model,
            builds.scratch(),
            elevation=paths[0] if paths else None,
            elevations=paths,
            caveats=layer_caveats(store),
            land=land,
        )
    frames = {info.name: store.read(info.name) for info in corridors}
    return build_network(
        frames,
        cost_model,
        elevation=paths[0] if paths else None,
        elevations=paths,
        caveats=layer_caveats(store),
        land=land,
    )


ELEVATION_PREFIXES = ("elevation", "dem")
"""A raster layer whose name starts with one of these is an elevation raster (metres)."""


def elevation_infos(infos: list[LayerInfo]) -> list[LayerInfo]:
    """The stored elevation rasters: raster layers named ``elevation…`` or ``dem…``.

    The one named ``elevation`` (the bundled national grid) leads, as the terrain of
    greenfield links; the others follow in catalog order. Radio paths take the finest of
    them all that holds a plan's localities (:func:`planner.plans.radio.choose_elevation`), so a
    finer survey loaded as ``trazo layers load dem_tabasco.tif --kind raster`` is used
    wherever it covers the plan.

    Examples
    --------
    >>> from layers.store import LayerInfo
    >>> rasters = [LayerInfo(n, LayerKind.RASTER, "", "", 0, None, None)
    ...            for n in ("landcover", "dem_tabasco", "elevation")]
    >>> [info.name for info in elevation_infos(rasters)]
    ['elevation', 'dem_tabasco']
    """
    rasters = [
        info
        for info in infos
        if info.kind is LayerKind.RASTER and info.name.lower().startswith(ELEVATION_PREFIXES)
    ]
    return sorted(rasters, key=lambda info: info.name != "elevation")


def _of_kind(infos: list[LayerInfo], kind: LayerKind) -> list[LayerInfo]:
    return [info for info in infos if info.kind is kind]


def _concat(store: LayerStore, infos: list[LayerInfo]) -> gpd.GeoDataFrame | None:
    return _concat_frames([store.read(info.name) for info in infos])


def stored_frames(store: LayerStore, kind: LayerKind) -> gpd.GeoDataFrame | None:
    """Every stored layer of ``kind``, concatenated in catalog order (as planning reads them).

    States, municipalities and localities come from the store's planning cache, the entry
    :func:`planning_context` reads (built there when missing): a process that needs only
    these frames, such as the client of a national run, loads them in a fraction of the
    time the GeoPackage takes.
    """
    infos = _of_kind(store.list_layers(), kind)
    if kind not in _CACHED_FRAMES:
        return _concat(store, infos)
    return _cached_frames(BuildCache(cache_folder(store)), store, infos)


_CACHED_FRAMES = {
    LayerKind.STATES: "states",
    LayerKind.MUNICIPALITIES: "municipalities",
    LayerKind.LOCALITIES: "localities",
}
"""The layer kinds whose concatenated frames the planning cache keeps, by entry name."""


def _cached(
    builds: BuildCache | None,
    name: str,
    layers: list[LayerInfo],
    build: Callable[[], T],
    **extra: Any,
) -> T:
    """``build()``, kept in ``builds`` under the content of ``layers`` (and ``extra``)."""
    if builds is None:
        return build()
    return builds.get(name, _key(layers, **extra), build)


def _key(layers: list[LayerInfo], **extra: Any) -> str:
    """The build-cache key of what is built from ``layers`` (and ``extra``)."""
    return content_key(layers=[_fingerprint(info) for info in layers], **extra)


def _cached_frames(
    builds: BuildCache | None, store: LayerStore, infos: list[LayerInfo]
) -> gpd.GeoDataFrame | None:
    """The frames of ``infos`` (all of one kind in :data:`_CACHED_FRAMES`), concatenated."""
    if not infos:
        return None
    return _cached(builds, _CACHED_FRAMES[infos[0].kind], infos, lambda: _concat(store, infos))


def _areas(
    states: gpd.GeoDataFrame | None, municipalities: gpd.GeoDataFrame | None
) -> tuple[Areas | None, Areas | None]:
    return (
        None if states is None else Areas.of_states(states),
        None if municipalities is None else Areas.of_municipalities(municipalities),
    )


def _concat_frames(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame | None:
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0]
    # joined when the inputs are built; a warm command reads them from the planning cache
    import geopandas as gpd
    import pandas as pd

    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")


_shared: dict[tuple[str, str], tuple[tuple[Any, ...], PlanningContext]] = {}
_shared_guard = threading.Lock()
_shared_loading = threading.Lock()


def shared_context(store: LayerStore, cost_model: Path | None) -> PlanningContext:
    """The planning context of the store's current layers, shared within this process.

    Loaded once per store version (its fingerprint and the cost model file) and process,
    from the inputs built once beside the store (concurrent cold processes build them
    once: :mod:`planner.network.build_cache`). Job workers and national partitions share
    it; they only read it, since planning works on its own copy of the network.
    """
    key = (store.location, str(cost_model))
    version = _store_version(store, cost_model)
    # one loader at a time: concurrent jobs in threads wait for it and share its context
    # instead of each holding a copy of the network
    with _shared_loading:
        with _shared_guard:
            cached = _shared.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        # what an earlier load froze may hold the context this one replaces: collectable again
        gc.unfreeze()
        context = planning_context(store, cost_model)
        with _shared_guard:
            _shared[key] = (version, context)
        cached = None  # the replaced context is now garbage, to be collected below
        _freeze_long_lived()
        return context


def _freeze_long_lived() -> None:
    """Keep what this process holds now (shared contexts, modules) out of full collections.

    A job worker keeps its context for its lifetime: a few hundred thousand objects at a
    million segments, which every full collection of the garbage collector walked (about
    0.1 s), and a job's own allocations started one every few jobs. Garbage is collected
    first, so nothing dead (a replaced context's cycles) is frozen; :func:`shared_context`
    unfreezes before it loads, so a context it replaces can be collected in turn.
    """
    gc.collect()
    gc.freeze()


def _store_version(store: LayerStore, cost_model: Path | None) -> tuple[Any, ...]:
    layers = store.fingerprint()
    model = None
    if cost_model is not None and cost_model.exists():
        model = (str(cost_model), cost_model.stat().st_mtime_ns)
    return layers, model


_LOOKUP_KINDS = (
    LayerKind.LOCALITIES,
    LayerKind.SUBSEA_LANDINGS,
    LayerKind.STATES,
    LayerKind.MUNICIPALITIES,
)


def request_lookups(store: LayerStore) -> Lookups:
    """The place and area layers of the store's current version (kept per version).

    What a request is checked against before it is queued, without the priced network.
    Raises ``NotFoundError`` when the store holds no layer to route on.
    """
    layers = store.list_layers()
    if not any(info.kind in CORRIDOR_KINDS for info in layers):
        raise no_corridors()
    version = tuple(
        (info.name, info.kind.value, info.loaded_at)
        for info in layers
        if info.kind in _LOOKUP_KINDS
    )
    # lru_cache alone lets every request that misses build its own copy at once (ten cold
    # submissions held ten place indexes); one builds, the others wait and share it
    with _LOOKUPS_BUILD:
        return _lookups(store, version)


_LOOKUPS_BUILD = threading.Lock()
"""Held while the lookups are found or built: concurrent cold requests build them once."""


@functools.lru_cache(maxsize=4)
def _lookups(store: LayerStore, version: tuple[tuple[str, str, str], ...]) -> Lookups:
    infos = {kind: [name for name, k, _ in version if k == kind.value] for kind in _LOOKUP_KINDS}

    def one(kind: LayerKind) -> gpd.GeoDataFrame | None:
        return _concat_frames([store.read(name) for name in infos[kind]])

    localities = one(LayerKind.LOCALITIES)
    states = one(LayerKind.STATES)
    return Lookups(
        places=PlaceIndex(
            localities,
            one(LayerKind.SUBSEA_LANDINGS),
            area=Land(states) if states is not None else None,
        ),
        states=states,
        municipalities=one(LayerKind.MUNICIPALITIES),
        localities=localities,
    )
