"""The real bundled layers (data/manifest.toml), mapped for Tabasco only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from layers.bundle import read_manifest
from layers.errors import LayerValidationError
from layers.ingest import read_layer
from layers.kinds import LayerKind
from maps.offline import external_references
from maps.render import layers_map, manifest_attributions, save_map

# reads every bundled layer and renders them in Chromium.
pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[2] / "data"
TABASCO = (-94.2, 17.2, -90.9, 18.7)
# Measured: about 1.0 MB (370 kB of it Leaflet and plugins); the bound leaves room
# for richer layers without letting a whole national layer slip in.
MAX_BYTES = 2_000_000


@pytest.fixture(scope="module")
def tabasco_frames() -> dict[str, tuple[LayerKind, Any]]:
    try:
        entries = read_manifest(DATA)
    except LayerValidationError as err:
        pytest.skip(f"bundled data not available: {err}")
    frames = {}
    for entry in entries:
        if entry.kind is LayerKind.RASTER:
            continue
        layer = read_layer(entry.path, entry.kind, name=entry.name)
        assert layer.frame is not None
        frames[entry.name] = (entry.kind, layer.frame.cx[-96:-89, 16:20])
    return frames


def test_tabasco_map_of_the_bundled_layers(
    tabasco_frames: dict[str, tuple[LayerKind, Any]],
    browser: Any,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    credits, labels = manifest_attributions(DATA)
    started = time.perf_counter()
    m = layers_map(
        tabasco_frames,
        title="Tabasco: bundled layers",
        attributions=credits,
        labels=labels,
        focus_bbox=TABASCO,
        choropleth_field="population",
    )
    path = save_map(m, tmp_path / "tabasco.html")
    assert time.perf_counter() - started < 10
    text = path.read_text(encoding="utf-8")
    assert external_references(text) == []
    assert path.stat().st_size < MAX_BYTES

    browser.get_log("browser")
    browser.get(path.resolve().as_uri())
    time.sleep(0.5)
    browser.save_screenshot(str(artifacts / "tabasco-bundled.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    toggles = browser.find_elements("css selector", ".leaflet-control-layers-selector")
    drawn = [name for name, (_kind, frame) in tabasco_frames.items() if len(frame)]
    assert 0 < len(toggles) <= len(drawn)
    legend = browser.find_element("css selector", ".trazo-legend").text
    assert "INEGI" in legend
