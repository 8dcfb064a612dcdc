"""``trazo scenario``: list the bundled scenarios and run them end to end."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api._console import console, open_store, user_errors
from api._national_cli import SchedulerOption, WorkersOption, partition_progress
from api.settings import DistributedSettings, PlannerSettings, StoreSettings
from maps import format as fmt
from planner.plans.scenario import (
    DEFAULT_SCENARIO_DIR,
    Scenario,
    find_scenario,
    list_scenarios,
    load_scenario,
)
from usecases.national import dask_client
from usecases.scenario import ScenarioResult, ScenarioWorkspace, run_scenario
from usecases.scenario_batch import ScenarioBatch, run_scenario_batch

app = typer.Typer(help="Run the seed projects as scenarios: proposals, map and summary.")

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Folder of scenario .toml files; default data/scenarios."),
]


def _folder(directory: Path | None) -> Path:
    if directory is not None:
        return directory
    bundled = StoreSettings().data_dir / "scenarios"
    return bundled if bundled.is_dir() else DEFAULT_SCENARIO_DIR


@app.command("list")
@user_errors
def list_command(directory: DirOption = None) -> None:
    """Show every scenario: name, title and steps."""
    table = Table(title="Scenarios")
    table.add_column("name")
    table.add_column("title")
    table.add_column("steps")
    for spec in list_scenarios(_folder(directory)):
        steps = ", ".join(f"{s.name} ({s.kind.replace('_', ' ')})" for s in spec.steps)
        table.add_row(spec.name, spec.title, steps)
    console.print(table)


@app.command("run")
@user_errors
def run_command(
    scenario: Annotated[
        str, typer.Argument(help="A scenario name, a path to a .toml file, or 'all'.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for the outputs (one subfolder each).")] = Path(
        "scenarios"
    ),
    directory: DirOption = None,
    cost_model: Annotated[
        Path | None, typer.Option(help="Base cost model TOML; default data/cost_model.toml.")
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Plan every step of a scenario; write GeoPackage, GeoJSON, a map and a summary."""
    folder = _folder(directory)
    specs: list[Scenario]
    if scenario == "all":
        specs = list_scenarios(folder)
    else:
        specs = [load_scenario(find_scenario(scenario, folder))]
    started = time.perf_counter()
    store = open_store()
    scheduler = scheduler or DistributedSettings().scheduler
    if workers is not None or scheduler:
        batch = ScenarioBatch(store, out, cost_model or PlannerSettings().cost_model)
        with dask_client(workers, scheduler) as client, partition_progress("scenarios") as bar:
            results = run_scenario_batch(specs, batch, client=client, progress=bar)
        for result in results:
            print_result(result)
        elapsed = time.perf_counter() - started
        console.print(f"{len(results)} scenario(s) in {elapsed:.0f} s; outputs in {out}")
        return
    with console.status("reading the layers and building the priced network...") as status:
        workspace = ScenarioWorkspace(store, cost_model or PlannerSettings().cost_model)
        results = []
        for spec in specs:
            results.append(
                run_scenario(
                    spec, store, out, lambda text: status.update(text), workspace=workspace
                )
            )
            print_result(results[-1])
    elapsed = time.perf_counter() - started
    console.print(f"{len(results)} scenario(s) in {elapsed:.0f} s; outputs in {out}")


def print_result(result: ScenarioResult) -> None:
    """Print a scenario's figures per step and where its summary and map are."""
    table = Table(title=f"{result.spec.name}: {result.spec.title}", title_justify="left")
    for column in ("step", "km", "capex", "reuse", "latency", "people", "USD/person", "s"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for step in result.steps:
        m = step.metrics
        table.add_row(
            step.name,
            fmt.km(m.total_km),
            fmt.usd(m.capex_usd_total),
            fmt.share(m.reuse_share),
            fmt.ms(m.one_way_latency_ms),
            fmt.count(m.people_covered),
            fmt.usd(m.usd_per_person),
            f"{step.seconds:.1f}",
        )
    console.print(table)
    console.print(f"summary: {result.files['summary']}  map: {result.files['map']}")
