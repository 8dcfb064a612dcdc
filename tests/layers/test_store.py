"""The embedded store: round trips, catalog, replace/delete, atomic writes, WAL readers.

The layers are a few places in Tabasco with coordinates rounded by hand (tests/store_samples.py,
shared with the contract suite), so every expected value below (bboxes, bbox filters,
pages) is worked out from those literals.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point
from store_samples import PLACES, localities, report, rights_of_way, write_tif

from layers.catalog import CATALOG_TABLE, LayerInfo, check_layer_name
from layers.errors import (
    AlreadyExistsError,
    LayerValidationError,
    NotFoundError,
    StoreBusyError,
    StoreWriteError,
)
from layers.kinds import LayerKind
from layers.report import ValidationReport
from layers.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store.gpkg")


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    store.write_layer("localities", LayerKind.LOCALITIES, localities(), report("localities"))
    store.write_layer(
        "rights_of_way", LayerKind.RIGHTS_OF_WAY, rights_of_way(), report("rights_of_way")
    )
    store.write_raster("elevation", write_tif(tmp_path / "in.tif"), report("elevation"))
    return store


def fingerprint(store: Store) -> dict[str, Any]:
    """Everything the store holds: catalog rows, each layer's rows as WKB hex, raster bytes."""
    conn = sqlite3.connect(store.path)
    try:
        catalog = conn.execute(f"SELECT * FROM {CATALOG_TABLE} ORDER BY name").fetchall()
        physical = conn.execute(f"SELECT name, kind, physical FROM {CATALOG_TABLE}").fetchall()
    finally:
        conn.close()
    content: dict[str, Any] = {"catalog": catalog}
    for name, kind, table in physical:
        if kind == "raster":
            content[name] = hashlib.sha256((store.rasters_dir / table).read_bytes()).hexdigest()
            continue
        frame = pyogrio.read_dataframe(store.path, layer=table, fid_as_index=True)
        rows = [
            (int(fid), *(str(v) for v in row.drop("geometry")), row.geometry.wkb_hex)
            for fid, row in frame.iterrows()
        ]
        content[name] = sorted(rows)
    return content


def physical_tables(store: Store) -> set[str]:
    return {str(name) for name, _ in pyogrio.list_layers(store.path)}


def catalogued_tables(store: Store) -> set[str]:
    conn = sqlite3.connect(store.path)
    try:
        return {
            r[0]
            for r in conn.execute(
                f"SELECT physical FROM {CATALOG_TABLE} WHERE kind != 'raster'"
            ).fetchall()
        }
    finally:
        conn.close()


# --------------------------------------------------------------------------- round trips


def test_new_store_has_no_layers_and_creates_no_file(store: Store) -> None:
    assert store.list_layers() == []
    assert not store.path.exists()


def test_points_round_trip_columns_types_and_coordinates(store: Store) -> None:
    store.write_layer("localities", LayerKind.LOCALITIES, localities(), report("localities"))

    frame = store.read("localities")

    assert list(frame.columns) == ["name", "population", "connected", "geometry"]
    assert frame.index.name == "fid"
    assert frame.index.tolist() == [1, 2, 3, 4, 5]
    assert frame.crs.to_epsg() == 4326
    assert frame["name"].tolist() == [
        "Villahermosa",
        "Cárdenas",
        "Comalcalco",
        "Paraíso",
        "Frontera",
    ]
    assert frame["population"].dtype == np.dtype("int64")
    assert frame["population"].tolist() == [340060, 91558, 44757, 26665, 23316]
    assert str(frame["connected"].dtype) == "boolean"
    assert frame["connected"].tolist() == [True, pd.NA, False, True, pd.NA]
    assert [(p.x, p.y) for p in frame.geometry] == [
        (-92.93, 17.99),
        (-93.375, 18.0),
        (-93.2, 18.26),
        (-93.21, 18.4),
        (-92.65, 18.53),
    ]


