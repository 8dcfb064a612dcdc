"""The store contract, run against both backends (GeoPackage and a real PostGIS).

Every test here takes ``any_store``, a fresh store of each backend in turn. The layers are
a few places in Tabasco with coordinates rounded by hand (tests/store_samples.py, shared
with the GeoPackage store's own tests), so each expected value (bboxes, bbox filters,
pages) is worked out from those literals. Failures and kills are
injected through the validation report, whose ``source`` the stores read only after the
new version's data is written and before it is switched in — the same point for both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import LineString
from store_samples import PLACES, report, rights_of_way, write_tif
from store_samples import localities as sample_localities

from layers.errors import AlreadyExistsError, LayerValidationError, NotFoundError, StoreBusyError
from layers.kinds import LayerKind
from layers.report import ValidationReport
from layers.store_api import LayerStore
from layers.stores import copy_store, frame_digest, open_store

REPO = Path(__file__).resolve().parents[2]


def localities(rows: list[tuple[str, int, bool | None, float, float]] = PLACES) -> gpd.GeoDataFrame:
    """The sample places with a float column holding a missing value (both backends keep it)."""
    return sample_localities(rows, share=True)


class HookedReport(ValidationReport):
    """A report that runs ``hook`` when a store reads its source (data written, not switched)."""

    hook: Callable[[], None] = staticmethod(lambda: None)

    @property  # type: ignore[override]
    def source(self) -> str:
        type(self).hook()
        return "hooked.csv"

    @source.setter
    def source(self, value: str) -> None:
        pass


def hooked(hook: Callable[[], None]) -> ValidationReport:
    cls = type("Hooked", (HookedReport,), {"hook": staticmethod(hook)})
    return cls(name="localities", kind="localities", source="x", format="CSV", crs_in=None)


@pytest.fixture
def loaded(any_store: LayerStore, tmp_path: Path) -> LayerStore:
    any_store.write_layer("localities", LayerKind.LOCALITIES, localities(), report("localities"))
    any_store.write_layer(
        "rights_of_way", LayerKind.RIGHTS_OF_WAY, rights_of_way(), report("rights_of_way")
    )
    any_store.write_raster("elevation", write_tif(tmp_path / "in.tif"), report("elevation"))
    return any_store


def content(store: LayerStore) -> dict[str, Any]:
    """Everything a caller can see: catalog rows and each vector layer's digest."""
    seen: dict[str, Any] = {"catalog": store.list_layers(), "fingerprint": store.fingerprint()}
    for info in store.list_layers():
        if info.kind is not LayerKind.RASTER:
            seen[info.name] = frame_digest(store.read(info.name))
        else:
            seen[info.name] = store.raster_path(info.name).read_bytes()
    return seen


# --------------------------------------------------------------------------- catalog


def test_new_store_is_empty(any_store: LayerStore) -> None:
    assert any_store.list_layers() == []
    assert any_store.list_proposals() == []
    assert any_store.proposal_names() == []
    with pytest.raises(NotFoundError, match="no layers yet"):
        any_store.info("localities")


def test_round_trip_keeps_columns_dtypes_coordinates_and_fids(loaded: LayerStore) -> None:
    frame = loaded.read("localities")

    assert frame.index.name == "fid"
    assert frame.index.tolist() == [1, 2, 3, 4, 5]
    assert frame["name"].tolist() == [p[0] for p in PLACES]
    assert frame["population"].dtype == "int64"
    assert frame["population"].tolist() == [p[1] for p in PLACES]
    assert str(frame["connected"].dtype) == "boolean"
    assert frame["connected"].tolist() == [True, pd.NA, False, True, pd.NA]
    assert frame["share"].tolist()[2:] == [0.25, 1.0, 0.125]
    assert np.isnan(frame["share"].iloc[1])
    assert [(g.x, g.y) for g in frame.geometry] == [(p[3], p[4]) for p in PLACES]
    assert frame.crs.to_epsg() == 4326


