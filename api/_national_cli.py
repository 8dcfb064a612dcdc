"""Command-line parts of national runs: the engine options, the progress bar, the state table."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from api._console import console
from maps import format as fmt

if TYPE_CHECKING:
    from planner.proposals.proposal import Proposal
    from usecases.national import Progress as PartitionProgress


class Partition(StrEnum):
    """How a national run is split."""

    state = "state"


WorkersOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=64,
        help="Run partitions on a local dask cluster of N worker processes (default: serially).",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        help="Run partitions on an existing dask scheduler, e.g. tcp://host:8786 "
        "(default: TRAZO_SCHEDULER, else --workers or serially)."
    ),
]


@contextlib.contextmanager
def partition_progress(what: str = "states") -> Iterator[PartitionProgress]:
    """A rich progress bar of partitions done / total, elapsed and ETA; yields its callback."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("[dim]{task.fields[last]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"planning {what}", total=None, last="")

        def advance(done: int, total: int, last: str) -> None:
            bar.update(task, completed=done, total=total, last=f"done: {last}")

        yield advance


def state_table(proposal: Proposal) -> Table:
    """Each state's own plan: localities, people covered, km and capex."""
    table = Table(title="by state (each state's own plan)", title_justify="left")
    for column in ("state", "localities", "served", "people", "km", "capex"):
        table.add_column(column, justify="left" if column == "state" else "right")
    for state in proposal.parameters.get("states", []):
        table.add_row(
            f"{state['cve_ent']} {state['name']}",
            fmt.count(state["localities"]),
            fmt.count(state.get("localities_served", 0)),
            fmt.count(state["people_covered"]),
            fmt.km(state["segments_km"]),
            fmt.usd(state["capex_usd"]),
        )
    return table
