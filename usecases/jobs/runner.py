"""Running jobs off the request: a worker pool, owner locks and recovery after a restart.

Owners
------
Each service process (an *owner*) holds a lock named by its id while it runs (see
:mod:`layers.owners`: an ``flock``ed file beside a GeoPackage, a session advisory lock in
PostGIS, so service processes on several hosts sharing one PostGIS store tell each other
apart). On startup, :func:`running_jobs` fails every unfinished job whose owner no longer
holds its lock (a crash, a kill, a restart) with :data:`RESTART_MESSAGE`; jobs of sibling
processes that are alive (``uvicorn --workers``) are left alone. A runner that closes
cleanly fails its own unfinished jobs with the same message and stops its workers, so no
job is left ``running`` forever.

Workers
-------
Jobs run in a pool of ``workers`` worker processes (``spawn``ed, so the server's threads
and locks are not copied): planning is CPU-heavy and partly pure Python, and in a
separate process it cannot hold the server's GIL, so the API keeps answering while a
national last-mile job runs. ``executor="thread"`` runs jobs in threads of the calling
process instead (tests, debugging).

Every job kind runs the same way: the runner records the validated request's JSON in the
job store and hands the request object itself to its *work* function in a worker
(:data:`JobWork`, one function for every kind, given when the runner is made), which
calls the use case and reports progress through a :class:`JobControl`. What the work
returns, or raises, becomes the job's outcome (:func:`execute_job`).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel

from layers.errors import TrazoError
from layers.store_api import LayerStore
from usecases.jobs.store import Job, JobStore

logger = logging.getLogger("trazo.jobs")

RESTART_MESSAGE = "interrupted by a server restart; submit it again"
INTERNAL_MESSAGE = "the job failed unexpectedly; the server log has the details"
_OWNER_RE = re.compile(r"^[0-9a-f]{32}$")
Executors = Literal["process", "thread"]
Describe = Callable[[TrazoError], str]
"""How an adapter words a job's error for its users (the message with its own hints)."""


@dataclass(frozen=True)
class JobOutcome:
    """What a succeeded job leaves: the (first) proposal it stored and a message."""

    proposal: str
    message: str


class JobStoppedError(Exception):
    """The job was failed while it ran (a shutdown): its work stops and stores nothing."""


PROGRESS_EVERY_S = 0.5
"""A job's progress is written at most this often. Each report is a write to the store;
a warm route job is over before its first report is due, so it writes only its start and
its outcome, while a long job still shows what it is doing within this delay."""


class JobControl:
    """What a job's work may do with its own row: report progress, check it still runs.

    A report within :data:`PROGRESS_EVERY_S` of the last write (the job's start counts) is
    held and written when that time is up, unless a later report replaces it or the job
    ends first (:meth:`close`; its outcome then says more).
    """

    def __init__(self, jobs: JobStore, job_id: str, *, every_s: float = PROGRESS_EVERY_S) -> None:
        self._jobs = jobs
        self.job_id = job_id
        self._every_s = every_s
        self._guard = threading.Lock()
        self._last = time.monotonic()
        self._held: tuple[float, str] | None = None
        self._timer: threading.Timer | None = None
        self._closed = False

    def progress(self, fraction: float, message: str) -> None:
        """Record how far the job is (0-1) and what it is doing; never raises."""
        with self._guard:
            if self._closed:
                return
            self._held = (fraction, message)
            due = self._last + self._every_s - time.monotonic()
            if due > 0:
                if self._timer is None:
                    self._timer = threading.Timer(due, self._write_held)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self._write_held()

    def _write_held(self) -> None:
        with self._guard:
            self._timer = None
            held, self._held = self._held, None
            if self._closed or held is None:
                return
            self._last = time.monotonic()
            with contextlib.suppress(TrazoError):
                self._jobs.progress(self.job_id, *held)

    def close(self) -> None:
        """Write no more progress (the job ends); a held report is dropped."""
        with self._guard:
            self._closed = True
            self._held = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def ensure_running(self) -> None:
        """Raise :class:`JobStoppedError` if the job was failed meanwhile (call before storing)."""
        if self._jobs.get(self.job_id).status != "running":
            raise JobStoppedError(self.job_id)


