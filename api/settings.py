"""Settings read from the environment (prefix ``TRAZO_``) or a ``.env`` file.

Only ``api/`` reads configuration; library code takes explicit arguments.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from layers.limits import Limits

REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class StoreSettings(BaseSettings):
    """Where the embedded store and the bundled data live."""

    model_config = SettingsConfigDict(env_prefix="TRAZO_", env_file=".env", extra="ignore")

    store: Path = Field(
        default=Path(".trazo/store.gpkg"),
        description="GeoPackage holding every layer; rasters sit in a folder beside it.",
    )
    data_dir: Path = Field(
        default=REPO_DATA_DIR, description="Folder of the bundled layers and data/manifest.toml."
    )


class LimitSettings(BaseSettings):
    """Caps on one load; refusals name the setting that was hit."""

    model_config = SettingsConfigDict(env_prefix="TRAZO_LIMIT_", env_file=".env", extra="ignore")

    max_file_bytes: int = Field(default=Limits.max_file_bytes, gt=0)
    max_features: int = Field(default=Limits.max_features, gt=0)
    max_vertices_per_geometry: int = Field(default=Limits.max_vertices_per_geometry, gt=0)
    max_zip_entries: int = Field(default=Limits.max_zip_entries, gt=0)
    max_zip_uncompressed_bytes: int = Field(default=Limits.max_zip_uncompressed_bytes, gt=0)
    max_zip_ratio: float = Field(default=Limits.max_zip_ratio, gt=1)

    def to_limits(self) -> Limits:
        """Return the library's limits object."""
        return Limits(**self.model_dump())
