"""Proposals as durable jobs: recorded in the store before they run, run off the request.

Durability
----------
Every job is a row of ``trazo_jobs``, one of the store's record tables (see
:meth:`layers.store_api.LayerStore.record_tables`; GeoPackage or PostGIS alike), written
before any work starts and updated as it runs: ``queued`` → ``running`` → ``succeeded`` or
``failed``, with progress (0-1), a message, the error code and the stored proposal's name.
GDAL (and so QGIS) does not list the table as a layer. Writes are short transactions
that take turns, so readers never wait and layer loads are not disturbed.

Each service process (an *owner*) holds a lock named by its id while it runs (see
:mod:`layers.owners`: an ``flock``ed file in the ``jobs`` folder beside a GeoPackage, a
session advisory lock in PostGIS, so service processes on several hosts sharing one
PostGIS store tell each other apart). On startup,
:func:`running_jobs` fails every unfinished job whose owner no longer holds its lock
(a crash, a kill, a restart) with :data:`RESTART_MESSAGE`; jobs of sibling processes
that are alive (``uvicorn --workers``) are left alone. A process that shuts down
cleanly fails its own unfinished jobs with the same message and stops its workers, so no
job is left ``running`` forever.

Workers
-------
Jobs run in a pool of ``max_concurrent_jobs`` worker processes (``spawn``ed, so the
server's threads and locks are not copied): planning is CPU-heavy and partly pure Python,
and in a separate process it cannot hold the server's GIL, so the API keeps answering
while a national last-mile job runs. Each worker keeps the priced network of the store
version it last built (the store's fingerprint and the cost model) and gives
every job its own copy, so a second job on unchanged layers skips the network build.
``TRAZO_JOB_EXECUTOR=thread`` runs jobs in threads of the server process instead (tests,
debugging).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI

from api.settings import DistributedSettings, JobSettings
from layers.errors import NotFoundError, TrazoError
from layers.store import Store
from layers.store_api import LayerStore, RecordSession
from planner.places import Place
from usecases.context import shared_context
from usecases.proposals import measure, store_proposal
from usecases.requests import Engine, JobKind, ProposalRequest
from usecases.scenario import run_stored_scenario

logger = logging.getLogger("trazo.jobs")

JOBS_TABLE = "trazo_jobs"
RESTART_MESSAGE = "interrupted by a server restart; submit it again"
INTERNAL_MESSAGE = "the job failed unexpectedly; the server log has the details"
_OWNER_RE = re.compile(r"^[0-9a-f]{32}$")
JobStatus = Literal["queued", "running", "succeeded", "failed"]
UNFINISHED: tuple[JobStatus, ...] = ("queued", "running")

_JOBS_DDL = f"""
CREATE TABLE IF NOT EXISTS {JOBS_TABLE} (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    request TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    owner TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    progress DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    message TEXT NOT NULL DEFAULT '',
    error_code TEXT,
    details TEXT,
    proposal TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
)
"""
_JOBS_INDEX = f"CREATE INDEX IF NOT EXISTS {JOBS_TABLE}_status ON {JOBS_TABLE} (status, owner)"
_JOBS_TABLE_SPEC = (
    JOBS_TABLE,
    (_JOBS_DDL, _JOBS_INDEX),
    "Trazo proposal jobs: one row per job",
)
_FIELDS = (
    "id, kind, request, idempotency_key, owner, status, progress, message, error_code, "
    "details, proposal, created_at, started_at, finished_at"
)


class IdempotencyKeyReusedError(TrazoError):
    """An ``Idempotency-Key`` already names a job with a different request (a 422)."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Job:
    """One row of the jobs table."""

    id: str
    kind: JobKind
    request: dict[str, Any]
    idempotency_key: str | None
    owner: str | None
    status: JobStatus
    progress: float
    message: str
    error_code: str | None
    details: dict[str, Any] = field(default_factory=dict)
    proposal: str | None = None
    created_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the job succeeded or failed."""
        return self.status not in UNFINISHED


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_hash(kind: str, request: dict[str, Any]) -> str:
    """A digest of a job's kind and request, equal for equal requests.

    Examples
    --------
    >>> request_hash("route", {"to": "b", "from": "a"}) == request_hash(
    ...     "route", {"from": "a", "to": "b"})
    True
    """
    text = json.dumps([kind, request], sort_keys=True, ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


class JobStore:
    """The ``trazo_jobs`` record table of a store (GeoPackage or PostGIS).

    Parameters
    ----------
    store
        The store, or a GeoPackage's path. Reading a store that does not exist, or has no
        jobs table yet, finds no jobs; recording a job needs the store to exist (a store
        with no layers has nothing to plan on).

    Examples
    --------
    >>> import tempfile
    >>> JobStore(Path(tempfile.mkdtemp()) / "store.gpkg").recent()
    []
    """

    def __init__(self, store: LayerStore | Path) -> None:
        self.store: LayerStore = Store(store) if isinstance(store, Path) else store
        self._tables = self.store.record_tables()

    # ------------------------------------------------------------------ writes

    def submit(
        self,
        kind: JobKind,
        request: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        owner: str | None = None,
    ) -> tuple[Job, bool]:
        """Record a queued job, or find the job an ``idempotency_key`` already names.

        The rule for keys: a key names the job it created while that job is queued,
        running or succeeded, and a retry with it gets that job back. Once the job has
        failed (a bad request found late, a restart, a crash), a retry with the same key
        and the same request runs it again as a new job; the failed job stays listed,
        without the key. The same key with another request is always refused.

        Returns
        -------
        tuple of (Job, bool)
            The job, and whether it was created by this call.

        Raises
        ------
        IdempotencyKeyReusedError
            When the key names a job of another kind or request.
        """
        digest = request_hash(kind, request)
        with self._tables.transaction(create=_JOBS_TABLE_SPEC) as conn:
            if idempotency_key is not None:
                found = _keyed(conn, idempotency_key, digest)
                if found is not None and found.status != "failed":
                    return found, False
                if found is not None:  # a retry of a failed job: run it again
                    conn.execute(
                        f"UPDATE {JOBS_TABLE} SET idempotency_key = NULL WHERE id = ?", (found.id,)
                    )
            job_id = uuid.uuid4().hex
            conn.execute(
                f"INSERT INTO {JOBS_TABLE} (id, kind, request, request_hash, idempotency_key, "
                "owner, status, progress, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?)",
                (
                    job_id,
                    kind,
                    json.dumps(request, ensure_ascii=False, allow_nan=False),
                    digest,
                    idempotency_key,
                    owner,
                    "queued",
                    0.0,
                    "queued",
                    _now(),
                ),
            )
            row = conn.execute(
                f"SELECT {_FIELDS} FROM {JOBS_TABLE} WHERE id = ?", (job_id,)
            ).fetchone()
        assert row is not None  # inserted just above, in this transaction
        return _job(row), True

    def for_key(self, idempotency_key: str, kind: JobKind, request: dict[str, Any]) -> Job | None:
        """The job ``idempotency_key`` names, or None; raises if it was for another request.

        A failed job is not returned: a retry with its key runs again (see :meth:`submit`).
        """
        if not self._tables.exists(JOBS_TABLE):
            return None
        with self._tables.session() as conn:
            found = _keyed(conn, idempotency_key, request_hash(kind, request))
        return None if found is None or found.status == "failed" else found

    def start(self, job_id: str, message: str = "started") -> bool:
        """Mark a queued job running; False when it is no longer queued (e.g. failed)."""
        return self._update(
            job_id,
            ("queued",),
            status="running",
            started_at=_now(),
            progress=0.05,
            message=message,
        )

    def progress(self, job_id: str, fraction: float, message: str) -> bool:
        """Record how far a running job is (0-1) and what it is doing."""
        return self._update(
            job_id, ("running",), progress=min(max(fraction, 0.0), 1.0), message=message
        )

    def succeed(self, job_id: str, proposal: str, message: str) -> bool:
        """Mark a running job succeeded with the name of the proposal it stored."""
        return self._update(
            job_id,
            ("running",),
            status="succeeded",
            progress=1.0,
            message=message,
            proposal=proposal,
            finished_at=_now(),
        )

    def fail(
        self, job_id: str, code: str, message: str, details: dict[str, Any] | None = None
    ) -> bool:
        """Mark an unfinished job failed; a finished job keeps its outcome."""
        return self._update(
            job_id,
            UNFINISHED,
            status="failed",
            message=message,
            error_code=code,
            details=json.dumps(details or {}, ensure_ascii=False),
            finished_at=_now(),
        )

    def fail_unfinished(self, message: str, owners: Iterable[str | None] | None = None) -> int:
        """Fail every queued or running job (of ``owners``, if given); return how many."""
        if not self._tables.exists(JOBS_TABLE):
            return 0
        chosen = None if owners is None else list(owners)
        with self._tables.transaction() as conn:
            query = (
                f"UPDATE {JOBS_TABLE} SET status = 'failed', message = ?, error_code = "
                "'interrupted', finished_at = ? WHERE status IN ('queued', 'running')"
            )
            if chosen is None:
                return conn.execute(query, (message, _now())).rowcount
            count = 0
            for owner in chosen:
                count += conn.execute(
                    query + " AND owner IS NOT DISTINCT FROM ?", (message, _now(), owner)
                ).rowcount
            return count

    # ------------------------------------------------------------------ reads

    def get(self, job_id: str) -> Job:
        """Return job ``job_id``; ``NotFoundError`` if there is none."""
        known = self._tables.exists(JOBS_TABLE)
        rows = self._select(" WHERE id = ?", (job_id,)) if known else []
        if not rows:
            raise NotFoundError(f"no job {job_id!r}; submitted jobs are listed at /jobs")
        return rows[0]

    def recent(self, *, status: JobStatus | None = None, limit: int = 100) -> list[Job]:
        """Return the most recent jobs first, optionally only those in ``status``."""
        if not self._tables.exists(JOBS_TABLE):
            return []
        if status is None:
            return self._select(" ORDER BY created_at DESC LIMIT ?", (limit,))
        return self._select(" WHERE status = ? ORDER BY created_at DESC LIMIT ?", (status, limit))

    def unfinished_owners(self) -> list[str | None]:
        """The owners of every queued or running job."""
        if not self._tables.exists(JOBS_TABLE):
            return []
        with self._tables.session() as conn:
            rows = conn.execute(
                f"SELECT DISTINCT owner FROM {JOBS_TABLE} WHERE status IN ('queued', 'running')"
            ).fetchall()
        return [row[0] for row in rows]

    # ------------------------------------------------------------------ internals

    def _select(self, where: str, params: tuple[Any, ...]) -> list[Job]:
        with self._tables.session() as conn:
            rows = conn.execute(f"SELECT {_FIELDS} FROM {JOBS_TABLE}{where}", params).fetchall()
        return [_job(row) for row in rows]

    def _update(self, job_id: str, when: tuple[str, ...], **values: Any) -> bool:
        columns = ", ".join(f"{name} = ?" for name in values)
        marks = ", ".join("?" for _ in when)
        with self._tables.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE {JOBS_TABLE} SET {columns} WHERE id = ? AND status IN ({marks})",
                (*values.values(), job_id, *when),
            )
            return cursor.rowcount == 1


def _keyed(conn: RecordSession, key: str, digest: str) -> Job | None:
    found = conn.execute(
        f"SELECT {_FIELDS}, request_hash FROM {JOBS_TABLE} WHERE idempotency_key = ?", (key,)
    ).fetchone()
    if found is None:
        return None
    if found[-1] != digest:
        raise IdempotencyKeyReusedError(
            f"Idempotency-Key {key!r} was used for job {found[0]} with a different request; "
            "send a new key for a new request"
        )
    return _job(found[:-1])


def _job(row: tuple[Any, ...]) -> Job:
    (
        job_id,
        kind,
        request,
        key,
        owner,
        status,
        progress,
        message,
        code,
        details,
        proposal,
        created,
        started,
        finished,
    ) = row
    return Job(
        id=job_id,
        kind=kind,
        request=json.loads(request),
        idempotency_key=key,
        owner=owner,
        status=status,
        progress=float(progress),
        message=message,
        error_code=code,
        details=json.loads(details) if details else {},
        proposal=proposal,
        created_at=created,
        started_at=started,
        finished_at=finished,
    )


# ---------------------------------------------------------------------- owners


def owners_dir(store: LayerStore) -> Path:
    """The folder of the lock files service processes hold while they run jobs."""
    return store.side_folder("jobs")


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


# ---------------------------------------------------------------------- running jobs


class JobRunner:
    """Queues jobs on a worker pool and records them in the store.

    Parameters
    ----------
    store
        The store (sent to each worker process, which opens its own connections).
    cost_model
        Cost model TOML, or None for the bundled one.
    workers
        How many jobs run at once.
    settings
        Executor kind and the ``?wait=true`` limit.
    """

    def __init__(
        self, store: LayerStore, cost_model: Path | None, workers: int, settings: JobSettings
    ) -> None:
        self.jobs = JobStore(store)
        self.cost_model = cost_model
        self.workers = workers
        self.settings = settings
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
        if self.settings.executor == "thread":
            return ThreadPoolExecutor(self.workers, thread_name_prefix="trazo-job")
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(logging.getLogger().getEffectiveLevel(), os.getpid()),
        )

    def submit(
        self,
        kind: JobKind,
        request: ProposalRequest | dict[str, Any],
        places: list[Place],
        idempotency_key: str | None = None,
    ) -> tuple[Job, bool]:
        """Record a job and queue it; a known ``idempotency_key`` returns its job instead.

        ``request`` is the validated request model (a scenario run: its document); the
        worker gets it and the ``places`` it resolved as they are, nothing parsed again.
        """
        job, created = self.jobs.submit(
            kind, request_document(request), idempotency_key=idempotency_key, owner=self.owner
        )
        if not created:
            return job, False
        args = (self.jobs.store, self.cost_model, job.id, kind, request, places)
        with self._guard:
            if self._closed:
                self.jobs.fail(job.id, "interrupted", RESTART_MESSAGE)
                return self.jobs.get(job.id), True
            try:
                future = self._executor.submit(run_job, *args)
            except RuntimeError:  # a broken process pool: start a new one, once
                logger.warning("the job worker pool broke; starting a new one")
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
                future = self._executor.submit(run_job, *args)
            self._futures[job.id] = future
        future.add_done_callback(lambda done: self._settle(job.id, done))
        return job, True

    def wait(self, job_id: str, timeout: float) -> Job:
        """Wait up to ``timeout`` seconds for a job queued here to finish; return it."""
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
def running_jobs(app: FastAPI) -> Iterator[JobRunner]:
    """Run the service's jobs for the app's lifetime; call from its lifespan.

    Fails the jobs a stopped server left unfinished, starts the worker pool as
    ``app.state.jobs`` and, on exit, stops it (see :class:`JobRunner`).
    """
    store: LayerStore = app.state.store
    settings: JobSettings = app.state.job_settings
    try:
        recover(JobStore(store))
    except TrazoError:
        logger.warning("could not check for interrupted jobs; next start will", exc_info=True)
    runner = JobRunner(
        store,
        app.state.planner.cost_model,
        app.state.settings.max_concurrent_jobs,
        settings,
    )
    app.state.jobs = runner
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


def request_document(request: ProposalRequest | dict[str, Any]) -> dict[str, Any]:
    """The request as the job records it: JSON, by field alias, defaults filled in."""
    if isinstance(request, dict):
        return request
    return request.model_dump(mode="json", by_alias=True)


def run_job(
    store: LayerStore,
    cost_model: Path | None,
    job_id: str,
    kind: JobKind,
    request: ProposalRequest | dict[str, Any],
    places: list[Place],
) -> None:
    """Plan one job and record its outcome; runs in a worker. Never raises."""
    jobs = JobStore(store)
    try:
        if not jobs.start(job_id, "building the priced corridor network"):
            return  # failed while queued (a shutdown)

        def progress(fraction: float, message: str) -> None:
            with contextlib.suppress(TrazoError):
                jobs.progress(job_id, fraction, message)

        if not isinstance(request, ProposalRequest):  # a scenario run
            first, message = run_stored_scenario(
                store, cost_model, str(request["scenario"]), progress
            )
            if jobs.get(job_id).status == "running":
                jobs.succeed(job_id, first, message)
            return
        context = shared_context(store, cost_model)
        engine = Engine(cost_model, DistributedSettings().scheduler)
        proposal = request.plan(context, places, progress, engine)
        progress(0.9, "measuring and storing the proposal")
        metrics = measure(context, proposal)
        if jobs.get(job_id).status != "running":
            return  # failed meanwhile (a shutdown): store nothing
        name, _ = store_proposal(store, proposal, metrics, request.name, replace=request.replace)
        jobs.succeed(job_id, name, f"stored as proposal {name!r}")
        logger.info("job %s (%s) stored proposal %s", job_id, kind, name)
    except TrazoError as err:
        logger.info("job %s (%s) failed: %s %s", job_id, kind, err.code, err.message)
        details = {
            key: list(value)
            for key in ("candidates", "suggestions")
            if (value := getattr(err, key, None))
        }
        jobs.fail(job_id, err.code, err.message, details)
    except Exception:
        logger.exception("job %s (%s) failed unexpectedly", job_id, kind)
        jobs.fail(job_id, "internal_error", f"{INTERNAL_MESSAGE} (job {job_id})")
