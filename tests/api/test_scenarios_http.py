"""The bundled scenarios over HTTP: listed, run as a job on the real layers, reported."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from bundled_stores import copy_store
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import JobSettings, ServiceSettings, StoreSettings

REPO = Path(__file__).resolve().parents[2]
KEYS = {"v" * 20: "viewer", "p" * 20: "planner"}
VIEWER, PLANNER = {"X-API-Key": "v" * 20}, {"X-API-Key": "p" * 20}


@pytest.fixture(scope="module")
def client(bundled_store: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    store_path = copy_store(bundled_store, tmp_path_factory.mktemp("bundle"))
    app = create_app(
        ServiceSettings(mode="production", api_keys=KEYS),  # type: ignore[arg-type]
        StoreSettings(store=store_path, data_dir=REPO / "data"),
        jobs=JobSettings(executor="thread", wait_seconds=120),
    )
    with TestClient(app) as test_client:
        yield test_client


def test_every_bundled_scenario_is_listed(client: TestClient) -> None:
    listed = client.get("/scenarios", headers=VIEWER).json()
    names = {s["name"] for s in listed}
    bundled = {p.stem for p in (REPO / "data" / "scenarios").glob("*.toml")}
    assert names == bundled
    tabasco = client.get("/scenarios/tabasco", headers=VIEWER).json()
    assert tabasco["steps"][0]["name"] == "backbone"
    assert {link["rel"] for link in tabasco["links"]} >= {"run", "summary", "map"}


def test_unknown_and_malformed_names(client: TestClient) -> None:
    assert client.get("/scenarios/atlantis", headers=VIEWER).status_code == 404
    assert client.post("/scenarios/atlantis/run", headers=PLANNER).status_code == 404
    assert client.get("/scenarios/..%2Fetc", headers=VIEWER).status_code in {404, 422}
    assert client.post("/scenarios/Tabasco!/run", headers=PLANNER).status_code == 422


def test_roles(client: TestClient) -> None:
    assert client.get("/scenarios").status_code == 401
    assert client.post("/scenarios/tabasco/run", headers=VIEWER).status_code == 403


def test_running_tabasco_stores_its_steps_and_serves_its_report(client: TestClient) -> None:
    assert client.get("/scenarios/tabasco/summary", headers=VIEWER).status_code == 404
    answer = client.post("/scenarios/tabasco/run?wait=true", headers=PLANNER)
    job = answer.json()
    # a busy machine may outlast the service's wait (202, still running): poll the job then
    deadline = time.monotonic() + 900
    while answer.status_code == 202 and job["status"] in {"queued", "running"}:
        assert time.monotonic() < deadline, job
        time.sleep(1.0)
        job = client.get(f"/jobs/{job['job_id']}", headers=PLANNER).json()
    assert job["status"] == "succeeded", job
    assert job["kind"] == "scenario" and job["proposal"] == "tabasco_backbone"
    backbone = client.get("/proposals/tabasco_backbone", headers=VIEWER).json()
    # 17 municipal seats of Tabasco (INEGI): all are terminals of the backbone
    assert len(backbone["proposal"]["terminals"]) == 17
    summary = client.get("/scenarios/tabasco/summary", headers=VIEWER)
    assert summary.status_code == 200 and "Tabasco" in summary.text
    page = client.get("/scenarios/tabasco/map", headers=VIEWER).text
    assert "leaflet" in page.lower() and '<script src="http' not in page
