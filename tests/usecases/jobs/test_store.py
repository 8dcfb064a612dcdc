"""The jobs table on either backend: idempotency keys, terminal states, hidden from GDAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyogrio
import pytest

from layers.store import Store
from layers.store_api import LayerStore
from usecases.jobs import JOBS_TABLE, IdempotencyKeyReusedError, JobStore


def test_defaults_count_as_the_same_request(highway_store: LayerStore) -> None:
    jobs = JobStore(highway_store)
    first, created = jobs.submit("route", {"from": "a", "to": "b"}, idempotency_key="k")
    same, again = jobs.submit("route", {"to": "b", "from": "a"}, idempotency_key="k")
    assert created and not again and same.id == first.id
    with pytest.raises(IdempotencyKeyReusedError, match="different request"):
        jobs.submit("backbone", {"from": "a", "to": "b"}, idempotency_key="k")
    assert [j.id for j in jobs.recent()] == [first.id]


def test_terminal_states_stick(highway_store: LayerStore) -> None:
    jobs = JobStore(highway_store)
    job, _ = jobs.submit("route", {"from": "a", "to": "b"})
    assert not jobs.progress(job.id, 0.5, "not running yet")
    assert jobs.start(job.id) and not jobs.start(job.id)
    assert jobs.progress(job.id, 0.25, "a quarter")
    assert jobs.get(job.id).progress == 0.25
    assert jobs.fail(job.id, "no_route", "no route")
    assert not jobs.succeed(job.id, "late", "too late")
    failed = jobs.get(job.id)
    assert failed.status == "failed" and failed.proposal is None and failed.finished


def test_a_retry_of_a_failed_job_with_its_key_runs_again(highway_store: LayerStore) -> None:
    jobs = JobStore(highway_store)
    request = {"from": "a", "to": "b"}
    first, _ = jobs.submit("route", request, idempotency_key="k")
    jobs.fail(first.id, "interrupted", "interrupted by a server restart; submit it again")
    assert jobs.for_key("k", "route", request) is None
    again, created = jobs.submit("route", request, idempotency_key="k")
    assert created and again.id != first.id and again.status == "queued"
    assert jobs.get(first.id).status == "failed" and jobs.get(first.id).idempotency_key is None
    # the new job now owns the key: a further retry gets it back, not a third job
    third, created = jobs.submit("route", request, idempotency_key="k")
    assert not created and third.id == again.id
    with pytest.raises(IdempotencyKeyReusedError):
        jobs.submit("route", {"from": "a", "to": "c"}, idempotency_key="k")


def test_jobs_table_is_hidden_from_gdal(highway_gpkg: Path) -> None:
    JobStore(Store(highway_gpkg)).submit("route", {"from": "a", "to": "b"})
    layers = [name for name, _ in pyogrio.list_layers(highway_gpkg)]
    assert JOBS_TABLE not in layers and layers
    with sqlite3.connect(highway_gpkg) as conn:
        data_type = conn.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = ?", (JOBS_TABLE,)
        ).fetchone()
    assert data_type == (JOBS_TABLE,)
    assert Store(highway_gpkg).list_layers()[0].name == "highway"


def test_a_store_that_does_not_exist_has_no_jobs(tmp_path: Path) -> None:
    assert JobStore(Store(tmp_path / "none.gpkg")).recent() == []
