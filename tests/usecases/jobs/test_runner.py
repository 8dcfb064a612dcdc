"""The job runner on either backend: recovery of orphaned jobs, outcomes of a job's work.

The runner is tested on throwaway work functions (module-level, as a process pool needs);
the real work, a proposal or scenario job over HTTP, is tested in ``tests/api``.
"""

from __future__ import annotations

from pydantic import BaseModel

from layers.errors import NotFoundError, TrazoError
from layers.store_api import LayerStore
from usecases.jobs import (
    INTERNAL_MESSAGE,
    RESTART_MESSAGE,
    JobControl,
    JobOutcome,
    JobStore,
    recover,
    running_jobs,
)


class Echo(BaseModel):
    """A request whose work stores nothing and names ``text`` as its outcome."""

    text: str
    fail: str = ""


def echo(store: LayerStore, request: BaseModel, inputs: object, control: JobControl) -> JobOutcome:
    assert isinstance(request, Echo)
    control.progress(0.5, f"echoing {inputs}")
    if request.fail == "trazo":
        error = NotFoundError("no such thing")
        error.candidates = ["this", "that"]  # type: ignore[attr-defined]
        raise error
    if request.fail == "bug":
        raise ZeroDivisionError("a bug")
    if request.fail == "stopped":
        JobStore(store).fail(control.job_id, "interrupted", RESTART_MESSAGE)
        control.ensure_running()
    return JobOutcome(request.text, f"echoed {request.text} with {inputs}")


def test_restart_fails_the_jobs_of_gone_owners_only(highway_store: LayerStore) -> None:
    jobs = JobStore(highway_store)
    alive, gone = "1" * 32, "0" * 32
    kept, _ = jobs.submit("route", {"from": "a", "to": "b"}, owner=alive)
    lost, _ = jobs.submit("route", {"from": "c", "to": "d"}, owner=gone)
    orphan, _ = jobs.submit("route", {"from": "e", "to": "f"})  # no owner: NULL
    held = highway_store.service_owners().hold(alive)  # a sibling process, here or elsewhere
    assert held is not None
    assert highway_store.service_owners().hold(alive) is None  # nobody else can take it
    assert recover(jobs) == 2
    assert jobs.get(kept.id).status == "queued"
    for job in (lost, orphan):
        assert jobs.get(job.id).status == "failed"
        assert jobs.get(job.id).message == RESTART_MESSAGE

    held.release()  # the sibling stops (or dies): its jobs are failed at the next start
    assert recover(jobs) == 1
    assert jobs.get(kept.id).status == "failed"


def test_a_job_records_its_request_inputs_reach_the_work(highway_store: LayerStore) -> None:
    with running_jobs(highway_store, echo, workers=1, executor="thread") as runner:
        job, created = runner.submit("echo", Echo(text="hi"), ["a", "b"], "key-1")
        assert created and job.request == {"text": "hi", "fail": ""}
        done = runner.wait(job.id, 10)
        assert runner.known("echo", Echo(text="hi"), "key-1") == done
        assert runner.submit("echo", Echo(text="hi"), None, "key-1") == (done, False)
    assert done.status == "succeeded" and done.progress == 1.0
    assert done.proposal == "hi" and done.message == "echoed hi with ['a', 'b']"


def test_a_failed_job_keeps_the_error_code_and_choices(highway_store: LayerStore) -> None:
    with running_jobs(highway_store, echo, workers=1, executor="thread") as runner:
        job, _ = runner.submit("echo", Echo(text="x", fail="trazo"))
        done = runner.wait(job.id, 10)
        bug, _ = runner.submit("echo", Echo(text="y", fail="bug"))
        crashed = runner.wait(bug.id, 10)
    assert done.status == "failed" and done.error_code == "not_found"
    assert done.message == "no such thing"
    assert done.details == {"candidates": ["this", "that"]}
    assert crashed.status == "failed" and crashed.error_code == "internal_error"
    assert crashed.message == f"{INTERNAL_MESSAGE} (job {bug.id})"


def shouted(error: TrazoError) -> str:
    return error.message.upper()


def test_the_adapter_words_a_failed_job_s_message(highway_store: LayerStore) -> None:
    with running_jobs(
        highway_store, echo, workers=1, executor="thread", describe=shouted
    ) as runner:
        job, _ = runner.submit("echo", Echo(text="x", fail="trazo"))
        done = runner.wait(job.id, 10)
    assert done.status == "failed" and done.error_code == "not_found"
    assert done.message == "NO SUCH THING"


def test_a_job_failed_while_it_runs_stays_failed(highway_store: LayerStore) -> None:
    with running_jobs(highway_store, echo, workers=1, executor="thread") as runner:
        job, _ = runner.submit("echo", Echo(text="z", fail="stopped"))
        done = runner.wait(job.id, 10)
    assert done.status == "failed" and done.message == RESTART_MESSAGE
    assert done.proposal is None


def test_a_closed_runner_leaves_no_job_unfinished(highway_store: LayerStore) -> None:
    with running_jobs(highway_store, echo, workers=1, executor="thread") as runner:
        pass
    job, created = runner.submit("echo", Echo(text="late"))
    assert created and job.status == "failed" and job.message == RESTART_MESSAGE


def test_progress_is_written_at_most_so_often(highway_store: LayerStore) -> None:
    # Each report is a write to the store: reports within the interval of the last
    # write (the start counts) are held and the latest written when it is up; a job that
    # ends first writes none (its outcome says more). Timed with a generous margin.
    import time

    jobs = JobStore(highway_store)
    job, _ = jobs.submit("route", {"from": "a", "to": "b"})
    assert jobs.start(job.id, "started")
    control = JobControl(jobs, job.id, every_s=0.3)
    control.progress(0.2, "first")
    control.progress(0.4, "second")
    assert jobs.get(job.id).message == "started"  # held: nothing written yet
    deadline = time.monotonic() + 5.0
    while jobs.get(job.id).message == "started" and time.monotonic() < deadline:
        time.sleep(0.02)
    written = jobs.get(job.id)
    assert (written.progress, written.message) == (0.4, "second")  # the latest, once
    control.progress(0.6, "third")
    control.close()  # the job ends before the report is due
    time.sleep(0.5)
    assert jobs.get(job.id).message == "second"
    control.progress(0.8, "after the end")
    assert jobs.get(job.id).message == "second"
