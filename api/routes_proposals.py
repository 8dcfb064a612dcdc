"""Proposals over HTTP: submit route, backbone and last-mile jobs; read, export and map results.

``POST /proposals/{route,backbone,last-mile}`` checks the request (fields, places, area,
name) at once, records a job in the store and answers ``202 Accepted`` with the job and a
``Location: /jobs/{id}`` header; the work runs in a worker (:mod:`usecases.jobs`). Poll the job
until it is ``succeeded`` (its links lead to the proposal) or ``failed`` (its error says
why). ``?wait=true`` waits up to ``TRAZO_JOB_WAIT_SECONDS`` and answers ``200`` with the
finished job, or ``202`` if it is still running.

An ``Idempotency-Key`` header makes a submission safe to retry: the same key with the
same request returns the job it created the first time (no second job); the same key
with a different request is refused with a 422 ``idempotency_key_reused``, as the IETF
Idempotency-Key draft advises. Keys are shared by every caller of the service: use UUIDs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from api.auth import planner, viewer
from api.settings import JobSettings
from layers.errors import AlreadyExistsError, NotFoundError
from layers.store_api import LayerStore
from usecases.context import request_lookups
from usecases.jobs import Job, JobRunner, JobStatus
from usecases.proposal_files import draw_proposal_map, write_proposal_file
from usecases.requests import (
    BackboneRequest,
    JobKind,
    LastMileRequest,
    ProposalRequest,
    RouteRequest,
)

router = APIRouter(tags=["proposals"])

GEOJSON = "application/geo+json"
ExportFormat = Literal["geojson", "gpkg", "kml", "csv"]
MEDIA_TYPES: dict[str, str] = {
    "geojson": GEOJSON,
    "gpkg": "application/geopackage+sqlite3",
    "kml": "application/vnd.google-earth.kml+xml",
    "csv": "text/csv; charset=utf-8",
}

Wait = Annotated[
    bool,
    Query(
        description="Wait up to TRAZO_JOB_WAIT_SECONDS for the job: 200 with the finished "
        "job, or 202 if it is still running.",
        openapi_examples={"answer now": {"value": False}, "wait": {"value": True}},
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retry-safe submission: the same key and request return the same job; "
        "the same key with another request is a 422. Use a fresh UUID per request.",
        examples=["0b6f1d7c-6a43-4d0e-9a77-1c2b3f4e5d6a"],
    ),
]
ProposalId = Annotated[
    str,
    PathParam(
        description="The stored proposal's name.",
        openapi_examples={"route": {"value": "villahermosa_teapa"}},
    ),
]


class Link(BaseModel):
    """A link to a related resource."""

    href: str = Field(examples=["http://localhost:8000/jobs/4f0c..."])
    rel: str = Field(examples=["self", "proposal", "map"])
    type: str = Field(examples=["application/json"])
    title: str = Field(examples=["this job"])


class JobError(BaseModel):
    """Why a job failed: a code, a message safe to show, and names to choose from."""

    code: str = Field(examples=["ambiguous_place", "no_route", "interrupted"])
    message: str = Field(examples=["no route joins the places: ..."])
    candidates: list[str] = Field(default_factory=list, description="Places or areas meant.")
    suggestions: list[str] = Field(default_factory=list, description="Close names.")


class JobOut(BaseModel):
    """A proposal job: what was asked, how far it is, and where the result is."""

    job_id: str = Field(description="The job's id (32 hex digits).", examples=["4f0c" + "0" * 28])
    kind: JobKind = Field(examples=["route"])
    status: JobStatus = Field(examples=["running"])
    progress: float = Field(ge=0, le=1, description="Fraction done (0-1).", examples=[0.6])
    message: str = Field(description="What the job is doing or did.", examples=["routing"])
    request: dict[str, Any] = Field(description="The request, with defaults filled in.")
    proposal: str | None = Field(
        default=None, description="The stored proposal once succeeded.", examples=["v_t"]
    )
    error: JobError | None = None
    created_at: str = Field(examples=["2025-01-31T17:02:03.123Z"])
    started_at: str | None = None
    finished_at: str | None = None
    links: list[Link]


class ProposalSummary(BaseModel):
    """A stored proposal's headline figures."""

    name: str = Field(examples=["villahermosa_teapa"])
    kind: str = Field(examples=["route"])
    created_at: str = Field(examples=["2025-01-31T17:02:09Z"])
    total_km: float = Field(examples=[52.4])
    capex_usd_total: float = Field(examples=[943_200.0])
    links: list[Link]


def job_runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


def request_store(request: Request) -> LayerStore:
    store: LayerStore = request.app.state.store
    return store


