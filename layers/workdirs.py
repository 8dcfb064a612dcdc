"""Private work folders that do not outlive their process.

Uploads, loads and exports work in folders under the system's temporary folder
(``trazo-upload-*``, ``trazo-load-*``, ``trazo-export-*``). Each is removed when its work
ends, failed or not; a process that is killed or crashes cannot do that, so folders carry
the token of the process that made them: ``trazo-load-<owner>-<random>``. The owner holds
an ``flock`` on ``trazo-owner-<owner>.lock`` beside them for as long as it lives.
:func:`sweep_stale_workdirs` (run when the service starts, and by ``trazo layers load``)
removes the folders whose owner no longer holds its lock, and never those of a process
that is still working, whichever Trazo process or user started it. Folders named before
owners existed are removed once a day old.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

WORK_PREFIXES = ("trazo-upload-", "trazo-load-", "trazo-export-")
_OWNED = re.compile(r"^trazo-(?:upload|load|export)-([0-9a-f]{12})-")
_UNOWNED = re.compile(r"^trazo-(?:upload|load|export)-[a-z0-9_]{8}$")
_LOCK = re.compile(r"^trazo-owner-([0-9a-f]{12})\.lock$")
_UNOWNED_AGE_S = 24 * 3600

_owner_lock = threading.Lock()
_owner: tuple[int, str, str, IO[str]] | None = None  # pid, tmp folder, token, held lock
# Locks of folders this process used before the temporary folder changed: kept held (its
# work folders there may still be in use), never closed.
_earlier_locks: list[IO[str]] = []


def _lock_path(folder: Path, token: str) -> Path:
    return folder / f"trazo-owner-{token}.lock"


def _owner_token() -> str:
    """This process's token, its lock taken (once per process and temporary folder)."""
    global _owner
    folder = tempfile.gettempdir()
    with _owner_lock:
        if _owner is not None and _owner[0] == os.getpid() and _owner[1] == folder:
            return _owner[2]
        if _owner is not None and _owner[0] == os.getpid():
            _earlier_locks.append(_owner[3])
        token = uuid.uuid4().hex[:12]
        # Locked under a temporary name, then renamed: a sweeper never sees the lock file
        # of a live owner unlocked.
        pending = Path(folder) / f".trazo-owner-{token}.pending"
        handle = pending.open("w")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        pending.rename(_lock_path(Path(folder), token))
        atexit.register(handle.close)  # the lock goes with the process, closed tidily
        _owner = (os.getpid(), folder, token, handle)
        return token


def make_workdir(prefix: str) -> Path:
    """Create a private work folder ``<prefix><owner>-<random>`` in the temporary folder.

    ``prefix`` is one of :data:`WORK_PREFIXES`.
    """
    if prefix not in WORK_PREFIXES:
        raise ValueError(f"unknown work folder prefix {prefix!r}")
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{_owner_token()}-"))


def _owner_alive(folder: Path, token: str) -> bool:
    """Whether a live process holds the lock of ``token`` (without waiting)."""
    try:
        fd = os.open(_lock_path(folder, token), os.O_RDWR)
    except OSError:
        return False  # no lock file: its owner is gone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases the lock if it was taken here
    return False


def sweep_stale_workdirs(folder: Path | None = None) -> int:
    """Remove work folders and owner locks left by processes that have ended.

    Parameters
    ----------
    folder
        Where to look; default the system's temporary folder.

    Returns
    -------
    int
        How many work folders were removed.
    """
    root = Path(folder or tempfile.gettempdir())
    removed = 0
    alive: dict[str, bool] = {}
    try:
        entries = list(root.iterdir())
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        owned = _OWNED.match(entry.name)
        stale = False
        if owned is not None:
            token = owned.group(1)
            if token not in alive:
                alive[token] = _owner_alive(root, token)
            stale = not alive[token]
        elif _UNOWNED.match(entry.name) is not None:
            with contextlib.suppress(OSError):
                stale = now - entry.stat().st_mtime > _UNOWNED_AGE_S
        else:
            continue
        if stale and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    for entry in entries:
        lock = _LOCK.match(entry.name)
        if lock is not None and not alive.get(lock.group(1), _owner_alive(root, lock.group(1))):
            entry.unlink(missing_ok=True)
    if removed:
        logger.info("removed %d work folders left by ended processes in %s", removed, root)
    return removed