def test_list_and_info(loaded: LayerStore) -> None:
    assert [i.name for i in loaded.list_layers()] == ["elevation", "localities", "rights_of_way"]
    info = loaded.info("localities")
    assert info.kind is LayerKind.LOCALITIES
    assert info.feature_count == 5
    assert info.geometry_type == "Point"
    assert info.bbox == (-93.375, 17.99, -92.65, 18.53)
    assert info.source == "tabasco.csv"
    assert info.report["warnings"] == ["one note"]
    assert loaded.info("rights_of_way").geometry_type == "LineString"
    # the diagonal spans both axes of the bbox: (-93, 17.5) to (-92, 18.5)
    assert loaded.info("rights_of_way").bbox == (-93.0, 17.5, -92.0, 18.5)


def test_replace_needs_the_flag_and_then_replaces(loaded: LayerStore) -> None:
    with pytest.raises(AlreadyExistsError, match="'localities' already exists"):
        loaded.write_layer("localities", LayerKind.LOCALITIES, localities(), report("x"))

    loaded.write_layer(
        "localities", LayerKind.LOCALITIES, localities(PLACES[:2]), report("x"), replace=True
    )

    assert loaded.info("localities").feature_count == 2
    assert loaded.read("localities")["name"].tolist() == ["Villahermosa", "Cárdenas"]


def test_delete(loaded: LayerStore) -> None:
    loaded.delete("localities")
    assert [i.name for i in loaded.list_layers()] == ["elevation", "rights_of_way"]
    with pytest.raises(NotFoundError, match="no layer named 'localities'"):
        loaded.read("localities")
    with pytest.raises(NotFoundError):
        loaded.delete("localities")


def test_bad_names_and_frames_refused(any_store: LayerStore) -> None:
    with pytest.raises(LayerValidationError, match="not allowed"):
        any_store.write_layer("Bad Name", LayerKind.LOCALITIES, localities(), report("x"))
    with pytest.raises(LayerValidationError, match="EPSG:4326"):
        any_store.write_layer("utm", LayerKind.LOCALITIES, localities().to_crs(6372), report("utm"))
    assert any_store.list_layers() == []


# --------------------------------------------------------------------------- reads


def test_bbox_keeps_intersecting_points(loaded: LayerStore) -> None:
    # lon -93.3..-92.9, lat 17.9..18.3: Villahermosa (-92.93, 17.99) and Comalcalco
    # (-93.2, 18.26); Cárdenas is west of it, Paraíso north, Frontera east.
    box = (-93.3, 17.9, -92.9, 18.3)
    assert loaded.read("localities", box).index.tolist() == [1, 3]
    assert loaded.count("localities", box) == 2
    assert loaded.count("localities") == 5


def test_bbox_uses_the_geometry_not_its_envelope(loaded: LayerStore) -> None:
    # At lon -92.9 the diagonal is at lat 17.6, at -92.8 at 17.7: a box below that line
    # lies inside its envelope but misses it; one across it meets it.
    assert loaded.count("rights_of_way", (-92.9, 17.5, -92.8, 17.55)) == 0
    assert loaded.read("rights_of_way", (-92.9, 17.55, -92.8, 17.65))["name"].tolist() == [
        "Diagonal"
    ]


def test_bbox_across_the_antimeridian_selects_both_sides_once(any_store: LayerStore) -> None:
    # Cables near Fiji (178°E) and Tonga (174°W, -174) and one stored as a single line from
    # 178.4°E to 174°W, which in plain coordinates runs across every longitude: it touches
    # both parts of the box 177°E..173°W and must count once. The London one touches neither.
    cables = gpd.GeoDataFrame(
        {"name": ["fiji", "tonga", "london", "fiji-tonga"]},
        geometry=[
            LineString([(178.0, -18.5), (178.6, -18.0)]),
            LineString([(-174.5, -18.9), (-174.0, -18.6)]),
            LineString([(-0.5, 51.0), (-0.1, 51.5)]),
            LineString([(178.4, -18.1), (-174.0, -18.6)]),
        ],
        crs="EPSG:4326",
    )
    any_store.write_layer("cables", LayerKind.SUBSEA_CABLES, cables, report("cables"))
    across = (177.0, -20.0, -173.0, -17.0)
    assert any_store.count("cables", across) == 3
    assert any_store.read("cables", across)["name"].tolist() == ["fiji", "tonga", "fiji-tonga"]
    pages = [any_store.read_page("cables", across, 2, offset) for offset in (0, 2)]
    assert [page.index.tolist() for page in pages] == [[1, 2], [4]]


