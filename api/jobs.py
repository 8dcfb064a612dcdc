"""The worker side of the service's jobs: a job's validated request, run by its use case.

The service's job runner (:mod:`usecases.jobs.runner`, started by :func:`api.app.create_app`)
records every job and calls :func:`run_request` in a worker with the request model the
route validated (nothing is parsed again) and the places it resolved (``Place`` objects,
as they are). Each worker keeps the planning context of the store version it last loaded
(:func:`usecases.context.shared_context`), so a second job on unchanged layers skips
loading the network. The service's settings (cost model, dask scheduler) reach it as
arguments, bound by :func:`api.app.create_app`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from layers.store_api import LayerStore
from planner.network.places import Place
from usecases.context import shared_context
from usecases.jobs import JobControl, JobOutcome
from usecases.proposals import measure, store_proposal
from usecases.requests import Engine, ProposalRequest, ScenarioRunRequest
from usecases.scenario import run_stored_scenario


def run_request(
    store: LayerStore,
    request: BaseModel,
    inputs: object,
    control: JobControl,
    *,
    cost_model: Path | None,
    scheduler: str | None = None,
) -> JobOutcome:
    """Run one job's request through its use case (the runner's work function).

    ``inputs`` holds the places a proposal request's check resolved; ``scheduler`` is the
    dask scheduler national runs use (None: state after state in this worker).
    """
    if isinstance(request, ScenarioRunRequest):
        first, message = run_stored_scenario(store, cost_model, request.scenario, control.progress)
        return JobOutcome(first, message)
    if not isinstance(request, ProposalRequest):
        raise TypeError(f"no job kind runs a {type(request).__name__}")
    control.progress(0.05, "building the priced corridor network")
    context = shared_context(store, cost_model)
    places: list[Place] = inputs if isinstance(inputs, list) else []
    engine = Engine(cost_model, scheduler)
    proposal = request.plan(context, places, control.progress, engine)
    control.progress(0.9, "measuring and storing the proposal")
    metrics = measure(context, proposal)
    control.ensure_running()  # failed meanwhile (a shutdown): store nothing
    name, _ = store_proposal(store, proposal, metrics, request.name, replace=request.replace)
    return JobOutcome(name, f"stored as proposal {name!r}")
