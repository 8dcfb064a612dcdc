"""Benchmark the national last mile by state: serial (baseline) against a dask LocalCluster.

Plain script, not a test: ``python bench/distributed.py`` plans ``trazo plan last-mile
--area all --by state --min-population 250`` on the bundled layers twice per round: once
serially in a fresh process (the baseline), once on a ``LocalCluster`` of ``--workers``
single-threaded processes. Prints one table: wall time (median of ``--rounds``), the ratio,
the totals of both (they must be identical) and the peak resident memory of the serial
process and of each worker (``ru_maxrss``), with the load average at the start, since
other work on the machine slows both runs.

Both runs start cold: each process opens the store and loads the priced network and
localities itself (from the store's planning cache when there is one). The cluster's
start-up is timed apart and also included in the second time column.

``--store`` names the store (default ``TRAZO_STORE`` or ``.trazo/store.gpkg``); it is
loaded from the bundle first when it holds no localities.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder leads sys.path and its name would hide the
# `distributed` package; the benchmarks import from the repository root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from layers.kinds import LayerKind  # noqa: E402
from layers.stores import open_store  # noqa: E402
from planner.proposals.proposal import Proposal  # noqa: E402
from usecases.national import dask_client, plan_national_last_mile  # noqa: E402


def totals(proposal: Proposal) -> dict[str, Any]:
    """The figures both runs must agree on."""
    capex = sum(s.cost_usd for s in proposal.segments) + sum(proposal.node_costs_usd.values())
    return {
        "people": proposal.people_covered,
        "served": proposal.parameters["localities_served"],
        "segments": len(proposal.segments),
        "capex_usd": round(capex, 2),
        "km": round(sum(s.length_km for s in proposal.segments), 3),
    }


def peak_mb() -> float:
    """This process's peak resident memory in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _serial(location: str, min_population: int, queue: Any) -> None:
    started = time.perf_counter()
    states: dict[str, float] = {}
    last = [started]

    def progress(done: int, total: int, label: str) -> None:
        now = time.perf_counter()
        states[label] = now - last[0]
        last[0] = now

    proposal = plan_national_last_mile(
        open_store(location), None, min_population=min_population, progress=progress
    )
    queue.put((time.perf_counter() - started, totals(proposal), peak_mb(), states))


def serial_run(
    location: str, min_population: int
) -> tuple[float, dict[str, Any], float, dict[str, float]]:
    """Plan every state one after another in a fresh process; its time, totals, peak and
    the seconds of each state (the first one includes loading the inputs)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_serial, args=(location, min_population, queue))
    process.start()
    result = queue.get()
    process.join()
    return result  # type: ignore[no-any-return]


def cluster_run(
    location: str, min_population: int, workers: int
) -> tuple[float, float, dict[str, Any], list[float]]:
    """Start a LocalCluster, plan every state on it; start-up, plan time, totals, peaks."""
    started = time.perf_counter()
    with dask_client(workers=workers) as client:
        ready = time.perf_counter()
        proposal = plan_national_last_mile(
            open_store(location), None, min_population=min_population, client=client
        )
        planned = time.perf_counter()
        peaks = sorted(client.run(peak_mb).values())
    return ready - started, planned - ready, totals(proposal), peaks


def ensure_store(location: str) -> None:
    """Load the bundle into the store when it holds no localities."""
    store = open_store(location)
    if any(info.kind is LayerKind.LOCALITIES for info in store.list_layers()):
        return
    from layers.bundle import load_bundle

    print(f"loading the bundled layers into {location} ...", flush=True)
    load_bundle(store, ROOT / "data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store", default=os.environ.get("TRAZO_STORE", str(ROOT / ".trazo" / "store.gpkg"))
    )
    parser.add_argument("--min-population", type=int, default=250)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    ensure_store(args.store)
    load = os.getloadavg()
    serial_s, cluster_s, startup_s = [], [], []
    serial_totals = cluster_totals = None
    serial_peak, worker_peaks = 0.0, [0.0]
    states: dict[str, float] = {}
    for _ in range(args.rounds):
        seconds, serial_totals, serial_peak, states = serial_run(args.store, args.min_population)
        serial_s.append(seconds)
        startup, seconds, cluster_totals, worker_peaks = cluster_run(
            args.store, args.min_population, args.workers
        )
        startup_s.append(startup)
        cluster_s.append(seconds)
    base, dist, boot = (statistics.median(v) for v in (serial_s, cluster_s, startup_s))
    table = Table(
        title=f"national last mile by state, --min-population {args.min_population}, "
        f"{args.rounds} round(s), {os.cpu_count()} cores, load average at start "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    for column in ("engine", "plan s", "with start-up s", "x serial", "peak MB"):
        table.add_column(column, justify="left" if column == "engine" else "right")
    table.add_row("serial (1 process)", f"{base:.1f}", f"{base:.1f}", "1.00", f"{serial_peak:.0f}")
    table.add_row(
        f"LocalCluster, {args.workers} workers",
        f"{dist:.1f}",
        f"{dist + boot:.1f}",
        f"{base / dist:.2f} ({base / (dist + boot):.2f} with start-up)",
        " / ".join(f"{p:.0f}" for p in worker_peaks) + " per worker",
    )
    console = Console()
    console.print(table)
    slowest = sorted(states.items(), key=lambda item: -item[1])[:5]
    total = sum(states.values())
    console.print(
        f"states in the (last) serial run: {total:.1f} s in all; slowest "
        + ", ".join(f"{label} {s:.1f} s" for label, s in slowest)
        + f"; with {args.workers} workers no run can beat max(slowest, all / workers) = "
        f"{max(slowest[0][1], total / args.workers) if slowest else 0.0:.1f} s"
    )
    console.print(f"serial totals:  {serial_totals}")
    console.print(f"cluster totals: {cluster_totals}")
    console.print("identical totals" if serial_totals == cluster_totals else "TOTALS DIFFER")
    if serial_totals != cluster_totals:
        sys.exit(1)


if __name__ == "__main__":
    main()
