"""Whole maps: base layers, a proposal or two, controls, legend; saved as one HTML file.

The maps need no network: no tile server (the state polygons are the base), and every
script and stylesheet is inlined from ``maps/vendor/`` when the map is saved.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
from folium import plugins
from shapely.geometry import box

from layers.kinds import LayerKind
from maps import basemap, proposal
from maps._elements import HtmlBox, OutlineMiniMap, PageStyle
from maps._html import Legend, esc
from maps._labels import Place, PlaceLabels
from maps._layout import Layout, Panes, panel_html
from maps.offline import OfflineAssetError, external_references, inline_assets

if TYPE_CHECKING:
    from layers.store_api import LayerStore

logger = logging.getLogger(__name__)

Bbox = basemap.Bbox
Frames = Mapping[str, tuple[LayerKind | str, gpd.GeoDataFrame]]

#: Mexico's bounding box (west, south, east, north), the default area of interest.
MEXICO_BBOX: Bbox = (-118.6, 14.3, -86.5, 32.9)

# Draw order, bottom to top.
_KIND_ORDER = [
    LayerKind.STATES,
    LayerKind.MUNICIPALITIES,
    LayerKind.RIGHTS_OF_WAY,
    LayerKind.FIBER_ROUTES,
    LayerKind.SUBSEA_CABLES,
    LayerKind.COVERAGE,
    LayerKind.SUBSEA_LANDINGS,
    LayerKind.LOCALITIES,
    LayerKind.SITES,
]

KIND_LABELS = {
    LayerKind.STATES: "States",
    LayerKind.MUNICIPALITIES: "Municipalities",
    LayerKind.RIGHTS_OF_WAY: "Rights of way",
    LayerKind.FIBER_ROUTES: "Fiber routes",
    LayerKind.SUBSEA_CABLES: "Subsea cables",
    LayerKind.SUBSEA_LANDINGS: "Cable landing points",
    LayerKind.LOCALITIES: "Localities",
    LayerKind.COVERAGE: "Existing coverage",
    LayerKind.SITES: "Public sites",
}


def _grow(bbox: Bbox, fraction: float) -> Bbox:
    minx, miny, maxx, maxy = bbox
    dx = max((maxx - minx) * fraction, 0.05)
    dy = max((maxy - miny) * fraction, 0.05)
    return (minx - dx, miny - dy, maxx + dx, maxy + dy)


def _union(boxes: Iterable[Bbox | None]) -> Bbox | None:
    present = [b for b in boxes if b is not None]
    if not present:
        return None
    return (
        min(b[0] for b in present),
        min(b[1] for b in present),
        max(b[2] for b in present),
        max(b[3] for b in present),
    )


def _frames_bbox(frames: Frames) -> Bbox | None:
    boxes: list[Bbox | None] = []
    for _kind, frame in frames.values():
        if len(frame) and not frame.geometry.is_empty.all():
            minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
            boxes.append((minx, miny, maxx, maxy))
    return _union(boxes)


def _new_map(title: str, view: Bbox, tiles_url: str | None, tiles_attribution: str) -> folium.Map:
    minx, miny, maxx, maxy = view
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=6,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    # folium gives zoom limits only to tile layers; without tiles the map needs its own
    # (marker clusters refuse a map with no maxZoom). Quarter zoom steps let the opening
    # view fill the window instead of jumping to half its size.
    m.options.update(maxZoom=18, minZoom=3, zoomSnap=0.25, zoomDelta=0.5)
    Panes().add_to(m)
    # No fit_bounds here: the layout script fits the view once the panels are placed (an
    # earlier animated fit would finish after it and undo it).
    figure = m.get_root()
    figure.title = esc(title)  # type: ignore[attr-defined]
    if tiles_url:
        if "{z}" not in tiles_url or not tiles_url.startswith("https://"):
            raise ValueError(
                "tiles_url must be an https:// XYZ template with {z}, {x} and {y}, e.g. "
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
            )
        if not tiles_attribution:
            raise ValueError("online tiles need their attribution (tiles_attribution)")
        folium.TileLayer(
            tiles_url, attr=esc(tiles_attribution), name="Online basemap", overlay=False
        ).add_to(m)
    PageStyle().add_to(m)
    return m


#: Above this many km across, a view is national; below :data:`CITY_KM`, a city.
NATIONAL_KM = 900.0
CITY_KM = 120.0


def view_km(area: Bbox) -> float:
    """The larger of the view's width and height in km (degrees scaled at its middle).

    Examples
    --------
    >>> round(view_km((-99.4, 19.0, -98.9, 19.6)))  # 0.6 degrees of latitude x 110.57 km
    66
    """
    minx, miny, maxx, maxy = area
    middle = math.radians((miny + maxy) / 2)
    return max((maxx - minx) * 111.32 * math.cos(middle), (maxy - miny) * 110.57)


def scale_of(area: Bbox) -> str:
    """``"city"``, ``"regional"`` or ``"national"``, by :func:`view_km`."""
    km = view_km(area)
    return "city" if km < CITY_KM else "national" if km > NATIONAL_KM else "regional"


def shown_at_opening(
    kind: LayerKind,
    name: str,
    frame: gpd.GeoDataFrame,
    area: Bbox,
    used_layers: set[str] | None,
) -> bool:
    """Whether a base layer is on when the map opens (it is in the layer list either way).

    On: states; municipalities at city scale (there they are the districts a reader
    knows); localities; a corridor layer the proposal runs on (with no proposal: one with
    a feature in view); anything else only with a feature in view. So a city map does not
    draw the national pipelines, grid or subsea cables its plan does not use, and a
    national map does not draw every corridor layer at once.
    """
    if kind is LayerKind.STATES or kind is LayerKind.LOCALITIES:
        return True
    if kind is LayerKind.MUNICIPALITIES:
        return scale_of(area) == "city"
    if kind in (LayerKind.RIGHTS_OF_WAY, LayerKind.FIBER_ROUTES) and used_layers is not None:
        return name in used_layers
    return bool(frame.intersects(box(*area)).any())


def _draw_frames(
    m: folium.Map,
    frames: Frames,
    legend: Legend,
    *,
    attributions: Mapping[str, str],
    labels: Mapping[str, str],
    area: Bbox,
    choropleth_field: str | None,
    tolerance: float,
    min_population: int,
    max_localities: int,
    used_layers: set[str] | None = None,
) -> None:
    nearby = box(*_grow(area, 0.5))
    kinds = [LayerKind(kind) for kind, _frame in frames.values()]
    ordered = sorted(
        frames.items(),
        key=lambda item: (
            _KIND_ORDER.index(LayerKind(item[1][0]))
            if LayerKind(item[1][0]) in _KIND_ORDER
            else len(_KIND_ORDER)
        ),
    )
    hidden: list[str] = []
    for name, (kind, frame) in ordered:
        layer_kind = LayerKind(kind)
        if layer_kind is LayerKind.RASTER or frame.empty:
            continue
        # Whole features near the area (not cut at its edge), so panning out still shows them.
        if layer_kind is LayerKind.LOCALITIES:
            part = frame
        elif layer_kind is LayerKind.MUNICIPALITIES:  # many polygons: only those in the area
            part = frame[frame.intersects(box(*area))]
        else:
            part = frame[frame.intersects(nearby)]
        if part.empty:
            continue
        default = KIND_LABELS.get(layer_kind, name)
        if kinds.count(layer_kind) > 1:
            default = f"{default}: {name}"
        label = labels.get(name, default)
        show = shown_at_opening(layer_kind, name, part, area, used_layers)
        if not show:
            hidden.append(label)
        basemap.add_layer(
            m,
            layer_kind,
            part,
            name=esc(label),
            attribution=attributions.get(name, ""),
            legend=legend if show else None,
            tolerance=tolerance,
            choropleth_field=choropleth_field if layer_kind is LayerKind.STATES else None,
            bbox=area,
            min_population=min_population,
            max_localities=max_localities,
            show=show,
        )
        if not show and attributions.get(name):
            legend.source(attributions[name])
    if hidden:
        why = " (not used by this plan or not in view)" if used_layers is not None else ""
        legend.note("Off until ticked in Layers: " + ", ".join(hidden) + why + ".")


def _landing_places(frames: Frames, area: Bbox) -> list[Place]:
    places = []
    for kind, frame in frames.values():
        if LayerKind(kind) is not LayerKind.SUBSEA_LANDINGS or frame.empty:
            continue
        inside = frame[frame.intersects(box(*area))]
        if "name" not in inside.columns:
            continue
        for name, point in zip(inside["name"], inside.geometry.representative_point(), strict=True):
            if isinstance(name, str) and name:
                places.append(Place(name, float(point.x), float(point.y), "landing", 1.5))
    return places


def _labelled_places(
    proposals: Iterable[Mapping[str, Any]], frames: Frames, area: Bbox
) -> list[Place]:
    """Terminals of every proposal, then landings in view that are not terminals too."""
    chosen: list[Place] = []
    for document in proposals:
        for place in proposal.places(document):
            if not any(_same_place(place, other) for other in chosen):
                chosen.append(place)
    for landing in _landing_places(frames, area):
        if not any(_same_place(landing, other) for other in chosen):
            chosen.append(landing)
    return chosen


def _same_place(a: Place, b: Place) -> bool:
    return abs(a.lon - b.lon) < 0.02 and abs(a.lat - b.lat) < 0.02


def _outline(frames: Frames, area: Bbox) -> dict[str, Any]:
    states = [frame for kind, frame in frames.values() if LayerKind(kind) is LayerKind.STATES]
    if states and not states[0].empty:
        frame = states[0]
        minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
        tolerance = max(maxx - minx, maxy - miny) / 150
        return basemap.outline(frame, tolerance=tolerance)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": box(*area).__geo_interface__, "properties": {}}
        ],
    }


def _finish(
    m: folium.Map,
    *,
    title: str,
    legend: Legend,
    frames: Frames,
    area: Bbox,
    extra_sources: Iterable[str],
    summary: str | None,
    summary_class: str = "trazo-summary",
    summary_heading: str = "Summary",
    places: list[Place] | None = None,
    view: Bbox | None = None,
) -> folium.Map:
    for source in extra_sources:
        legend.source(source)
    if places:
        PlaceLabels(places).add_to(m)
    HtmlBox(esc(title), position="topcenter", css_class="trazo-box trazo-title").add_to(m)
    plugins.Fullscreen(position="topleft").add_to(m)
    plugins.MeasureControl(
        position="topleft", primary_length_unit="kilometers", primary_area_unit="hectares"
    ).add_to(m)
    if summary:
        HtmlBox(
            panel_html(summary_heading, summary),
            position="topleft",
            css_class=f"trazo-box trazo-panel {summary_class}",
        ).add_to(m)
    HtmlBox(
        panel_html("Legend", legend.html()),
        position="bottomright",
        css_class="trazo-box trazo-panel trazo-legend-panel",
    ).add_to(m)
    OutlineMiniMap(_outline(frames, area)).add_to(m)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    Layout(view or area).add_to(m)
    return m


def _sources(
    attributions: Mapping[str, str] | Iterable[str] | None,
) -> tuple[dict[str, str], list[str]]:
    """Split attributions into per-layer credits and free-standing lines."""
    if attributions is None:
        return {}, []
    if isinstance(attributions, Mapping):
        return dict(attributions), []
    return {}, [str(a) for a in attributions]


def layers_map(
    frames: Frames,
    *,
    title: str,
    attributions: Mapping[str, str] | Iterable[str] | None = None,
    focus_bbox: Bbox | None = None,
    **options: Any,
) -> folium.Map:
    """A map of layers: states, rights of way, fiber, subsea cables, localities.

    Parameters
    ----------
    frames
        Layer name -> (kind, EPSG:4326 GeoDataFrame). Rasters are skipped.
    title
        Shown over the map and as the page title.
    attributions
        Layer name -> credit line (shown with the layer and listed in the legend), or
        plain credit lines for the whole map.
    focus_bbox
        Area of interest (west, south, east, north) in degrees: the view and the localities
        drawn; features farther than half its size from it are left out. Default: all the
        data.

    Other Parameters
    ----------------
    choropleth_field
        Numeric state column to shade states by (``population``, ``share_connected``...).
    tiles_url, tiles_attribution
        Optional online XYZ basemap (``https://...{z}/{x}/{y}.png``) and its credit; the
        map works without it.
    labels
        Layer name -> label in the layer control; default: the layer name.
    min_population, max_localities
        Localities drawn: at least this many people, at most this many (most populous).
    simplify_tolerance
        Degrees; default: 1/2000 of the area's size (about 150 m for one state).

    Returns
    -------
    folium.Map
        Save it with :func:`save_map` to get a self-contained file.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> states = gpd.GeoDataFrame(
    ...     {"cve_ent": ["27"], "name": ["Tabasco"], "population": [2402598]},
    ...     geometry=[box(-94.1, 17.3, -91.0, 18.7)], crs="EPSG:4326")
    >>> m = layers_map({"states": ("states", states)}, title="Tabasco",
    ...                attributions={"states": "INEGI"}, choropleth_field="population")
    >>> type(m).__name__
    'Map'
    """
    # a map of no proposal: the proposals' map with an empty list and no figures panel
    return proposals_map(
        [],
        frames,
        title=title,
        attributions=attributions,
        focus_bbox=focus_bbox,
        summary="",
        summary_class="trazo-summary",
        **options,
    )


def _tolerance(area: Bbox, given: float | None) -> float:
    if given is not None:
        return given
    return max(area[2] - area[0], area[3] - area[1]) / 2000


def proposal_map(
    proposal_geojson: Mapping[str, Any],
    frames: Frames | None = None,
    *,
    title: str | None = None,
    attributions: Mapping[str, str] | Iterable[str] | None = None,
    focus_bbox: Bbox | None = None,
    **options: Any,
) -> folium.Map:
    """A proposal over its base layers, with a summary panel.

    Parameters
    ----------
    proposal_geojson
        The proposal FeatureCollection (segments plus ``proposal`` and ``metrics``).
    frames
        Base layers, as for :func:`layers_map`; may be empty.
    title
        Default: the proposal's name.
    attributions, focus_bbox
        As for :func:`layers_map`; the area defaults to the proposal's extent plus 15 %.
    **options
        Passed to :func:`layers_map` (``choropleth_field``, ``tiles_url``, ...).

    Returns
    -------
    folium.Map
    """
    return proposals_map(
        [(proposal_geojson, None, proposal.CASING)],
        frames or {},
        title=title or proposal.title(proposal_geojson),
        attributions=attributions,
        focus_bbox=focus_bbox,
        summary=proposal.summary_html(proposal_geojson),
        summary_class="trazo-summary",
        summary_heading="Summary",
        **options,
    )


def comparison_map(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    frames: Frames | None = None,
    *,
    title: str | None = None,
    attributions: Mapping[str, str] | Iterable[str] | None = None,
    focus_bbox: Bbox | None = None,
    scenario_labels: tuple[str, str] = ("A", "B"),
    **options: Any,
) -> folium.Map:
    """Two proposals on one map, each a toggleable group, with their figures side by side.

    Scenario A's segments are cased in dark grey, B's in white; both keep the colors
    of their deployment types. ``options`` go to the base layers (e.g. their ``labels``).
    """
    name_a, name_b = proposal.title(a), proposal.title(b)
    labels = scenario_labels
    return proposals_map(
        [
            (a, f"{labels[0]}: {name_a}", proposal.CASING),
            (b, f"{labels[1]}: {name_b}", "#ffffff"),
        ],
        frames or {},
        title=title or f"{name_a} vs {name_b}",
        attributions=attributions,
        focus_bbox=focus_bbox,
        summary=proposal.comparison_html(a, b, labels),
        summary_class="trazo-summary trazo-compare",
        summary_heading="Comparison",
        notes=[f"{labels[0]}: dark outline · {labels[1]}: white outline"],
        **options,
    )


def proposals_map(
    proposals: list[tuple[Mapping[str, Any], str | None, str]],
    frames: Frames,
    *,
    title: str,
    attributions: Mapping[str, str] | Iterable[str] | None,
    focus_bbox: Bbox | None,
    summary: str,
    summary_class: str,
    summary_heading: str = "Summary",
    notes: Iterable[str] = (),
    choropleth_field: str | None = None,
    tiles_url: str | None = None,
    tiles_attribution: str = "",
    labels: Mapping[str, str] | None = None,
    min_population: int = 1000,
    max_localities: int = 5000,
    simplify_tolerance: float | None = None,
) -> folium.Map:
    """Several proposals on one map, each a toggleable group, over the base layers.

    Parameters
    ----------
    proposals
        ``(proposal GeoJSON, group label, casing colour)`` for each proposal; the label
        defaults to the proposal's title.
    frames
        Base layers by name: ``(kind, EPSG:4326 frame)``. Corridor layers the proposals
        do not run on start switched off (see :func:`shown_at_opening`).
    summary, summary_class, summary_heading
        HTML of the figures panel (escaped by the caller), its CSS class and heading.
    **others
        As for :func:`layers_map`.
    """
    per_layer, general = _sources(attributions)
    documents = [geojson for geojson, _label, _casing in proposals]
    used = {
        str(layer)
        for document in documents
        for layer in proposal.segments(document)["source_layer"].dropna()
    }
    extent = _union(proposal.bounds(p) for p in documents)
    area = focus_bbox or (_grow(extent, 0.15) if extent else None)
    area = area or _frames_bbox(frames) or MEXICO_BBOX
    m = _new_map(title, area, tiles_url, tiles_attribution)
    legend = Legend()
    _draw_frames(
        m,
        frames,
        legend,
        attributions=per_layer,
        labels=labels or {},
        area=area,
        choropleth_field=choropleth_field,
        tolerance=_tolerance(area, simplify_tolerance),
        min_population=min_population,
        max_localities=max_localities,
        used_layers=used or None,  # a plan on no corridor (wireless): what is in view
    )
    for geojson, label, casing in proposals:
        proposal.add_proposal(m, geojson, label=label, casing=casing)
    proposal.add_legend(legend, documents)
    for note in notes:
        legend.note(note)
    extra = [*general, tiles_attribution] if tiles_url else general
    return _finish(
        m,
        title=title,
        legend=legend,
        frames=frames,
        area=area,
        extra_sources=extra,
        summary=summary,
        summary_class=summary_class,
        summary_heading=summary_heading,
        places=_labelled_places(documents, frames, area),
        # the opening view: the proposals and a little room for their names (the area
        # around them, read for the base layers, is larger)
        view=_grow(extent, 0.04) if extent and not focus_bbox else area,
    )


def save_map(m: folium.Map, path: Path | str) -> Path:
    """Write the map as one self-contained HTML file that opens with no network.

    Parameters
    ----------
    m
        A map from this module (or any folium map using only vendored plugins).
    path
        Output file; its folder is created.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OfflineAssetError
        If the map would still load anything from the network.
    """
    started = time.perf_counter()
    inline_assets(m)
    html = m.get_root().render()
    leftovers = external_references(html)
    if leftovers:
        raise OfflineAssetError(f"the map would still fetch from the network: {leftovers[:3]}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    logger.info(
        "wrote %s (%.0f kB) in %.2f s",
        out,
        out.stat().st_size / 1000,
        time.perf_counter() - started,
    )
    return out


def store_map(
    store: LayerStore,
    proposal_geojson: Mapping[str, Any] | None = None,
    *,
    compare_with: Mapping[str, Any] | None = None,
    title: str | None = None,
    attributions: Mapping[str, str] | Iterable[str] | None = None,
    focus_bbox: Bbox | None = None,
    layer_names: Iterable[str] | None = None,
    **options: Any,
) -> folium.Map:
    """A map of the store's vector layers, with a proposal (or two, compared) on top.

    Parameters
    ----------
    store
        The layer store; every vector layer (or those in ``layer_names``) is drawn.
    proposal_geojson
        Optional proposal FeatureCollection.
    compare_with
        A second proposal: draws :func:`comparison_map` of the two.
    title
        Default: the proposal's name, or "Trazo layers".
    attributions
        As for :func:`layers_map` (for example from :func:`manifest_attributions`).
    focus_bbox
        Area of interest; layers are read only around it. Default: the proposal's extent
        plus 15 %, else everything.
    layer_names
        Draw only these layers.
    **options
        Passed to :func:`layers_map` / :func:`proposal_map`.

    Returns
    -------
    folium.Map
    """
    wanted = set(layer_names) if layer_names is not None else None
    if compare_with is not None and proposal_geojson is None:
        raise ValueError("compare_with needs a first proposal")
    area = focus_bbox
    if area is None and proposal_geojson is not None:
        extent = _union(proposal.bounds(p) for p in (proposal_geojson, compare_with) if p)
        area = _grow(extent, 0.15) if extent else None
    read_box = _grow(area, 0.5) if area else None
    frames: dict[str, tuple[LayerKind | str, gpd.GeoDataFrame]] = {}
    for info in store.list_layers():
        if info.kind is LayerKind.RASTER or (wanted is not None and info.name not in wanted):
            continue
        frames[info.name] = (info.kind, store.read(info.name, bbox=read_box))
    if proposal_geojson is not None and compare_with is not None:
        return comparison_map(
            proposal_geojson,
            compare_with,
            frames,
            title=title,
            attributions=attributions,
            focus_bbox=area,
            **options,
        )
    if proposal_geojson is not None:
        return proposal_map(
            proposal_geojson,
            frames,
            title=title,
            attributions=attributions,
            focus_bbox=area,
            **options,
        )
    return layers_map(
        frames,
        title=title or "Trazo layers",
        attributions=attributions,
        focus_bbox=area,
        **options,
    )


def manifest_attributions(data_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Credit lines and titles of the bundled layers, from ``data_dir/manifest.toml``.

    Returns
    -------
    tuple of dict
        (layer name -> attribution, layer name -> title)
    """
    from layers.bundle import read_manifest

    entries = read_manifest(data_dir)
    return (
        {entry.name: entry.attribution for entry in entries if entry.attribution},
        {entry.name: entry.title for entry in entries},
    )


__all__ = [
    "MEXICO_BBOX",
    "OfflineAssetError",
    "comparison_map",
    "layers_map",
    "manifest_attributions",
    "proposal_map",
    "save_map",
    "store_map",
]
