"""Proposals over HTTP: submit, poll, read, export and map, on a store built by hand.

The store holds two highways in Tabasco and three towns:

* ``Federal 195`` runs along the meridian 92.9° W from 17.0° N (Sur) to 18.0° N (Norte):
  one degree of latitude there is 110.67 km (WGS 84 meridian arc), so the route from
  Norte to Sur is 110.67 km at the highway rate of data/cost_model.toml, USD 18,000/km.
* ``Federal 186`` runs along the parallel 17.5° N from 92.9° W to 92.5° W (Este), 42.5 km.
* Two localities named San Juan in different states make a name ambiguous.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes_proposals import JobOut, ProposalSummary
from api.settings import JobSettings, ServiceSettings, StoreSettings
from layers.errors import NoRouteError
from layers.ingest import ingest
from layers.store import Store

KEYS = {"v" * 20: "viewer", "p" * 20: "planner"}
VIEWER = {"X-API-Key": "v" * 20}
PLANNER = {"X-API-Key": "p" * 20}
METER_ARC_KM = 110.67  # 17° N to 18° N along a meridian
HIGHWAY_USD_PER_KM = 18_000
LOCALITIES_CSV = """nom_loc,pobtot,lon,lat,nom_ent,nom_mun,cvegeo
Norte,12000,-92.9,18.0,Tabasco,Centro,270040101
Sur,8000,-92.9,17.0,Tabasco,Teapa,270270101
Este,3000,-92.5,17.5,Tabasco,Jalapa,270150101
San Juan,900,-92.8,17.8,Tabasco,Centro,270040102
San Juan,700,-92.6,17.4,Chiapas,Reforma,070740102
"""


def build_store(folder: Path) -> Path:
    """Load the two highways and the towns into a new store; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    highways = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"row_type": "highway", "name": "Federal 195"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[-92.9, 17.0], [-92.9, 17.5], [-92.9, 18.0]],
                },
            },
            {
                "type": "Feature",
                "properties": {"row_type": "highway", "name": "Federal 186"},
                "geometry": {"type": "LineString", "coordinates": [[-92.9, 17.5], [-92.5, 17.5]]},
            },
        ],
    }
    (folder / "highways.geojson").write_text(json.dumps(highways), encoding="utf-8")
    (folder / "localities.csv").write_text(LOCALITIES_CSV, encoding="utf-8")
    store = Store(folder / "store.gpkg")
    ingest(store, folder / "highways.geojson", "rights_of_way", name="highways")
    ingest(store, folder / "localities.csv", "localities", name="localities")
    return store.path


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("proposals"))


def make_app(store: Path, executor: str = "thread", mode: str = "production") -> Any:
    app = create_app(
        ServiceSettings(mode=mode, api_keys=KEYS),  # type: ignore[arg-type]
        StoreSettings(store=store),
        jobs=JobSettings(executor=executor, wait_seconds=30),  # type: ignore[arg-type]
    )
    return app


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(store_path)) as client:
        yield client


