"""The layers under a proposal: states, rights of way, fiber, subsea cables, localities.

:func:`add_layer` draws one layer from an EPSG:4326 GeoDataFrame onto a folium map (or
feature group), adds its swatches to a :class:`~maps._html.Legend`, and returns the folium
layer. What differs by kind (each feature's popup, the style, the legend's swatches) is a
``_*_look`` function; the drawing itself is written once (:func:`_draw`), and localities,
clustered markers, have their own (:func:`add_localities`). Geometry is simplified to
``tolerance`` degrees and rounded to 4 decimals (about 11 m; points keep 5, about 1 m);
only escaped popup and tooltip text travels with each feature, never the raw attributes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from layers.kinds import LayerKind
from maps import format as fmt
from maps._elements import LocalityCluster, SafeGeoJson
from maps._html import Legend, esc, fill_item, is_missing, line_item, popup, symbol_item

if TYPE_CHECKING:
    import geopandas as gpd
    from branca.element import Element

logger = logging.getLogger(__name__)

Bbox = tuple[float, float, float, float]

LAND = "#f4f1ea"
BASE_DECIMALS = 4  # about 11 m, finer than any simplification tolerance used

#: Color and dash pattern of each right-of-way type. Existing corridors are thin, light
#: and muted so that a proposal along the same corridor (thick, saturated, dark-cased,
#: see :mod:`maps.proposal`) never reads as the same line.
ROW_STYLES: dict[str, dict[str, Any]] = {
    "rail": {"color": "#8a7a70", "dashArray": "8 3 2 3", "weight": 1.6},
    "highway": {"color": "#e3b98a", "dashArray": None, "weight": 1.8},
    "pipeline": {"color": "#b9a3cc", "dashArray": "6 4", "weight": 1.5},
    "power": {"color": "#dca3c3", "dashArray": "2 4", "weight": 1.5},
    "other": {"color": "#a6a6a6", "dashArray": "4 4", "weight": 1.2},
}
ROW_LABELS = {
    "rail": "Rail",
    "highway": "Highway",
    "pipeline": "Pipeline",
    "power": "Power line",
    "other": "Other",
}

FIBER_STYLES: dict[str, dict[str, Any]] = {
    "existing": {"color": "#7fbfb1", "weight": 1.8, "dashArray": None},
    "planned": {"color": "#7fbfb1", "weight": 1.5, "dashArray": "6 4"},
}
FIBER_LABELS = {"existing": "Fiber", "planned": "Fiber (planned by others)"}
SUBSEA_STYLE: dict[str, Any] = {"color": "#7d9cc4", "weight": 1.5, "opacity": 0.8}
BASE_OPACITY = 0.8

#: Leaflet pane of places drawn under the proposal (localities, landings); see
#: :data:`maps._elements.PANES` for the whole stacking order.
PLACES_PANE = "trazo-places"
LANDING_ICON = (
    '<svg width="18" height="18" viewBox="0 0 18 18"><circle cx="9" cy="9" r="7" '
    'fill="#08519c" stroke="#fff" stroke-width="2"/><path d="M9 4.5v9M5.5 9.5a3.5 3.5 0 0 0 7 0" '
    'stroke="#fff" stroke-width="1.6" fill="none"/></svg>'
)

#: Sequential palettes (ColorBrewer) for the states choropleth.
PALETTES = {
    "blues": ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    "greens": ["#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"],
    "reds": ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"],
}
LOCALITY_COLORS = {True: "#1a9850", False: "#d73027", None: "#6a51a3"}


def feature_collection(
    frame: gpd.GeoDataFrame,
    properties: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    tolerance: float = 0.0,
    decimals: int = 5,
) -> dict[str, Any]:
    """Turn a frame into a GeoJSON FeatureCollection carrying only ``properties(row)``.

    Parameters
    ----------
    frame
        Features in EPSG:4326.
    properties
        Builds each feature's properties from its attribute row (a dict without the
        geometry); return escaped strings only (``_popup``, ``_tooltip``) and ``_style``.
    tolerance
        Simplification tolerance in degrees; 0 keeps every vertex.
    decimals
        Coordinates are rounded to this many decimals (5: about 1 m; 4: about 11 m).

    Returns
    -------
    dict
        A FeatureCollection; empty geometries are left out.
    """
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if tolerance > 0:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    rows = frame.drop(columns=frame.geometry.name).to_dict("records")
    features = [
        {"type": "Feature", "geometry": geom.__geo_interface__, "properties": properties(row)}
        for geom, row in zip(geoms, rows, strict=True)
        if geom is not None and not geom.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


def _get(row: dict[str, Any], key: str) -> Any:
    value = row.get(key)
    return None if is_missing(value) else value


def _yes_no(value: Any) -> str | None:
    if value is None:
        return None
    return "yes" if bool(value) else "no"


@dataclass(frozen=True)
class _Look:
    """How one layer kind is drawn.

    ``properties`` builds each feature's escaped popup, tooltip and style from its row;
    ``options`` go to :class:`SafeGeoJson` (``style``, ``icon_html``, ``pane``); ``symbols``
    join the legend's "Existing" list and ``classes`` (title, swatches) is a section of its
    own. Points are never simplified and keep 5 decimals (about 1 m).
    """

    properties: Callable[[dict[str, Any]], dict[str, Any]]
    options: dict[str, Any]
    symbols: tuple[str, ...] = ()
    classes: tuple[str, list[str]] | None = None
    points: bool = False


def _draw(
    parent: Element,
    frame: gpd.GeoDataFrame,
    look: _Look,
    *,
    name: str,
    attribution: str,
    legend: Legend | None,
    tolerance: float,
    show: bool,
) -> SafeGeoJson:
    """Add ``frame`` to ``parent`` as one :class:`SafeGeoJson` layer drawn as ``look`` says."""
    collection = (
        feature_collection(frame, look.properties)
        if look.points
        else feature_collection(frame, look.properties, tolerance=tolerance, decimals=BASE_DECIMALS)
    )
    layer = SafeGeoJson(collection, name=name, attribution=attribution, show=show, **look.options)
    layer.add_to(parent)
    if legend is not None:
        legend.existing(list(look.symbols))
        if look.classes is not None:
            legend.section(*look.classes)
        legend.source(attribution)
    return layer


def _category_style(styles: dict[str, dict[str, Any]], key: str, default: str) -> dict[str, Any]:
    """The Leaflet style of category ``key`` (``default``'s if unknown), unset keys left out."""
    style = styles.get(key, styles[default])
    return {k: v for k, v in style.items() if v is not None}


def _category_symbols(
    styles: dict[str, dict[str, Any]], labels: dict[str, str], present: set[str]
) -> list[str]:
    """Legend lines of the categories of ``styles`` that are ``present``, in table order."""
    return [
        line_item(style["color"], labels[key], dash=style["dashArray"], weight=2)
        for key, style in styles.items()
        if key in present
    ]


def _breaks(values: np.ndarray, classes: int = 5) -> list[float]:
    """Class limits: quantiles, merged where they coincide."""
    limits = np.unique(np.quantile(values, np.linspace(0, 1, classes + 1)))
    return [float(v) for v in limits]


def _states_look(frame: gpd.GeoDataFrame, name: str, field: str | None) -> _Look:
    """State polygons as the light base of the map, shaded by ``field`` if given.

    ``field`` is a numeric column for a five-class quantile choropleth (for example
    ``population``, ``share_connected`` or ``population_unserved``); values between 0 and 1
    read as percentages. ``None`` draws plain land. ``ValueError`` if it is not a numeric
    column of ``frame``.
    """
    colors: list[str] = []
    limits: list[float] = []
    formatter: Callable[[object], str] = fmt.number
    if field is not None:
        if field not in frame.columns:
            known = ", ".join(c for c in frame.columns if c != frame.geometry.name)
            raise ValueError(f"states have no column {field!r}; choose one of: {known}")
        try:
            values = frame[field].astype("float64").to_numpy()
        except (TypeError, ValueError):
            raise ValueError(f"column {field!r} is not numeric; choose a numeric column") from None
        present = values[~np.isnan(values)]
        if present.size:
            limits = _breaks(present)
            if len(limits) == 1:  # every state has the same value: one class
                limits = limits * 2
            if present.min() >= 0 and present.max() <= 1:
                formatter = fmt.share
            lowered = field.lower()
            palette = (
                "reds" if "unserved" in lowered else "greens" if "connect" in lowered else "blues"
            )
            colors = PALETTES[palette][-max(len(limits) - 1, 1) :]

    def color_of(value: Any) -> str:
        if not colors or value is None:
            return LAND
        number = float(value)
        if math.isnan(number):
            return LAND
        index = int(np.searchsorted(limits, number, side="right")) - 1
        return colors[min(max(index, 0), len(colors) - 1)]

    def properties(row: dict[str, Any]) -> dict[str, Any]:
        title = _get(row, "name") or _get(row, "cve_ent") or "State"
        rows: list[tuple[str, object]] = [("Population", fmt.count(_get(row, "population")))]
        if field is not None and field != "population":
            rows.append((field.replace("_", " "), formatter(_get(row, field))))
        value = _get(row, field) if field is not None else None
        return {
            "_tooltip": esc(title),
            "_popup": popup(title, rows),
            "_style": {"fillColor": color_of(value)},
        }

    classes = None
    if colors:
        items = [
            fill_item(color, _class_label(formatter, limits[i], limits[i + 1]))
            for i, color in enumerate(colors)
        ]
        items.append(fill_item(LAND, "no data"))
        classes = (f"{name}: {field.replace('_', ' ') if field else ''}", items)
    style = {"color": "#8d8d8d", "weight": 1, "fillOpacity": 0.6, "fillColor": LAND}
    return _Look(properties, {"style": style}, classes=classes)


def _class_label(formatter: Callable[[object], str], low: float, high: float) -> str:
    return formatter(low) if low == high else f"{formatter(low)} – {formatter(high)}"


def _municipalities_look(frame: gpd.GeoDataFrame) -> _Look:
    """Municipality outlines (hidden at opening by the caller: they are many)."""

    def properties(row: dict[str, Any]) -> dict[str, Any]:
        title = _get(row, "name") or _get(row, "cvegeo") or "Municipality"
        return {
            "_tooltip": esc(title),
            "_popup": popup(
                title,
                [("State", _get(row, "state")), ("Population", fmt.count(_get(row, "population")))],
            ),
        }

    return _Look(properties, {"style": {"color": "#9a9a9a", "weight": 0.8, "fill": False}})


def _rights_of_way_look(frame: gpd.GeoDataFrame) -> _Look:
    """Rights of way, each ``row_type`` in its own color and dash pattern."""

    def properties(row: dict[str, Any]) -> dict[str, Any]:
        row_type = str(_get(row, "row_type") or "other").lower()
        label = ROW_LABELS.get(row_type, row_type)
        title = _get(row, "name") or f"{label} right of way"
        return {
            "_tooltip": esc(f"{label}: {title}"),
            "_popup": popup(
                title,
                [
                    ("Type", label),
                    ("Owner", _get(row, "owner")),
                    ("Status", _get(row, "status")),
                ],
            ),
            "_style": _category_style(ROW_STYLES, row_type, "other"),
        }

    present = {str(v).lower() for v in frame.get("row_type", []) if not is_missing(v)}
    symbols = tuple(_category_symbols(ROW_STYLES, ROW_LABELS, present))
    return _Look(properties, {"style": {"opacity": BASE_OPACITY}}, symbols=symbols)


def _fiber_look(frame: gpd.GeoDataFrame) -> _Look:
    """Fiber routes; planned ones dashed."""

    def properties(row: dict[str, Any]) -> dict[str, Any]:
        status = str(_get(row, "status") or "existing").lower()
        operator = _get(row, "operator")
        title = _get(row, "name") or operator or "Fiber route"
        return {
            "_tooltip": esc(f"Fiber: {title}"),
            "_popup": popup(
                title,
                [
                    ("Operator", operator),
                    ("Status", status),
                    ("Lease available", _yes_no(_get(row, "lease_available"))),
                    ("Fibers", fmt.count(_get(row, "fibers"))),
                ],
            ),
            "_style": _category_style(FIBER_STYLES, status, "existing"),
        }

    # a layer with no status column is existing fiber: the legend still shows its line
    statuses = {str(v).lower() for v in frame.get("status", []) if not is_missing(v)}
    symbols = tuple(_category_symbols(FIBER_STYLES, FIBER_LABELS, statuses or {"existing"}))
    return _Look(properties, {"style": {"opacity": BASE_OPACITY}}, symbols=symbols)


def _subsea_cables_look(frame: gpd.GeoDataFrame) -> _Look:
    """Subsea cable routes."""

    def properties(row: dict[str, Any]) -> dict[str, Any]:
        title = _get(row, "name") or "Subsea cable"
        return {
            "_tooltip": esc(title),
            "_popup": popup(
                title,
                [
                    ("Ready for service", _get(row, "ready_for_service")),
                    ("Length", fmt.km(_get(row, "length_km"))),
                    ("Landings", _get(row, "landings")),
                    ("Capacity", _tbps(_get(row, "capacity_tbps"))),
                ],
            ),
        }

    symbols = (line_item(SUBSEA_STYLE["color"], "Subsea cable", weight=2),)
    return _Look(properties, {"style": SUBSEA_STYLE}, symbols=symbols)


def _tbps(value: Any) -> str | None:
    return None if value is None else f"{float(value):,.1f} Tbps"


def _landings_look(frame: gpd.GeoDataFrame) -> _Look:
    """Subsea cable landing points as icons; popups list cables and ready-for-service year."""

    def properties(row: dict[str, Any]) -> dict[str, Any]:
        title = _get(row, "name") or "Landing point"
        return {
            "_tooltip": esc(title),
            "_popup": popup(
                title,
                [
                    ("Cables", _get(row, "cables")),
                    ("Ready for service", _get(row, "ready_for_service")),
                    ("Country", _get(row, "country")),
                    ("Capacity", _tbps(_get(row, "capacity_tbps"))),
                ],
            ),
        }

    options = {"icon_html": LANDING_ICON, "pane": PLACES_PANE}
    symbols = (symbol_item(LANDING_ICON, "Cable landing point"),)
    return _Look(properties, options, symbols=symbols, points=True)


_LOOKS: dict[LayerKind, Callable[[gpd.GeoDataFrame], _Look]] = {
    LayerKind.MUNICIPALITIES: _municipalities_look,
    LayerKind.RIGHTS_OF_WAY: _rights_of_way_look,
    LayerKind.FIBER_ROUTES: _fiber_look,
    LayerKind.SUBSEA_CABLES: _subsea_cables_look,
    LayerKind.SUBSEA_LANDINGS: _landings_look,
}
"""How each kind is drawn, but states (their look takes the choropleth field) and
localities (clustered markers, :func:`add_localities`)."""


def locality_radius(population: float) -> float:
    """Marker radius in pixels, growing with the logarithm of population.

    Examples
    --------
    >>> locality_radius(100), locality_radius(10_000), locality_radius(1_000_000)
    (3.0, 7.0, 11.0)
    """
    return round(3 + 2 * max(math.log10(max(population, 1)) - 2, 0), 1)


def add_localities(
    parent: Element,
    frame: gpd.GeoDataFrame,
    *,
    name: str = "Localities",
    attribution: str = "",
    legend: Legend | None = None,
    bbox: Bbox | None = None,
    min_population: int = 1000,
    max_localities: int = 5000,
    show: bool = True,
) -> LocalityCluster | None:
    """Cluster the localities in ``bbox`` with at least ``min_population`` people.

    Markers are sized by population and colored by ``connected`` when the layer has it.
    Mexico has about 189,000 localities; to keep the file small only the
    ``max_localities`` most populous that pass the filters are drawn, and the legend says
    how many were left out.

    Returns
    -------
    LocalityCluster or None
        The cluster layer, or ``None`` when no locality passes the filters.
    """
    points = frame
    if bbox is not None:
        minx, miny, maxx, maxy = bbox
        points = points.cx[minx:maxx, miny:maxy]
    population = points["population"].astype("float64").fillna(0)
    points = points[population >= min_population]
    eligible = len(points)
    if eligible > max_localities:
        order = points["population"].astype("float64").sort_values(ascending=False).index
        points = points.loc[order[:max_localities]]
    if points.empty:
        logger.info("no locality with %d or more people in the map's area", min_population)
        return None
    has_connected = "connected" in points.columns and points["connected"].notna().any()
    centroids = points.geometry.representative_point()
    records = points.drop(columns=points.geometry.name).to_dict("records")
    rows: list[list[Any]] = []
    for record, point in zip(records, centroids, strict=True):
        people = float(_get(record, "population") or 0)
        connected = _get(record, "connected") if has_connected else None
        color = LOCALITY_COLORS[None if connected is None else bool(connected)]
        rows.append(
            [
                round(point.y, 5),
                round(point.x, 5),
                locality_radius(people),
                color,
                esc(_get(record, "name") or "Locality"),
                esc(fmt.count(people)),
                _esc_or_none(_get(record, "municipality")),
                _esc_or_none(_get(record, "state")),
                _esc_or_none(_yes_no(connected)),
            ]
        )
    layer = LocalityCluster(rows, name=name, attribution=attribution, pane=PLACES_PANE, show=show)
    layer.add_to(parent)
    if legend is not None:
        items = (
            [
                symbol_item(_dot(LOCALITY_COLORS[True]), "Locality, connected"),
                symbol_item(_dot(LOCALITY_COLORS[False]), "Locality, not connected"),
            ]
            if has_connected
            else [symbol_item(_dot(LOCALITY_COLORS[None]), "Locality (size: population)")]
        )
        legend.section(name, items)
        shown = f"{len(rows):,} of {eligible:,}" if eligible > len(rows) else f"{len(rows):,}"
        legend.note(f"{name}: {shown} with {min_population:,}+ people shown, clustered.")
        if attribution:
            legend.source(attribution)
    return layer


def _esc_or_none(value: Any) -> str | None:
    return None if value is None else esc(value)


def _dot(color: str) -> str:
    return (
        f'<svg width="14" height="14"><circle cx="7" cy="7" r="5" fill="{esc(color)}" '
        'stroke="#333" stroke-width="1"/></svg>'
    )


def outline(frame: gpd.GeoDataFrame, *, tolerance: float) -> dict[str, Any]:
    """A coarse outline of ``frame`` for the overview map."""
    shapes = shapely.simplify(np.asarray(frame.geometry.values, dtype=object), tolerance)
    return feature_collection(
        frame.set_geometry(list(shapes), crs=frame.crs), lambda _row: {}, tolerance=0
    )


def add_layer(
    parent: Element,
    kind: LayerKind | str,
    frame: gpd.GeoDataFrame,
    *,
    name: str,
    attribution: str = "",
    legend: Legend | None = None,
    tolerance: float = 0.0,
    choropleth_field: str | None = None,
    bbox: Bbox | None = None,
    min_population: int = 1000,
    max_localities: int = 5000,
    show: bool = True,
) -> Element | None:
    """Draw ``frame`` the way its kind is drawn; rasters are not drawn (returns ``None``).

    Parameters
    ----------
    parent
        Map or feature group to add the layer to.
    kind
        The layer's kind: what its features are and so how they are drawn.
    frame
        The layer, in EPSG:4326.
    name
        Label in the layer control.
    attribution
        Credit line for the source.
    legend
        Legend to add the layer's swatches (and a choropleth's classes) to.
    tolerance
        Simplification tolerance in degrees (lines and polygons).
    choropleth_field
        States only: numeric column for a five-class quantile choropleth (for example
        ``population``, ``share_connected`` or ``population_unserved``); values between 0
        and 1 read as percentages. ``None`` draws plain land.
    bbox, min_population, max_localities
        Localities only: see :func:`add_localities`.
    show
        Whether the layer is on when the map opens (it is in the layer list either way).

    Returns
    -------
    Element or None
        The layer, already added to ``parent``; ``None`` for a raster, or for localities
        when none passes the filters.

    Raises
    ------
    ValueError
        If ``choropleth_field`` is not a numeric column of a states layer.
    """
    layer_kind = LayerKind(kind)
    if layer_kind is LayerKind.LOCALITIES:
        return add_localities(
            parent,
            frame,
            name=name,
            attribution=attribution,
            legend=legend,
            bbox=bbox,
            min_population=min_population,
            max_localities=max_localities,
            show=show,
        )
    if layer_kind is LayerKind.STATES:
        look = _states_look(frame, name, choropleth_field)
    elif layer_kind in _LOOKS:
        look = _LOOKS[layer_kind](frame)
    else:
        logger.info("layer %s is a %s layer; maps do not draw rasters", name, layer_kind.value)
        return None
    return _draw(
        parent,
        frame,
        look,
        name=name,
        attribution=attribution,
        legend=legend,
        tolerance=tolerance,
        show=show,
    )
