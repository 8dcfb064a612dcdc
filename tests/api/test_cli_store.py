"""``trazo store copy``: a whole store GeoPackage → PostGIS → GeoPackage, verified."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from layers.ingest import ingest
from layers.stores import frame_digest, open_store

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


def test_copy_there_and_back(
    postgis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "team.gpkg"
    with open_store(source) as store:
        ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
        ingest(store, DATA / "southeast_railways.fgb", "rights_of_way", name="railways")
        ingest(store, DATA / "villahermosa_elevation.tif", "raster", name="elevation")
        store.write_proposal("ring", "backbone", {"type": "FeatureCollection", "features": []})
        expected = {name: frame_digest(store.read(name)) for name in ("localities", "railways")}
        counts = {info.name: info.feature_count for info in store.list_layers()}

    code, out = invoke("store", "copy", str(source), postgis_url)
    assert code == 0, out
    assert "localities" in out and "ring" in out

    back = tmp_path / "back.gpkg"
    code, out = invoke("store", "copy", postgis_url, str(back))
    assert code == 0, out
    with open_store(back) as store:
        assert {i.name: i.feature_count for i in store.list_layers()} == counts
        assert {n: frame_digest(store.read(n)) for n in expected} == expected
        assert [p.name for p in store.list_proposals()] == ["ring"]
        assert (
            store.raster_path("elevation").read_bytes()
            == (DATA / "villahermosa_elevation.tif").read_bytes()
        )

    # copying again onto the same names needs --replace: one line, exit 2, nothing changed
    code, out = invoke("store", "copy", str(source), postgis_url)
    assert code == 2
    assert "already holds" in out and "--replace" in out
    code, out = invoke("store", "copy", str(source), postgis_url, "--replace")
    assert code == 0, out


def test_unreachable_database_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "a.gpkg"
    with open_store(source) as store:
        ingest(store, DATA / "southeast_railways.fgb", "rights_of_way", name="railways")
    missing = f"postgresql://nobody@/nowhere?host={tmp_path}&connect_timeout=2"
    code, out = invoke("store", "copy", str(source), missing)
    assert code == 2
    assert "cannot connect to the PostGIS store" in out
    assert "Traceback" not in out