def test_pages_visit_each_feature_once_in_fid_order(loaded: LayerStore) -> None:
    pages = [loaded.read_page("localities", None, 2, offset).index.tolist() for offset in (0, 2, 4)]
    assert pages == [[1, 2], [3, 4], [5]]
    empty = loaded.read_page("localities", None, 2, 10)
    assert len(empty) == 0
    assert {"name", "population", "connected", "share"} <= set(empty.columns)
    box = (-93.3, 17.9, -92.9, 18.3)
    assert loaded.read_page("localities", box, 1, 1).index.tolist() == [3]


def test_feature_by_fid(loaded: LayerStore) -> None:
    assert loaded.feature("localities", 4)["name"].tolist() == ["Paraíso"]
    with pytest.raises(NotFoundError, match="no feature with fid 99"):
        loaded.feature("localities", 99)


def test_raster_and_vector_accessors_do_not_mix(loaded: LayerStore) -> None:
    with pytest.raises(NotFoundError, match="is a raster"):
        loaded.read("elevation")
    with pytest.raises(NotFoundError, match="not a raster"):
        loaded.raster_path("localities")


# --------------------------------------------------------------------------- rasters


def test_raster_round_trip_replace_and_delete(loaded: LayerStore, tmp_path: Path) -> None:
    info = loaded.info("elevation")
    assert info.kind is LayerKind.RASTER
    assert info.bbox == (-93.0, 17.5, -92.0, 18.5)
    with rasterio.open(loaded.raster_path("elevation")) as src:
        assert int(src.read(1)[0, 0]) == 7

    loaded.write_raster(
        "elevation", write_tif(tmp_path / "b.tif", fill=9), report("elevation"), replace=True
    )
    with rasterio.open(loaded.raster_path("elevation")) as src:
        assert int(src.read(1)[3, 3]) == 9

    loaded.delete("elevation")
    assert "elevation" not in [i.name for i in loaded.list_layers()]


# --------------------------------------------------------------------------- exports


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "kml", "csv"])
def test_exports(loaded: LayerStore, tmp_path: Path, fmt: str) -> None:
    out = loaded.export("localities", fmt, tmp_path)  # type: ignore[arg-type]
    assert out == tmp_path / f"localities.{fmt}"
    if fmt == "csv":
        table = pd.read_csv(out)
        assert table["lon"].tolist() == [p[3] for p in PLACES]
        assert table["lat"].tolist() == [p[4] for p in PLACES]
    else:
        back = gpd.read_file(out)
        names = back["Name"] if fmt == "kml" else back["name"]  # KML's own name field
        assert sorted(names) == sorted(p[0] for p in PLACES)


def test_raster_export(loaded: LayerStore, tmp_path: Path) -> None:
    out = loaded.export("elevation", "tif", tmp_path / "dem.tif")
    assert out.read_bytes() == loaded.raster_path("elevation").read_bytes()


# --------------------------------------------------------------------------- atomic writes


@pytest.mark.parametrize("name", ["localities", "new_layer"])
def test_failed_load_leaves_every_layer_as_it_was(loaded: LayerStore, name: str) -> None:
    before = content(loaded)

    def fail() -> None:
        raise OSError("disk full (simulated)")

    with pytest.raises(OSError, match="simulated"):
        loaded.write_layer(name, LayerKind.LOCALITIES, localities(), hooked(fail), replace=True)

    assert content(loaded) == before


def test_killed_load_leaves_every_layer_as_it_was(
    loaded: LayerStore, store_location: str, tmp_path: Path
) -> None:
    """A process killed after writing the new version's data, before switching to it."""
    before = content(loaded)
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from test_store_contract import hooked, localities
        from layers.kinds import LayerKind
        from layers.stores import open_store

        store = open_store({store_location!r}, work_dir=Path({str(tmp_path / "work")!r}))
        store.write_layer("localities", LayerKind.LOCALITIES, localities(),
                          hooked(lambda: os._exit(9)), replace=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, check=False)
    assert done.returncode == 9

    assert content(loaded) == before
    # the next write succeeds and removes whatever the killed one left
    loaded.write_layer("other", LayerKind.LOCALITIES, localities(PLACES[:1]), report("other"))
    assert loaded.read("localities")["name"].tolist() == [p[0] for p in PLACES]


