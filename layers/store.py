"""The embedded layer store: one GeoPackage holding every vector layer and a catalog.

INTERFACE STUB — implementation pending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from layers.kinds import LayerKind
from layers.report import ValidationReport

if TYPE_CHECKING:
    import geopandas as gpd

ExportFormat = Literal["geojson", "gpkg", "kml", "csv"]


@dataclass(frozen=True)
class LayerInfo:
    """One catalog row: what a stored layer is and where it came from."""

    name: str
    kind: LayerKind
    source: str
    loaded_at: str  # ISO 8601 UTC
    feature_count: int  # raster: 0
    geometry_type: str | None  # raster: None
    bbox: tuple[float, float, float, float] | None  # EPSG:4326
    report: dict[str, Any] = field(default_factory=dict)


class Store:
    """A GeoPackage file of layers plus rasters in a folder beside it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def list_layers(self) -> list[LayerInfo]:
        raise NotImplementedError

    def info(self, name: str) -> LayerInfo:
        raise NotImplementedError

    def read(
        self, name: str, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame:
        raise NotImplementedError

    def write_layer(
        self,
        name: str,
        kind: LayerKind,
        frame: gpd.GeoDataFrame,
        report: ValidationReport,
        *,
        replace: bool = False,
    ) -> LayerInfo:
        raise NotImplementedError

    def write_raster(
        self, name: str, tif: Path, report: ValidationReport, *, replace: bool = False
    ) -> LayerInfo:
        raise NotImplementedError

    def raster_path(self, name: str) -> Path:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        raise NotImplementedError

    def export(self, name: str, fmt: ExportFormat, out: Path) -> Path:
        raise NotImplementedError