def test_lines_round_trip(store: Store) -> None:
    store.write_layer("row", LayerKind.RIGHTS_OF_WAY, rights_of_way(), report("row"))

    frame = store.read("row")

    assert frame["row_type"].tolist() == ["highway", "rail"]
    assert list(frame.geometry.iloc[0].coords) == [(-93.0, 18.0), (-92.5, 18.0)]
    assert list(frame.geometry.iloc[1].coords) == [(-93.0, 17.5), (-92.0, 18.5)]


def test_list_and_info(loaded: Store) -> None:
    names = [info.name for info in loaded.list_layers()]
    assert names == ["elevation", "localities", "rights_of_way"]

    info = loaded.info("localities")
    assert isinstance(info, LayerInfo)
    assert info.kind is LayerKind.LOCALITIES
    assert info.source == "tabasco.csv"
    assert info.feature_count == 5
    assert info.geometry_type == "Point"
    # min lon Cárdenas, min lat Villahermosa, max lon and max lat Frontera
    assert info.bbox == (-93.375, 17.99, -92.65, 18.53)
    assert ValidationReport.from_dict(info.report) == report("localities")
    assert info.loaded_at.endswith("Z")

    lines = loaded.info("rights_of_way")
    assert lines.geometry_type == "LineString"
    assert lines.bbox == (-93.0, 17.5, -92.0, 18.5)


def test_catalog_is_plain_sqlite_and_hidden_from_gdal(loaded: Store) -> None:
    conn = sqlite3.connect(loaded.path)
    try:
        rows = conn.execute(
            f"SELECT name, kind, feature_count, geometry_type, physical FROM {CATALOG_TABLE} "
            "ORDER BY name"
        ).fetchall()
        identifiers = dict(
            conn.execute(
                "SELECT table_name, identifier FROM gpkg_contents WHERE data_type = 'features'"
            ).fetchall()
        )
    finally:
        conn.close()
    assert [r[:4] for r in rows] == [
        ("elevation", "raster", 0, None),
        ("localities", "localities", 5, "Point"),
        ("rights_of_way", "rights_of_way", 2, "LineString"),
    ]
    # GDAL (and so QGIS) lists the two vector layers and nothing else.
    tables = physical_tables(loaded)
    assert tables == catalogued_tables(loaded)
    assert len(tables) == 2
    assert all(t.startswith(("localities__v", "rights_of_way__v")) for t in tables)
    assert sorted(identifiers.values()) == ["localities", "rights_of_way"]


def test_store_is_in_wal_mode_and_gdal_reads_it(loaded: Store) -> None:
    conn = sqlite3.connect(loaded.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    (table,) = [t for t in catalogued_tables(loaded) if t.startswith("localities__v")]
    assert len(pyogrio.read_dataframe(loaded.path, layer=table)) == 5


# --------------------------------------------------------------------------- names and errors


@pytest.mark.parametrize("name", ["a", "localities_2020", "x" * 63])
def test_valid_names(name: str) -> None:
    assert check_layer_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "Localities", "2020_localities", "_x", "a-b", "a b", "../x", "x" * 64, "ñu"]
)
def test_invalid_names_refused(store: Store, name: str) -> None:
    with pytest.raises(LayerValidationError, match="is not allowed"):
        store.write_layer(name, LayerKind.LOCALITIES, localities(), report("x"))
    assert not store.path.exists()


def test_frame_not_in_wgs84_refused(store: Store) -> None:
    frame = localities().to_crs("EPSG:6372")
    with pytest.raises(LayerValidationError, match="EPSG:4326"):
        store.write_layer("localities", LayerKind.LOCALITIES, frame, report("localities"))


def test_frame_with_fid_column_refused(store: Store) -> None:
    frame = localities().assign(FID=range(5))
    with pytest.raises(LayerValidationError, match="rename it"):
        store.write_layer("localities", LayerKind.LOCALITIES, frame, report("localities"))


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.info("nope"),
        lambda s: s.read("nope"),
        lambda s: s.count("nope"),
        lambda s: s.read_page("nope", None, 10, 0),
        lambda s: s.delete("nope"),
        lambda s: s.export("nope", "geojson", s.path.parent / "x.geojson"),
        lambda s: s.raster_path("nope"),
    ],
)
def test_unknown_name_lists_the_stored_layers(loaded: Store, call: Any) -> None:
    with pytest.raises(
        NotFoundError, match="no layer named 'nope'; stored layers: elevation, localities"
    ):
        call(loaded)


