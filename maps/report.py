"""A scenario on one page: what it is, what it rests on, what each step costs; and its map.

:func:`report_html` renders a :class:`ScenarioReport` (plain values, filled by the scenario
runner) as one self-contained HTML page: inline CSS, no scripts, no fonts or images from
the network, every value passed through :func:`maps._html.esc`. The page holds the
scenario's description, headline figures (e.g. how much of the plan a seed fund covers),
one metrics table with a column per step (km, km by deployment type, capex, reuse share,
latency, people covered, USD per person, states crossed), the step details, the scenario's
tables (latency, inventory, demand), the public facts with their sources, the assumptions,
and the cost-model overrides with theirs.

:func:`scenario_map` draws every step of a scenario on one offline map, each step a
toggleable group over the base layers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium

from maps import format as fmt
from maps import proposal as proposal_layer
from maps._html import esc
from maps.render import Frames, proposals_map

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2430;
max-width:1100px;margin:24px auto;padding:0 18px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px;border-bottom:1px solid
#d5dae1;padding-bottom:3px}h3{font-size:14px;margin:14px 0 4px}
.sub{color:#5a6472;margin:0 0 10px}.headline{background:#eef4fb;border-left:4px solid #2f6db3;
padding:6px 10px;margin:8px 0}.headline li{margin:2px 0}
table{border-collapse:collapse;margin:6px 0;font-size:13px}th,td{border:1px solid #d5dae1;
padding:3px 7px;text-align:left;vertical-align:top}td.n{text-align:right;
font-variant-numeric:tabular-nums}thead th{background:#f2f4f7}tr.sub th{font-weight:normal;
padding-left:18px;color:#3d4755}.notes{color:#5a6472;font-size:12px;margin:2px 0 8px}
.src{color:#5a6472;font-size:12px}ul{margin:4px 0 8px 18px;padding:0}
@media print{body{margin:0;max-width:none;font-size:11px}}
"""


@dataclass(frozen=True)
class ReportStep:
    """One step of the summary: its metrics (``ProposalMetrics.to_dict()``) and details."""

    name: str
    title: str
    kind: str
    metrics: Mapping[str, Any]
    notes: Sequence[str] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    extra: Sequence[tuple[str, str]] = ()
    seconds: float | None = None