def job_out(request: Request, job: Job) -> JobOut:
    links = [
        Link(
            href=str(request.url_for("get_job", job_id=job.id)),
            rel="self",
            type="application/json",
            title="this job",
        )
    ]
    if job.proposal is not None and job.status == "succeeded":
        links += _proposal_links(request, job.proposal)
    error = None
    if job.status == "failed":
        error = JobError(
            code=job.error_code or "failed",
            message=job.message,
            candidates=job.details.get("candidates", []),
            suggestions=job.details.get("suggestions", []),
        )
    return JobOut(
        job_id=job.id,
        kind=cast(JobKind, job.kind),  # the service records only its own kinds
        status=job.status,
        progress=job.progress,
        message=job.message,
        request=job.request,
        proposal=job.proposal,
        error=error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        links=links,
    )


def _proposal_links(request: Request, name: str) -> list[Link]:
    links = [
        Link(
            href=str(request.url_for("get_proposal", name=name)),
            rel="proposal",
            type=GEOJSON,
            title=f"proposal {name} (segments and metrics)",
        ),
        Link(
            href=str(request.url_for("proposal_map", name=name)),
            rel="map",
            type="text/html",
            title="offline map",
        ),
    ]
    for fmt in ("gpkg", "kml", "csv"):
        links.append(
            Link(
                href=str(request.url_for("export_proposal", name=name, fmt=fmt)),
                rel="alternate" if fmt != "csv" else "describedby",
                type=MEDIA_TYPES[fmt],
                title="bill of quantities" if fmt == "csv" else f"segments as {fmt}",
            )
        )
    return links


def _stored(store: LayerStore, name: str) -> bool:
    try:
        store.proposal(name)
    except NotFoundError:
        return False
    return True


def _submit(
    request: Request,
    response: Response,
    body: ProposalRequest,
    wait: bool,
    idempotency_key: str | None,
) -> JobOut:
    store = request_store(request)
    runner = job_runner(request)
    known = runner.known(body.kind, body, idempotency_key) if idempotency_key else None
    if known is not None:  # a retry: answer with the job, not with checks it already passed
        return answer_job(request, response, runner, known, wait)
    if body.name is not None and not body.replace and _stored(store, body.name):
        raise AlreadyExistsError(
            f'proposal {body.name!r} already exists; send "replace": true or another name'
        )
    places = body.check(request_lookups(store))
    job, _ = runner.submit(body.kind, body, places, idempotency_key)
    return answer_job(request, response, runner, job, wait)


def answer_job(
    request: Request, response: Response, runner: JobRunner, job: Job, wait: bool
) -> JobOut:
    """202 with the job while it runs (after waiting, if asked), 200 once it has finished."""
    if wait and not job.finished:
        settings: JobSettings = request.app.state.job_settings
        job = runner.wait(job.id, settings.wait_seconds)
    response.status_code = 200 if job.finished else 202
    response.headers["Location"] = str(request.url_for("get_job", job_id=job.id))
    return job_out(request, job)


_SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": JobOut, "description": "The job, finished (with `?wait=true` or a retry)."},
    409: {"description": "A proposal of that name exists and `replace` is false."},
    422: {"description": "A bad field, place or area; or an Idempotency-Key reused."},
}
# what every proposal submission declares: 202 with the job, its answers, the planner role
_SUBMIT: dict[str, Any] = {
    "status_code": 202,
    "response_model": JobOut,
    "responses": _SUBMIT_RESPONSES,
    "dependencies": [planner],
}