def poll(client: TestClient, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """GET the job until it has finished."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/jobs/{job_id}", headers=VIEWER).json()
        if body["status"] in {"succeeded", "failed"} or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def route(client: TestClient, name: str, **extra: Any) -> dict[str, Any]:
    body = {"from": "Norte", "to": "Sur", "name": name, "replace": True, **extra}
    response = client.post("/proposals/route?wait=true", json=body, headers=PLANNER)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    assert job["status"] == "succeeded", job
    return job


def test_route_job_is_accepted_then_polled_to_the_expected_route(client: TestClient) -> None:
    response = client.post(
        "/proposals/route",
        json={"from": "Norte", "to": "Sur", "name": "norte_sur"},
        headers=PLANNER,
    )
    assert response.status_code == 202
    job = JobOut.model_validate(response.json())
    assert job.status in {"queued", "running", "succeeded"}
    assert response.headers["location"].endswith(f"/jobs/{job.job_id}")

    done = JobOut.model_validate(poll(client, job.job_id))
    assert done.status == "succeeded" and done.progress == 1.0 and done.proposal == "norte_sur"
    assert done.started_at and done.finished_at
    rels = {link.rel: link.href for link in done.links}
    assert rels["proposal"].endswith("/proposals/norte_sur")

    proposal = client.get("/proposals/norte_sur", headers=VIEWER)
    assert proposal.headers["content-type"].startswith("application/geo+json")
    document = proposal.json()
    assert document["type"] == "FeatureCollection" and document["features"]
    metrics = document["metrics"]
    assert metrics["total_km"] == pytest.approx(METER_ARC_KM, abs=0.1)
    segment_usd = sum(f["properties"]["cost_usd"] for f in document["features"])
    assert segment_usd == pytest.approx(METER_ARC_KM * HIGHWAY_USD_PER_KM, rel=2e-3)


def test_wait_answers_with_the_finished_job(client: TestClient) -> None:
    job = route(client, "waited")
    assert JobOut.model_validate(job).proposal == "waited"


def test_a_second_default_name_gets_a_suffix(client: TestClient) -> None:
    names = []
    for _ in range(2):
        response = client.post(
            "/proposals/route?wait=true", json={"from": "Este", "to": "Sur"}, headers=PLANNER
        )
        names.append(response.json()["proposal"])
    assert names[1] == f"{names[0]}_2"


def test_a_taken_name_is_a_conflict_unless_replaced(client: TestClient) -> None:
    route(client, "taken")
    body = {"from": "Norte", "to": "Este", "name": "taken"}
    response = client.post("/proposals/route", json=body, headers=PLANNER)
    assert response.status_code == 409 and response.json()["code"] == "already_exists"
    assert "replace" in response.json()["message"]


def test_backbone_spans_every_terminal(client: TestClient) -> None:
    body = {"terminals": ["Norte", "Sur", "Este"], "name": "tee", "replace": True}
    response = client.post("/proposals/backbone?wait=true", json=body, headers=PLANNER)
    assert response.status_code == 200 and response.json()["status"] == "succeeded"
    metrics = client.get("/proposals/tee", headers=VIEWER).json()["metrics"]
    east_km = 42.5  # 0.4° of longitude at 17.5° N
    assert metrics["total_km"] == pytest.approx(METER_ARC_KM + east_km, abs=0.5)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "Norte"}, "body.to"),
        ({"from": "Norte", "to": "Sur", "alternatives": 11}, "body.alternatives"),
        ({"from": "Norte", "to": "Sur", "name": "Bad Name"}, "body.name"),
        ({"from": "Norte", "to": "Sur", "alternativs": 2}, "body.alternativs"),
    ],
)
def test_bad_bodies_name_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/proposals/route", json=body, headers=PLANNER)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert response.json()["message"].startswith(f"{field}:")


def test_backbone_needs_two_terminals(client: TestClient) -> None:
    response = client.post("/proposals/backbone", json={"terminals": ["Norte"]}, headers=PLANNER)
    assert response.status_code == 422 and "body.terminals" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        ({"from": "San Juan", "to": "Sur"}, "ambiguous_place", "from: 'San Juan' matches 2"),
        ({"from": "Norte", "to": "Nortee"}, "place_not_found", "to: "),
        ({"from": "-92.9,95", "to": "Sur"}, "invalid_place", "from: "),
    ],
)
def test_bad_places_are_refused_before_a_job(
    client: TestClient, body: dict[str, Any], code: str, text: str
) -> None:
    before = len(client.get("/jobs", headers=VIEWER).json())
    response = client.post("/proposals/route", json=body, headers=PLANNER)
    assert response.status_code == 422
    assert response.json()["code"] == code and text in response.json()["message"]
    assert len(client.get("/jobs", headers=VIEWER).json()) == before


@pytest.mark.parametrize(
    ("path", "body", "text"),
    [
        ("route", {"from": "Norte", "to": "Norte"}, "from and to are the same place: 'Norte'"),
        ("last-mile", {"area": "POLYGON((20 0, 21 0, 21 1, 20 1, 20 0))"}, "holds no localities"),
    ],
)
def test_degenerate_requests_are_refused_before_a_job(
    client: TestClient, path: str, body: dict[str, Any], text: str
) -> None:
    before = len(client.get("/jobs", headers=VIEWER).json())
    response = client.post(f"/proposals/{path}", json=body, headers=PLANNER)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "degenerate_request" and text in response.json()["message"]
    assert len(client.get("/jobs", headers=VIEWER).json()) == before


def test_ambiguous_terminal_names_its_position(client: TestClient) -> None:
    body = {"terminals": ["Norte", "San Juan"]}
    response = client.post("/proposals/backbone", json=body, headers=PLANNER)
    assert response.status_code == 422
    assert response.json()["message"].startswith("terminals: place 2: 'San Juan' matches 2")
    assert "Chiapas" in response.json()["message"]


@pytest.mark.parametrize("area", ["Tabasco", "Centro, Tabasco"])
def test_last_mile_area_needs_admin_layers_or_a_polygon(client: TestClient, area: str) -> None:
    # the store holds no states or municipalities: as `trazo plan last-mile` (test_cli_plan)
    response = client.post("/proposals/last-mile", json={"area": area}, headers=PLANNER)
    assert response.status_code == 404 and "WKT polygon" in response.json()["message"]
    assert response.json()["message"].startswith("the store holds no states or")
    bad = client.post("/proposals/last-mile", json={"area": "POLYGON((1 2))"}, headers=PLANNER)
    assert bad.status_code == 422 and bad.json()["message"].startswith("area: ")


def test_last_mile_job_without_fiber_fails_with_the_planner_message(client: TestClient) -> None:
    body = {"area": "POLYGON((-93 16.9, -92.4 16.9, -92.4 18.1, -93 18.1, -93 16.9))"}
    response = client.post("/proposals/last-mile?wait=true", json=body, headers=PLANNER)
    job = JobOut.model_validate(response.json())
    assert response.status_code == 200 and job.status == "failed"
    assert job.error is not None and job.error.code == "no_backbone"
    assert "fiber_routes" in job.error.message and job.request["min_population"] == 250


def test_errors_inside_a_job_fail_it_with_the_message(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_route(*args: Any, **kwargs: Any) -> Any:
        raise NoRouteError("no route joins Norte and Sur; load a corridor between them")

    monkeypatch.setattr("usecases.route.plan_route", no_route)
    response = client.post(
        "/proposals/route?wait=true", json={"from": "Norte", "to": "Sur"}, headers=PLANNER
    )
    job = JobOut.model_validate(response.json())
    assert response.status_code == 200 and job.status == "failed"
    assert job.error is not None and job.error.code == "no_route"
    assert job.error.message == "no route joins Norte and Sur; load a corridor between them"


def test_unexpected_errors_fail_the_job_without_detail(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret /srv/trazo path")

    monkeypatch.setattr("usecases.route.plan_route", crash)
    response = client.post(
        "/proposals/route?wait=true", json={"from": "Norte", "to": "Sur"}, headers=PLANNER
    )
    job = response.json()
    assert job["status"] == "failed" and job["error"]["code"] == "internal_error"
    assert "secret" not in response.text and "server log" in job["message"]


def test_list_proposals(client: TestClient) -> None:
    route(client, "listed")
    response = client.get("/proposals", headers=VIEWER)
    summaries = [ProposalSummary.model_validate(item) for item in response.json()]
    listed = next(s for s in summaries if s.name == "listed")
    assert listed.kind == "route" and listed.total_km == pytest.approx(METER_ARC_KM, abs=0.1)


def test_unknown_proposals_and_jobs_are_404(client: TestClient) -> None:
    for path in ("/proposals/nope", "/proposals/nope.gpkg", "/proposals/nope/map", "/jobs/nope"):
        response = client.get(path, headers=VIEWER)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_exports_read_back(client: TestClient, tmp_path: Path) -> None:
    route(client, "exported")
    capex = client.get("/proposals/exported", headers=VIEWER).json()["metrics"]["capex_usd_total"]

    gpkg = client.get("/proposals/exported.gpkg", headers=VIEWER)
    assert gpkg.headers["content-type"] == "application/geopackage+sqlite3"
    (tmp_path / "p.gpkg").write_bytes(gpkg.content)
    frame = pyogrio.read_dataframe(tmp_path / "p.gpkg")
    assert frame["length_km"].sum() == pytest.approx(METER_ARC_KM, abs=0.1)

    kml = client.get("/proposals/exported.kml", headers=VIEWER)
    assert kml.headers["content-type"].startswith("application/vnd.google-earth.kml+xml")
    (tmp_path / "p.kml").write_bytes(kml.content)
    assert len(pyogrio.read_dataframe(tmp_path / "p.kml")) == len(frame)

    csv = client.get("/proposals/exported.csv", headers=VIEWER)
    assert csv.headers["content-type"].startswith("text/csv")
    boq = pd.read_csv(io.StringIO(csv.text))
    assert boq.loc[boq["item"] == "total", "usd"].item() == pytest.approx(capex)
    assert "highway" in set(boq["item"])

    geojson = client.get("/proposals/exported.geojson", headers=VIEWER)
    assert geojson.json()["metrics"]["capex_usd_total"] == capex


def test_map_is_offline_html(client: TestClient) -> None:
    route(client, "mapped")
    response = client.get("/proposals/mapped/map", headers=VIEWER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "leaflet" in response.text.lower()
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", response.text)


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("post", "/proposals/route", VIEWER, 403),
        ("post", "/proposals/backbone", VIEWER, 403),
        ("post", "/proposals/last-mile", VIEWER, 403),
        ("post", "/proposals/route", {}, 401),
        ("get", "/jobs", {}, 401),
        ("get", "/proposals", {}, 401),
        ("get", "/proposals/listed", {}, 401),
        ("get", "/proposals/listed.csv", {}, 401),
        ("get", "/proposals/listed/map", {}, 401),
    ],
)
def test_roles(
    client: TestClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    body = {"from": "Norte", "to": "Sur"} if method == "post" else None
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == status


@pytest.mark.slow
def test_jobs_run_in_worker_processes(tmp_path: Path) -> None:
    store = build_store(tmp_path / "process")
    with TestClient(make_app(store, executor="process")) as client:
        response = client.post(
            "/proposals/route?wait=true",
            json={"from": "Norte", "to": "Sur", "name": "in_a_process"},
            headers=PLANNER,
        )
        assert response.json()["status"] == "succeeded", response.text
        metrics = client.get("/proposals/in_a_process", headers=VIEWER).json()["metrics"]
    assert metrics["total_km"] == pytest.approx(METER_ARC_KM, abs=0.1)
