"""Load test of the HTTP service: concurrent readers and route submissions, on loopback.

Plain script, not a test: ``python bench/load.py`` (a few minutes). It loads the bundled
states, highways, railways and localities into a temporary store, starts the real
service (uvicorn on 127.0.0.1, a port the system picks), and runs:

* readers: 1 (the same-run baseline), 20 and 50 threads, each making ``--reads``
  requests over a mix of OGC API pages, single features, bbox queries and the catalog;
* routes: 1 (baseline) then 10 concurrent ``POST /proposals/route`` jobs between real
  towns, each followed until it finishes (submission to result), after two unmeasured
  jobs that make each job worker build (and keep) the priced network.

Each row gives requests, errors (any status >= 400 or a failed connection), p50 and
p99 latency, the p50 ratio to the baseline row, throughput, and the server's resident
memory before and after (the server process; job workers are separate processes and
are reported apart). Everything stops by itself: every request has a timeout and the
whole run a deadline (``--deadline``). Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.loopback import LoopbackServer
from layers.bundle import read_manifest
from layers.ingest import ingest
from layers.store import Store

REPO = Path(__file__).resolve().parent.parent
KEY = "bench-" + "k" * 24
LAYERS = ("states", "highways", "railways", "localities")
# Town pairs joined by Mexican highways (lon,lat): ten distinct route requests.
ROUTES = [
    ("-92.93,17.99", "-90.53,19.84"),  # Villahermosa - Campeche
    ("-92.93,17.99", "-93.12,16.75"),  # Villahermosa - Tuxtla Gutiérrez
    ("-89.62,20.97", "-90.53,19.84"),  # Mérida - Campeche
    ("-86.85,21.16", "-89.62,20.97"),  # Cancún - Mérida
    ("-96.13,19.17", "-96.92,19.54"),  # Veracruz - Xalapa
    ("-98.20,19.04", "-99.13,19.43"),  # Puebla - Ciudad de México
    ("-100.31,25.67", "-101.00,25.42"),  # Monterrey - Saltillo
    ("-103.35,20.67", "-101.68,21.12"),  # Guadalajara - León
    ("-96.73,17.06", "-98.20,19.04"),  # Oaxaca - Puebla
    ("-88.30,18.50", "-89.62,20.97"),  # Chetumal - Mérida
]


@dataclass
class Run:
    """What one scenario measured."""

    label: str
    workers: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    rss_before: int = 0
    rss_after: int = 0
    notes: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if not ok:
                self.errors += 1


def rss_kib(pid: int) -> int:
    """Resident memory of one process, from /proc (KiB); 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class Server:
    """The service under uvicorn on 127.0.0.1 (see :class:`api.loopback.LoopbackServer`)."""

    def __init__(
        self, store: Path, workdir: Path, code: Path = REPO, env: dict[str, str] | None = None
    ) -> None:
        settings = {
            "TRAZO_MODE": "production",
            "TRAZO_API_KEYS": json.dumps({KEY: "gis"}),
            "TRAZO_STORE": str(store),
            "TRAZO_DATA_DIR": str(REPO / "data"),
            **(env or {}),
        }
        self.server = LoopbackServer(settings, cwd=code, log_dir=workdir, backlog=256, timeout_s=60)
        self.port = self.server.port
        self.process = self.server.process

    def rss(self) -> tuple[int, int]:
        """(server KiB, job workers KiB)."""
        workers = sum(rss_kib(child) for child in children(self.process.pid))
        return rss_kib(self.process.pid), workers

    def stop(self) -> None:
        self.server.stop(timeout_s=20)


def request(
    port: int, method: str, path: str, body: dict[str, object] | None = None, timeout: float = 60
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"X-API-Key": KEY}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def read_paths(rng: random.Random, counts: dict[str, int]) -> Callable[[], str]:
    def pick() -> str:
        choice = rng.randrange(6)
        if choice == 0:
            offset = rng.randrange(max(counts["localities"] - 100, 1))
            return f"/collections/localities/items?limit=100&offset={offset}"
        if choice == 1:
            return f"/collections/states/items/{rng.randint(1, counts['states'])}"
        if choice == 2:
            lon, lat = rng.uniform(-105, -88), rng.uniform(16, 25)
            return f"/collections/highways/items?bbox={lon},{lat},{lon + 1},{lat + 1}&limit=50"
        if choice == 3:
            return "/collections/railways/items?limit=20"
        if choice == 4:
            return "/layers"
        return "/collections"

    return pick


def run_readers(server: Server, run: Run, reads: int, counts: dict[str, int], end: float) -> None:
    def reader(seed: int) -> None:
        pick = read_paths(random.Random(seed), counts)
        for _ in range(reads):
            if time.monotonic() > end:
                return
            path = pick()
            started = time.perf_counter()
            try:
                status, _ = request(server.port, "GET", path)
                ok = status < 400
            except OSError:
                ok = False
            run.record(time.perf_counter() - started, ok)

    measure(server, run, [lambda i=i: reader(i) for i in range(run.workers)])


