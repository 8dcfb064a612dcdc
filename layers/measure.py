"""Geodesic measures of stored layers: line lengths in km on the WGS84 ellipsoid."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pyproj import Geod

if TYPE_CHECKING:
    import geopandas as gpd

WGS84 = Geod(ellps="WGS84")


def geodesic_length_km(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Return the geodesic length in km of each geometry of an EPSG:4326 frame.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> meridian_degree = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (0, 1)])], crs=4326)
    >>> round(float(geodesic_length_km(meridian_degree)[0]), 2)
    110.57
    """
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ValueError("geodesic lengths need an EPSG:4326 frame; reproject it first")
    return np.array(
        [0.0 if geom is None else WGS84.geometry_length(geom) / 1000.0 for geom in frame.geometry]
    )


def length_km_by(frame: gpd.GeoDataFrame, column: str) -> dict[str, float]:
    """Sum geodesic km of a line frame per value of ``column``."""
    lengths = geodesic_length_km(frame)
    totals: dict[str, float] = {}
    for key, km in zip(frame[column].fillna("unknown").astype(str), lengths, strict=True):
        totals[key] = totals.get(key, 0.0) + float(km)
    return totals