@dataclass(frozen=True)
class ReportTable:
    """A plain table: a title, column names, rows of values and notes under it."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class ScenarioReport:
    """Everything the one-page summary shows, as plain values."""

    name: str
    title: str
    description: str
    facts: Sequence[tuple[str, str]]
    assumptions: Sequence[str]
    steps: Sequence[ReportStep]
    tables: Sequence[ReportTable] = ()
    headline: Sequence[str] = ()
    cost_overrides: Sequence[tuple[str, str, str]] = ()
    notes: Sequence[str] = ()
    cost_model_source: str = ""
    generated: str = ""
    seconds: float | None = None


def _states(value: object) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str):
        names = [str(v.get("name")) for v in value if isinstance(v, Mapping)]
        return f"{len(names)}: {', '.join(names)}" if names else "0"
    return fmt.MISSING


def _people(value: object) -> str:
    return fmt.count(value)


_ROWS: list[tuple[str, str, Callable[[object], str]]] = [
    ("Total length", "total_km", fmt.km),
    ("Capex", "capex_usd_total", fmt.usd),
    ("Reuse of existing rights of way", "reuse_share", fmt.share),
    ("of which existing fiber", "fiber_reuse_share", fmt.share),
    ("One-way latency", "one_way_latency_ms", fmt.ms),
    ("People covered", "people_covered", _people),
    ("USD per person", "usd_per_person", fmt.usd),
    ("States crossed", "states_crossed", _states),
]


def _metrics_table(steps: Sequence[ReportStep]) -> str:
    head = "".join(f"<th>{esc(step.name)}</th>" for step in steps)
    body = []
    for label, key, formatter in _ROWS:
        cells = "".join(f'<td class="n">{esc(formatter(s.metrics.get(key)))}</td>' for s in steps)
        body.append(f"<tr><th>{esc(label)}</th>{cells}</tr>")
        if key == "total_km":
            body.extend(_by_deployment(steps, "km_by_deployment", fmt.km))
        if key == "capex_usd_total":
            body.extend(_by_deployment(steps, "capex_by_deployment", fmt.usd))
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _by_deployment(
    steps: Sequence[ReportStep], key: str, formatter: Callable[[object], str]
) -> list[str]:
    kinds: dict[str, None] = {}
    for step in steps:
        values = step.metrics.get(key)
        if isinstance(values, Mapping):
            kinds.update(dict.fromkeys(str(k) for k in values))
    rows = []
    for kind in kinds:
        label = proposal_layer.DEPLOYMENT_LABELS.get(kind, kind.replace("_", " "))
        cells = []
        for step in steps:
            values = step.metrics.get(key)
            value = values.get(kind) if isinstance(values, Mapping) else None
            cells.append(f'<td class="n">{esc(formatter(value) if value is not None else "")}</td>')
        rows.append(f'<tr class="sub"><th>{esc(label)}</th>{"".join(cells)}</tr>')
    return rows


def _step_details(step: ReportStep) -> str:
    rows = [("Kind", step.kind.replace("_", " "))]
    roles = step.metrics.get("metrics_by_role")
    if isinstance(roles, Mapping) and len(roles) > 1:
        for role, figures in roles.items():
            if isinstance(figures, Mapping):
                text = f"{fmt.km(figures.get('total_km'))}, {fmt.usd(figures.get('capex_usd'))}"
                latency = figures.get("one_way_latency_ms")
                if latency is not None:
                    text += f", {fmt.ms(latency)}"
                rows.append((f"Role {role}", text))
    rows.extend(step.extra)
    if step.files:
        rows.append(("Files", ", ".join(step.files.values())))
    if step.seconds is not None:
        rows.append(("Planning time", f"{step.seconds:.1f} s"))
    table = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    notes = "".join(f"<li>{esc(n)}</li>" for n in step.notes)
    return f"<h3>{esc(step.name)}: {esc(step.title)}</h3><table>{table}</table>" + (
        f'<ul class="notes">{notes}</ul>' if notes else ""
    )


def _cell(value: Any) -> str:
    if value is None:
        return f"<td>{esc(fmt.MISSING)}</td>"
    if isinstance(value, bool):
        return f"<td>{esc('yes' if value else 'no')}</td>"
    if isinstance(value, int):
        return f'<td class="n">{esc(f"{value:,}")}</td>'
    if isinstance(value, float):
        text = f"{value:,.3f}" if abs(value) < 1 else f"{value:,.1f}"
        return f'<td class="n">{esc(text)}</td>'
    return f"<td>{esc(value)}</td>"


def _table(table: ReportTable) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in table.columns)
    rows = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in table.rows)
    notes = "".join(f"<li>{esc(n)}</li>" for n in table.notes)
    return (
        f"<h3>{esc(table.title)}</h3><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table>" + (f'<ul class="notes">{notes}</ul>' if notes else "")
    )


def report_html(report: ScenarioReport) -> str:
    """Render the one-page summary of a scenario run as a self-contained HTML page.

    Every value is escaped, so text from a scenario file or a layer cannot inject markup.

    Examples
    --------
    >>> step = ReportStep("route", "A <b>route</b>", "route",
    ...     {"total_km": 12.5, "capex_usd_total": 250000.0})
    >>> page = report_html(ScenarioReport("demo", "Demo", "Why", [("A fact", "A source")],
    ...     ["An assumption"], [step]))
    >>> "A &lt;b&gt;route&lt;/b&gt;" in page, "<script" in page
    (True, False)
    """
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{esc(report.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(report.title)}</h1>",
        f'<p class="sub">Scenario <b>{esc(report.name)}</b>'
        + (f" · run {esc(report.generated)}" if report.generated else "")
        + (f" · {report.seconds:.0f} s" if report.seconds is not None else "")
        + "</p>",
        f"<p>{esc(report.description)}</p>",
    ]
    if report.headline:
        items = "".join(f"<li>{esc(line)}</li>" for line in report.headline)
        parts.append(f'<div class="headline"><ul>{items}</ul></div>')
    parts.append("<h2>Results by step</h2>")
    parts.append(_metrics_table(report.steps))
    parts.extend(_step_details(step) for step in report.steps)
    if report.tables:
        parts.append("<h2>Analyses</h2>")
        parts.extend(_table(table) for table in report.tables)
    parts.append("<h2>Public facts</h2><ul>")
    parts.extend(
        f'<li>{esc(text)} <span class="src">({esc(source)})</span></li>'
        for text, source in report.facts
    )
    parts.append("</ul>")
    if report.assumptions:
        parts.append("<h2>Assumptions</h2><ul>")
        parts.extend(f"<li>{esc(a)}</li>" for a in report.assumptions)
        parts.append("</ul>")
    if report.cost_overrides:
        parts.append("<h2>Cost-model overrides</h2><table><thead><tr><th>key</th><th>value</th>")
        parts.append("<th>source</th></tr></thead><tbody>")
        parts.extend(
            f"<tr><td>{esc(k)}</td><td>{esc(v)}</td><td>{esc(s)}</td></tr>"
            for k, v, s in report.cost_overrides
        )
        parts.append("</tbody></table>")
    if report.notes or report.cost_model_source:
        parts.append('<h2>Run notes</h2><ul class="notes">')
        parts.extend(f"<li>{esc(n)}</li>" for n in report.notes)
        if report.cost_model_source:
            parts.append(f"<li>cost model: {esc(report.cost_model_source)}</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def save_report(report: ScenarioReport, path: Path | str) -> Path:
    """Write :func:`report_html` to ``path`` (its folder is created) and return it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report_html(report), encoding="utf-8")
    return out