def test_unknown_name_in_a_big_store_counts_the_layers(store: Store) -> None:
    """The store says how many there are; the CLI adds "see `trazo layers list`" (its hint
    for a missing layer, tests/api/test_cli.py), the service its own."""
    one = localities(PLACES[:1])
    for i in range(11):
        store.write_layer(f"l{i:02d}", LayerKind.LOCALITIES, one, report(f"l{i:02d}"))
    expected = r"^no layer named 'nope'; 11 layers are stored$"
    with pytest.raises(NotFoundError, match=expected) as err:
        store.info("nope")
    assert err.value.subject == "layer"


def test_unknown_name_in_an_empty_store(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no layers yet"):
        store.read("nope")


def test_raster_and_vector_accessors_do_not_mix(loaded: Store) -> None:
    with pytest.raises(NotFoundError, match="is a raster"):
        loaded.read("elevation")
    with pytest.raises(NotFoundError, match="not a raster"):
        loaded.raster_path("localities")


# --------------------------------------------------------------------------- replace, delete


def test_replace_refused_without_flag(loaded: Store) -> None:
    before = fingerprint(loaded)
    with pytest.raises(AlreadyExistsError, match=r"^layer 'localities' already exists$"):
        loaded.write_layer(
            "localities", LayerKind.LOCALITIES, localities(PLACES[:2]), report("localities")
        )
    assert fingerprint(loaded) == before


def test_replace_with_flag(loaded: Store) -> None:
    old_tables = physical_tables(loaded)

    info = loaded.write_layer(
        "localities",
        LayerKind.LOCALITIES,
        localities(PLACES[:2]),
        report("localities", source="v2.csv"),
        replace=True,
    )

    assert info.feature_count == 2
    assert loaded.info("localities").source == "v2.csv"
    assert loaded.read("localities")["name"].tolist() == ["Villahermosa", "Cárdenas"]
    assert loaded.info("localities").bbox == (-93.375, 17.99, -92.93, 18.0)
    # the old version is dropped, the other layer untouched
    tables = physical_tables(loaded)
    assert len(tables) == 2
    assert len(tables & old_tables) == 1
    assert tables == catalogued_tables(loaded)


def test_delete(loaded: Store) -> None:
    loaded.delete("localities")

    assert [i.name for i in loaded.list_layers()] == ["elevation", "rights_of_way"]
    assert all(not t.startswith("localities") for t in physical_tables(loaded))
    with pytest.raises(NotFoundError):
        loaded.read("localities")
    # a deleted name can be written again without replace
    loaded.write_layer("localities", LayerKind.LOCALITIES, localities(), report("localities"))
    assert loaded.count("localities") == 5


def test_geopackage_stays_clean_after_drops(loaded: Store) -> None:
    for _ in range(3):
        loaded.write_layer(
            "localities", LayerKind.LOCALITIES, localities(), report("x"), replace=True
        )
    loaded.delete("rights_of_way")

    live = catalogued_tables(loaded)
    assert physical_tables(loaded) == live
    conn = sqlite3.connect(loaded.path)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        meta = {
            table: {r[0] for r in conn.execute(f"SELECT table_name FROM {table}")}
            for table in ("gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents")
        }
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    (table,) = live
    versioned = {n for n in names if "__v" in n}
    assert all(table in n for n in versioned), versioned
    for rows in meta.values():
        assert rows <= live
    assert len(pyogrio.read_dataframe(loaded.path, layer=table)) == 5


# --------------------------------------------------------------------------- bbox and paging


def test_read_bbox_keeps_intersecting_points(loaded: Store) -> None:
    # lon -93.3..-93.0, lat 18.1..18.45 holds Comalcalco (-93.2, 18.26) and Paraíso
    # (-93.21, 18.4) only.
    frame = loaded.read("localities", bbox=(-93.3, 18.1, -93.0, 18.45))
    assert frame["name"].tolist() == ["Comalcalco", "Paraíso"]
    assert frame.index.tolist() == [3, 4]
    assert loaded.count("localities", (-93.3, 18.1, -93.0, 18.45)) == 2


def test_read_bbox_uses_geometry_not_its_envelope(loaded: Store) -> None:
    # The box around (-92.85, 18.35) lies inside the diagonal's envelope, but the diagonal
    # (y = x + 110.5) passes there at y = 17.65: no line intersects it.
    assert len(loaded.read("rights_of_way", bbox=(-92.9, 18.3, -92.8, 18.4))) == 0
    assert loaded.count("rights_of_way", (-92.9, 18.3, -92.8, 18.4)) == 0
    # The highway crosses (-92.8..-92.7, 17.9..18.1) with no vertex inside it.
    assert loaded.read("rights_of_way", bbox=(-92.8, 17.9, -92.7, 18.1))["row_type"].tolist() == [
        "highway"
    ]


@pytest.mark.parametrize("bbox", [(1, 2, 3), (-93, 19, -92, 18), (0, 0, float("nan"), 1)])
def test_bad_bbox_refused(loaded: Store, bbox: Any) -> None:
    with pytest.raises(ValueError, match="bbox"):
        loaded.read("localities", bbox=bbox)


def test_pages_visit_each_feature_once_in_fid_order(loaded: Store) -> None:
    pages = [loaded.read_page("localities", None, 2, offset) for offset in (0, 2, 4)]
    assert [p.index.tolist() for p in pages] == [[1, 2], [3, 4], [5]]
    assert pages[2]["name"].tolist() == ["Frontera"]
    assert str(pages[0]["connected"].dtype) == "boolean"
    assert loaded.count("localities") == 5


def test_page_past_the_end_is_empty_with_the_columns(loaded: Store) -> None:
    page = loaded.read_page("localities", None, 10, 5)
    assert len(page) == 0
    assert list(page.columns) == ["name", "population", "connected", "geometry"]


def test_page_within_bbox(loaded: Store) -> None:
    # lat >= 18.2: Comalcalco (3), Paraíso (4), Frontera (5)
    bbox = (-94.0, 18.2, -92.0, 19.0)
    assert loaded.count("localities", bbox) == 3
    assert loaded.read_page("localities", bbox, 2, 1).index.tolist() == [4, 5]


def test_feature_by_fid(loaded: Store) -> None:
    row = loaded.feature("localities", 4)
    assert row.index.tolist() == [4]
    assert row["name"].tolist() == ["Paraíso"]
    assert (row.geometry.iloc[0].x, row.geometry.iloc[0].y) == (-93.21, 18.4)
    with pytest.raises(NotFoundError, match="no feature with fid 99"):
        loaded.feature("localities", 99)


# --------------------------------------------------------------------------- atomicity


def _half_write(real: Any) -> Any:
    def write(frame: gpd.GeoDataFrame, path: Any, **kwargs: Any) -> None:
        real(frame.iloc[:1], path, **kwargs)
        raise OSError("disk full (simulated)")

    return write


def _short_read_back(real: Any) -> Any:
    def read_info(path: Any, **kwargs: Any) -> dict[str, Any]:
        meta = dict(real(path, **kwargs))
        meta["features"] = meta["features"] - 1
        return meta

    return read_info


def _fail_switch(*args: Any, **kwargs: Any) -> None:
    raise sqlite3.OperationalError("database is locked (simulated)")


@pytest.mark.parametrize("name", ["localities", "new_layer"])
@pytest.mark.parametrize("failure", ["write", "read_back", "switch"])
def test_failed_write_leaves_the_store_unchanged(
    loaded: Store, monkeypatch: pytest.MonkeyPatch, failure: str, name: str
) -> None:
    before = fingerprint(loaded)
    if failure == "write":
        monkeypatch.setattr(pyogrio, "write_dataframe", _half_write(pyogrio.write_dataframe))
        expected: type[BaseException] = OSError
    elif failure == "read_back":
        monkeypatch.setattr(pyogrio, "read_info", _short_read_back(pyogrio.read_info))
        expected = StoreWriteError
    else:
        monkeypatch.setattr(Store, "_switch", _fail_switch)
        expected = sqlite3.OperationalError

    with pytest.raises(expected):
        loaded.write_layer(
            name, LayerKind.LOCALITIES, localities(PLACES[:3]), report(name), replace=True
        )

    monkeypatch.undo()
    assert fingerprint(loaded) == before
    assert physical_tables(loaded) == catalogued_tables(loaded)
    assert [i.name for i in loaded.list_layers()] == ["elevation", "localities", "rights_of_way"]


def test_killed_write_leaves_the_store_unchanged_and_its_orphan_is_cleaned(
    loaded: Store,
) -> None:
    """A process killed after writing the new table, before the catalog switch."""
    before = fingerprint(loaded)
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        import geopandas as gpd
        from shapely.geometry import Point
        from layers.kinds import LayerKind
        from layers.report import ValidationReport
        from layers.store import Store

        Store._switch = lambda *a, **k: os._exit(9)
        frame = gpd.GeoDataFrame({{"name": ["X"], "population": [1]}},
                                 geometry=[Point(-93.0, 18.0)], crs="EPSG:4326")
        Store(Path({str(loaded.path)!r})).write_layer(
            "localities", LayerKind.LOCALITIES, frame,
            ValidationReport("localities", "localities", "x", "CSV", None), replace=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, check=False)
    assert done.returncode == 9

    # the half-done version is on disk but nothing reads it
    orphans = physical_tables(loaded) - catalogued_tables(loaded)
    assert len(orphans) == 1
    assert next(iter(orphans)).startswith("localities__v")
    assert fingerprint(loaded) == before
    assert loaded.read("localities")["name"].tolist()[0] == "Villahermosa"

    # opening the store again removes it, and leaves the content as it was
    reopened = Store(loaded.path)
    assert physical_tables(reopened) == catalogued_tables(reopened)
    assert fingerprint(reopened) == before


def test_failed_raster_write_leaves_the_store_unchanged(loaded: Store, tmp_path: Path) -> None:
    before = fingerprint(loaded)
    not_a_tif = tmp_path / "notes.tif"
    not_a_tif.write_text("not a raster")

    with pytest.raises(StoreWriteError, match="could not be read back"):
        loaded.write_raster("elevation", not_a_tif, report("elevation"), replace=True)

    assert fingerprint(loaded) == before
    assert sorted(p.name for p in loaded.rasters_dir.iterdir()) == [
        Path(loaded.raster_path("elevation")).name
    ]


# --------------------------------------------------------------------------- concurrency


class _PausedWrite:
    """Run a replacing write in a thread that stops just before the catalog switch."""

    def __init__(self, path: Path, frame: gpd.GeoDataFrame) -> None:
        self.writer = Store(path)
        self.staged = threading.Event()
        self.go = threading.Event()
        self.error: BaseException | None = None
        original = self.writer._switch

        def paused_switch(*args: Any, **kwargs: Any) -> Any:
            self.staged.set()
            assert self.go.wait(30)
            return original(*args, **kwargs)

        self.writer._switch = paused_switch  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self._run, args=(frame,))

    def _run(self, frame: gpd.GeoDataFrame) -> None:
        try:
            self.writer.write_layer(
                "localities", LayerKind.LOCALITIES, frame, report("localities"), replace=True
            )
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def __enter__(self) -> _PausedWrite:
        self.thread.start()
        assert self.staged.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.go.set()
        self.thread.join(30)
        assert self.error is None, self.error


