"""Partition tasks for the dask tests, importable by name in the workers.

The workers of a LocalCluster start with the test process's ``sys.path``, on which
``tests/conftest.py`` puts this folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from planner.plans.national_last_mile import StatePartition
from usecases.national import NationalRequest, plan_partition


def die_once(partition: StatePartition, request: NationalRequest, marker: str) -> Any:
    """Kill this worker process the first time a partition of state 27 runs, mid-task."""
    if partition.cve_ent == "27" and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        os._exit(1)
    return os.getpid(), plan_partition(partition, request)


def fail_in_27(partition: StatePartition, request: NationalRequest) -> Any:
    """Raise in state 27, every time."""
    if partition.cve_ent == "27":
        raise ValueError("no route")
    return None


def note_start(item: str, log: str) -> str:
    """Append ``<time> <item>`` to the file ``log`` as the task starts, then work 0.3 s."""
    with Path(log).open("a", encoding="utf-8") as handle:
        handle.write(f"{time.time()} {item}\n")
    time.sleep(0.3)
    return item
