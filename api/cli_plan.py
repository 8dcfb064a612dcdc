"""``trazo plan``: route, backbone and last-mile proposals from the stored layers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api._console import console, open_store, starting_up, user_errors
from api._national_cli import (
    Partition,
    SchedulerOption,
    WorkersOption,
    partition_progress,
    state_table,
)
from api.settings import DistributedSettings, PlannerSettings
from layers.errors import DegenerateRequestError, NotFoundError

if TYPE_CHECKING:
    from layers.store_api import LayerStore
    from planner.proposals.metrics import ProposalMetrics
    from planner.proposals.proposal import Proposal
    from usecases.context import PlanningContext

# The use cases (and with them the planners, the dask code and the metrics) are imported
# inside the commands that use them: a route must not wait for the last-mile optimiser or
# a dask cluster to import.

app = typer.Typer(help="Propose fiber routes, backbones and last-mile connections.")

NameOption = Annotated[
    str | None, typer.Option(help="Name to store the proposal under; default from its places.")
]
OutOption = Annotated[Path | None, typer.Option(help="Also write the proposal as GeoJSON here.")]
ReplaceOption = Annotated[
    bool, typer.Option("--replace", help="Replace a stored proposal of the same name.")
]
CostModelOption = Annotated[
    Path | None, typer.Option(help="Cost model TOML; default data/cost_model.toml.")
]


PLACES_SHOWN = 12
"""Places listed after a plan; the stored proposal lists them all."""


def _context(cost_model: Path | None) -> PlanningContext:
    from usecases.context import planning_context

    settings = PlannerSettings()
    with console.status("loading the priced corridor network..."):
        return planning_context(
            open_store(), cost_model or settings.cost_model, cache=settings.planning_cache
        )


def _finish(
    store: LayerStore,
    proposal: Proposal,
    metrics: ProposalMetrics,
    name: str | None,
    out: Path | None,
    replace: bool,
) -> None:
    from api._summary import summary_table
    from usecases.proposals import store_proposal

    stored_name, document = store_proposal(store, proposal, metrics, name, replace=replace)
    console.print(summary_table(f"{proposal.kind} proposal {stored_name!r}", metrics.to_dict()))
    if proposal.parameters.get("states"):
        console.print(state_table(proposal))
    places = [str(p) for p in proposal.parameters.get("places") or []]
    if places:
        shown = "; ".join(places[:PLACES_SHOWN])
        more = f" and {len(places) - PLACES_SHOWN} more" if len(places) > PLACES_SHOWN else ""
        console.print(f"[dim]places:[/] {shown}{more}")
    for note in proposal.notes:
        console.print(f"[dim]note:[/] {note}")
    console.print(f"cost model: {proposal.cost_model_source}")
    console.print(f"stored as {stored_name!r} (`trazo proposals show {stored_name}`)")
    if out is not None:
        out.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        console.print(f"wrote {out}")


@app.command("route")
@user_errors
def route(
    origin: Annotated[str, typer.Option("--from", help="PLACE: locality, landing or lon,lat.")],
    destination: Annotated[str, typer.Option("--to", help="PLACE: locality, landing or lon,lat.")],
    alternatives: Annotated[
        int, typer.Option(min=0, max=10, help="Next-cheapest routes to show as options.")
    ] = 0,
    diverse: Annotated[
        bool, typer.Option("--diverse", help="Two corridor-disjoint routes instead of one.")
    ] = False,
    name: NameOption = None,
    out: OutOption = None,
    replace: ReplaceOption = False,
    cost_model: CostModelOption = None,
) -> None:
    """Least-cost route between two places, with alternatives or a diverse pair."""
    with starting_up():
        from usecases.proposals import measure
        from usecases.route import propose_route, resolve_ends

        context = _context(cost_model)
        start, end = resolve_ends(context.places, origin, destination)
    with console.status("routing..."):
        proposal = propose_route(context, start, end, alternatives=alternatives, diverse=diverse)
    _finish(context.store, proposal, measure(context, proposal), name, out, replace)


@app.command("backbone")
@user_errors
def backbone(
    terminals: Annotated[
        str,
        typer.Option(
            help="PLACEs separated by ';' (e.g. 'Villahermosa; Teapa; -92.6,18.5'), "
            "or a .txt/.csv/.geojson file of them."
        ),
    ],
    ring: Annotated[bool, typer.Option("--ring", help="Close the tree into rings.")] = False,
    name: NameOption = None,
    out: OutOption = None,
    replace: ReplaceOption = False,
    cost_model: CostModelOption = None,
) -> None:
    """Near-optimal Steiner backbone joining every terminal."""
    with starting_up():
        from usecases.backbone import propose_backbone, resolve_terminals
        from usecases.proposals import measure

        context = _context(cost_model)
        places = resolve_terminals(context.places, _terminals_source(terminals))
    with console.status(f"solving the backbone over {len(places)} terminals..."):
        proposal = propose_backbone(context, places, ring=ring)
    _finish(context.store, proposal, measure(context, proposal), name, out, replace)


TERMINAL_FILE_SUFFIXES = frozenset({".txt", ".csv", ".geojson", ".json"})


def _terminals_source(text: str) -> str | Path:
    """A terminals file when ``text`` names one (by its suffix), else the list itself."""
    candidate = Path(text)
    if ";" not in text and candidate.suffix.lower() in TERMINAL_FILE_SUFFIXES:
        if not candidate.is_file():
            raise NotFoundError(f"no terminals file {text!r}")
        return candidate
    return text


@app.command("last-mile")
@user_errors
def last_mile(
    area: Annotated[
        str, typer.Option(help="A state, 'Municipality, State', a cvegeo or a WKT polygon.")
    ],
    min_population: Annotated[int, typer.Option(min=1, help="Smallest locality served.")] = 250,
    budget: Annotated[
        float | None, typer.Option(min=0, help="USD budget: connect the most people within it.")
    ] = None,
    state_coverage: Annotated[
        bool,
        typer.Option(
            "--state-coverage",
            help="Take each state's mobile coverage share (Red Compartida, southern "
            "states) out of the demand where no coverage layer covers a locality.",
        ),
    ] = False,
    name: NameOption = None,
    out: OutOption = None,
    replace: ReplaceOption = False,
    cost_model: CostModelOption = None,
    by: Annotated[
        Partition | None,
        typer.Option(help="With --area all: plan state by state and merge in state-code order."),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Connect the unserved localities of an area: shared wireless sites, fiber or satellite.

    Localities inside a stored ``coverage`` layer's polygons of 4G, 5G, fixed wireless,
    fiber or cable count as served. ``--area all --by state`` plans every stored state, one
    partition each, on a dask cluster with ``--workers N`` or ``--scheduler ADDRESS`` (see
    ``trazo plan last-mile --help`` and the README's "National runs").
    """
    with starting_up():
        from usecases.last_mile import (
            OptionNames,
            check_national,
            is_all_states,
            propose_last_mile,
            propose_national_last_mile,
        )
        from usecases.national import measure_national
        from usecases.proposals import measure

    if by is not None or is_all_states(area):
        names = OptionNames(area_all="--area all", by_state="--by state", budget="--budget")
        check_national(area, budget, names)
        store = open_store()
        model_path = cost_model or PlannerSettings().cost_model
        scheduler = scheduler or DistributedSettings().scheduler
        with partition_progress() as progress:
            proposal = propose_national_last_mile(
                store,
                model_path,
                min_population=min_population,
                workers=workers,
                scheduler=scheduler,
                progress=progress,
            )
        metrics = measure_national(store, model_path, proposal)
        _finish(store, proposal, metrics, name, out, replace)
        return
    if workers is not None or scheduler is not None:
        raise DegenerateRequestError("--workers and --scheduler need --area all --by state")
    with starting_up():
        context = _context(cost_model)
    with console.status("planning the last mile...") as status:
        proposal = propose_last_mile(
            context,
            area,
            min_population=min_population,
            budget_usd=budget,
            state_coverage=state_coverage,
            progress=lambda _done, text: status.update(f"{text}..."),
        )
    _finish(context.store, proposal, measure(context, proposal), name, out, replace)