def test_readers_see_the_old_version_until_the_switch(
    loaded: LayerStore, store_location: str, tmp_path: Path
) -> None:
    staged, go = threading.Event(), threading.Event()

    def pause() -> None:
        staged.set()
        assert go.wait(30)

    writer = open_store(store_location, work_dir=tmp_path / "work")
    errors: list[BaseException] = []

    def write() -> None:
        try:
            writer.write_layer(
                "localities",
                LayerKind.LOCALITIES,
                localities(PLACES[:2]),
                hooked(pause),
                replace=True,
            )
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert staged.wait(30)
        reader = open_store(store_location, work_dir=tmp_path / "work")
        assert reader.count("localities") == 5
        assert reader.read("localities").index.tolist() == [1, 2, 3, 4, 5]
        assert reader.read_page("localities", None, 10, 0)["population"].tolist()[:2] == [
            340060,
            91558,
        ]
        # a second writer of the same layer waits, then gives up naming what is busy
        impatient = open_store(store_location, work_dir=tmp_path / "work", lock_timeout=0.3)
        with pytest.raises(StoreBusyError, match="another load is writing"):
            impatient.write_layer(
                "localities", LayerKind.LOCALITIES, localities(), report("x"), replace=True
            )
        impatient.close()
    finally:
        go.set()
        thread.join(30)
        writer.close()
    assert errors == []
    assert reader.count("localities") == 2
    assert reader.read("localities")["name"].tolist() == ["Villahermosa", "Cárdenas"]
    reader.close()


def test_concurrent_replace_loads_serialise_and_readers_see_whole_versions(
    loaded: LayerStore, store_location: str, tmp_path: Path
) -> None:
    """Two processes replace one layer at once while this one keeps reading it."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from test_store_contract import PLACES, localities, report
        from layers.kinds import LayerKind
        from layers.stores import open_store

        rows = int(sys.argv[1])
        store = open_store({store_location!r}, work_dir=Path({str(tmp_path / "work")!r}))
        for _ in range(2):
            store.write_layer("localities", LayerKind.LOCALITIES, localities(PLACES[:rows]),
                              report("localities"), replace=True)
        store.close()
        """
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(rows)], cwd=REPO) for rows in (2, 3)
    ]
    seen: set[tuple[int, int]] = set()
    while any(w.poll() is None for w in writers):
        frame = loaded.read("localities")
        # a whole version: 5 (before), 2 or 3 features, always the first ones in fid order
        seen.add((len(frame), loaded.count("localities")))
        assert frame["name"].tolist() == [p[0] for p in PLACES[: len(frame)]]
        assert frame.index.tolist() == list(range(1, len(frame) + 1))
    assert [w.wait(60) for w in writers] == [0, 0]
    assert {n for n, _ in seen} <= {5, 2, 3}
    assert loaded.count("localities") in (2, 3)
    assert loaded.info("localities").feature_count == len(loaded.read("localities"))


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_changes_with_every_write_and_only_then(
    loaded: LayerStore, tmp_path: Path
) -> None:
    first = loaded.fingerprint()
    assert loaded.fingerprint() == first
    loaded.read("localities")
    loaded.write_proposal("p", "route", {"type": "FeatureCollection", "features": []})
    assert loaded.fingerprint() == first

    loaded.write_layer(
        "localities", LayerKind.LOCALITIES, localities(), report("localities"), replace=True
    )
    second = loaded.fingerprint()
    assert second != first
    loaded.delete("rights_of_way")
    assert loaded.fingerprint() not in (first, second)


# --------------------------------------------------------------------------- proposals


def test_proposals(any_store: LayerStore) -> None:
    document = {"type": "FeatureCollection", "features": [], "proposal": {"created_at": "t0"}}
    stored = any_store.write_proposal("north", "route", document)
    assert stored.created_at == "t0"
    with pytest.raises(AlreadyExistsError, match="'north' already exists"):
        any_store.write_proposal("north", "route", document)
    any_store.write_proposal("north", "backbone", {**document, "x": 1}, replace=True)
    assert any_store.proposal("north").kind == "backbone"
    assert any_store.proposal("north").document["x"] == 1
    assert [p.name for p in any_store.list_proposals()] == ["north"]
    any_store.write_proposal("east", "route", document)
    assert any_store.proposal_names() == ["east", "north"]
    any_store.delete_proposal("north")
    assert any_store.proposal_names() == ["east"]
    with pytest.raises(NotFoundError, match=r"\(stored: east\)"):
        any_store.proposal("north")
    any_store.delete_proposal("east")
    with pytest.raises(NotFoundError, match="none stored"):
        any_store.proposal("north")


