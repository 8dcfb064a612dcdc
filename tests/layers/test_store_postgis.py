"""What only the PostGIS store has: plain views for QGIS, the index used for bbox filters,
reserved names, and the URL rules. The shared contract is in test_store_contract.py."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
from shapely.geometry import Point, Polygon

from layers.errors import LayerValidationError
from layers.kinds import LayerKind
from layers.postgis_location import redact, split_location
from layers.report import ValidationReport
from layers.store_postgis import PostgisStore


def _report(name: str) -> ValidationReport:
    return ValidationReport(name, "localities", "x.csv", "CSV", "EPSG:4326")


@pytest.fixture
def store(postgis_url: str, tmp_path: Path) -> PostgisStore:
    store = PostgisStore(postgis_url, work_dir=tmp_path)
    yield store  # type: ignore[misc]
    store.close()


def _conn(store: PostgisStore) -> psycopg.Connection:
    url, _ = split_location(store._url)
    return psycopg.connect(url, autocommit=True)


def test_each_layer_is_a_plain_view_qgis_lists_with_srid_4326(store: PostgisStore) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["a", "b"], "population": [1, 2]},
        geometry=[Point(-93.0, 18.0), Point(-92.0, 17.0)],
        crs="EPSG:4326",
    )
    store.write_layer("towns", LayerKind.LOCALITIES, frame, _report("towns"))
    # mixed Polygon + MultiPolygon are stored as MultiPolygon, as GDAL does in a GeoPackage
    square = Polygon([(-93, 17), (-92, 17), (-92, 18), (-93, 18)])
    areas = gpd.GeoDataFrame(
        {"cve_ent": ["27", "04"], "name": ["Tabasco", "Campeche"]},
        geometry=[square, square.union(Polygon([(-91, 17), (-90, 17), (-90, 18)]))],
        crs="EPSG:4326",
    )
    store.write_layer("areas", LayerKind.STATES, areas, _report("areas"))
    assert store.info("areas").geometry_type == "MultiPolygon"

    with _conn(store) as conn:
        rows = conn.execute(
            "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns "
            "WHERE f_table_schema = %s AND f_table_name IN ('towns', 'areas') ORDER BY 1",
            (store.schema,),
        ).fetchall()
        assert rows == [("areas", "geom", 4326, "MULTIPOLYGON"), ("towns", "geom", 4326, "POINT")]
        kinds = conn.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = %s AND table_name IN ('towns', 'areas') ORDER BY 1",
            (store.schema,),
        ).fetchall()
        assert kinds == [("areas", "VIEW"), ("towns", "VIEW")]
        towns = conn.execute(
            f'SELECT fid, name, population, ST_AsText(geom) FROM "{store.schema}".towns '
            "ORDER BY fid"
        ).fetchall()
        assert towns == [(1, "a", 1, "POINT(-93 18)"), (2, "b", 2, "POINT(-92 17)")]


def test_replacing_repoints_the_view_and_drops_the_old_version(store: PostgisStore) -> None:
    one = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(0, 0)], crs="EPSG:4326")
    two = gpd.GeoDataFrame({"name": ["b", "c"]}, geometry=[Point(1, 1), Point(2, 2)], crs=4326)
    store.write_layer("towns", LayerKind.LOCALITIES, one, _report("towns"))
    store.write_layer("towns", LayerKind.LOCALITIES, two, _report("towns"), replace=True)
    with _conn(store) as conn:
        count = conn.execute(f'SELECT count(*) FROM "{store.schema}".towns').fetchone()
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE 'towns__v%%'",
            (store.schema,),
        ).fetchall()
    assert count == (2,)
    assert len(tables) == 1
    store.delete("towns")
    with _conn(store) as conn:
        left = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name LIKE 'towns%%'",
            (store.schema,),
        ).fetchone()
    assert left == (0,)


def test_bbox_filters_use_the_spatial_index(store: PostgisStore) -> None:
    frame = gpd.GeoDataFrame(
        {"n": list(range(2000))},
        geometry=[Point(-118 + (i % 50) * 0.6, 14 + (i // 50) * 0.4) for i in range(2000)],
        crs="EPSG:4326",
    )
    store.write_layer("grid", LayerKind.LOCALITIES, frame, _report("grid"))
    # lon -118 + 0.6 k for k in 0..49, lat 14 + 0.4 r for r in 0..39: the box holds
    # k = 0..1 (lon -118, -117.4) and r = 0..2 (lat 14, 14.4, 14.8): 6 points
    assert store.count("grid", (-118.1, 13.9, -117.3, 14.9)) == 6
    physical = store._vector_info("grid")
    assert physical.feature_count == 2000
    with _conn(store) as conn:
        table = conn.execute(
            f'SELECT physical FROM "{store.schema}".trazo_catalog WHERE name = %s', ("grid",)
        ).fetchone()
        assert table is not None
        conn.execute(f'ANALYZE "{store.schema}"."{table[0]}"')
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                f'EXPLAIN SELECT fid FROM "{store.schema}"."{table[0]}" '
                "WHERE ST_Intersects(geom, ST_MakeEnvelope(-118.1, 13.9, -117.3, 14.9, 4326))"
            )
        )
    assert f"{table[0]}_geom" in plan  # the GiST index, not a scan of every row


def test_reserved_and_unsafe_names_refused(store: PostgisStore) -> None:
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(0, 0)], crs="EPSG:4326")
    with pytest.raises(LayerValidationError, match="reserved"):
        store.write_layer("trazo_catalog", LayerKind.LOCALITIES, frame, _report("x"))
    with pytest.raises(LayerValidationError, match="which the store uses for geometries"):
        store.write_layer("geoms", LayerKind.LOCALITIES, frame.assign(geom=["x"]), _report("geoms"))


def test_url_rules() -> None:
    assert split_location("postgresql://u@h/db?schema=team&sslmode=require") == (
        "postgresql://u@h/db?sslmode=require",
        "team",
    )
    with pytest.raises(LayerValidationError, match="schema"):
        split_location("postgresql://u@h/db?schema=Robert';DROP")
    assert redact("postgresql://u:pw@h:5432/db") == "postgresql://u@h:5432/db"


def test_a_killed_service_process_loses_its_owner_lock(postgis_url: str, tmp_path: Path) -> None:
    """Service processes on any host see each other through the database, not local files."""
    import subprocess
    import sys
    import time

    owner = "a" * 32
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from layers.stores import open_store\n"
        f"held = open_store({postgis_url!r}, work_dir=Path({str(tmp_path / 'other')!r}))"
        f".service_owners().hold({owner!r})\n"
        "print('held' if held else 'busy', flush=True)\n"
        "time.sleep(60)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        here = PostgisStore(postgis_url, work_dir=tmp_path / "here").service_owners()
        assert here.alive(owner)
        assert here.hold(owner) is None
    finally:
        other.kill()
        other.wait(10)
        if other.stdout is not None:
            other.stdout.close()
    # the server frees a dead client's locks when its backend notices the closed socket,
    # which a busy machine can delay by seconds; the loop ends as soon as it is free
    deadline = time.monotonic() + 30
    while here.alive(owner) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not here.alive(owner)