class JobWork(Protocol):
    """The worker side of every job kind: run ``request`` on ``store``, return the outcome.

    ``inputs`` is what the adapter found while checking the request (e.g. the places it
    resolved), handed over as it is. A process pool pickles the function, so it must be
    a module-level function (or a ``functools.partial`` of one).
    """

    def __call__(
        self, store: LayerStore, request: BaseModel, inputs: object, control: JobControl
    ) -> JobOutcome:
        """Run the job; raise a Trazo error to fail it with that error's code."""
        ...


def job_document(request: BaseModel) -> dict[str, object]:
    """The request as a job records it: JSON, by field alias, defaults filled in."""
    return request.model_dump(mode="json", by_alias=True)


def recover(jobs: JobStore) -> int:
    """Fail the unfinished jobs of owners that are gone; return how many were failed.

    An owner is gone when nothing holds its lock (see :mod:`layers.owners`): its process
    ended (cleanly or not). Jobs without an owner are failed too.
    """
    owners = jobs.store.service_owners()
    gone: list[str | None] = []
    for owner in jobs.unfinished_owners():
        if owner is None or not _OWNER_RE.fullmatch(owner) or not owners.alive(owner):
            gone.append(owner)
        # else a live sibling process (on this host or another) runs these
    if not gone:
        return 0
    count = jobs.fail_unfinished(RESTART_MESSAGE, gone)
    if count:
        logger.warning("failed %d job(s) left unfinished by a stopped server", count)
    return count


class JobRunner:
    """Records jobs in the store and runs them on a worker pool.

    Parameters
    ----------
    store
        The store (sent to each worker process, which opens its own connections).
    work
        The worker side of every job kind (see :class:`JobWork`).
    workers
        How many jobs run at once.
    executor
        ``"process"`` (a pool of spawned processes) or ``"thread"``.
    describe
        Words a failed job's error for the users who read the job (a module-level
        function, as a process pool pickles it); default its message.
    """

    def __init__(
        self,
        store: LayerStore,
        work: JobWork,
        *,
        workers: int,
        executor: Executors = "process",
        describe: Describe | None = None,
    ) -> None:
        self.jobs = JobStore(store)
        self.work = work
        self.describe = describe
        self.workers = workers
        self.executor_kind = executor
        self.owner = uuid.uuid4().hex
        self._futures: dict[str, Future[None]] = {}
        self._guard = threading.Lock()
        self._closed = False
        held = store.service_owners().hold(self.owner)
        if held is None:  # pragma: no cover - owners are fresh uuids
            raise RuntimeError(f"cannot take the owner lock of {self.owner}")
        self._held = held
        self._executor = self._new_executor()

    def _new_executor(self) -> Executor:
        if self.executor_kind == "thread":
            return ThreadPoolExecutor(self.workers, thread_name_prefix="trazo-job")
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(logging.getLogger().getEffectiveLevel(), os.getpid()),
        )

    def known(self, kind: str, request: BaseModel, idempotency_key: str) -> Job | None:
        """The job ``idempotency_key`` names for this request, or None (see :meth:`submit`)."""
        return self.jobs.for_key(idempotency_key, kind, job_document(request))

    def submit(
        self,
        kind: str,
        request: BaseModel,
        inputs: object = None,
        idempotency_key: str | None = None,
    ) -> tuple[Job, bool]:
        """Record a job and queue it; a known ``idempotency_key`` returns its job instead.

        The job records ``request``'s JSON; the worker gets the validated ``request`` and
        ``inputs`` as they are, nothing parsed again.
        """
        job, created = self.jobs.submit(
            kind, job_document(request), idempotency_key=idempotency_key, owner=self.owner
        )
        if not created:
            return job, False
        args = (self.jobs.store, job.id, kind, self.work, request, inputs, self.describe)
        with self._guard:
            if self._closed:
                self.jobs.fail(job.id, "interrupted", RESTART_MESSAGE)
                return self.jobs.get(job.id), True
            try:
                future = self._executor.submit(execute_job, *args)
            except RuntimeError:  # a broken process pool: start a new one, once
                logger.warning("the job worker pool broke; starting a new one")
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
                future = self._executor.submit(execute_job, *args)
            self._futures[job.id] = future
        future.add_done_callback(lambda done: self._settle(job.id, done))
        return job, True

    def wait(self, job_id: str, timeout: float) -> Job:
        """Wait up to ``timeout`` seconds for a job to finish; return it."""
        with self._guard:
            future = self._futures.get(job_id)
        if future is not None:
            wait_futures([future], timeout=timeout)
            return self.jobs.get(job_id)
        deadline = time.monotonic() + timeout  # queued by another process: poll its row
        job = self.jobs.get(job_id)
        while not job.finished and time.monotonic() < deadline:
            time.sleep(min(0.2, max(deadline - time.monotonic(), 0.0)))
            job = self.jobs.get(job_id)
        return job

    def _settle(self, job_id: str, future: Future[None]) -> None:
        """Fail a job whose worker died or was cancelled before recording an outcome."""
        with self._guard:
            self._futures.pop(job_id, None)
        if future.cancelled() or self._closed:
            with contextlib.suppress(TrazoError):
                self.jobs.fail(job_id, "interrupted", RESTART_MESSAGE)
            return
        error = future.exception()
        if error is not None:
            logger.error("job %s: its worker failed", job_id, exc_info=error)
            self.jobs.fail(job_id, "internal_error", INTERNAL_MESSAGE)

    def close(self) -> None:
        """Stop the workers, fail this process's unfinished jobs and release its lock."""
        with self._guard:
            self._closed = True
            executor = self._executor
        with contextlib.suppress(TrazoError):
            count = self.jobs.fail_unfinished(RESTART_MESSAGE, [self.owner])
            if count:
                logger.warning("stopping: failed %d unfinished job(s)", count)
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        # Planning cannot be interrupted from inside; a stopping server ends its workers.
        for process in processes:
            process.terminate()
        self._held.release()


