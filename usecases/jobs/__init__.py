"""Jobs: recorded in the store before they run (:mod:`usecases.jobs.store`) and run off the
request on a worker pool that survives restarts (:mod:`usecases.jobs.runner`).

Every job kind (a route, a backbone, a last mile, a scenario run) is stored, run and
reported the same way; the adapter that makes the runner gives it the one work function
that calls the kind's use case.
"""

from usecases.jobs.runner import (
    INTERNAL_MESSAGE,
    RESTART_MESSAGE,
    JobControl,
    JobOutcome,
    JobRunner,
    JobWork,
    recover,
    running_jobs,
)
from usecases.jobs.store import (
    JOBS_TABLE,
    IdempotencyKeyReusedError,
    Job,
    JobStatus,
    JobStore,
    request_hash,
)

__all__ = [
    "INTERNAL_MESSAGE",
    "JOBS_TABLE",
    "RESTART_MESSAGE",
    "IdempotencyKeyReusedError",
    "Job",
    "JobControl",
    "JobOutcome",
    "JobRunner",
    "JobStatus",
    "JobStore",
    "JobWork",
    "recover",
    "request_hash",
    "running_jobs",
]
