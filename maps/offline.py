"""Make a folium map self-contained: inline the vendored Leaflet code, drop every CDN link.

folium renders each library a map needs as a ``<script src="https://...">`` or
``<link href="https://...">`` tag, taken from the ``default_js`` / ``default_css`` lists of
the elements in the map. :func:`inline_assets` empties those lists and puts the vendored
copies from ``maps/vendor/`` (see its README) into the page instead, with the images the
stylesheets point at turned into ``data:`` URIs. The saved file then opens with no network.
"""

from __future__ import annotations

import base64
import functools
import logging
import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path

import folium
from branca.element import Element, Figure

logger = logging.getLogger(__name__)

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"

#: folium's name for a library -> the vendored file that replaces it.
VENDORED: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
    "Control.Fullscreen.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    "leaflet_measure_js": "leaflet-measure/leaflet-measure.min.js",
    "leaflet_measure_css": "leaflet-measure/leaflet-measure.css",
    "Control_MiniMap_js": "leaflet-minimap/Control.MiniMap.min.js",
    "Control_MiniMap_css": "leaflet-minimap/Control.MiniMap.min.css",
}

#: Libraries folium's Map asks for that Trazo's maps never use; dropped, not bundled.
UNUSED: frozenset[str] = frozenset(
    {
        "jquery",
        "bootstrap",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers",
        "awesome_markers_font_css",
        "awesome_markers_css",
        "awesome_rotate_css",
    }
)

_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_EXTERNAL = re.compile(
    r"""<script\b[^>]*\bsrc\s*=|<link\b[^>]*\bhref\s*="""
    r"""|url\(\s*['"]?(?:https?:)?//|@import""",
    re.IGNORECASE,
)


class OfflineAssetError(ValueError):
    """A map needs browser code that is not vendored, so it would not open offline."""


class _InlineScript(Element):
    """A ``<script>`` element holding code, not a link to it."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def render(self, **kwargs: object) -> str:
        return f"<script>{self.code}</script>"


class _InlineStyle(Element):
    """A ``<style>`` element holding a stylesheet, not a link to it."""

    def __init__(self, css: str) -> None:
        super().__init__()
        self.css = css

    def render(self, **kwargs: object) -> str:
        return f"<style>{self.css}</style>"


@functools.cache
def vendored_text(relative: str) -> str:
    """Return a vendored file's text, stylesheet images inlined as ``data:`` URIs.

    Parameters
    ----------
    relative
        Path under ``maps/vendor/``, as in :data:`VENDORED`.

    Returns
    -------
    str
        Code safe to put between ``<script>`` or ``<style>`` tags.
    """
    path = VENDOR_DIR / relative
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OfflineAssetError(
            f"vendored file {path} is missing; run maps/vendor/fetch.sh to restore it"
        ) from None
    if path.suffix == ".css":
        text = _CSS_URL.sub(lambda match: _data_uri(path.parent, match), text)
    closing = "</style" if path.suffix == ".css" else "</script"
    if closing in text.lower():
        raise OfflineAssetError(f"vendored file {path} contains {closing!r}; cannot inline it")
    return text


def _data_uri(folder: Path, match: re.Match[str]) -> str:
    target = match.group(2)
    if target.startswith(("data:", "#")):
        return match.group(0)
    if "//" in target:
        raise OfflineAssetError(f"a vendored stylesheet in {folder} points at {target}")
    image = folder / target
    mime = mimetypes.guess_type(image.name)[0] or "application/octet-stream"
    payload = base64.b64encode(image.read_bytes()).decode("ascii")
    return f'url("data:{mime};base64,{payload}")'


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def inline_assets(m: folium.Map) -> folium.Map:
    """Replace every CDN link the map's elements would render with vendored code.

    Idempotent: calling it twice, or adding elements and calling it again, is safe.

    Parameters
    ----------
    m
        The map; changed in place.

    Returns
    -------
    folium.Map
        The same map.

    Raises
    ------
    OfflineAssetError
        If an element needs a library that is not vendored (for example a folium
        ``Icon``, ``Popup`` or plugin Trazo does not bundle).
    """
    figure = m.get_root()
    if not isinstance(figure, Figure):
        raise OfflineAssetError("the map is not attached to a figure")
    for element in _walk(figure):
        _refuse_unbundled(element)
        for attribute, make in (("default_js", _InlineScript), ("default_css", _InlineStyle)):
            assets: list[tuple[str, str]] | None = getattr(element, attribute, None)
            if not assets:
                continue
            for name, url in assets:
                if name in UNUSED:
                    continue
                if name not in VENDORED:
                    raise OfflineAssetError(
                        f"{type(element).__name__} needs {name} ({url}), which Trazo does not "
                        "vendor; add it to maps/vendor/fetch.sh and maps/offline.py"
                    )
                if name not in figure.header._children:
                    figure.header.add_child(make(vendored_text(VENDORED[name])), name=name)
            setattr(element, attribute, [])
    return m


def _refuse_unbundled(element: Element) -> None:
    """Fail early on folium elements that need a library Trazo drops."""
    if isinstance(element, folium.Icon | folium.Popup):
        raise OfflineAssetError(
            f"folium.{type(element).__name__} needs jQuery or awesome-markers, which Trazo's "
            "offline maps leave out; bind popups from escaped properties and use "
            "CircleMarker or DivIcon markers instead"
        )
    if getattr(element, "objects_to_stay_in_front", None):
        raise OfflineAssetError("Map.keep_in_front needs jQuery, which offline maps leave out")


def external_references(html: str) -> list[str]:
    """Return the snippets of ``html`` that would fetch something from elsewhere.

    Looks for ``<script src=...>``, ``<link href=...>``, CSS ``url(http...)`` and
    ``@import``. Anchors (``<a href>``) are not fetched and not listed.

    Examples
    --------
    >>> external_references('<script src="https://x.org/a.js"></script><a href="https://y">')
    ['<script src=']
    >>> external_references("<script>var a = 1;</script>")
    []
    """
    return [match.group(0) for match in _EXTERNAL.finditer(html)]
