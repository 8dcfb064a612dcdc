"""The service in a child process on 127.0.0.1, for the test-suite and the benchmarks.

The listening socket is made here and handed to uvicorn (``--fd``), so there is no race
for a free port and nothing listens beyond the loopback interface. Only the standard
library is imported: the caller stays free of the web framework, and the child may run
another checkout of the code (``cwd``), as the benchmarks' same-run baselines do.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path


class LoopbackServer:
    """``api.app:create_app`` under uvicorn on 127.0.0.1, healthy once constructed.

    Parameters
    ----------
    settings
        ``TRAZO_*`` environment of the service; the caller's own ``TRAZO_*`` variables are
        not passed on, so nothing of the calling shell leaks into the server.
    cwd
        Folder the child runs in: the checkout whose ``api`` package it imports.
    log_dir
        Where the server's output goes (``server-<port>.log``).
    backlog
        Connections the socket queues before the server accepts them.
    timeout_s
        How long the server may take to answer ``/healthz``.
    log_level
        uvicorn's; ``info`` logs every request (a benchmark counts them).

    Raises
    ------
    RuntimeError
        If the server exits or does not answer in ``timeout_s``; it is stopped first.
    """

    def __init__(
        self,
        settings: Mapping[str, str],
        *,
        cwd: Path,
        log_dir: Path,
        backlog: int = 64,
        timeout_s: float = 30.0,
        log_level: str = "warning",
    ) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(backlog)
        self.port: int = listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"server-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRAZO_")}
        env.update(settings)
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:create_app",
            "--fd",
            str(listener.fileno()),
            "--log-level",
            log_level,
        ]
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                command,
                env=env,
                cwd=cwd,
                stdout=sink,
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),),
            )
        listener.close()
        try:
            self._wait_healthy(timeout_s)
        except RuntimeError:
            self.stop()
            raise

    def _wait_healthy(self, timeout_s: float) -> None:
        # a proxy set in the environment must not see loopback requests
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the server exited: {tail}")
            try:
                with opener.open(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer in {timeout_s} s")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the server to stop; kill it if it has not within ``timeout_s``."""
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout_s)