def run_routes(server: Server, run: Run, pairs: list[tuple[str, str]], end: float) -> None:
    def route(origin: str, destination: str) -> None:
        started = time.perf_counter()
        ok = False
        try:
            status, body = request(
                server.port, "POST", "/proposals/route", {"from": origin, "to": destination}
            )
            if status in (200, 202):
                job = json.loads(body)["job_id"]
                while time.monotonic() < end:
                    status, body = request(server.port, "GET", f"/jobs/{job}")
                    state = json.loads(body)["status"] if status == 200 else "failed"
                    if state in ("succeeded", "failed"):
                        ok = state == "succeeded"
                        break
                    time.sleep(0.2)
        except (OSError, ValueError, KeyError):
            ok = False
        run.record(time.perf_counter() - started, ok)

    measure(server, run, [lambda o=o, d=d: route(o, d) for o, d in pairs])


def measure(server: Server, run: Run, tasks: list[Callable[[], None]]) -> None:
    run.rss_before = server.rss()[0]
    threads = [threading.Thread(target=task) for task in tasks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    run.rss_after, workers = server.rss()
    run.notes = f"workers {workers / 1024:.0f} MiB"
    if server.process.poll() is not None:
        run.notes += "; SERVER DIED"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def table(runs: list[Run], baselines: dict[str, float]) -> str:
    head = (
        "scenario",
        "conc.",
        "requests",
        "errors",
        "p50 ms",
        "p99 ms",
        "p50 ratio",
        "req/s",
        "RSS before MiB",
        "RSS after MiB",
        "notes",
    )
    rows = [head]
    for run in runs:
        p50 = statistics.median(run.latencies) * 1000 if run.latencies else float("nan")
        base = baselines.get(run.label.split()[0])
        rows.append(
            (
                run.label,
                str(run.workers),
                str(len(run.latencies)),
                str(run.errors),
                f"{p50:.0f}",
                f"{percentile(run.latencies, 99) * 1000:.0f}",
                f"{p50 / base:.1f}x" if base else "-",
                f"{len(run.latencies) / run.seconds:.1f}" if run.seconds else "-",
                f"{run.rss_before / 1024:.0f}",
                f"{run.rss_after / 1024:.0f}",
                run.notes,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def build_store(folder: Path) -> tuple[Path, dict[str, int]]:
    store = Store(folder / "store.gpkg")
    entries = {entry.name: entry for entry in read_manifest(REPO / "data")}
    for name in LAYERS:
        entry = entries[name]
        print(f"  loading {name} ...", flush=True)
        ingest(store, entry.path, entry.kind, name=name, replace=True)
    counts = {info.name: info.feature_count for info in store.list_layers()}
    return store.path, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=20, help="requests per reader thread")
    parser.add_argument("--deadline", type=float, default=900, help="seconds for the whole run")
    args = parser.parse_args()
    end = time.monotonic() + args.deadline
    with tempfile.TemporaryDirectory(prefix="trazo-bench-") as tmp:
        folder = Path(tmp)
        print("building the store (bundled layers) ...", flush=True)
        store, counts = build_store(folder)
        server = Server(store, folder)
        runs: list[Run] = []
        try:
            for workers in (1, 20, 50):
                run = Run(f"readers x{workers}", workers)
                print(f"running {run.label} ...", flush=True)
                run_readers(server, run, args.reads, counts, end)
                runs.append(run)
            # Each job worker builds the priced network once and keeps it: warm both
            # (not measured), so that the rows compare planning, not the first build.
            print("warming the job workers ...", flush=True)
            run_routes(server, Run("warm-up", 2), ROUTES[-2:], end)
            for count in (1, 10):
                run = Run(f"routes x{count}", count)
                print(f"running {run.label} ...", flush=True)
                run_routes(server, run, ROUTES[:count], end)
                runs.append(run)
        finally:
            server.stop()
    baselines = {  # p50 in ms of the one-at-a-time rows
        "readers": statistics.median(runs[0].latencies) * 1000,
        "routes": statistics.median(runs[3].latencies) * 1000 if len(runs) > 3 else 0,
    }
    print()
    print(table(runs, baselines))
    print(
        "\nreaders: GET mixes of /collections/*/items pages, features, bbox queries, /layers;"
        "\nroutes: POST /proposals/route then polling /jobs/{id} until it ends (latency is"
        "\nsubmission to result). Errors: status >= 400 or a failed connection. p50 ratio:"
        "\nagainst the 1-reader / 1-route row of this run."
    )


if __name__ == "__main__":
    main()
