"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def store_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the settings at a fresh store in a temporary folder; return its path."""
    store = tmp_path / "store" / "store.gpkg"
    monkeypatch.setenv("TRAZO_STORE", str(store))
    monkeypatch.setenv("TRAZO_DATA_DIR", str(REPO / "data"))
    monkeypatch.chdir(tmp_path)
    return store
