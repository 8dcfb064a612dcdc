"""The jobs table: every job recorded before it runs, with its progress and outcome.

Every job is a row of ``trazo_jobs``, one of the store's record tables (see
:meth:`layers.store_api.LayerStore.record_tables`), written before any work starts and
updated as it runs: ``queued`` → ``running`` → ``succeeded`` or ``failed``, with progress
(0-1), a message, the error code and the stored proposal's name. The job store is written
once against the store interface: each backend implements the record tables (a
GeoPackage through the store's own sqlite transaction helper, PostGIS through its
connection pool and an advisory lock), so nothing here knows which backend it has. GDAL
(and so QGIS) does not list the table as a layer. Writes are short transactions that take
turns, so readers never wait and layer loads are not disturbed.

Idempotency keys name the job they created (see :meth:`JobStore.submit`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from layers.errors import IdempotencyKeyReusedError, NotFoundError
from layers.store_api import LayerStore, RecordSession

JOBS_TABLE = "trazo_jobs"
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


@dataclass(frozen=True)
class Job:
    """One row of the jobs table."""

    id: str
    kind: str
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
        The store (GeoPackage or PostGIS). Reading a store that does not exist, or has no
        jobs table yet, finds no jobs; recording a job needs the store to exist (a store
        with no layers has nothing to plan on).

    Examples
    --------
    >>> import tempfile
    >>> from layers.stores import open_store
    >>> JobStore(open_store(f"{tempfile.mkdtemp()}/store.gpkg")).recent()
    []
    """

    def __init__(self, store: LayerStore) -> None:
        self.store = store
        self._tables = store.record_tables()

    # ------------------------------------------------------------------ writes

    def submit(
        self,
        kind: str,
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

    def for_key(self, idempotency_key: str, kind: str, request: dict[str, Any]) -> Job | None:
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
