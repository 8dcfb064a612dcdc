"""``trazo demo``: load the bundled Mexican layers and summarize them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api._console import console, limits, open_store, user_errors
from api.cli_scenario import print_result
from api.settings import StoreSettings
from layers.bundle import BundledLayer, load_bundle
from layers.kinds import LayerKind
from layers.measure import geodesic_length_km, length_km_by
from layers.report import ValidationReport
from layers.store_api import LayerStore
from planner.plans.scenario import find_scenario, load_scenario
from usecases.scenario import run_scenario

LINE_KINDS = {LayerKind.RIGHTS_OF_WAY, LayerKind.FIBER_ROUTES, LayerKind.SUBSEA_CABLES}


DEMO_SCENARIO = "tabasco"


@user_errors
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the scenario's outputs.")] = Path("out"),
) -> None:
    """Load the bundled layers, summarize them and plan the Tabasco scenario with its map."""
    settings = StoreSettings()
    store = open_store()
    console.print(f"Loading the bundled layers from {settings.data_dir} into {store.location}")

    loaded: list[tuple[BundledLayer, ValidationReport]] = []

    def progress(entry: BundledLayer, report: ValidationReport) -> None:
        loaded.append((entry, report))
        console.print(f"  {entry.name:<16} {report.features_kept:>9,} features  ({entry.title})")

    with console.status("validating and storing layers..."):
        load_bundle(store, settings.data_dir, limits=limits(), on_loaded=progress)

    console.print(_layer_table(store, loaded))
    console.print(_row_table(store, loaded))

    spec = load_scenario(find_scenario(DEMO_SCENARIO, settings.data_dir / "scenarios"))
    console.print(f"\nPlanning the {spec.title} scenario ({DEMO_SCENARIO})...")
    with console.status("planning...") as status:
        result = run_scenario(spec, store, out, lambda text: status.update(text))
    print_result(result)
    console.print(
        f"\nStore: {store.location}\n"
        f"Map: {result.files['map'].resolve()} (open it in any browser; no network needed)\n"
        f"Summary: {result.files['summary'].resolve()}\n"
        "Next: `trazo layers list`, `trazo proposals list`, `trazo scenario list`, "
        '`trazo plan route --from "Villahermosa, Tabasco" --to Cancún`, `trazo serve`.'
    )


def _layer_table(store: LayerStore, loaded: list[tuple[BundledLayer, ValidationReport]]) -> Table:
    table = Table(title="Bundled layers")
    for column in ("layer", "kind", "features", "length (geodesic km)", "credit"):
        table.add_column(
            column, justify="right" if column in {"features", "length (geodesic km)"} else "left"
        )
    for entry, report in loaded:
        km = ""
        if entry.kind in LINE_KINDS:
            km = f"{geodesic_length_km(store.read(entry.name)).sum():,.0f}"
        features = "raster" if entry.kind is LayerKind.RASTER else f"{report.features_kept:,}"
        table.add_row(entry.name, entry.kind.value, features, km)
    credits = sorted({entry.attribution for entry, _ in loaded if entry.attribution})
    table.caption = "Data: " + " · ".join(credits)
    return table


def _row_table(store: LayerStore, loaded: list[tuple[BundledLayer, ValidationReport]]) -> Table:
    """Kilometres of right of way by type and by layer (rail includes the Tren Maya)."""
    table = Table(title="Rights of way (geodesic km)")
    table.add_column("row_type")
    table.add_column("layer")
    table.add_column("km", justify="right")
    totals: dict[str, float] = {}
    for entry, _ in loaded:
        if entry.kind is not LayerKind.RIGHTS_OF_WAY:
            continue
        for row_type, km in sorted(length_km_by(store.read(entry.name), "row_type").items()):
            table.add_row(row_type, entry.name, f"{km:,.0f}")
            totals[row_type] = totals.get(row_type, 0.0) + km
    for row_type, km in sorted(totals.items()):
        table.add_row(f"[bold]{row_type}[/]", "all", f"[bold]{km:,.0f}[/]")
    return table