#: Casing colors of a scenario's steps, in order: the first step is cased dark like a
#: single proposal, the next ones in colors the steps panel repeats beside each step.
STEP_CASINGS = ["#1a1a1a", "#ffffff", "#f2c14e", "#6cc3f0", "#f08fb8", "#9be08a"]


def _casing_swatch(color: str) -> str:
    return (
        '<svg width="22" height="10" class="trazo-step-swatch"><line x1="2" y1="5" x2="20" '
        f'y2="5" stroke="{esc(color)}" stroke-width="7" stroke-linecap="round"/><line x1="2" '
        'y1="5" x2="20" y2="5" stroke="#888" stroke-width="3"/></svg>'
    )


def steps_summary_html(
    documents: Sequence[tuple[Mapping[str, Any], str]], casings: Sequence[str] = ()
) -> str:
    """The map's panel: a step per row with its length, capex and people, escaped.

    ``casings`` (one per step) puts a swatch of the step's outline color before its name.
    """
    rows = []
    for i, (document, label) in enumerate(documents):
        values = proposal_layer.metrics(document)
        people = values.get("people_covered")
        cells = (
            fmt.km(values.get("total_km")),
            fmt.usd(values.get("capex_usd_total")),
            fmt.count(people) if people else fmt.MISSING,
        )
        swatch = _casing_swatch(casings[i]) if i < len(casings) else ""
        rows.append(
            f"<tr class='trazo-sub'><th colspan='3'>{swatch}{esc(label)}</th></tr>"
            f"<tr>{''.join(f'<td>{esc(cell)}</td>' for cell in cells)}</tr>"
        )
    head = "<thead><tr><th>km</th><th>capex</th><th>people</th></tr></thead>"
    return f"<table>{head}{''.join(rows)}</table>"


def scenario_map(
    documents: Sequence[tuple[Mapping[str, Any], str]],
    frames: Frames | None = None,
    *,
    title: str,
    attributions: Mapping[str, str] | None = None,
    **options: Any,
) -> folium.Map:
    """Every step of a scenario on one map, each a toggleable group, over base layers.

    Parameters
    ----------
    documents
        ``(proposal FeatureCollection, label)`` per step, in order.
    frames
        Base layers, as for :func:`maps.render.layers_map`.
    title
        Shown over the map.
    attributions
        Layer name -> credit line.
    **options
        Passed on (``labels``, ``min_population``, ``max_localities``, ...).

    Returns
    -------
    folium.Map
        Save it with :func:`maps.render.save_map`.
    """
    casings = [STEP_CASINGS[i % len(STEP_CASINGS)] for i in range(len(documents))]
    proposals: list[tuple[Mapping[str, Any], str | None, str]] = [
        (document, label, casing)
        for (document, label), casing in zip(documents, casings, strict=True)
    ]
    return proposals_map(
        proposals,
        frames or {},
        title=title,
        attributions=attributions,
        focus_bbox=None,
        summary=steps_summary_html(documents, casings if len(documents) > 1 else ()),
        summary_class="trazo-summary trazo-steps",
        summary_heading="Steps",
        **options,
    )