def test_reader_sees_the_old_version_until_the_switch(loaded: Store) -> None:
    new = localities(PLACES[:2])
    with _PausedWrite(loaded.path, new):
        # the new table is written, the catalog not yet switched
        assert len(physical_tables(loaded)) == 3
        reader = Store(loaded.path)  # opening must not clean the write under way
        assert len(physical_tables(loaded)) == 3
        assert reader.count("localities") == 5
        assert reader.read("localities")["population"].tolist()[:2] == [340060, 91558]
        assert reader.read_page("localities", None, 10, 0).index.tolist() == [1, 2, 3, 4, 5]

        script = (
            "from pathlib import Path; from layers.store import Store; "
            f"print(len(Store(Path({str(loaded.path)!r})).read('localities')))"
        )
        other = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
        )
        assert other.stdout.strip() == "5"

    assert reader.count("localities") == 2
    assert reader.read("localities")["name"].tolist() == ["Villahermosa", "Cárdenas"]
    assert physical_tables(loaded) == catalogued_tables(loaded)


def test_a_second_writer_waits_for_the_first(loaded: Store) -> None:
    with _PausedWrite(loaded.path, localities(PLACES[:2])):
        impatient = Store(loaded.path, lock_timeout=0.2)
        with pytest.raises(StoreBusyError, match="another load is writing"):
            impatient.write_layer("other", LayerKind.LOCALITIES, localities(), report("other"))
    assert "other" not in [i.name for i in loaded.list_layers()]


