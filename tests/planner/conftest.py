"""Small corridor graphs shared by the planner's graph, engine and route tests."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pytest
from shapely import LineString


@pytest.fixture
def rows() -> Callable[..., gpd.GeoDataFrame]:
    """Build a rights-of-way frame from ``(row_type, coordinates)`` pairs."""

    def make(*features: tuple[str, list[tuple[float, float]]]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            {"row_type": [f[0] for f in features], "name": [f"r{i}" for i in range(len(features))]},
            geometry=[LineString(f[1]) for f in features],
            crs="EPSG:4326",
        )

    return make
