"""Scenario batches: several scenarios at once, one task each, serially or on dask.

Each scenario is planned exactly as a serial run plans it (:func:`usecases.scenario.run_scenario`)
on the engine of national runs (:func:`usecases.national.run_partitions`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layers.store_api import LayerStore
from planner.plans.scenario import Scenario
from usecases.national import Progress, run_partitions
from usecases.scenario import ScenarioResult, ScenarioWorkspace, run_scenario


@dataclass(frozen=True)
class ScenarioBatch:
    """What every scenario of a batch shares (sent with each task)."""

    store: LayerStore
    out_dir: Path
    cost_model: Path | None


def run_scenario_batch(
    specs: Sequence[Scenario],
    batch: ScenarioBatch,
    *,
    client: Any = None,
    progress: Progress | None = None,
) -> list[ScenarioResult]:
    """Run every scenario, one task each; the results come back in the order given.

    Each scenario is planned exactly as a serial run plans it (its own steps on the
    store's layers, its files in its own subfolder), so the figures do not depend on the
    engine; each worker process reads the layers once for all the scenarios it runs.
    """
    return run_partitions(
        client,
        run_scenario_task,
        list(specs),
        batch,
        label=lambda spec: spec.name,
        progress=progress,
    )


def run_scenario_task(spec: Scenario, batch: ScenarioBatch) -> ScenarioResult:
    """One scenario of a batch; runs on a worker (or here, serially)."""
    return run_scenario(spec, batch.store, batch.out_dir, workspace=_workspace(batch))


_workspaces: dict[tuple[str, str], tuple[str, ScenarioWorkspace]] = {}
_workspaces_guard = threading.Lock()


def _workspace(batch: ScenarioBatch) -> ScenarioWorkspace:
    """This process's workspace of the batch's store, read once per store version."""
    key = (batch.store.location, str(batch.cost_model))
    version = batch.store.fingerprint()
    with _workspaces_guard:
        cached = _workspaces.get(key)
        if cached is None or cached[0] != version:
            cached = (version, ScenarioWorkspace(batch.store, batch.cost_model))
            _workspaces[key] = cached
    return cached[1]
