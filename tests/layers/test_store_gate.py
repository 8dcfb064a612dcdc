"""The per-file gate that keeps Python's sqlite3 and GDAL's SQLite apart in one process."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from layers.gpkg_access import LibraryGate, library_gate


def test_one_library_at_a_time_many_threads_of_the_same_one() -> None:
    gate = LibraryGate()
    inside = {"sqlite3": 0, "gdal": 0}
    most = {"sqlite3": 0, "gdal": 0}
    overlap: list[tuple[int, int]] = []
    lock = threading.Lock()

    def use(library: str) -> None:
        for _ in range(30):
            with gate.hold(library):  # type: ignore[arg-type]
                with lock:
                    inside[library] += 1
                    most[library] = max(most[library], inside[library])
                    if inside["sqlite3"] and inside["gdal"]:
                        overlap.append((inside["sqlite3"], inside["gdal"]))
                time.sleep(0.001)
                with lock:
                    inside[library] -= 1

    threads = [threading.Thread(target=use, args=(lib,)) for lib in ("sqlite3", "gdal") * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)  # nobody starved or deadlocked
    assert overlap == []
    assert most["sqlite3"] > 1 or most["gdal"] > 1  # threads of one library share the gate


def test_the_same_library_may_nest_the_other_may_not() -> None:
    gate = LibraryGate()
    with (
        gate.hold("gdal"),
        gate.hold("gdal"),
        pytest.raises(RuntimeError, match="nested"),
        gate.hold("sqlite3"),
    ):
        pass
    with gate.hold("sqlite3"):  # the gate is free again
        pass


def test_one_gate_per_real_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    assert library_gate(tmp_path / "a" / "s.gpkg") is library_gate(tmp_path / "a/../a/s.gpkg")
    assert library_gate(tmp_path / "s.gpkg") is not library_gate(tmp_path / "a" / "s.gpkg")


def test_a_layer_written_in_batches_reads_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 2 (the store writes in batches between turns of the gate): 5 features,
    single and multi polygons mixed, come back in order as one MultiPolygon layer."""
    import geopandas as gpd
    from shapely.geometry import MultiPolygon, box

    from layers import store as store_module
    from layers.kinds import LayerKind
    from layers.report import ValidationReport

    monkeypatch.setattr(store_module, "_WRITE_BATCH", 2)
    squares = [box(-93 + i, 17, -92.5 + i, 17.5) for i in range(5)]
    shapes = [MultiPolygon([s]) if i % 2 else s for i, s in enumerate(squares)]
    frame = gpd.GeoDataFrame({"n": list(range(5))}, geometry=shapes, crs="EPSG:4326")
    store = store_module.Store(tmp_path / "s.gpkg")
    report = ValidationReport("areas", "states", "areas.geojson", "GeoJSON", "EPSG:4326")
    info = store.write_layer("areas", LayerKind.STATES, frame, report)
    assert info.feature_count == 5 and info.geometry_type == "MultiPolygon"
    back = store.read("areas")
    assert list(back.index) == [1, 2, 3, 4, 5]
    assert list(back["n"]) == [0, 1, 2, 3, 4]
    assert [g.area for g in back.geometry] == pytest.approx([0.25] * 5)
