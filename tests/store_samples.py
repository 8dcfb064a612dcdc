"""Sample layers for the store tests (GeoPackage and the contract run on both backends).

A few places in Tabasco with coordinates rounded by hand and two straight rights of way,
so each expected value of those tests (bboxes, bbox filters, pages) is worked out from the
literals below.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from shapely.geometry import LineString, Point

from layers.report import ValidationReport

# (name, population, connected, lon, lat)
PLACES = [
    ("Villahermosa", 340060, True, -92.93, 17.99),
    ("Cárdenas", 91558, None, -93.375, 18.0),
    ("Comalcalco", 44757, False, -93.2, 18.26),
    ("Paraíso", 26665, True, -93.21, 18.4),
    ("Frontera", 23316, None, -92.65, 18.53),
]
SHARES = [0.5, None, 0.25, 1.0, 0.125]


def localities(
    rows: list[tuple[str, int, bool | None, float, float]] = PLACES, *, share: bool = False
) -> gpd.GeoDataFrame:
    """The places as a localities layer; ``share`` adds a float column with a missing value."""
    columns: dict[str, object] = {
        "name": [r[0] for r in rows],
        "population": np.array([r[1] for r in rows], dtype="int64"),
        "connected": pd.array([r[2] for r in rows], dtype="boolean"),
    }
    if share:
        columns["share"] = SHARES[: len(rows)]
    return gpd.GeoDataFrame(columns, geometry=[Point(r[3], r[4]) for r in rows], crs="EPSG:4326")


def rights_of_way() -> gpd.GeoDataFrame:
    """A highway along lat 18 and a diagonal along lat = lon + 110.5."""
    return gpd.GeoDataFrame(
        {"row_type": ["highway", "rail"], "name": ["Carretera 180 (tramo)", "Diagonal"]},
        geometry=[
            LineString([(-93.0, 18.0), (-92.5, 18.0)]),
            LineString([(-93.0, 17.5), (-92.0, 18.5)]),
        ],
        crs="EPSG:4326",
    )


def report(name: str, kind: str = "localities", source: str = "tabasco.csv") -> ValidationReport:
    """A validation report of five features over the places' bbox."""
    return ValidationReport(
        name=name,
        kind=kind,
        source=source,
        format="CSV",
        crs_in="EPSG:4326",
        features_read=5,
        features_kept=5,
        bbox=(-93.375, 17.99, -92.65, 18.53),
        warnings=["one note"],
    )


def write_tif(path: Path, fill: int = 7) -> Path:
    """A 4x4 one-band GeoTIFF over (-93, 17.5)-(-92, 18.5): 0.25 degree pixels."""
    data = np.full((1, 4, 4), fill, dtype="uint8")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="uint8",
        crs="EPSG:4326",
        transform=Affine(0.25, 0.0, -93.0, 0.0, -0.25, 18.5),
    ) as dst:
        dst.write(data)
    return path
