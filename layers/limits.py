"""Caps on what one load may bring in; refusals name the limit that was hit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Input size limits for loading one layer.

    The defaults let every bundled layer through (the largest, all 189,432 INEGI 2020
    localities, is well under them) and a national road layer (INEGI's Red Nacional de
    Caminos, OpenStreetMap's Mexico ways: a few million features each) while refusing
    files that would exhaust a 2-core, 24 GiB server.
    """

    max_file_bytes: int = 512 * 1024**2
    max_features: int = 10_000_000
    max_vertices_per_geometry: int = 1_000_000
    max_zip_entries: int = 1_000
    max_zip_uncompressed_bytes: int = 2 * 1024**3
    max_zip_ratio: float = 200.0
    #: Width x height x bands of a raster, checked from its header before any cell is read
    #: (and again for the size it has once reprojected to EPSG:4326); 200 million cells is
    #: 800 MB of float32, over 50 times the bundled elevation model.
    max_raster_cells: int = 200_000_000
