"""A throwaway PostgreSQL + PostGIS cluster for the tests.

``make test`` installs Debian's PostgreSQL and PostGIS (``.ci/install-postgis.sh``); this
module runs ``initdb`` into a temporary folder (as the ``postgres`` user when the tests
run as root, since PostgreSQL refuses to run as root), starts the server listening only
on a Unix socket in that folder, creates a database with PostGIS, and stops and removes
it all at the end.

When PostgreSQL or PostGIS is missing the PostGIS tests skip on a developer machine and
fail on CI (``CI=true``), so a CI run can never pass without them.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

DATABASE = "trazo_test"
USER = "trazo"
PREFIX = "trazo-pg-"
OWNER_FILE = "owner.pid"


def find_bindir() -> Path | None:
    """The newest PostgreSQL server bin folder that has PostGIS, or None."""
    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        major = bindir.parent.name
        control = Path(f"/usr/share/postgresql/{major}/extension/postgis.control")
        if (bindir / "initdb").is_file() and control.is_file():
            return bindir
    return None


def missing_reason() -> str | None:
    """Why no cluster can be started here, or None when one can."""
    if find_bindir() is None:
        return (
            "PostgreSQL with PostGIS is not installed (run .ci/install-postgis.sh, which "
            "`make test` runs)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run the server as"
    return None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _stop(bindir: Path, folder: Path) -> None:
    subprocess.run(
        _as_server_user(
            [str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "-w", "stop"]
        ),
        check=False,
        capture_output=True,
    )
    shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_abandoned(bindir: Path) -> None:
    """Stop clusters whose test run was killed before it could stop them.

    Each cluster's folder records the pid of the process that started it; a folder whose
    process is gone belongs to a run that was killed (a timeout, ``kill -9``).
    """
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if not _alive(owner):
            _stop(bindir, folder)


@contextlib.contextmanager
def running_cluster() -> Iterator[str]:
    """Start a cluster with a PostGIS database; yield its URL; stop and remove it after."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(missing_reason() or "no PostgreSQL")
    stop_abandoned(bindir)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    (folder / OWNER_FILE).write_text(str(os.getpid()))
    data = folder / "data"
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        os.chown(folder, postgres.pw_uid, postgres.pw_gid)
    folder.chmod(0o755)
    log = folder / "server.log"
    started = False
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        # Throwaway data: no durability work, a socket only in our folder, no TCP port.
        options = (
            f"-k {folder} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB"
        )
        subprocess.run(
            _as_server_user(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        started = True
        url = f"postgresql://{USER}@/{DATABASE}?host={folder}"
        admin = f"postgresql://{USER}@/postgres?host={folder}"
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        yield url
    finally:
        if started:
            _stop(bindir, folder)
        shutil.rmtree(folder, ignore_errors=True)