@router.post("/proposals/route", summary="Submit a route proposal job", **_SUBMIT)
def submit_route(
    request: Request,
    response: Response,
    body: RouteRequest,
    wait: Wait = False,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    """Least-cost route between two places, with alternatives or a diverse pair."""
    return _submit(request, response, body, wait, idempotency_key)


@router.post("/proposals/backbone", summary="Submit a backbone proposal job", **_SUBMIT)
def submit_backbone(
    request: Request,
    response: Response,
    body: BackboneRequest,
    wait: Wait = False,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    """Near-optimal Steiner backbone joining every terminal, optionally with rings."""
    return _submit(request, response, body, wait, idempotency_key)


@router.post("/proposals/last-mile", summary="Submit a last-mile proposal job", **_SUBMIT)
def submit_last_mile(
    request: Request,
    response: Response,
    body: LastMileRequest,
    wait: Wait = False,
    idempotency_key: IdempotencyKey = None,
) -> JobOut:
    """Connect the unconnected localities of an area to the backbone, by cost per person."""
    return _submit(request, response, body, wait, idempotency_key)


@router.get(
    "/jobs", response_model=list[JobOut], dependencies=[viewer], tags=["jobs"], summary="List jobs"
)
def list_jobs(
    request: Request,
    status: Annotated[
        JobStatus | None,
        Query(description="Only jobs in this state.", openapi_examples={"f": {"value": "failed"}}),
    ] = None,
    limit: Annotated[
        int,
        Query(
            ge=1, le=1000, description="Most jobs listed.", openapi_examples={"n": {"value": 20}}
        ),
    ] = 100,
) -> list[JobOut]:
    """The most recent jobs first."""
    jobs = job_runner(request).jobs.recent(status=status, limit=limit)
    return [job_out(request, job) for job in jobs]


@router.get(
    "/jobs/{job_id}",
    name="get_job",
    response_model=JobOut,
    dependencies=[viewer],
    tags=["jobs"],
    summary="A job's state",
)
def get_job(
    request: Request,
    job_id: Annotated[
        str,
        PathParam(
            description="The job id from the submission.",
            openapi_examples={"job": {"value": "4f0c" + "0" * 28}},
        ),
    ],
) -> JobOut:
    """Status, progress and message; links to the proposal when it succeeded."""
    return job_out(request, job_runner(request).jobs.get(job_id))


@router.get(
    "/proposals",
    response_model=list[ProposalSummary],
    dependencies=[viewer],
    summary="List stored proposals",
)
def list_proposals(request: Request) -> list[ProposalSummary]:
    """Every stored proposal with its headline figures, by name."""
    summaries = []
    for stored in request_store(request).list_proposals():
        metrics = stored.document.get("metrics") or {}
        summaries.append(
            ProposalSummary(
                name=stored.name,
                kind=stored.kind,
                created_at=stored.created_at,
                total_km=float(metrics.get("total_km", 0.0)),
                capex_usd_total=float(metrics.get("capex_usd_total", 0.0)),
                links=_proposal_links(request, stored.name),
            )
        )
    return summaries


@router.get(
    "/proposals/{name}.{fmt}",
    name="export_proposal",
    dependencies=[viewer],
    response_class=Response,
    responses={
        200: {
            "description": "The file: GeoJSON, GeoPackage or KML segments, or CSV bill of "
            "quantities by deployment type (its total row is the capex).",
            "content": {media: {} for media in MEDIA_TYPES.values()},
        },
        404: {"description": "No proposal of that name."},
    },
    summary="Export a proposal",
)
def export_proposal(
    request: Request,
    name: ProposalId,
    fmt: Annotated[
        ExportFormat,
        PathParam(
            description="geojson, gpkg or kml: the segments; csv: the bill of quantities.",
            openapi_examples={"csv": {"value": "csv"}, "gpkg": {"value": "gpkg"}},
        ),
    ],
) -> Response:
    """A proposal as a file to download."""
    document = request_store(request).proposal(name).document
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "geojson":
        return JSONResponse(document, media_type=GEOJSON, headers=headers)
    with tempfile.TemporaryDirectory(prefix="trazo-export-") as folder:
        written = write_proposal_file(document, fmt, Path(folder) / f"{name}.{fmt}", name)
        content = written.read_bytes()
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get(
    "/proposals/{name}",
    name="get_proposal",
    dependencies=[viewer],
    response_class=JSONResponse,
    responses={
        200: {
            "description": "The proposal as a GeoJSON FeatureCollection of segments, with "
            "`proposal` (parameters, notes, terminals) and `metrics` members.",
            "content": {GEOJSON: {}},
        },
        404: {"description": "No proposal of that name."},
    },
    summary="A stored proposal",
)
def get_proposal(request: Request, name: ProposalId) -> JSONResponse:
    """The proposal's segments, parameters and metrics."""
    document = request_store(request).proposal(name).document
    return JSONResponse(document, media_type=GEOJSON)


@router.get(
    "/proposals/{name}/map",
    name="proposal_map",
    dependencies=[viewer],
    response_class=HTMLResponse,
    responses={404: {"description": "No proposal of that name."}},
    summary="A proposal's offline map",
)
def get_proposal_map(request: Request, name: ProposalId) -> HTMLResponse:
    """One self-contained HTML map of the proposal over the stored layers (no network)."""
    store = request_store(request)
    document = store.proposal(name).document
    with tempfile.TemporaryDirectory(prefix="trazo-map-") as folder:
        path = Path(folder) / f"{name}.html"
        draw_proposal_map(store, document, path, data_dir=request.app.state.data_dir)
        html = path.read_text(encoding="utf-8")
    return HTMLResponse(html)
