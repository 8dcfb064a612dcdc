"""Proposal jobs on either backend: the jobs table, owners and a whole job over HTTP.

A store holding one highway along 92.9° W from 17° N to 18° N; a route between its ends
is that highway: one degree of meridian at 17.5° N on the WGS 84 ellipsoid,
111132.954 - 559.822 cos 35° + 1.175 cos 70° = 110,674.8 m (the places sit on its ends,
so the connectors add nothing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.jobs import (
    RESTART_MESSAGE,
    IdempotencyKeyReusedError,
    JobStore,
    recover,
)
from api.settings import JobSettings, ServiceSettings, StoreSettings
from layers.ingest import ingest
from layers.store_api import LayerStore

KEYS = {"v" * 20: "viewer", "p" * 20: "planner"}
PLANNER = {"X-API-Key": "p" * 20}
ROUTE = {"from": "-92.9,18.0", "to": "-92.9,17.0", "name": "north_south"}


@pytest.fixture
def store(any_store: LayerStore, tmp_path: Path) -> LayerStore:
    line = {
        "type": "Feature",
        "properties": {"row_type": "highway"},
        "geometry": {"type": "LineString", "coordinates": [[-92.9, 17.0], [-92.9, 18.0]]},
    }
    source = tmp_path / "highway.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [line]}))
    ingest(any_store, source, "rights_of_way", name="highway")
    return any_store


def test_job_rows_idempotency_and_terminal_states(store: LayerStore) -> None:
    jobs = JobStore(store)
    first, created = jobs.submit("route", {"from": "a", "to": "b"}, idempotency_key="k")
    same, again = jobs.submit("route", {"to": "b", "from": "a"}, idempotency_key="k")
    assert created and not again and same.id == first.id
    with pytest.raises(IdempotencyKeyReusedError, match="different request"):
        jobs.submit("backbone", {"from": "a", "to": "b"}, idempotency_key="k")

    assert not jobs.progress(first.id, 0.5, "not running yet")
    assert jobs.start(first.id) and not jobs.start(first.id)
    assert jobs.progress(first.id, 0.25, "a quarter")
    assert jobs.get(first.id).progress == 0.25
    assert jobs.fail(first.id, "no_route", "no route")
    assert not jobs.succeed(first.id, "late", "too late")
    assert jobs.get(first.id).status == "failed"
    assert [j.id for j in jobs.recent()] == [first.id]


def test_restart_fails_the_jobs_of_gone_owners_only(store: LayerStore) -> None:
    jobs = JobStore(store)
    alive, gone = "1" * 32, "0" * 32
    kept, _ = jobs.submit("route", {"from": "a", "to": "b"}, owner=alive)
    lost, _ = jobs.submit("route", {"from": "c", "to": "d"}, owner=gone)
    orphan, _ = jobs.submit("route", {"from": "e", "to": "f"})  # no owner: NULL
    held = store.service_owners().hold(alive)  # a sibling process, here or on another host
    assert held is not None
    assert store.service_owners().hold(alive) is None  # nobody else can take it meanwhile
    assert recover(jobs) == 2
    assert jobs.get(kept.id).status == "queued"
    for job in (lost, orphan):
        assert jobs.get(job.id).status == "failed"
        assert jobs.get(job.id).message == RESTART_MESSAGE

    held.release()  # the sibling stops (or dies): its jobs are failed at the next start
    assert recover(jobs) == 1
    assert jobs.get(kept.id).status == "failed"


def test_a_route_job_runs_and_stores_its_proposal(
    store: LayerStore, store_location: str, tmp_path: Path
) -> None:
    app = create_app(
        ServiceSettings(mode="production", api_keys=KEYS),  # type: ignore[arg-type]
        StoreSettings(store=store_location, work_dir=tmp_path / "work"),
        jobs=JobSettings(executor="thread", wait_seconds=60),
    )
    with TestClient(app) as client:
        answer = client.post("/proposals/route?wait=true", json=ROUTE, headers=PLANNER)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body["status"] == "succeeded" and body["proposal"] == "north_south"
    document = store.proposal("north_south").document
    assert document["metrics"]["total_km"] == pytest.approx(110.675, abs=0.05)
