"""A proposal on the map: its segments by deployment type and role, and its summary panel.

A proposal is an RFC 7946 FeatureCollection whose features are segments with properties
``deployment_type``, ``length_km``, ``cost_usd``, ``role``, ``source_layer``, ``corridor``
and ``name``, plus the foreign members ``proposal`` (name, kind, parameters,
cost_model_source, notes) and ``metrics`` (total_km, capex_usd_total, reuse_share,
one_way_latency_ms, people_covered, usd_per_person, states_crossed, ...). Any of these may
be missing; the map shows what is there.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd

from layers.errors import ProposalFormatError
from maps import format as fmt
from maps._elements import SafeGeoJson
from maps._html import Legend, esc, fill_item, is_missing, line_item, popup
from maps._labels import Place
from maps.basemap import Bbox, feature_collection

logger = logging.getLogger(__name__)

DEPLOYMENT_COLORS: dict[str, str] = {
    "fiber_lease": "#1f78b4",
    "rail": "#8c510a",
    "highway": "#ff7f00",
    "pipeline": "#6a3d9a",
    "power_aerial": "#e31a1c",
    "greenfield": "#33a02c",
    "subsea": "#0b3d91",
    "connector": "#b15928",
    "last_mile_fiber": "#f768a1",
    "fixed_wireless": "#17becf",
    "satellite": "#636363",
}
DEPLOYMENT_LABELS: dict[str, str] = {
    "fiber_lease": "Leased fiber",
    "rail": "Along rail",
    "highway": "Along highway",
    "pipeline": "Along pipeline",
    "power_aerial": "Aerial on power line",
    "greenfield": "Greenfield trench",
    "subsea": "Subsea",
    "connector": "Connector",
    "last_mile_fiber": "Last-mile fiber",
    "fixed_wireless": "Fixed wireless",
    "satellite": "Satellite",
}
OTHER_COLOR = "#333333"
#: The dark outline under a proposal's lines: with their saturated colors and width it
#: sets them apart from the thin, muted base layers of the same corridor type.
CASING = "#1a1a1a"

#: Last-mile features that are not lines to build, drawn over the segments.
MARKER_ROLES: tuple[str, ...] = ("microwave_link", "locality", "wireless_site")
TECHNOLOGY_COLORS: dict[str, str] = {
    "fiber": DEPLOYMENT_COLORS["last_mile_fiber"],
    "fixed_wireless": DEPLOYMENT_COLORS["fixed_wireless"],
    "satellite": DEPLOYMENT_COLORS["satellite"],
}
TECHNOLOGY_LABELS: dict[str, str] = {
    "fiber": "Locality on fiber",
    "fixed_wireless": "Locality on fixed wireless",
    "satellite": "Locality on satellite",
}
SITE_COLOR = "#08306b"
MICROWAVE_COLOR = "#9e0142"


def role_style(role: str) -> dict[str, Any]:
    """Dash pattern and weight that tell a segment's role apart.

    Examples
    --------
    >>> role_style("primary")
    {'weight': 5}
    >>> role_style("alternative-2")["dashArray"]
    '12 8'
    """
    role = role.lower()
    if role.startswith("alternative"):
        return {"weight": 4, "dashArray": "12 8"}
    if role == "diverse-b":
        return {"weight": 4, "dashArray": "3 7", "lineCap": "round"}
    if role in {"last-mile", "last_mile"}:
        return {"weight": 3}
    if role == "backbone":
        return {"weight": 6}
    return {"weight": 5}  # primary, diverse-a, ring


def _members(proposal: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    info = proposal.get("proposal")
    metrics = proposal.get("metrics")
    return (
        dict(info) if isinstance(info, Mapping) else {},
        dict(metrics) if isinstance(metrics, Mapping) else {},
    )


def proposal_name(proposal: Mapping[str, Any], default: str = "Proposal") -> str:
    """The proposal's name from its ``proposal`` member, or ``default``."""
    info, _ = _members(proposal)
    name = info.get("name")
    return str(name) if name else default


