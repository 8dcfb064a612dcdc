"""Benchmark: QGIS reads a whole national layer from Trazo's OGC API – Features.

Plain script, not a test::

    python bench/qgis_oapif.py --store .trazo/store.gpkg [--collection localities] [--runs 1]

needs Debian's QGIS (``.ci/install-qgis.sh``) and a store holding the layer (``make demo``
fills ``.trazo/store.gpkg`` with the 189,432 localities). For each page setting the
script starts the service (production mode, one key, on 127.0.0.1), has QGIS 3.22's OAPIF
provider read every feature headless (``tests/api/qgis_oapif_read.py``, the key as HTTP
Basic password), and counts the item requests the server saw. The baseline declares
pages of 100, which is what QGIS used before the API definition declared ``limit``'s
default and maximum (it then falls back to 100); the service's defaults follow. Prints
one table: median wall seconds over the runs, requests, features read, and the ratio to
the baseline. The machine may be shared: compare the two rows of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent
READER = ROOT / "tests" / "api" / "qgis_oapif_read.py"
KEY = "bench-key-" + "x" * 20
SETTINGS = {
    "baseline: pages of 100 (QGIS's fallback)": {
        "TRAZO_DEFAULT_ITEMS_PER_PAGE": "100",
        "TRAZO_MAX_ITEMS_PER_PAGE": "100",
    },
    "service defaults": {},
}


def _serve(store: Path, extra: dict[str, str], folder: Path) -> LoopbackServer:
    settings = {
        "TRAZO_MODE": "production",
        "TRAZO_API_KEYS": json.dumps({KEY: "viewer"}),
        "TRAZO_STORE": str(store),
        **extra,
    }
    # info: the server logs each request, which is how the item requests are counted
    return LoopbackServer(settings, cwd=Path.cwd(), log_dir=folder, log_level="info")


def _read(base: str, collection: str) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/python3", str(READER), base + "/", collection, KEY],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    seconds = time.perf_counter() - started
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, int(result["read"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=ROOT / ".trazo" / "store.gpkg")
    parser.add_argument("--collection", default="localities")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, extra in SETTINGS.items():
            server = _serve(args.store.resolve(), extra, Path(folder))
            try:
                runs = [_read(server.url, args.collection) for _ in range(args.runs)]
            finally:
                server.stop()
            requests = (
                server.log.read_text().count(f"/collections/{args.collection}/items") // args.runs
            )
            rows.append((label, statistics.median(s for s, _ in runs), requests, runs[0][1]))
    baseline = rows[0][1]
    print(f"QGIS OAPIF full read of {args.collection!r}, median of {args.runs} run(s)")
    print(f"{'setting':<44} {'seconds':>8} {'requests':>9} {'features':>9} {'ratio':>6}")
    for label, seconds, requests, features in rows:
        ratio = baseline / seconds
        print(f"{label:<44} {seconds:>8.1f} {requests:>9,} {features:>9,} {ratio:>5.1f}x")


if __name__ == "__main__":
    main()
