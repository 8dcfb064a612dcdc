"""What a scenario run writes: each step's files, one offline map, the one-page summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.export import export_frame
from layers.kinds import CORRIDOR_KINDS, LayerKind
from maps.render import save_map
from maps.report import ReportStep, ReportTable, ScenarioReport, scenario_map
from planner.network.land import COASTAL_TOLERANCE_KM
from planner.plans.scenario import DEFAULT_SCENARIO_DIR
from planner.proposals.formats import proposal_frame
from planner.proposals.proposal import Proposal
from usecases.proposal_files import layer_credits
from usecases.scenario_workspace import ScenarioResult, ScenarioWorkspace


def write_step_files(
    proposal: Proposal, document: dict[str, Any], store_name: str, stem: Path
) -> dict[str, Path]:
    files: dict[str, Path] = {}
    geojson = stem.with_suffix(".geojson")
    geojson.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    files["geojson"] = geojson
    frame = proposal_frame(proposal)
    gpkg = stem.with_suffix(".gpkg")
    gpkg.unlink(missing_ok=True)
    files["gpkg"] = export_frame(frame, "gpkg", gpkg, store_name)
    records = proposal.parameters.get("localities")
    if isinstance(records, list) and records:
        import pyogrio

        table = pd.DataFrame(
            [{k: v for k, v in r.items() if not isinstance(v, dict)} for r in records]
        )
        points = gpd.GeoDataFrame(
            table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs="EPSG:4326"
        )
        pyogrio.write_dataframe(points, gpkg, layer=f"{store_name}_localities", driver="GPKG")
    return files


# ---------------------------------------------------------------------------- outputs


def write_map(result: ScenarioResult, workspace: ScenarioWorkspace, folder: Path) -> Path:
    documents = [(step.document, step.title) for step in result.steps]
    frames: dict[str, tuple[LayerKind | str, gpd.GeoDataFrame]] = {}
    for name in workspace.frames_of(LayerKind.STATES):
        frames[name] = (LayerKind.STATES, workspace.frame(name))
    for name in result.layers:
        frames[name] = (workspace.kinds[name], workspace.frame(name))
    for kind in (LayerKind.SUBSEA_CABLES, LayerKind.SUBSEA_LANDINGS):
        for name in workspace.frames_of(kind):
            frames[name] = (kind, workspace.frame(name))
    if result.spec.layers is not None:
        # the map shows what the scenario planned on
        frames = {
            n: f for n, f in frames.items() if f[0] not in CORRIDOR_KINDS or n in result.layers
        }
    credits, labels = _layer_credits()
    m = scenario_map(
        documents, frames, title=result.spec.title, attributions=credits, labels=labels
    )
    return save_map(m, folder / "map.html")


def _layer_credits() -> tuple[dict[str, str], dict[str, str]]:
    """Credits and titles of the bundled layers (the scenarios plan on them), if present."""
    return layer_credits(DEFAULT_SCENARIO_DIR.parent)


def summary_report(result: ScenarioResult) -> ScenarioReport:
    spec = result.spec
    steps = []
    for step in result.steps:
        extra: list[tuple[str, str]] = []
        parameters = step.proposal.parameters
        if step.budget_usd is not None:
            extra.append(("Budget", f"USD {step.budget_usd:,.0f}"))
        if step.kind == "last_mile":
            split = parameters.get("technology_split") or {}
            for tech, figures in split.items():
                extra.append(
                    (
                        f"{tech.replace('_', ' ')}",
                        f"{figures['localities']:,} localities, {figures['people']:,} people",
                    )
                )
            capex = step.metrics.capex_usd_total
            people = step.metrics.people_covered or 0
            if capex > 0:
                extra.append(("People per USD million", f"{people / capex * 1e6:,.0f}"))
            extra.append(
                (
                    "Localities served",
                    f"{parameters.get('localities_served', 0):,} of "
                    f"{parameters.get('localities_with_demand', 0):,} with people unserved "
                    f"(≥ {parameters.get('min_population')} people)",
                )
            )
        if step.km_off_land is not None:
            extra.append(
                (
                    "Land deployment off land",
                    f"{step.km_off_land:,.1f} km beyond the {COASTAL_TOLERANCE_KM:g} km "
                    "coastal tolerance",
                )
            )
        if step.kind == "backbone":
            extra.append(("Terminals", f"{len(step.proposal.terminals):,}"))
        steps.append(
            ReportStep(
                name=step.name,
                title=step.title,
                kind=step.kind,
                metrics=step.metrics.to_dict(),
                notes=tuple(step.proposal.notes),
                files={k: v.name for k, v in step.files.items()},
                extra=tuple(extra),
                seconds=step.seconds,
            )
        )
    headline = _funding_lines(result)
    overrides = []
    described = result.cost_model.describe()
    for key in _flat_keys(spec.cost_model):
        entry = described.get(key)
        if entry is not None:
            overrides.append((key, str(entry["value"]), str(entry["source"])))
    tables = [
        ReportTable(t.title, tuple(t.columns), tuple(map(tuple, t.rows)), tuple(t.notes))
        for t in result.tables
    ]
    return ScenarioReport(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        facts=tuple((f.text, f.source) for f in spec.facts),
        assumptions=spec.assumptions,
        steps=tuple(steps),
        tables=tuple(tables),
        headline=tuple(headline),
        cost_overrides=tuple(overrides),
        notes=tuple(result.notes),
        cost_model_source=result.cost_model.meta.source,
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=result.seconds,
    )


def _funding_lines(result: ScenarioResult) -> list[str]:
    spec = result.spec
    if spec.funding_usd is None:
        return []
    label = spec.funding_label or "funding"
    lines = []
    for step in result.steps:
        capex = step.metrics.capex_usd_total
        if capex <= 0:
            continue
        share = min(spec.funding_usd / capex, 1.0)
        lines.append(
            f"{label} (USD {spec.funding_usd:,.0f}) covers {share:.0%} of {step.title} "
            f"(capex USD {capex:,.0f})"
        )
    return lines


def _flat_keys(overrides: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in overrides.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            keys += _flat_keys(value, path)
        elif not path.endswith(".source"):
            keys.append(path)
    return keys
