"""Work folders of ended processes are swept; those of live processes are kept."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from layers.workdirs import make_workdir, sweep_stale_workdirs

# A process that makes a work folder (with a file in it) and is killed before it can
# remove it, as a crashed or killed server would.
_KILLED = """
import os, signal, sys, tempfile
tempfile.tempdir = sys.argv[1]
from layers.workdirs import make_workdir
folder = make_workdir("trazo-upload-")
(folder / "upload.csv").write_bytes(b"x" * 1024)
print(folder.name, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_folders_of_a_killed_process_are_swept_live_ones_kept(tmp: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _KILLED, str(tmp)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -9
    killed = tmp / done.stdout.strip()
    assert killed.is_dir() and killed.name.startswith("trazo-upload-")
    mine = make_workdir("trazo-load-")
    old = tmp / "trazo-export-abcd1234"  # named before owners existed, two days old
    old.mkdir()
    day_ago = time.time() - 2 * 86400
    os.utime(old, (day_ago, day_ago))
    recent = tmp / "trazo-load-efgh5678"
    recent.mkdir()
    unrelated = tmp / "trazo-notes"
    unrelated.mkdir()

    assert sweep_stale_workdirs() == 2
    assert not killed.exists() and not old.exists()
    assert mine.is_dir() and recent.is_dir() and unrelated.is_dir()
    # only this process's owner lock is left
    locks = sorted(p.name for p in tmp.glob("trazo-owner-*.lock"))
    assert len(locks) == 1 and mine.name.split("-")[2] in locks[0]


def test_an_unknown_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="prefix"):
        make_workdir("trazo-other-")