@contextlib.contextmanager
def running_jobs(
    store: LayerStore,
    work: JobWork,
    *,
    workers: int,
    executor: Executors = "process",
    describe: Describe | None = None,
) -> Iterator[JobRunner]:
    """A :class:`JobRunner` for the block's lifetime, after failing orphaned jobs.

    Fails the jobs a stopped process left unfinished (:func:`recover`), starts the worker
    pool and, when the block ends, stops it (:meth:`JobRunner.close`).
    """
    try:
        recover(JobStore(store))
    except TrazoError:
        logger.warning("could not check for interrupted jobs; next start will", exc_info=True)
    runner = JobRunner(store, work, workers=workers, executor=executor, describe=describe)
    try:
        yield runner
    finally:
        runner.close()


# ---------------------------------------------------------------------- in the worker


def _worker_init(level: int, server_pid: int) -> None:
    """Log at the server's level, and end this worker if the server process dies.

    A killed server cannot stop its workers; without this they would wait for work
    forever (a pool's queues hold both pipe ends, so no end-of-file tells them).
    """
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    def watch() -> None:
        while os.getppid() == server_pid:
            time.sleep(1.0)
        os._exit(70)

    threading.Thread(target=watch, name="trazo-server-watch", daemon=True).start()


def execute_job(
    store: LayerStore,
    job_id: str,
    kind: str,
    work: JobWork,
    request: BaseModel,
    inputs: object,
    describe: Describe | None = None,
) -> None:
    """Run one job's work and record its outcome; runs in a worker. Never raises."""
    jobs = JobStore(store)
    try:
        if not jobs.start(job_id, "started"):
            return  # failed while queued (a shutdown)
        control = JobControl(jobs, job_id)
        try:
            outcome = work(store, request, inputs, control)
        finally:
            control.close()
        jobs.succeed(job_id, outcome.proposal, outcome.message)
        logger.info("job %s (%s): %s", job_id, kind, outcome.message)
    except JobStoppedError:
        return  # failed meanwhile (a shutdown): its work stored nothing
    except TrazoError as err:
        logger.info("job %s (%s) failed: %s %s", job_id, kind, err.code, err.message)
        details = {
            key: list(value)
            for key in ("candidates", "suggestions")
            if (value := getattr(err, key, None))
        }
        jobs.fail(job_id, err.code, describe(err) if describe else err.message, details)
    except Exception:
        logger.exception("job %s (%s) failed unexpectedly", job_id, kind)
        jobs.fail(job_id, "internal_error", f"{INTERNAL_MESSAGE} (job {job_id})")
