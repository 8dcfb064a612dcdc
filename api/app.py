"""The assembled Trazo HTTP service: ``create_app()`` for uvicorn, tests and tools."""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

import pyogrio
import pyproj
import shapely
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api._http import HeadAsGet, PublicBaseURL
from api._ogc import OPENAPI
from api._openapi import openapi_document
from api.auth import viewer
from api.errors import add_exception_handlers, http_message
from api.jobs import run_request
from api.routes_features import router as features_router
from api.routes_layers import router as layers_router
from api.routes_proposals import router as proposals_router
from api.routes_scenarios import router as scenarios_router
from api.settings import (
    DistributedSettings,
    JobSettings,
    LimitSettings,
    PlannerSettings,
    ServiceSettings,
    StoreSettings,
)
from layers.stores import open_store
from layers.workdirs import sweep_stale_workdirs
from usecases.jobs import running_jobs

logger = logging.getLogger("trazo.api")


class Health(BaseModel):
    """Versions of Trazo and of the geospatial libraries it runs on."""

    status: str = Field(examples=["ok"])
    trazo: str = Field(examples=["0.1.0"])
    gdal: str = Field(examples=["3.12.4"])
    proj: str = Field(examples=["9.5.1"])
    geos: str = Field(examples=["3.14.1"])


def create_app(
    service: ServiceSettings | None = None,
    store: StoreSettings | None = None,
    limits: LimitSettings | None = None,
    planner: PlannerSettings | None = None,
    jobs: JobSettings | None = None,
    distributed: DistributedSettings | None = None,
) -> FastAPI:
    """Build the service; settings default to the environment (``TRAZO_*``)."""
    service = service or ServiceSettings()
    store = store or StoreSettings()
    distributed = distributed or DistributedSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service.mode == "development" and not service.api_keys:
            key = secrets.token_urlsafe(24)
            service.api_keys[key] = "gis"
            logger.warning("development mode: local gis key %s (anonymous callers may read)", key)
        # work folders of server processes that were killed or crashed
        await run_in_threadpool(sweep_stale_workdirs)
        # the service's jobs, run off the request for the app's lifetime
        work = functools.partial(
            run_request,
            cost_model=app.state.planner.cost_model,
            scheduler=distributed.scheduler,
        )
        with running_jobs(
            app.state.store,
            work,
            workers=service.max_concurrent_jobs,
            executor=app.state.job_settings.executor,
            describe=http_message,  # a failed job reads like an error response
        ) as runner:
            app.state.jobs = runner
            yield

    app = FastAPI(
        title="Trazo",
        version=version("trazo"),
        summary="Costed fiber route proposals for Mexico from real layers.",
        lifespan=lifespan,
        # Served below behind the viewer role: only /healthz is open in production.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = service
    app.state.store = open_store(store.store, work_dir=store.work_dir)
    app.state.data_dir = store.data_dir
    app.state.limits = (limits or LimitSettings()).to_limits()
    app.state.planner = planner or PlannerSettings()
    app.state.job_settings = jobs or JobSettings()
    add_exception_handlers(app)
    app.add_middleware(HeadAsGet)
    public_url = str(service.public_url) if service.public_url is not None else None
    app.add_middleware(PublicBaseURL, public_url=public_url)

    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz() -> Health:
        """Liveness, with the versions of Trazo, GDAL, PROJ and GEOS (no key needed)."""
        return Health(
            status="ok",
            trazo=version("trazo"),
            gdal=pyogrio.__gdal_version_string__,
            proj=pyproj.proj_version_str,
            geos=shapely.geos_version_string,
        )

    app.include_router(features_router)
    app.include_router(layers_router)
    app.include_router(proposals_router)
    app.include_router(scenarios_router)
    _add_api_definition(app, service)
    return app


def _add_api_definition(app: FastAPI, service: ServiceSettings) -> None:
    """Serve the OpenAPI 3.0 document, Swagger UI and ReDoc to viewers.

    They need a key in production like every route but ``/healthz``; a browser asks
    for it with its login prompt (any user name, the key as password).
    """
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cached:
            cached.update(openapi_document(app, service))
        return cached

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False, dependencies=[viewer])
    def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi(), media_type=OPENAPI)

    @app.get("/docs", include_in_schema=False, dependencies=[viewer])
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Trazo – Swagger UI")

    @app.get("/redoc", include_in_schema=False, dependencies=[viewer])
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title="Trazo – ReDoc")