# --------------------------------------------------------------------------- record tables

DDL = (
    "CREATE TABLE IF NOT EXISTS trazo_notes (id TEXT PRIMARY KEY NOT NULL, owner TEXT, "
    "value DOUBLE PRECISION NOT NULL)",
)


def test_record_tables(loaded: LayerStore) -> None:
    tables = loaded.record_tables()
    assert not tables.exists("trazo_notes")
    with tables.transaction(create=("trazo_notes", DDL, "notes")) as session:
        session.execute("INSERT INTO trazo_notes VALUES (?, ?, ?)", ("a", None, 0.05))
        session.execute("INSERT INTO trazo_notes VALUES (?, ?, ?)", ("b", "me", 1.5))
    assert tables.exists("trazo_notes")
    with tables.transaction() as session:
        changed = session.execute(
            "UPDATE trazo_notes SET value = ? WHERE owner IS NOT DISTINCT FROM ?", (2.0, None)
        ).rowcount
    assert changed == 1
    with tables.session() as session:
        rows = session.execute("SELECT id, owner, value FROM trazo_notes ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("a", None, 2.0), ("b", "me", 1.5)]
    # a record table is not a layer
    assert "trazo_notes" not in [i.name for i in loaded.list_layers()]


def test_record_table_transaction_rolls_back_on_error(loaded: LayerStore) -> None:
    tables = loaded.record_tables()
    with tables.transaction(create=("trazo_notes", DDL, "notes")) as session:
        session.execute("INSERT INTO trazo_notes VALUES (?, ?, ?)", ("a", None, 1.0))
    with pytest.raises(RuntimeError), tables.transaction() as session:
        session.execute("DELETE FROM trazo_notes")
        raise RuntimeError("stop")
    with tables.session() as session:
        assert session.execute("SELECT count(*) FROM trazo_notes").fetchone()[0] == 1  # type: ignore[index]


# --------------------------------------------------------------------------- copy


def test_copy_to_the_other_backend_and_back_keeps_everything(
    loaded: LayerStore, store_location: str, postgis_url: str, tmp_path: Path
) -> None:
    loaded.write_proposal("north", "route", {"type": "FeatureCollection", "features": []})
    if store_location.startswith("postgresql"):
        other_location = str(tmp_path / "copy" / "store.gpkg")
    else:
        other_location = postgis_url
    other = open_store(other_location, work_dir=tmp_path / "other-work")
    back = open_store(tmp_path / "back" / "store.gpkg")
    try:
        there = copy_store(loaded, other)
        again = copy_store(other, back)
        assert [(c.name, c.features, c.digest) for c in there] == [
            ("elevation", 0, there[0].digest),
            ("localities", 5, frame_digest(loaded.read("localities"))),
            ("rights_of_way", 2, frame_digest(loaded.read("rights_of_way"))),
            ("north", 0, there[3].digest),
        ]
        assert [(c.name, c.digest) for c in again] == [(c.name, c.digest) for c in there]
        assert content(back)["localities"] == content(loaded)["localities"]
        with pytest.raises(AlreadyExistsError, match="already holds"):
            copy_store(loaded, other)
    finally:
        other.close()
    assert json.dumps(back.info("localities").report) == json.dumps(
        loaded.info("localities").report
    )


def test_open_store_picks_the_backend_from_the_location(tmp_path: Path) -> None:
    assert type(open_store(tmp_path / "a.gpkg")).__name__ == "Store"
    pg = open_store("postgresql://u@localhost/db?schema=team", work_dir=tmp_path)
    assert type(pg).__name__ == "PostgisStore"
    assert pg.location == "postgresql://u@localhost/db?schema=team"
    assert pg.side_folder("scenarios") == tmp_path / "scenarios"
    secret = open_store("postgresql://u:hunter2@localhost/db", work_dir=tmp_path)
    assert "hunter2" not in secret.location
    assert os.fspath(open_store(tmp_path / "a.gpkg").side_folder("jobs")) == str(
        tmp_path / "a.jobs"
    )
