"""The seed projects over HTTP: list the bundled scenarios, run one as a job, read its report.

``POST /scenarios/{name}/run`` records a job and answers ``202`` like a proposal
submission; the job plans every step, stores each proposal as ``<scenario>_<step>`` and
writes the scenario's one-page summary and map, served by ``GET /scenarios/{name}/summary``
and ``/map`` until the next run replaces them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.auth import planner, viewer
from api.routes_proposals import (
    IdempotencyKey,
    JobOut,
    Link,
    Wait,
    answer_job,
    job_runner,
    request_store,
)
from layers.errors import NotFoundError
from planner.plans.scenario import (
    NAME_PATTERN,
    Scenario,
    find_scenario,
    list_scenarios,
    load_scenario,
)
from usecases.requests import ScenarioRunRequest
from usecases.scenario import scenario_outputs

router = APIRouter(tags=["scenarios"])

ScenarioName = Annotated[
    str,
    PathParam(
        pattern=NAME_PATTERN,
        description="A bundled scenario's name (see GET /scenarios).",
        openapi_examples={"tabasco": {"value": "tabasco"}, "gignet1": {"value": "gignet1"}},
    ),
]


class ScenarioStep(BaseModel):
    """One proposal a scenario plans."""

    name: str = Field(examples=["backbone"])
    kind: str = Field(examples=["backbone"])
    title: str = Field(examples=["State backbone to the 17 municipal seats"])


class ScenarioOut(BaseModel):
    """A bundled scenario: what it plans and the public facts it rests on."""

    name: str = Field(examples=["tabasco"])
    title: str = Field(examples=["Tabasco Telecommunications Master Plan"])
    description: str
    steps: list[ScenarioStep]
    links: list[Link]


def _scenario_out(request: Request, spec: Scenario) -> ScenarioOut:
    def link(route: str, rel: str, media: str, title: str) -> Link:
        href = str(request.url_for(route, name=spec.name))
        return Link(href=href, rel=rel, type=media, title=title)

    return ScenarioOut(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        steps=[ScenarioStep(name=s.name, kind=s.kind, title=s.title) for s in spec.steps],
        links=[
            link("get_scenario", "self", "application/json", "this scenario"),
            link("submit_scenario_run", "run", "application/json", "run it (POST)"),
            link("last_run_summary", "summary", "text/html", "last run's summary"),
            link("last_run_map", "map", "text/html", "last run's map"),
        ],
    )


@router.get(
    "/scenarios",
    response_model=list[ScenarioOut],
    dependencies=[viewer],
    summary="List the bundled scenarios",
)
def list_bundled(request: Request) -> list[ScenarioOut]:
    """The seed projects Trazo ships as scenarios, with their steps."""
    return [_scenario_out(request, spec) for spec in list_scenarios()]


@router.get(
    "/scenarios/{name}",
    response_model=ScenarioOut,
    dependencies=[viewer],
    summary="One bundled scenario",
)
def get_scenario(request: Request, name: ScenarioName) -> ScenarioOut:
    """A scenario's description, steps and links."""
    return _scenario_out(request, load_scenario(find_scenario(name)))


@router.post(
    "/scenarios/{name}/run",
    status_code=202,
    response_model=JobOut,
    responses={200: {"model": JobOut, "description": "The job, finished (`?wait=true`)."}},
    dependencies=[planner],
    summary="Run a scenario as a job",
)
def submit_scenario_run(
    request: Request,
    response: Response,
    name: ScenarioName,
    wait: Wait = False,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    """Plan every step of a scenario; its proposals are stored as ``<scenario>_<step>``."""
    find_scenario(name)  # an unknown name is a 404 now, not a failed job later
    runner = job_runner(request)
    body = ScenarioRunRequest(scenario=name)
    # no check to skip on a retry: submit itself answers a known key with its job
    job, _ = runner.submit(body.kind, body, None, idempotency_key)
    return answer_job(request, response, runner, job, wait)


def _last_run_file(request: Request, name: str, file: str) -> HTMLResponse:
    find_scenario(name)
    path = scenario_outputs(request_store(request)) / name / file
    if not path.is_file():
        raise NotFoundError(
            f"scenario {name!r} has not been run on this server yet; POST /scenarios/{name}/run"
        )
    return HTMLResponse(path.read_text(encoding="utf-8"))


@router.get(
    "/scenarios/{name}/summary",
    response_class=HTMLResponse,
    dependencies=[viewer],
    summary="The last run's one-page summary",
)
def last_run_summary(request: Request, name: ScenarioName) -> HTMLResponse:
    """The summary HTML of the scenario's last run: figures per step, facts, assumptions."""
    return _last_run_file(request, name, "summary.html")


@router.get(
    "/scenarios/{name}/map",
    response_class=HTMLResponse,
    dependencies=[viewer],
    summary="The last run's map",
)
def last_run_map(request: Request, name: ScenarioName) -> HTMLResponse:
    """The offline HTML map of the scenario's last run, every step a toggleable group."""
    return _last_run_file(request, name, "map.html")
