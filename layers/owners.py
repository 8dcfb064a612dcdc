"""Which service processes are alive: each holds a lock named by its owner id while it runs.

A service process (an *owner*) records its id on the jobs it runs and holds a lock for its
lifetime; on startup, jobs whose owner holds no lock belong to a process that ended, and
are failed. The lock lives where every process sharing the store can see it: a file lock
in a folder beside a GeoPackage, a PostgreSQL session advisory lock for PostGIS (so the
service processes of several hosts tell each other apart).
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO, Protocol


class HeldOwner(Protocol):
    """A held owner lock."""

    def release(self) -> None:
        """Let the lock go (the owner has stopped)."""
        ...


class ServiceOwners(Protocol):
    """The owner locks of one store."""

    def hold(self, owner: str) -> HeldOwner | None:
        """Take ``owner``'s lock without waiting; None if another process holds it."""
        ...

    def alive(self, owner: str) -> bool:
        """Whether a live process holds ``owner``'s lock."""
        ...


class _HeldFile:
    def __init__(self, handle: IO[str], path: Path) -> None:
        self._handle = handle
        self._path = path

    def release(self) -> None:
        self._handle.close()
        self._path.unlink(missing_ok=True)


class FileOwners:
    """Owner locks as ``flock``ed files ``<owner>.lock`` in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _take(self, path: Path) -> IO[str] | None:
        handle = path.open("a")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def hold(self, owner: str) -> HeldOwner | None:
        """Take ``owner``'s lock file; None if another process holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{owner}.lock"
        handle = self._take(path)
        return None if handle is None else _HeldFile(handle, path)

    def alive(self, owner: str) -> bool:
        """Whether a process holds ``owner``'s lock file; a stale file is removed."""
        path = self.folder / f"{owner}.lock"
        if not path.exists():
            return False
        handle = self._take(path)
        if handle is None:
            return True
        handle.close()
        path.unlink(missing_ok=True)
        return False
