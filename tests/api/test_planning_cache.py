"""Build once: the planning inputs are built once per store content and cost model, then loaded."""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import shapely

import usecases.context
from layers.ingest import ingest
from layers.store import Store
from planner.network import planning_memo, planning_network
from planner.network.build_cache import BuildCache
from planner.network.overlay import nodes_and_edges
from planner.network.places import Place
from planner.network.planning_network import attach_place, attach_places, place_key
from usecases.context import cache_folder, planning_context

# Two highways on meridians -93 and -92, 17°N to 18°N: 110.67 km each on the WGS84
# ellipsoid (meridian arc tables: 110.649 km per degree at 15°, 110.704 km at 20°).
DEGREE_KM = 110.67


def _highways(path: Path, lons: list[float]) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"row_type": "highway", "name": f"road {lon}"},
            "geometry": {"type": "LineString", "coordinates": [[lon, 17.0], [lon, 18.0]]},
        }
        for lon in lons
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "store.gpkg")
    ingest(store, _highways(tmp_path / "roads.geojson", [-93.0]), "rights_of_way", name="roads")
    return store


def _replace_with_two_highways(store: Store, tmp_path: Path) -> None:
    ingest(
        store,
        _highways(tmp_path / "roads2.geojson", [-93.0, -92.0]),
        "rights_of_way",
        name="roads",
        replace=True,
    )


def _costs(context: usecases.context.PlanningContext) -> list[float]:
    return sorted(d["cost_usd"] for _, _, d in context.network.graph.edges(data=True))


def _entries(store: Store, name: str) -> list[Path]:
    return sorted(p for p in cache_folder(store).glob(f"{name}-*") if p.is_dir())


def test_the_network_is_built_once_and_then_loaded(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = planning_context(store)
    assert len(_entries(store, "network")) == 1

    def no_build(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the network was built again")

    monkeypatch.setattr(usecases.context, "build_network", no_build)
    again = planning_context(Store(store.path))  # another process would do the same
    assert again.network is not first.network
    assert _costs(again) == _costs(first) == [pytest.approx(18_000 * DEGREE_KM, rel=5e-4)]


def test_a_replaced_layer_gives_another_network(store: Store, tmp_path: Path) -> None:
    before = planning_context(store)
    _replace_with_two_highways(store, tmp_path)
    after = planning_context(store)
    # two highways now, joined by a greenfield bridge of one degree of longitude at 17°N
    kinds = sorted(d["kind"] for _, _, d in after.network.graph.edges(data=True))
    assert kinds == ["bridge", "rights_of_way", "rights_of_way"]
    assert before.network.graph.number_of_edges() == 1
    assert len(_entries(store, "network")) == 2


def test_another_cost_model_gives_another_network(store: Store, tmp_path: Path) -> None:
    default = planning_context(store)
    text = (Path(usecases.context.__file__).parent.parent / "data" / "cost_model.toml").read_text()
    cheaper = tmp_path / "cheap.toml"
    cheaper.write_text(
        text.replace(
            "[deployment.highway]\nusd_per_km = 18000", "[deployment.highway]\nusd_per_km = 9000"
        )
    )
    other = planning_context(store, cheaper)
    assert _costs(default) == [pytest.approx(18_000 * DEGREE_KM, rel=5e-4)]
    assert _costs(other) == [pytest.approx(9_000 * DEGREE_KM, rel=5e-4)]
    assert len(_entries(store, "network")) == 2


def test_without_the_cache_nothing_is_kept(store: Store) -> None:
    context = planning_context(store, cache=False)
    assert _costs(context) == [pytest.approx(18_000 * DEGREE_KM, rel=5e-4)]
    assert not cache_folder(store).exists()


def test_a_requests_copy_takes_attachments_without_touching_the_shared_network(
    store: Store,
) -> None:
    shared = planning_context(store).network
    edges = sorted((u, v, k) for u, v, k in shared.graph.edges(keys=True))
    copy = shared.copy()
    attach_place(copy, Place(name="somewhere", lon=-92.9, lat=17.5))
    assert copy.graph.number_of_edges() == 3  # the road split in two, plus the drop
    assert sorted((u, v, k) for u, v, k in shared.graph.edges(keys=True)) == edges
    assert shared.places == {}


def test_concurrent_cold_requests_build_once(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "cache")
    builds: list[int] = []

    def build() -> str:
        builds.append(1)
        time.sleep(0.2)  # long enough for every thread to ask while it builds
        return "built"

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("lookup", "k1", build)))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["built"] * 6
    assert builds == [1]


