"""``trazo store``: copy a whole store between backends (GeoPackage ↔ PostGIS)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api._console import console, user_errors
from layers.stores import CopiedItem, copy_store, open_store

app = typer.Typer(help="Whole-store operations.", no_args_is_help=True)


@app.command("copy")
@user_errors
def copy(
    source: Annotated[
        str, typer.Argument(help="Store to read: a .gpkg path or postgresql:// URL.")
    ],
    target: Annotated[
        str, typer.Argument(help="Store to write: a .gpkg path or postgresql:// URL.")
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace layers and proposals of the same name.")
    ] = False,
) -> None:
    """Copy every layer, raster and proposal, checking counts and content hashes.

    Each layer is written with the destination's atomic load, read back, and its feature
    count and content hash (fids, attributes, WKB) compared with the source's; a
    difference stops the copy with exit status 2. The job history is not copied.
    """
    table = Table(title=f"Copied to {target.split('@')[-1]}")
    table.add_column("name")
    table.add_column("kind")
    table.add_column("features", justify="right")
    table.add_column("content sha-256 (source = destination)")

    def show(item: CopiedItem) -> None:
        table.add_row(item.name, item.what, f"{item.features:,}", item.digest[:16])

    with open_store(source) as src, open_store(target) as dst:
        if not src.list_layers() and not src.list_proposals():
            console.print(f"{src.location} holds nothing to copy")
            return
        with console.status("copying and verifying..."):
            copy_store(src, dst, replace=replace, on_item=show)
    console.print(table)
