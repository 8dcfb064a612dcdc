"""Jobs over HTTP are durable: recorded before they run, never left running after a restart.

The store holds one highway along 92.9° W from 17° N to 18° N (``highway_store``); a
route between its ends is that highway, 110,674.8 m (see ``tests/conftest.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import JobSettings, ServiceSettings, StoreSettings
from layers.store import Store
from layers.store_api import LayerStore
from usecases.jobs import RESTART_MESSAGE, JobStore

KEYS = {"v" * 20: "viewer", "p" * 20: "planner"}
VIEWER = {"X-API-Key": "v" * 20}
PLANNER = {"X-API-Key": "p" * 20}
ROUTE = {"from": "-92.9,18.0", "to": "-92.9,17.0"}


def make_app(store: Path | str, wait_seconds: float = 30, work_dir: Path | None = None) -> Any:
    return create_app(
        ServiceSettings(mode="production", api_keys=KEYS),  # type: ignore[arg-type]
        StoreSettings(store=store, work_dir=work_dir),
        jobs=JobSettings(executor="thread", wait_seconds=wait_seconds),
    )


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Make route planning wait until the returned event is set (set at teardown)."""
    from usecases import route as route_usecase

    release = threading.Event()
    real = route_usecase.plan_route

    def blocked(*args: Any, **kwargs: Any) -> Any:
        release.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(route_usecase, "plan_route", blocked)
    yield release
    release.set()


def wait_for(client: TestClient, job_id: str, status: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}", headers=VIEWER).json()
        if job["status"] == status or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


def test_the_job_is_recorded_before_it_runs(highway_gpkg: Path, gate: threading.Event) -> None:
    with TestClient(make_app(highway_gpkg)) as client:
        job_id = client.post("/proposals/route", json=ROUTE, headers=PLANNER).json()["job_id"]
        stored = JobStore(Store(highway_gpkg)).get(job_id)
        assert stored.status in {"queued", "running"} and stored.kind == "route"
        assert stored.request["from"] == ROUTE["from"] and stored.request["alternatives"] == 0
        running = wait_for(client, job_id, "running")
        assert running["started_at"] and 0 < running["progress"] < 1
        gate.set()
        done = wait_for(client, job_id, "succeeded")
        assert done["finished_at"] and done["proposal"] == "route_92_9_18_92_9_17"


def test_the_api_answers_while_a_job_runs(highway_gpkg: Path, gate: threading.Event) -> None:
    with TestClient(make_app(highway_gpkg)) as client:
        job_id = client.post("/proposals/route", json=ROUTE, headers=PLANNER).json()["job_id"]
        assert wait_for(client, job_id, "running")["status"] == "running"
        # the job is held at the gate for 30 s: an API that waited for it would answer only
        # then, so 10 s tells waiting apart from a slow answer on a busy machine
        for path in ("/healthz", f"/jobs/{job_id}", "/jobs", "/proposals"):
            started = time.perf_counter()
            response = client.get(path, headers=VIEWER)
            assert response.status_code == 200, path
            assert time.perf_counter() - started < 10.0, path
        assert client.get(f"/jobs/{job_id}", headers=VIEWER).json()["status"] == "running"


def test_wait_gives_up_with_a_202(highway_gpkg: Path, gate: threading.Event) -> None:
    with TestClient(make_app(highway_gpkg, wait_seconds=0.2)) as client:
        response = client.post("/proposals/route?wait=true", json=ROUTE, headers=PLANNER)
        assert response.status_code == 202 and response.json()["status"] == "running"


def test_a_stopped_server_leaves_no_job_running(highway_gpkg: Path, gate: threading.Event) -> None:
    with TestClient(make_app(highway_gpkg)) as client:
        job_id = client.post("/proposals/route", json=ROUTE, headers=PLANNER).json()["job_id"]
        assert wait_for(client, job_id, "running")["status"] == "running"
    # stopped mid-job; the planning thread is still blocked
    with TestClient(make_app(highway_gpkg)) as client:
        job = client.get(f"/jobs/{job_id}", headers=VIEWER).json()
    assert job["status"] == "failed" and job["message"] == RESTART_MESSAGE
    assert job["error"]["code"] == "interrupted"
    gate.set()
    time.sleep(0.2)
    assert JobStore(Store(highway_gpkg)).get(job_id).status == "failed"
    assert Store(highway_gpkg).list_proposals() == []


