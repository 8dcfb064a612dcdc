"""``trazo map`` draws stored proposals by name, alone or compared."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from layers.store import Store

runner = CliRunner()


def route(name: str, lat: float) -> dict[str, object]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "deployment_type": "highway",
                    "length_km": 110.67,
                    "cost_usd": 1_992_060,
                    "role": "primary",
                },
                "geometry": {"type": "LineString", "coordinates": [[-93.0, lat], [-93.0, lat + 1]]},
            }
        ],
        "proposal": {"name": name, "kind": "route"},
        "metrics": {"total_km": 110.67, "capex_usd_total": 1_992_060},
    }


def test_map_of_stored_proposals(store_env: Path, tmp_path: Path) -> None:
    store = Store(store_env)
    store.write_proposal("north", "route", route("north", 17.0))
    store.write_proposal("south", "route", route("south", 16.0))

    single = tmp_path / "north.html"
    result = runner.invoke(app, ["map", "north", "--out", str(single)])
    assert result.exit_code == 0, result.output
    assert "north" in single.read_text(encoding="utf-8")

    both = tmp_path / "both.html"
    result = runner.invoke(app, ["map", "north", "--compare", "south", "--out", str(both)])
    assert result.exit_code == 0, result.output
    html = both.read_text(encoding="utf-8")
    assert "north" in html and "south" in html


def test_unknown_proposal_names_the_stored_ones(store_env: Path, tmp_path: Path) -> None:
    Store(store_env).write_proposal("north", "route", route("north", 17.0))
    result = runner.invoke(app, ["map", "nowhere", "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert "nowhere" in result.output and "north" in result.output