# --------------------------------------------------------------------------- rasters


def test_raster_write_and_path(store: Store, tmp_path: Path) -> None:
    source = write_tif(tmp_path / "dem.tif")

    info = store.write_raster("elevation", source, report("elevation", source="dem.tif"))

    assert info.kind is LayerKind.RASTER
    assert info.feature_count == 0
    assert info.geometry_type is None
    assert info.bbox == (-93.0, 17.5, -92.0, 18.5)
    path = store.raster_path("elevation")
    assert path.parent == store.rasters_dir
    assert path.read_bytes() == source.read_bytes()
    assert store.info("elevation") == info


def test_raster_replace(loaded: Store, tmp_path: Path) -> None:
    old = loaded.raster_path("elevation")
    newer = write_tif(tmp_path / "newer.tif", fill=9)
    with pytest.raises(AlreadyExistsError, match="'elevation' already exists"):
        loaded.write_raster("elevation", newer, report("elevation"))
    assert loaded.raster_path("elevation") == old

    loaded.write_raster("elevation", newer, report("elevation"), replace=True)

    assert loaded.raster_path("elevation").read_bytes() == newer.read_bytes()
    assert not old.exists()
    assert len(list(loaded.rasters_dir.iterdir())) == 1


def test_raster_delete_and_orphan_file_cleanup(loaded: Store) -> None:
    stray = loaded.rasters_dir / "elevation__vdeadbeef.tif"
    stray.write_bytes(b"left by a crash")
    path = loaded.raster_path("elevation")

    loaded.delete("elevation")

    assert not path.exists()
    assert not stray.exists()


