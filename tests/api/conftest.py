"""Fixtures for the service tests: the real server, run by uvicorn on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 30.0
# Run by Debian's system Python with QGIS's bindings, never imported by pytest.
collect_ignore = ["qgis_oapif_read.py"]


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with opener.open(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer in {START_TIMEOUT_S} s")


class _Servers:
    """Start ``trazo``'s app under uvicorn on 127.0.0.1; stop every server on ``close``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, settings: dict[str, str]) -> str:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRAZO_")}
        env.update(settings)
        log = self.folder / f"server-{port}.log"
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:create_app",
            "--fd",
            str(listener.fileno()),
            "--log-level",
            "warning",
        ]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=self.folder,
                stdout=sink,
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),),
            )
        listener.close()
        self.started.append(process)
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, process, log)
        return base

    def close(self) -> None:
        for process in self.started:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


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
