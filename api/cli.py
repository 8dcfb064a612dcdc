"""The ``trazo`` command line."""

from __future__ import annotations

import logging

import typer

from api import cli_layers, cli_plan, cli_proposals, cli_scenario, cli_store
from api.cli_demo import demo
from api.cli_map import map_command
from api.cli_serve import serve

app = typer.Typer(
    name="trazo",
    help="Trazo: costed fiber routes for Mexico from real layers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(cli_layers.app, name="layers")
app.add_typer(cli_plan.app, name="plan")
app.add_typer(cli_proposals.app, name="proposals")
app.add_typer(cli_scenario.app, name="scenario")
app.add_typer(cli_store.app, name="store")
app.command("demo")(demo)
app.command("map")(map_command)
app.command("serve")(serve)


@app.callback()
def _configure(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens to stderr."),
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING)
