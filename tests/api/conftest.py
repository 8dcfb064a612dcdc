"""Fixtures for the service tests: the real server, run by uvicorn on loopback."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own temporary folder for upload and load work folders: a test sees that
    its work folders are removed, and other loads on the machine do not count."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def http_answer_to() -> Callable[[BaseException], Any]:
    """The service's HTTP answer to a route that raises the given exception."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from api.errors import add_exception_handlers

    def answer(error: BaseException) -> Any:
        app = FastAPI()
        add_exception_handlers(app)

        def fail() -> None:
            raise error

        app.get("/fail")(fail)
        return TestClient(app, raise_server_exceptions=False).get("/fail")

    return answer
