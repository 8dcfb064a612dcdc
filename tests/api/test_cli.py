"""The ``trazo`` command line as a GIS analyst uses it: load, list, show, export."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()

# Two short lines in Tabasco; the second is the first shifted 0.1° north.
ROW_GEOJSON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"row_type": "rail", "name": "Chontalpa spur"},
            "geometry": {"type": "LineString", "coordinates": [[-93.4, 18.0], [-93.2, 18.0]]},
        },
        {
            "type": "Feature",
            "properties": {"row_type": "highway", "name": "MEX-180 piece"},
            "geometry": {"type": "LineString", "coordinates": [[-93.4, 18.1], [-93.2, 18.1]]},
        },
    ],
}


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


def test_load_list_show_export(store_env: Path, tmp_path: Path) -> None:
    source = _write(tmp_path / "row.geojson", ROW_GEOJSON)

    code, out = invoke("layers", "load", str(source), "--kind", "rights_of_way", "--name", "row")
    assert code == 0, out
    assert "features kept" in out

    code, out = invoke("layers", "list")
    assert code == 0, out
    assert "row" in out and "rights_of_way" in out

    code, out = invoke("layers", "show", "row")
    assert code == 0, out
    assert json.loads(out)["feature_count"] == 2

    target = tmp_path / "out.geojson"
    code, out = invoke("layers", "export", "row", "--format", "geojson", "--out", str(target))
    assert code == 0, out
    exported = pyogrio.read_dataframe(target)
    assert sorted(exported["name"]) == ["Chontalpa spur", "MEX-180 piece"]
    assert exported.total_bounds == pytest.approx([-93.4, 18.0, -93.2, 18.1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("layers", "show", "nowhere"), "nowhere"),
        (("layers", "load", "/vsicurl/http://example.com/x.geojson", "--kind", "states"), "/vsi"),
        (("layers", "export", "nowhere", "--format", "kml", "--out", "x.kml"), "nowhere"),
    ],
)
def test_user_errors_are_one_line_without_traceback(
    store_env: Path, args: tuple[str, ...], message: str
) -> None:
    code, out = invoke(*args)
    assert code == 2
    assert "error:" in out and message in out
    assert "Traceback" not in out


def test_failed_load_keeps_the_stored_layer(store_env: Path, tmp_path: Path) -> None:
    source = _write(tmp_path / "row.geojson", ROW_GEOJSON)
    assert invoke("layers", "load", str(source), "--kind", "rights_of_way", "--name", "row")[0] == 0

    bad = {
        **ROW_GEOJSON,
        "features": [{**ROW_GEOJSON["features"][0], "properties": {"row_type": "canal"}}],
    }  # type: ignore[index, dict-item]
    code, out = invoke(
        "layers",
        "load",
        str(_write(tmp_path / "bad.geojson", bad)),
        "--kind",
        "rights_of_way",
        "--name",
        "row",
        "--replace",
    )
    assert code == 2 and "canal" in out

    code, out = invoke("layers", "show", "row")
    assert json.loads(out)["feature_count"] == 2


def test_replacing_needs_the_flag(store_env: Path, tmp_path: Path) -> None:
    source = _write(tmp_path / "row.geojson", ROW_GEOJSON)
    assert invoke("layers", "load", str(source), "--kind", "rights_of_way", "--name", "row")[0] == 0
    code, out = invoke("layers", "load", str(source), "--kind", "rights_of_way", "--name", "row")
    assert code == 2 and "layer 'row' already exists; pass --replace to replace it" in out
    code, _ = invoke(
        "layers", "load", str(source), "--kind", "rights_of_way", "--name", "row", "--replace"
    )
    assert code == 0


def test_a_missing_layer_gets_the_command_line_hints(store_env: Path, tmp_path: Path) -> None:
    """The store's message says what is missing; the command line says which command helps."""
    code, out = invoke("layers", "show", "row")
    assert code == 2
    assert "no layer named 'row'; the store has no layers yet; run `trazo demo`" in out
    source = _write(tmp_path / "row.geojson", ROW_GEOJSON)
    assert invoke("layers", "load", str(source), "--kind", "rights_of_way", "--name", "row")[0] == 0
    code, out = invoke("layers", "show", "nowhere")
    assert code == 2
    assert "no layer named 'nowhere'; stored layers: row; see `trazo layers list`" in out