def test_missing_raster_file(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        store.write_raster("elevation", tmp_path / "absent.tif", report("elevation"))


# --------------------------------------------------------------------------- properties

mexico_points = st.lists(
    st.tuples(
        st.floats(-118.4, -86.7, allow_nan=False),
        st.floats(14.5, 32.7, allow_nan=False),
        st.integers(0, 10_000_000),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=15, deadline=None)
@given(points=mexico_points, limit=st.integers(1, 7))
def test_round_trip_and_paging_properties(
    points: list[tuple[float, float, int]], limit: int
) -> None:
    frame = gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(len(points))], "population": [p[2] for p in points]},
        geometry=[Point(x, y) for x, y, _ in points],
        crs="EPSG:4326",
    )
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "store.gpkg")
        store.write_layer("pts", LayerKind.LOCALITIES, frame, report("pts"))

        back = store.read("pts")
        assert [(g.x, g.y) for g in back.geometry] == [(x, y) for x, y, _ in points]
        assert back["population"].tolist() == [p[2] for p in points]

        pages = [
            store.read_page("pts", None, limit, offset) for offset in range(0, len(points), limit)
        ]
        fids = [fid for page in pages for fid in page.index]
        assert fids == list(range(1, len(points) + 1))
        assert store.count("pts") == len(points)


def test_report_round_trips_through_json(loaded: Store) -> None:
    conn = sqlite3.connect(loaded.path)
    try:
        (text,) = conn.execute(
            f"SELECT report FROM {CATALOG_TABLE} WHERE name = 'localities'"
        ).fetchone()
    finally:
        conn.close()
    assert json.loads(text)["warnings"] == ["one note"]
