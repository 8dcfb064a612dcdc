"""``trazo layers``: load, list, show and export the layers in the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from api._console import console, limits, open_store, user_errors
from layers.catalog import ExportFormat
from layers.ingest import ingest
from layers.kinds import LayerKind
from layers.report import ValidationReport
from layers.workdirs import sweep_stale_workdirs

app = typer.Typer(help="Load, inspect and export layers.", no_args_is_help=True)


def report_table(report: ValidationReport) -> Table:
    """Render a validation report as a two-column table."""
    table = Table(title=f"Loaded {report.name} ({report.kind})", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("source", report.source)
    table.add_row("format", report.format)
    table.add_row("CRS in", report.crs_in or "none (taken as EPSG:4326)")
    table.add_row("features read", f"{report.features_read:,}")
    table.add_row("features kept", f"{report.features_kept:,}")
    table.add_row("repaired", _counted(report.features_repaired, report.repair_reasons))
    table.add_row("dropped", _counted(report.features_dropped, report.drop_reasons))
    if report.bbox is not None:
        table.add_row("bbox (EPSG:4326)", ", ".join(f"{v:.4f}" for v in report.bbox))
    for warning in report.warnings:
        table.add_row("warning", warning)
    return table


def _counted(total: int, reasons: dict[str, int]) -> str:
    if not reasons:
        return f"{total:,}"
    detail = "; ".join(f"{reason}: {count}" for reason, count in reasons.items())
    return f"{total:,} ({detail})"


@app.command("load")
@user_errors
def load(
    path: Annotated[
        Path,
        typer.Argument(
            help="File to load (GeoJSON, GPKG, zipped SHP, KML, FGB, CSV, GeoTIFF, OSM .pbf)."
        ),
    ],
    kind: Annotated[LayerKind, typer.Option(help="What the layer describes.")],
    name: Annotated[str | None, typer.Option(help="Layer name; default: the file name.")] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a layer of the same name.")
    ] = False,
) -> None:
    """Validate a file, reproject it to EPSG:4326 and store it as a layer.

    An OpenStreetMap extract (``.osm.pbf``) or an INEGI Red Nacional de Caminos layer
    loaded as ``rights_of_way`` gets row types and road classes from data/roads/.
    """
    sweep_stale_workdirs()  # what killed loads and servers left behind
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"reading {path.name}", total=None)

        def progress(features: int) -> None:
            bar.update(task, description=f"reading {path.name}: {features:,} features")

        report = ingest(
            open_store(),
            path,
            kind,
            name=name,
            replace=replace,
            limits=limits(),
            progress=progress,
        )
    console.print(report_table(report))


@app.command("list")
@user_errors
def list_layers() -> None:
    """List the stored layers with their kind and feature count."""
    layers = open_store().list_layers()
    table = Table(title=f"{len(layers)} layers")
    for column in ("name", "kind", "features", "geometry", "loaded (UTC)", "source"):
        table.add_column(column, justify="right" if column == "features" else "left")
    for info in layers:
        features = "raster" if info.kind is LayerKind.RASTER else f"{info.feature_count:,}"
        table.add_row(
            info.name,
            info.kind.value,
            features,
            info.geometry_type or "-",
            info.loaded_at[:19],
            Path(info.source).name,
        )
    console.print(table)


@app.command("show")
@user_errors
def show(name: Annotated[str, typer.Argument(help="Layer name.")]) -> None:
    """Show one layer's catalog entry and validation report."""
    info = open_store().info(name)
    console.print_json(
        json.dumps(
            {
                "name": info.name,
                "kind": info.kind.value,
                "source": info.source,
                "loaded_at": info.loaded_at,
                "feature_count": info.feature_count,
                "geometry_type": info.geometry_type,
                "bbox": info.bbox,
                "report": info.report,
            }
        )
    )


@app.command("export")
@user_errors
def export(
    name: Annotated[str, typer.Argument(help="Layer name.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Output format.")],
    out: Annotated[Path, typer.Option(help="Output file.")],
) -> None:
    """Export a layer to GeoJSON (RFC 7946), GeoPackage, KML or CSV."""
    written = open_store().export(name, fmt, out)
    console.print(f"wrote {written}")
