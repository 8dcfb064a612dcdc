"""Fixtures for the layer-loading tests: the committed sample files and builders of bad input."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"


@pytest.fixture
def data_dir() -> Path:
    """The folder of committed fixtures (see tests/data/layers/README.md)."""
    return DATA


@pytest.fixture
def make_zip(tmp_path: Path) -> Callable[..., Path]:
    """Build a zip archive in ``tmp_path`` from ``{entry name: bytes}``."""

    def build(
        entries: dict[str, bytes], name: str = "upload.zip", method: int = zipfile.ZIP_DEFLATED
    ) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w", method) as archive:
            for entry, payload in entries.items():
                archive.writestr(entry, payload)
        return path

    return build


@pytest.fixture
def write_geojson(tmp_path: Path) -> Callable[..., Path]:
    """Write a GeoJSON FeatureCollection by hand: ``[(geometry dict or None, properties)]``."""

    def write(
        features: list[tuple[dict[str, Any] | None, dict[str, Any]]],
        name: str = "layer.geojson",
    ) -> Path:
        collection = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": geometry, "properties": properties}
                for geometry, properties in features
            ],
        }
        path = tmp_path / name
        path.write_text(json.dumps(collection), encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a text file named ``name`` in ``tmp_path``."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
