"""``trazo serve``: run the HTTP service on the embedded store."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
) -> None:
    """Serve the API (OpenAPI at /docs) and OGC API – Features at / on the store."""
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)