def test_an_unreadable_entry_is_rebuilt(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "cache")
    assert cache.get("lookup", "k1", lambda: {"n": 1}) == {"n": 1}
    cache.path("lookup", "k1").write_bytes(b"not a pickle at all")
    assert cache.get("lookup", "k1", lambda: {"n": 2}) == {"n": 2}
    assert cache.get("lookup", "k1", lambda: {"n": 3}) == {"n": 2}  # the rebuilt one is kept


def test_concurrent_cold_requests_build_the_place_lookups_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import usecases.context as context

    store = Store(tmp_path / "lookups.gpkg")
    ingest(store, _highways(tmp_path / "roads.geojson", [-93.0]), "rights_of_way", name="roads")
    context._lookups.cache_clear()
    built: list[int] = []
    real = context.PlaceIndex

    def slow_index(*args: Any, **kwargs: Any) -> Any:
        built.append(1)
        time.sleep(0.2)  # a wide window for every other request to miss the cache too
        return real(*args, **kwargs)

    monkeypatch.setattr(context, "PlaceIndex", slow_index)
    found: list[Any] = []
    threads = [
        threading.Thread(target=lambda: found.append(context.request_lookups(store)))
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    context._lookups.cache_clear()
    assert len(built) == 1
    assert len(found) == 10 and all(lookups is found[0] for lookups in found)


def test_a_loaded_network_answers_corridor_lines_from_its_table(store: Store) -> None:
    # the road runs along -93 from 17 N to 18 N: a window around 17.5 N holds it, one
    # around -90 does not; a network built in memory answers the same from its own lines
    planning_context(store)
    network = planning_context(Store(store.path)).network  # loaded from the entry
    built = planning_context(store, cache=False).network
    assert network.corridor_lines is None  # nothing made from every edge
    for answer in (
        network.corridors_near((-93.0, 17.5, -93.0, 17.5), 0.1),
        built.corridors_near((-93.0, 17.5, -93.0, 17.5), 0.1),
    ):
        assert answer is not None
        assert list(answer.index) == [0]
        assert answer["deployment"].tolist() == ["highway"]
        assert answer.geometry.iloc[0].equals(shapely.LineString([(-93.0, 17.0), (-93.0, 18.0)]))
    assert network.corridors_near((-90.0, 17.5, -90.0, 17.5), 0.1) is None
    projected = network.corridors_near((-93.0, 17.5, -93.0, 17.5), 0.1, crs=6372)
    expected = built.corridors_near((-93.0, 17.5, -93.0, 17.5), 0.1, crs=6372)
    assert projected is not None and expected is not None
    assert projected.crs == expected.crs
    assert projected.geometry.iloc[0].equals_exact(expected.geometry.iloc[0], 0.0)


def test_a_shared_context_is_kept_out_of_full_collections_until_it_is_replaced(
    store: Store, tmp_path: Path
) -> None:
    import gc
    import weakref

    from usecases.context import _shared, shared_context

    try:
        first = shared_context(store, None)
        # frozen objects are in no generation the collector walks
        assert gc.get_freeze_count() > 0
        tracked = gc.get_objects()
        assert not any(obj is first.network.graph for obj in tracked)
        del tracked
        assert shared_context(store, None) is first  # same store version: kept
        gone = weakref.ref(first.network)
        # a cycle through the context: frozen for good, it could never be freed
        first.network.graph.graph["context"] = first
        del first
        ingest(store, _highways(tmp_path / "more.geojson", [-92.0]), "rights_of_way", name="more")
        second = shared_context(store, None)
        assert gone() is None  # the replaced context was collected
        layers = {data.get("layer") for _, _, data in second.network.graph.edges(data=True)}
        assert {"roads", "more"} <= layers  # and the new one holds both layers
    finally:
        _shared.clear()
        gc.unfreeze()


# Four towns east of the road on meridian -93: each drop runs due west to it, 0.05° of
# longitude at its latitude (111.32 km per degree at the equator x cos(latitude), spherical;
# the ellipsoid's parallel is within 0.4% of it at 17-18°N).
TOWNS = [Place(name=f"town {i}", lon=-92.95, lat=17.2 + 0.2 * i) for i in range(4)]


def _drop_km(lat: float) -> float:
    return 0.05 * 111.32 * math.cos(math.radians(lat))


def _attach_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the places really attached (not laid over from a kept entry)."""
    counted: list[int] = []
    real = planning_network.attach_coordinates

    def counting(graph: Any, xy: Any, names: Any, **kwargs: Any) -> Any:
        counted.append(len(xy))
        return real(graph, xy, names, **kwargs)

    monkeypatch.setattr(planning_network, "attach_coordinates", counting)
    return counted


def test_many_places_attach_once_and_are_then_laid_over_each_copy(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planning_memo, "WORTH_KEEPING", len(TOWNS))
    counted = _attach_counted(monkeypatch)
    first = planning_context(store).network.copy()
    nodes = attach_places(first, TOWNS)
    assert counted == [4] and len(_entries(store, planning_memo.ATTACHED)) == 1

    again = planning_context(Store(store.path)).network.copy()  # as another process would
    assert attach_places(again, TOWNS) == nodes
    assert counted == [4]  # laid over, not attached again
    assert list(nodes_and_edges(again.graph)) == list(nodes_and_edges(first.graph))
    assert again.places == first.places
    drops = {
        again.graph.nodes[u].get("place") or again.graph.nodes[v].get("place"): d["length_km"]
        for u, v, d in again.graph.edges(data=True)
        if d.get("kind") == "connector"
    }
    assert drops == {t.name: pytest.approx(_drop_km(t.lat), rel=5e-3) for t in TOWNS}
    # the road is split at each town's foot: five pieces, 110.67 km together
    road = [d["length_km"] for _, _, d in again.graph.edges(data=True) if d.get("layer")]
    assert len(road) == 5 and sum(road) == pytest.approx(DEGREE_KM, rel=5e-4)


def test_other_places_or_another_network_attach_again(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planning_memo, "WORTH_KEEPING", len(TOWNS))
    counted = _attach_counted(monkeypatch)
    attach_places(planning_context(store).network.copy(), TOWNS)
    moved = [*TOWNS[:3], dataclasses.replace(TOWNS[3], lon=-92.94)]
    copy = planning_context(store).network.copy()
    attach_places(copy, moved)
    drop = [d for *_, d in copy.graph.edges(copy.places[place_key(moved[3])], data=True)]
    assert drop[0]["length_km"] == pytest.approx(_drop_km(moved[3].lat) * 1.2, rel=5e-3)
    _replace_with_two_highways(store, tmp_path)
    attach_places(planning_context(store).network.copy(), TOWNS)
    assert counted == [4, 4, 4]
    assert len(_entries(store, planning_memo.ATTACHED)) == 3


def test_few_places_or_a_changed_copy_attach_every_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = _attach_counted(monkeypatch)
    for _ in range(2):  # fewer than WORTH_KEEPING
        attach_places(planning_context(store).network.copy(), TOWNS)
    monkeypatch.setattr(planning_memo, "WORTH_KEEPING", len(TOWNS) - 1)
    for _ in range(2):  # a copy that already holds a place
        copy = planning_context(store).network.copy()
        attach_place(copy, TOWNS[0])
        attach_places(copy, TOWNS[1:])
    assert counted == [4, 4, 3, 3]  # the single place attaches on its own path
    assert _entries(store, planning_memo.ATTACHED) == []
