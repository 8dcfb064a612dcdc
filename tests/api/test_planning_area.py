"""The country's edge: a place outside the stored states (and their margin) is a user error.

The store holds one state, a box from 94 W to 91 W and 16.5 N to 18.5 N, a highway on the
meridian 92.9 W and two towns on it. Washington, D.C. (77.03 W, 38.90 N) is thousands of
km from the box; a point at 92.9 W, 15.5 N lies 1 degree of latitude (110.6 km) south of
it, far beyond the 22.2 km (12 nautical mile) margin; 92.9 W, 16.4 N lies 0.1 degree
(11.1 km) south of it, inside the margin.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.settings import JobSettings, ServiceSettings, StoreSettings

runner = CliRunner()
KEYS = {"p" * 20: "planner"}
PLANNER = {"X-API-Key": "p" * 20}


def collection(geometry: dict[str, object], **props: object) -> str:
    feature = {"type": "Feature", "properties": props, "geometry": geometry}
    return json.dumps({"type": "FeatureCollection", "features": [feature]})


@pytest.fixture
def store(store_env: Path, tmp_path: Path) -> Path:
    ring = [[-94.0, 16.5], [-91.0, 16.5], [-91.0, 18.5], [-94.0, 18.5], [-94.0, 16.5]]
    files = {
        "state.geojson": (
            collection({"type": "Polygon", "coordinates": [ring]}, cve_ent="27", name="Tabasco"),
            "states",
        ),
        "road.geojson": (
            collection(
                {"type": "LineString", "coordinates": [[-92.9, 17.0], [-92.9, 18.0]]},
                row_type="highway",
            ),
            "rights_of_way",
        ),
        "towns.csv": (
            "name,state,population,lon,lat\nSur,Tabasco,5000,-92.9,17.0\n"
            "Norte,Tabasco,3000,-92.9,18.0\n",
            "localities",
        ),
    }
    for name, (text, kind) in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = runner.invoke(app, ["layers", "load", str(tmp_path / name), "--kind", kind])
        assert result.exit_code == 0, result.output
    return store_env


@pytest.mark.parametrize(
    ("place", "shown"),
    [("-77.03,38.90", "'-77.03,38.9' at (-77.0300, 38.9000)"), ("-92.9,15.5", "111 km")],
)
def test_cli_refuses_a_place_outside_the_planning_area(store: Path, place: str, shown: str) -> None:
    result = runner.invoke(app, ["plan", "route", "--from", place, "--to", "Norte"])
    assert result.exit_code == 2, result.output
    assert "outside the planning area" in result.output and shown in result.output
    assert "Traceback" not in result.output


def test_cli_accepts_a_point_within_the_margin(store: Path) -> None:
    result = runner.invoke(app, ["plan", "route", "--from", "-92.9,16.4", "--to", "Norte"])
    assert result.exit_code == 0, result.output


def test_http_refuses_a_place_outside_the_planning_area_before_a_job(store: Path) -> None:
    service = create_app(
        ServiceSettings(mode="production", api_keys=KEYS),  # type: ignore[arg-type]
        StoreSettings(store=store),
        jobs=JobSettings(executor="thread", wait_seconds=30),  # type: ignore[arg-type]
    )
    with TestClient(service) as client:
        response = client.post(
            "/proposals/route", json={"from": "-77.03,38.90", "to": "Sur"}, headers=PLANNER
        )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "outside_planning_area"
    assert "'-77.03,38.9'" in body["message"] and "outside the planning area" in body["message"]
