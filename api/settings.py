"""Settings read from the environment (prefix ``TRAZO_``) or a ``.env`` file.

Only ``api/`` reads configuration; library code takes explicit arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from layers.bundled_data import BUNDLED_DATA_DIR
from layers.limits import Limits


class StoreSettings(BaseSettings):
    """Where the embedded store and the bundled data live."""

    model_config = SettingsConfigDict(env_prefix="TRAZO_", env_file=".env", extra="ignore")

    store: str = Field(
        default=".trazo/store.gpkg",
        description=(
            "Where layers are stored: a GeoPackage path (rasters sit in a folder beside it) "
            "or a PostGIS database, postgresql://user:password@host:5432/db?schema=trazo."
        ),
    )
    work_dir: Path | None = Field(
        default=None,
        description=(
            "PostGIS stores only: local folder for the raster cache, scenario outputs and "
            "job locks; default .trazo/pg-<schema>-<hash>."
        ),
    )
    data_dir: Path = Field(
        default=BUNDLED_DATA_DIR,
        description="Folder of the bundled layers and their manifest.toml; default the data "
        "installed with Trazo.",
    )

    @field_validator("store", mode="before")
    @classmethod
    def _path_as_text(cls, value: object) -> object:
        # A GeoPackage path may be given as a Path; a URL must stay text (Path eats "//").
        return str(value) if isinstance(value, Path) else value


class LimitSettings(BaseSettings):
    """Caps on one load; refusals name the setting that was hit."""

    model_config = SettingsConfigDict(env_prefix="TRAZO_LIMIT_", env_file=".env", extra="ignore")

    max_file_bytes: int = Field(default=Limits.max_file_bytes, gt=0)
    max_features: int = Field(default=Limits.max_features, gt=0)
    max_vertices_per_geometry: int = Field(default=Limits.max_vertices_per_geometry, gt=0)
    max_zip_entries: int = Field(default=Limits.max_zip_entries, gt=0)
    max_zip_uncompressed_bytes: int = Field(default=Limits.max_zip_uncompressed_bytes, gt=0)
    max_zip_ratio: float = Field(default=Limits.max_zip_ratio, gt=1)
    max_raster_cells: int = Field(
        default=Limits.max_raster_cells,
        gt=0,
        description="Width x height x bands a raster may have (read from its header).",
    )
    max_load_seconds: float = Field(
        default=Limits.max_load_seconds,
        gt=0,
        description="Seconds one load may take from its checks to the end of validation; "
        "a load past it is refused (HTTP 413 limit_exceeded, CLI exit 2) and stores nothing.",
    )

    def to_limits(self) -> Limits:
        """Return the library's limits object."""
        return Limits(**self.model_dump())


class PlannerSettings(BaseSettings):
    """What planning runs with by default."""

    model_config = SettingsConfigDict(env_prefix="TRAZO_", env_file=".env", extra="ignore")

    cost_model: Path | None = Field(
        default=None,
        description="Cost model TOML used when a request names none; default data/cost_model.toml.",
    )
    planning_cache: bool = Field(
        default=True,
        description="Keep the priced network and place index built once beside the store "
        "(<store>.cache/); false rebuilds them from the layers on every command.",
    )


Role = Literal["viewer", "planner", "gis"]
PLACEHOLDER_KEYS = frozenset({"changeme", "change-me", "secret", "password", "example", "test"})


class ServiceSettings(BaseSettings):
    """The HTTP service: who may do what, and how much one request may ask for."""

    model_config = SettingsConfigDict(env_prefix="TRAZO_", env_file=".env", extra="ignore")

    mode: Literal["development", "production"] = Field(
        default="production",
        description="development allows anonymous viewers and makes a local gis key.",
    )
    api_keys: dict[str, Role] = Field(
        default_factory=dict,
        description='API key to role, as JSON: {"key": "viewer"|"planner"|"gis"}.',
    )
    max_upload_bytes: int = Field(default=Limits.max_file_bytes, gt=0)
    # QGIS reads limit's declared default and maximum and asks for pages of
    # min(max(1000, default), maximum): 10,000 makes it read the 189,432 localities in 20
    # requests rather than 190. A GeoJSON page of 10,000 points is about 2 MB.
    max_items_per_page: int = Field(default=10_000, gt=0, le=100_000)
    default_items_per_page: int = Field(default=10_000, gt=0)
    html_items_per_page: int = Field(
        default=100, gt=0, description="Features on an HTML page when no limit is asked."
    )
    max_concurrent_jobs: int = Field(default=2, gt=0, le=32)
    public_url: AnyHttpUrl | None = Field(
        default=None,
        description=(
            "The address clients reach the service at (e.g. https://trazo.example.org/api "
            "behind a proxy); links and redirects are built from it. Unset: from the address "
            "the server was reached on, never from the client's Host header."
        ),
    )

    @model_validator(mode="after")
    def _refuse_weak_keys(self) -> ServiceSettings:
        if self.mode == "production":
            weak = [k for k in self.api_keys if k.lower() in PLACEHOLDER_KEYS or len(k) < 16]
            if weak:
                raise ValueError(
                    "TRAZO_API_KEYS holds placeholder or short keys (fewer than 16 "
                    "characters); generate keys with `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(24))'`"
                )
        if self.default_items_per_page > self.max_items_per_page:
            raise ValueError("default_items_per_page must not exceed max_items_per_page")
        return self


class DistributedSettings(BaseSettings):
    """Where national runs (``--area all --by state``, scenario batches) run their partitions."""

    model_config = SettingsConfigDict(env_prefix="TRAZO_", env_file=".env", extra="ignore")

    scheduler: str | None = Field(
        default=None,
        description=(
            "Address of a running dask scheduler (tcp://host:8786) that national runs use; "
            "its workers must open the same store (shared filesystem or PostGIS). "
            "Default: the command line runs serially unless --workers N; the service runs "
            "a national job's states one after another in its job worker."
        ),
    )


class JobSettings(BaseSettings):
    """How proposal and scenario jobs run (environment prefix ``TRAZO_JOB_``)."""

    model_config = SettingsConfigDict(env_prefix="TRAZO_JOB_", env_file=".env", extra="ignore")

    executor: Literal["process", "thread"] = Field(
        default="process",
        description="Run jobs in worker processes (keeps the API responsive) or in threads.",
    )
    wait_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="How long `?wait=true` waits for a job before answering 202.",
    )