def test_a_crashed_server_leaves_no_job_running(highway_gpkg: Path) -> None:
    jobs = JobStore(Store(highway_gpkg))
    crashed, _ = jobs.submit("route", {"from": "a", "to": "b"}, owner="0" * 32)
    jobs.start(crashed.id)
    queued, _ = jobs.submit("route", {"from": "c", "to": "d"}, owner="0" * 32)
    orphan, _ = jobs.submit("backbone", {"terminals": ["a", "b"]})
    with TestClient(make_app(highway_gpkg)) as client:
        for job in (crashed, queued, orphan):
            body = client.get(f"/jobs/{job.id}", headers=VIEWER).json()
            assert body["status"] == "failed" and body["message"] == RESTART_MESSAGE


def test_a_live_sibling_process_keeps_its_jobs(highway_gpkg: Path) -> None:
    jobs = JobStore(Store(highway_gpkg))
    owner = "1" * 32
    owners = Store(highway_gpkg).side_folder("jobs")  # where a GeoPackage's owner locks live
    owners.mkdir(parents=True, exist_ok=True)
    with (owners / f"{owner}.lock").open("a") as handle:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        job, _ = jobs.submit("route", {"from": "a", "to": "b"}, owner=owner)
        jobs.start(job.id)
        with TestClient(make_app(highway_gpkg)):
            assert jobs.get(job.id).status == "running"
    with TestClient(make_app(highway_gpkg)):
        assert jobs.get(job.id).status == "failed"


def test_idempotency_key_maps_a_retry_to_the_same_job(highway_gpkg: Path) -> None:
    with TestClient(make_app(highway_gpkg)) as client:
        headers = {**PLANNER, "Idempotency-Key": "7d1f0a52-9c1e-4c55-8a8e-3f7a1d0c2b11"}
        first = client.post("/proposals/route", json=ROUTE, headers=headers)
        again = client.post("/proposals/route?wait=true", json=ROUTE, headers=headers)
        assert first.status_code == 202 and again.status_code in {200, 202}
        assert first.json()["job_id"] == again.json()["job_id"]
        assert len(JobStore(Store(highway_gpkg)).recent()) == 1

        other = client.post("/proposals/route", json={**ROUTE, "alternatives": 1}, headers=headers)
        assert other.status_code == 422
        assert other.json()["code"] == "idempotency_key_reused"
        assert first.json()["job_id"] in other.json()["message"]
        assert len(JobStore(Store(highway_gpkg)).recent()) == 1


def test_a_retry_after_success_returns_the_job_not_a_name_conflict(highway_gpkg: Path) -> None:
    with TestClient(make_app(highway_gpkg)) as client:
        headers = {**PLANNER, "Idempotency-Key": "retry-after-success"}
        body = {**ROUTE, "name": "once"}
        first = client.post("/proposals/route?wait=true", json=body, headers=headers)
        assert first.status_code == 200 and first.json()["status"] == "succeeded"
        again = client.post("/proposals/route", json=body, headers=headers)
        assert again.status_code == 200 and again.json()["job_id"] == first.json()["job_id"]
        fresh = client.post("/proposals/route", json=body, headers=PLANNER)
        assert fresh.status_code == 409


def test_no_store_means_nothing_to_plan_on(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path / "empty.gpkg")) as client:
        response = client.post("/proposals/route", json=ROUTE, headers=PLANNER)
        assert response.status_code == 404
        assert response.json()["message"].endswith("; load layers with POST /layers")
        assert client.get("/jobs", headers=VIEWER).json() == []


def test_a_route_job_runs_and_stores_its_proposal(
    highway_store: LayerStore, store_location: str, tmp_path: Path
) -> None:
    body = {**ROUTE, "name": "north_south"}
    with TestClient(make_app(store_location, 60, tmp_path / "work")) as client:
        answer = client.post("/proposals/route?wait=true", json=body, headers=PLANNER)
        assert answer.status_code == 200, answer.text
        done: dict[str, Any] = answer.json()
        assert done["status"] == "succeeded" and done["proposal"] == "north_south"
    document = highway_store.proposal("north_south").document
    assert document["metrics"]["total_km"] == pytest.approx(110.675, abs=0.05)
