"""The worker side of the service's jobs: a job's validated request, run by its use case.

The service's job runner (:mod:`usecases.jobs.runner`, started by :func:`api.app.create_app`)
records every job and calls :func:`run_request` in a worker with the request model the
route validated (nothing is parsed again) and the places it resolved. Each worker keeps
the planning context of the store version it last loaded (the store's fingerprint and
the cost model), so a second job on unchanged layers skips loading the network.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from api._proposal_requests import JobKind, ProposalRequest
from api.planning import PlanningContext, measure, planning_context, proposal_slug, save_proposal
from api.scenarios import ScenarioWorkspace, run_scenario
from layers.errors import AlreadyExistsError
from layers.store_api import LayerStore
from planner.plans.scenario import NAME_PATTERN, find_scenario, load_scenario
from planner.proposals.metrics import ProposalMetrics
from planner.proposals.proposal import Proposal
from usecases.jobs import JobControl, JobOutcome


class ScenarioRunRequest(BaseModel):
    """A run of a bundled scenario: a job kind like the proposal requests."""

    model_config = ConfigDict(extra="forbid")

    kind: ClassVar[JobKind] = "scenario"
    scenario: Annotated[str, Field(pattern=NAME_PATTERN, description="A bundled scenario.")]


def run_request(
    store: LayerStore,
    request: BaseModel,
    inputs: object,
    control: JobControl,
    *,
    cost_model: Path | None,
) -> JobOutcome:
    """Run one job's request through its use case (the runner's work function).

    ``inputs`` holds the places a proposal request's check resolved (as
    :meth:`planner.network.places.Place.to_dict`).
    """
    if isinstance(request, ScenarioRunRequest):
        return _run_scenario(store, cost_model, request, control)
    if not isinstance(request, ProposalRequest):
        raise TypeError(f"no job kind runs a {type(request).__name__}")
    control.progress(0.05, "building the priced corridor network")
    context = cached_context(store, cost_model)
    places: list[dict[str, Any]] = inputs if isinstance(inputs, list) else []
    proposal = request.plan(context, places, control.progress)
    control.progress(0.9, "measuring and storing the proposal")
    metrics = measure(context, proposal)
    control.ensure_running()  # failed meanwhile (a shutdown): store nothing
    name = _store(context, proposal, metrics, request.name, replace=request.replace)
    return JobOutcome(name, f"stored as proposal {name!r}")


_contexts: dict[tuple[str, str], tuple[tuple[Any, ...], PlanningContext]] = {}
_contexts_guard = threading.Lock()
_contexts_loading = threading.Lock()


def _store_version(store: LayerStore, cost_model: Path | None) -> tuple[Any, ...]:
    layers = store.fingerprint()
    model = None
    if cost_model is not None and cost_model.exists():
        model = (str(cost_model), cost_model.stat().st_mtime_ns)
    return layers, model


def cached_context(store: LayerStore, cost_model: Path | None) -> PlanningContext:
    """The planning context of the store's current layers, shared by every job.

    The context is loaded once per store version (its fingerprint, cost model file) and
    process, from the inputs built once beside the store (concurrent cold workers build
    them once: :mod:`planner.network.build_cache`). Jobs only read it: planning works on its
    own copy of the network.
    """
    key = (store.location, str(cost_model))
    version = _store_version(store, cost_model)
    # one loader at a time: concurrent jobs in threads wait for it and share its context
    # instead of each holding a copy of the network
    with _contexts_loading:
        with _contexts_guard:
            cached = _contexts.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        context = planning_context(store, cost_model)
        with _contexts_guard:
            _contexts[key] = (version, context)
        return context


def scenario_outputs(store: LayerStore) -> Path:
    """Where scenario runs write their files: a folder of the store's, one per scenario."""
    return store.side_folder("scenarios")


def _run_scenario(
    store: LayerStore, cost_model: Path | None, request: ScenarioRunRequest, control: JobControl
) -> JobOutcome:
    """Run a bundled scenario; its first stored proposal and a message naming all."""
    spec = load_scenario(find_scenario(request.scenario))
    workspace = ScenarioWorkspace(store, cost_model)
    result = run_scenario(
        spec,
        store,
        scenario_outputs(store),
        lambda text: control.progress(0.5, text),
        workspace=workspace,
    )
    names = [step.store_name for step in result.steps]
    return JobOutcome(names[0], f"stored proposals {', '.join(names)}")


def _store(
    context: PlanningContext,
    proposal: Proposal,
    metrics: ProposalMetrics,
    name: str | None,
    *,
    replace: bool,
) -> str:
    """Save under ``name``, or under the proposal's slug with _2, _3, ... if it is taken."""
    if name is not None:
        save_proposal(context.store, proposal, metrics, name, replace=replace)
        return name
    base = proposal_slug(proposal.name)
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{base[:58]}_{n}"
        try:
            save_proposal(context.store, proposal, metrics, candidate, replace=False)
        except AlreadyExistsError:
            continue
        return candidate
    raise AlreadyExistsError(f"too many proposals named {base!r}; give a name")
