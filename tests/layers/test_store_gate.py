"""The per-file gate that keeps Python's sqlite3 and GDAL's SQLite apart in one process."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from layers.store import LibraryGate, library_gate


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
