"""Fixtures for the service tests: the real server, run by uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api.loopback import LoopbackServer

# Run by Debian's system Python with QGIS's bindings, never imported by pytest.
collect_ignore = ["qgis_oapif_read.py"]


class _Servers:
    """Start ``trazo``'s app under uvicorn on 127.0.0.1; stop every server on ``close``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[LoopbackServer] = []

    def start(self, settings: dict[str, str]) -> str:
        server = LoopbackServer(settings, cwd=self.folder, log_dir=self.folder)
        self.started.append(server)
        return server.url

    def close(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], str]]:
    """Start ``trazo``'s app under uvicorn on 127.0.0.1 with ``TRAZO_*`` settings; return its URL.

    The listening socket is made here and handed to uvicorn (``--fd``), so there is no
    race for a free port. Every server started is stopped when the test ends.
    """
    servers = _Servers(tmp_path)
    try:
        yield servers.start
    finally:
        servers.close()


@pytest.fixture(scope="module")
def module_live_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[dict[str, str]], str]]:
    """:func:`live_server` shared by a module's tests: started once, stopped at its end."""
    servers = _Servers(tmp_path_factory.mktemp("server"))
    try:
        yield servers.start
    finally:
        servers.close()
