"""Saved maps carry their own code: nothing is fetched from a CDN."""

from __future__ import annotations

import re
from pathlib import Path

import folium
import pytest
from folium import plugins

from maps.offline import (
    UNUSED,
    VENDOR_DIR,
    VENDORED,
    OfflineAssetError,
    external_references,
    inline_assets,
    vendored_text,
)
from maps.render import save_map


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_every_vendored_file_is_there_and_inlinable(name: str) -> None:
    text = vendored_text(VENDORED[name])
    assert len(text) > 500
    assert not re.search(r"url\(\s*(?!['\"]?(?:data:|#))", text), "CSS images must be data: URIs"


def test_every_vendored_package_has_its_license_and_a_readme_row() -> None:
    readme = (VENDOR_DIR / "README.md").read_text(encoding="utf-8")
    packages = {path.split("/")[0] for path in VENDORED.values()}
    for package in packages:
        licenses = [p for p in (VENDOR_DIR / package).iterdir() if "LICEN" in p.name.upper()]
        assert licenses, f"{package} has no license file"
        assert f"[{package}]" in readme
    assert (VENDOR_DIR / "fetch.sh").stat().st_mode & 0o111, "fetch.sh must be executable"


def test_a_plain_folium_map_with_plugins_saves_with_no_external_reference(
    tmp_path: Path,
) -> None:
    m = folium.Map(tiles=None, control_scale=True)
    plugins.Fullscreen().add_to(m)
    plugins.MeasureControl().add_to(m)
    plugins.MarkerCluster().add_to(m)
    folium.LayerControl().add_to(m)
    html = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    assert external_references(html) == []
    assert not re.search(r"<(?:script|link)[^>]+(?:src|href)=[\"']?https?://", html)
    assert "L.map(" in html and "L.MarkerClusterGroup" in html


def test_inlining_twice_adds_each_library_once(tmp_path: Path) -> None:
    m = folium.Map(tiles=None)
    inline_assets(m)
    inline_assets(m)
    html = m.get_root().render()
    assert html.count("Leaflet 1.9.3") == 1
    for name in UNUSED:
        assert f'"{name}"' not in html


@pytest.mark.parametrize(
    "element",
    [folium.Marker([18.0, -93.0], popup="hola"), folium.Marker([18.0, -93.0], icon=folium.Icon())],
)
def test_elements_needing_dropped_libraries_are_refused(element: folium.Marker) -> None:
    m = folium.Map(tiles=None)
    element.add_to(m)
    with pytest.raises(OfflineAssetError, match="CircleMarker or DivIcon"):
        inline_assets(m)


def test_unvendored_plugins_are_refused() -> None:
    m = folium.Map(tiles=None)
    plugins.HeatMap([[18.0, -93.0]]).add_to(m)
    with pytest.raises(OfflineAssetError, match="does not vendor"):
        inline_assets(m)


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ('<script src="https://cdn.example/x.js"></script>', True),
        ('<script src="x.js"></script>', True),
        ('<link rel="stylesheet" href="//cdn.example/x.css"/>', True),
        ("<style>a { background: url(https://x.example/i.png) }</style>", True),
        ('<style>@import "x.css";</style>', True),
        ('<a href="https://leafletjs.com">Leaflet</a>', False),
        ("<script>var u = 'https://example.org';</script>", False),
    ],
)
def test_external_references(html: str, found: bool) -> None:
    assert bool(external_references(html)) is found