# Names the planner makes up when it is given none (``route-Mérida-Cancún``,
# ``backbone-17-terminals``, ``last-mile-Tabasco``): ids, not titles.
_MADE_UP_NAME = re.compile(r"^(route|backbone|last-mile)-")


def _mapping(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, Mapping) else {}


def terminals(proposal: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The proposal's terminals that have a name and a place (``lon``, ``lat``)."""
    info, _ = _members(proposal)
    items = info.get("terminals") or []
    if isinstance(items, str):
        try:
            items = json.loads(items)
        except ValueError:
            items = []
    found = []
    for item in items if isinstance(items, Sequence) else []:
        if not isinstance(item, Mapping):
            continue
        lon, lat = _number(item.get("lon")), _number(item.get("lat"))
        if lon is not None and lat is not None and item.get("name"):
            found.append({**item, "lon": lon, "lat": lat})
    return found


def title(proposal: Mapping[str, Any]) -> str:
    """A title a reader understands: the proposal's name, unless the planner made it up.

    A made-up name (``route-Mérida-Cancún``) is replaced by a sentence built from the
    request: ``Route Mérida – Cancún, corridor-disjoint pair``, ``Ring over 16 places``,
    ``Last mile in Tabasco, localities of 250+ people``.

    Examples
    --------
    >>> title({"type": "FeatureCollection", "features": [], "proposal": {
    ...     "name": "route-Mérida-Cancún", "kind": "route",
    ...     "parameters": {"from": "Mérida, Yucatán", "to": "Cancún", "diverse": True}}})
    'Route Mérida, Yucatán – Cancún, corridor-disjoint pair'
    >>> title({"type": "FeatureCollection", "features": [],
    ...        "proposal": {"name": "State backbone"}})
    'State backbone'
    """
    info, _ = _members(proposal)
    name = str(info.get("name") or "")
    if name and not _MADE_UP_NAME.match(name):
        return name
    kind = str(info.get("kind") or "")
    parameters = _mapping(info.get("parameters"))
    ends = [str(t["name"]) for t in terminals(proposal)]
    if kind == "route":
        # the places as resolved (``Mérida``), else as asked (``Mérida, Yucatán``)
        origin = ends[0] if len(ends) > 1 else parameters.get("from") or "?"
        destination = ends[-1] if len(ends) > 1 else parameters.get("to") or "?"
        text = f"Route {origin} – {destination}"
        alternatives = int(_number(parameters.get("alternatives")) or 0)
        if parameters.get("diverse"):
            text += ", corridor-disjoint pair"
        elif alternatives:
            text += f", with {alternatives} alternative{'s' if alternatives > 1 else ''}"
        return text
    if kind == "backbone":
        count = len(parameters.get("terminals") or ends)
        shape = "Ring" if parameters.get("ring") else "Backbone"
        return f"{shape} over {count} places" if count else shape
    if kind == "last_mile":
        area = parameters.get("area")
        text = f"Last mile in {area}" if area else "Last mile"
        least = _number(parameters.get("min_population"))
        if least is not None:
            text += f", localities of {least:,.0f}+ people"
        budget = _number(parameters.get("budget_usd"))
        if budget:
            text += f", budget {fmt.usd(budget)}"
        return text
    return name or "Proposal"


#: Labelled places of a last mile: its most populous served localities (the others are
#: many; the last-mile layers show them).
LAST_MILE_LABELS = 6


def places(proposal: Mapping[str, Any]) -> list[Place]:
    """The places to name on the map: a route's two ends, a backbone's terminals, a last
    mile's largest localities; larger places first when names compete for room."""
    info, _ = _members(proposal)
    kind = str(info.get("kind") or "")
    found = terminals(proposal)
    if kind == "last_mile":
        found = sorted(found, key=lambda t: -(_number(t.get("population")) or 0))
        found = found[:LAST_MILE_LABELS]
    rank = {"route": 3.0, "backbone": 2.0, "last_mile": 0.5}.get(kind, 1.0)
    return [
        Place(
            name=str(t["name"]),
            lon=float(t["lon"]),
            lat=float(t["lat"]),
            kind="end" if kind == "route" else "terminal",
            priority=rank + math.log10(max(_number(t.get("population")) or 1.0, 1.0)) / 10,
        )
        for t in found
    ]


def segments(proposal: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """Read a proposal's segments into an EPSG:4326 frame with every expected column.

    Raises
    ------
    ProposalFormatError
        If ``proposal`` is not a FeatureCollection or a feature has no valid geometry.
    """
    if not isinstance(proposal, Mapping) or proposal.get("type") != "FeatureCollection":
        raise ProposalFormatError(
            "a proposal must be a GeoJSON FeatureCollection (type: FeatureCollection); "
            "export one with the planner"
        )
    features = proposal.get("features") or []
    if not isinstance(features, Sequence) or isinstance(features, str):
        raise ProposalFormatError("the proposal's features must be a list of GeoJSON features")
    try:
        frame = gpd.GeoDataFrame.from_features(list(features), crs="EPSG:4326")
    except (AttributeError, KeyError, TypeError, ValueError) as err:
        raise ProposalFormatError(f"a proposal segment is not valid GeoJSON: {err}") from None
    for column in (
        "deployment_type",
        "length_km",
        "cost_usd",
        "role",
        "source_layer",
        "corridor",
        "name",
    ):
        if column not in frame.columns:
            frame[column] = None
    if frame.empty:
        frame = frame.set_geometry(gpd.GeoSeries([], crs="EPSG:4326"))
    return frame


def bounds(proposal: Mapping[str, Any]) -> Bbox | None:
    """The bounding box (west, south, east, north) of the proposal's segments and terminals
    (a plan of wireless links alone has terminals and no segment), or ``None``."""
    frame = segments(proposal)
    frame = frame[~(frame.geometry.is_empty | frame.geometry.isna())]
    xs = [float(t["lon"]) for t in terminals(proposal)]
    ys = [float(t["lat"]) for t in terminals(proposal)]
    if not frame.empty:
        minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
        xs += [minx, maxx]
        ys += [miny, maxy]
    if not xs:
        return None
    return (min(xs), min(ys), max(xs), max(ys))


def _number(value: Any) -> float | None:
    if is_missing(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _segment_properties(row: dict[str, Any]) -> dict[str, Any]:
    deployment = str(row.get("deployment_type") or "unknown")
    role = str(row.get("role") or "primary")
    label = DEPLOYMENT_LABELS.get(deployment, deployment.replace("_", " "))
    title = row.get("name") if not is_missing(row.get("name")) else label
    style = {
        "color": DEPLOYMENT_COLORS.get(deployment, OTHER_COLOR),
        "opacity": 0.95,
        "className": f"trazo-segment trazo-role-{_css_token(role)}",
        **role_style(role),
    }
    details: list[tuple[str, object]] = [
        ("Type", label),
        ("Role", role),
        ("Length", fmt.km(_number(row.get("length_km")))),
        ("Cost", fmt.usd(_number(row.get("cost_usd")))),
        ("Corridor", None if is_missing(row.get("corridor")) else row.get("corridor")),
        ("Layer", None if is_missing(row.get("source_layer")) else row.get("source_layer")),
    ]
    return {
        "_tooltip": esc(f"{label} · {fmt.km(_number(row.get('length_km')))}"),
        "_popup": popup(title, details),
        "_style": style,
    }


def _css_token(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "none"


def _role_order(role: str) -> tuple[int, str]:
    order = ["primary", "backbone", "ring", "diverse-a", "diverse-b", "last-mile"]
    return (order.index(role) if role in order else len(order), role)


def add_proposal(
    m: folium.Map,
    proposal: Mapping[str, Any],
    *,
    label: str | None = None,
    legend: Legend | None = None,
    casing: str = CASING,
) -> list[folium.FeatureGroup]:
    """Draw a proposal's segments: one toggleable group per role, above every base layer.

    Segments are colored by deployment type and dashed by role (alternatives dashed,
    ``diverse-b`` dotted), over a wider ``casing`` line, in the proposal panes of
    :mod:`maps._layout` (above base layers, localities and landings). Each segment's popup
    gives its type, role, length and cost.

    Parameters
    ----------
    m
        The map.
    proposal
        The proposal FeatureCollection.
    label
        Name in the layer control; default: the proposal's title.
    legend
        Legend to add the deployment types and roles to.
    casing
        Outline color under the segments (tells two proposals apart on one map).

    Returns
    -------
    list of folium.FeatureGroup
        The groups added, one per role, in a stable order (primary first).
    """
    frame = segments(proposal)
    label = label or title(proposal)
    frame["role"] = frame["role"].where(frame["role"].notna(), "primary").astype(str)
    marked = frame["role"].isin(MARKER_ROLES)
    markers, frame = frame[marked], frame[~marked]
    roles = sorted(frame["role"].unique(), key=_role_order)
    groups = []
    for role in roles:
        part = frame[frame["role"] == role]
        role_label = ROLE_LABELS.get(role, role.replace("-", " "))
        name = label if len(roles) == 1 else f"{label} ({role_label})"
        width = role_style(role)["weight"] + 3

        def under(row: dict[str, Any], width: float = width) -> dict[str, Any]:
            # The casing answers clicks like its segment: a wider target, and no gap in a
            # dashed line through which a click would reach the layer below.
            return {**_segment_properties(row), "_style": {"weight": width}}

        casing_layer = SafeGeoJson(
            feature_collection(part, under),
            name=f"{name} outline",
            style={"color": casing, "opacity": 0.95, "lineCap": "round", "lineJoin": "round"},
            control=False,
            pane="trazo-proposal-casing",
        )
        groups.append(_group(m, name, casing_layer, _layer(part, _segment_properties, name)))
    for role in MARKER_ROLES:
        part = markers[markers["role"] == role]
        if part.empty:
            continue
        name = f"{label}: {MARKER_GROUP_NAMES[role]}"
        groups.append(_group(m, name, _layer(part, _marker_properties, name)))
    if legend is not None:
        add_legend(legend, [proposal])
    return groups


MARKER_GROUP_NAMES = {
    "wireless_site": "wireless sites",
    "microwave_link": "microwave links",
    "locality": "localities served",
}


def _marker_properties(row: dict[str, Any]) -> dict[str, Any]:
    """Style and popup of a wireless site, a microwave hop or a served locality."""
    role = str(row.get("role"))
    if role == "wireless_site":
        site = str(row.get("site_id") or "site")
        details: list[tuple[str, object]] = [
            ("Mast", f"{_number(row.get('mast_height_m')) or 0:g} m"),
            ("Backhaul", row.get("backhaul")),
            ("People covered", fmt.count(_number(row.get("people_covered")))),
            ("Cost", fmt.usd(_number(row.get("cost_usd")))),
        ]
        return {
            "_tooltip": esc(f"Wireless site {site} · {row.get('backhaul')} backhaul"),
            "_popup": popup(f"Wireless site {site}", details),
            "_style": {
                "radius": 7,
                "color": "#ffffff",
                "weight": 2,
                "fillColor": SITE_COLOR,
                "fillOpacity": 1.0,
                "className": "trazo-marker trazo-role-wireless-site",
                "pane": "trazo-terminals",
            },
        }
    if role == "microwave_link":
        details = [
            ("Site", row.get("site_id")),
            ("Length", fmt.km(_number(row.get("km")))),
            ("Cost", fmt.usd(_number(row.get("cost_usd")))),
        ]
        return {
            "_tooltip": esc(f"Microwave hop · {fmt.km(_number(row.get('km')))}"),
            "_popup": popup("Microwave link", details),
            "_style": {
                "color": MICROWAVE_COLOR,
                "weight": 2,
                "dashArray": "6 4",
                "className": "trazo-marker trazo-role-microwave-link",
            },
        }
    technology = str(row.get("technology") or "")
    name = str(row.get("name") or "locality")
    details = [
        ("Technology", TECHNOLOGY_LABELS.get(technology, technology)),
        ("Site", None if is_missing(row.get("site_id")) else row.get("site_id")),
        ("People unserved", fmt.count(_number(row.get("people_unserved")))),
        ("CVEGEO", None if is_missing(row.get("cvegeo")) else row.get("cvegeo")),
    ]
    return {
        "_tooltip": esc(f"{name} · {TECHNOLOGY_LABELS.get(technology, technology)}"),
        "_popup": popup(name, details),
        "_style": {
            "radius": 4,
            "color": TECHNOLOGY_COLORS.get(technology, OTHER_COLOR),
            "weight": 1,
            "fillColor": TECHNOLOGY_COLORS.get(technology, OTHER_COLOR),
            "fillOpacity": 0.8,
            "className": f"trazo-marker trazo-technology-{_css_token(technology)}",
            "pane": "trazo-proposal",
        },
    }


#: How roles read in the layer list and legend.
ROLE_LABELS = {
    "primary": "main route",
    "backbone": "backbone",
    "ring": "ring closure",
    "diverse-a": "route A",
    "diverse-b": "route B",
    "last-mile": "last mile",
}


_ROLE_LEGEND = {"diverse-b": "route B, sharing no corridor with A"}


def _layer(
    part: gpd.GeoDataFrame, properties: Callable[[dict[str, Any]], dict[str, Any]], name: str
) -> SafeGeoJson:
    """Features of a proposal in its pane, listed in the layer control by their group."""
    return SafeGeoJson(
        feature_collection(part, properties), name=name, control=False, pane="trazo-proposal"
    )


def _group(m: folium.Map, name: str, *layers: SafeGeoJson) -> folium.FeatureGroup:
    """One entry ``name`` of the layer control holding ``layers``, on at opening."""
    group = folium.FeatureGroup(name=esc(name), overlay=True, show=True)
    for layer in layers:
        layer.add_to(group)
    group.add_to(m)
    return group


def add_legend(
    legend: Legend, proposals: Sequence[Mapping[str, Any]], casing: str = CASING
) -> None:
    """Add the deployment types and route roles used by ``proposals`` to ``legend``."""
    deployments: set[str] = set()
    roles: set[str] = set()
    technologies: set[str] = set()
    for item in proposals:
        frame = segments(item)
        marked = frame["role"].isin(MARKER_ROLES)
        deployments.update(str(d) for d in frame.loc[~marked, "deployment_type"].dropna())
        roles.update(str(r) for r in frame["role"].dropna())
        if "technology" in frame.columns:
            localities = frame[frame["role"] == "locality"]
            technologies.update(str(t) for t in localities["technology"].dropna())
    legend.proposed(
        "Fiber by deployment type",
        [
            line_item(color, DEPLOYMENT_LABELS[deployment], weight=4, casing=casing)
            for deployment, color in DEPLOYMENT_COLORS.items()
            if deployment in deployments
        ],
    )
    last_mile = [
        fill_item(color, TECHNOLOGY_LABELS[t])
        for t, color in TECHNOLOGY_COLORS.items()
        if t in technologies
    ]
    if "wireless_site" in roles:
        last_mile.append(fill_item(SITE_COLOR, "Wireless site (30 m mast)"))
    if "microwave_link" in roles:
        last_mile.append(line_item(MICROWAVE_COLOR, "Microwave backhaul hop", dash="6 4"))
    if last_mile:
        legend.proposed("Last mile", last_mile)
    dashed = sorted(
        (r for r in roles if r not in MARKER_ROLES and "dashArray" in role_style(r)),
        key=_role_order,
    )
    solid = ROLE_LABELS["diverse-a"] if "diverse-b" in roles else ROLE_LABELS["primary"]
    if dashed:
        legend.proposed(
            "Route role",
            [line_item("#555", solid, weight=4, casing=casing)]
            + [
                line_item(
                    "#555",
                    _ROLE_LEGEND.get(r, ROLE_LABELS.get(r, r.replace("-", " "))),
                    dash=role_style(r)["dashArray"],
                    weight=3,
                    casing=casing,
                )
                for r in dashed
            ],
        )


# label, metric key, formatter
METRIC_ROWS: list[tuple[str, str, Callable[[object], str]]] = [
    ("Total length", "total_km", fmt.km),
    ("Capex", "capex_usd_total", fmt.usd),
    ("Reuse of existing routes", "reuse_share", fmt.share),
    ("One-way latency", "one_way_latency_ms", fmt.ms),
    ("People covered", "people_covered", fmt.count),
    ("USD per person", "usd_per_person", fmt.usd),
    ("States crossed", "states_crossed", lambda v: fmt.count(v)),
]


def metrics(proposal: Mapping[str, Any]) -> dict[str, Any]:
    """The proposal's metrics, with totals worked out from the segments when missing.

    ``total_km`` and ``capex_usd_total`` fall back to the sums of the segments'
    ``length_km`` and ``cost_usd``; ``usd_per_person`` to capex over people covered;
    a list in ``states_crossed`` counts its states.
    """
    _, values = _members(proposal)
    frame = segments(proposal)
    frame = frame[~frame["role"].isin(MARKER_ROLES)]
    if _number(values.get("total_km")) is None and frame["length_km"].notna().any():
        values["total_km"] = float(frame["length_km"].astype("float64").sum())
    if _number(values.get("capex_usd_total")) is None and frame["cost_usd"].notna().any():
        values["capex_usd_total"] = float(frame["cost_usd"].astype("float64").sum())
    capex, people = _number(values.get("capex_usd_total")), _number(values.get("people_covered"))
    if _number(values.get("usd_per_person")) is None and capex is not None and people:
        values["usd_per_person"] = capex / people
    crossed = values.get("states_crossed")
    if isinstance(crossed, Sequence) and not isinstance(crossed, str):
        values["states_crossed"] = len(crossed)
    return values


def summary_html(proposal: Mapping[str, Any]) -> str:
    """The summary panel of one proposal: headline figures, then km and USD by deployment."""
    info, _ = _members(proposal)
    values = metrics(proposal)
    rows = "".join(
        f"<tr><th>{esc(label)}</th><td>{esc(formatter(values.get(key)))}</td></tr>"
        for label, key, formatter in METRIC_ROWS
    )
    breakdown = _breakdown_rows(values)
    parts = [f"<h3>{esc(title(proposal))}</h3>"]
    if info.get("kind"):
        parts.append(f'<div class="trazo-kind">{esc(str(info["kind"]).replace("_", " "))}</div>')
    parts.append(f"<table>{rows}{breakdown}</table>")
    if info.get("cost_model_source"):
        parts.append(f'<div class="trazo-src">Costs: {esc(info["cost_model_source"])}</div>')
    return "".join(parts)


def _breakdown_rows(values: Mapping[str, Any]) -> str:
    by_km = values.get("km_by_deployment")
    by_usd = values.get("capex_by_deployment")
    by_km = by_km if isinstance(by_km, Mapping) else {}
    by_usd = by_usd if isinstance(by_usd, Mapping) else {}
    rows = []
    for deployment in [*by_km, *(d for d in by_usd if d not in by_km)]:
        label = DEPLOYMENT_LABELS.get(str(deployment), str(deployment).replace("_", " "))
        figures = " · ".join(
            text
            for text in (fmt.km(by_km.get(deployment)), fmt.usd(by_usd.get(deployment)))
            if text != fmt.MISSING
        )
        rows.append(f'<tr class="trazo-sub"><th>{esc(label)}</th><td>{esc(figures)}</td></tr>')
    return "".join(rows)


def comparison_html(a: Mapping[str, Any], b: Mapping[str, Any], labels: tuple[str, str]) -> str:
    """Two proposals' headline figures side by side."""
    values = (metrics(a), metrics(b))
    head = "".join(f"<th>{esc(label)}</th>" for label in labels)
    rows = "".join(
        f"<tr><th>{esc(label)}</th>"
        + "".join(f"<td>{esc(formatter(v.get(key)))}</td>" for v in values)
        + "</tr>"
        for label, key, formatter in METRIC_ROWS
    )
    names = "".join(
        f"<div>{esc(label)}: {esc(title(p))}</div>" for label, p in zip(labels, (a, b), strict=True)
    )
    return (
        f"<h3>Scenario comparison</h3>{names}"
        f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )
