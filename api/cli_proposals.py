"""``trazo proposals``: list, show and export stored proposals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from api._console import console, open_store, user_errors
from api._summary import summary_table

app = typer.Typer(help="List, show and export stored proposals.", no_args_is_help=True)

ProposalFormat = Literal["geojson", "gpkg", "kml", "csv"]  # usecases.proposal_files


@app.command("list")
@user_errors
def list_proposals() -> None:
    """List stored proposals with their headline figures."""
    proposals = open_store().list_proposals()
    table = Table(title=f"{len(proposals)} proposals")
    for column in ("name", "kind", "created (UTC)", "km", "capex USD"):
        table.add_column(column, justify="right" if column in {"km", "capex USD"} else "left")
    for stored in proposals:
        metrics = stored.document.get("metrics") or {}
        table.add_row(
            stored.name,
            stored.kind,
            stored.created_at[:19],
            f"{metrics.get('total_km', 0):,.1f}",
            f"{metrics.get('capex_usd_total', 0):,.0f}",
        )
    console.print(table)


@app.command("show")
@user_errors
def show(name: Annotated[str, typer.Argument(help="Proposal name.")]) -> None:
    """Show a proposal's figures, parameters and notes."""
    stored = open_store().proposal(name)
    console.print(summary_table(f"{stored.kind} proposal {name!r}", stored.document["metrics"]))
    about = stored.document.get("proposal", {})
    console.print_json(json.dumps({"parameters": about.get("parameters", {})}, default=str))
    for note in about.get("notes", []):
        console.print(f"[dim]note:[/] {note}")
    console.print(f"cost model: {about.get('cost_model_source', '')}")


@app.command("export")
@user_errors
def export(
    name: Annotated[str, typer.Argument(help="Proposal name.")],
    fmt: Annotated[ProposalFormat, typer.Option("--format", help="Output format.")],
    out: Annotated[Path, typer.Option(help="Output file.")],
) -> None:
    """Export a proposal: GeoJSON, GeoPackage or KML segments, or CSV bill of quantities."""
    from usecases.proposal_files import write_proposal_file

    write_proposal_file(open_store().proposal(name).document, fmt, out, name)
    console.print(f"wrote {out}")
