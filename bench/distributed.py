"""Benchmark the national last mile by state: serial (baseline) against a dask LocalCluster.

Plain script, not a test: ``python bench/distributed.py`` plans ``trazo plan last-mile
--area all --by state --min-population 250`` on the bundled layers twice per round: once
serially in a fresh process (the baseline), once on a ``LocalCluster`` of ``--workers``
single-threaded processes. Prints one table: wall time (median of ``--rounds``), the ratio,
the totals of both (they must be identical), the CPU seconds each run spent and the peak
resident memory of the serial process and of each worker (``VmHWM``, see :func:`peak_mb`).

Wall-clock ratios only mean something on an idle machine, so the table also gives each
run's cores used (its CPU seconds over its wall seconds) and how many cores other processes
kept busy meanwhile (the machine's busy CPU time, from ``/proc/stat`` through psutil, less
this benchmark's own): with one core taken by others, 2 workers on 2 cores share what is
left with it and cannot reach 1.5x. The ratio is then split into its two factors: serial
CPU over cluster CPU (below 1: work the cluster adds) times the cores the cluster used over
the cores the serial run used (below the workers: CPU it did not get or left idle). A
second table breaks the cluster run down: per worker, its states, its first state (which includes
loading the network and localities), busy and idle seconds and CPU; for the main process,
the seconds before the first state started and after the last one ended (merge). The last
lines compare the run with the makespan of the same schedule, and of the best
largest-first schedule, on the serial run's state times.

Both runs start cold from the same planning cache, built first in a process of its own:
each process opens the store and loads the priced network and localities from it. The
cluster's start-up is timed apart and also included in the "with start-up" column.

``--store`` names the store (default ``TRAZO_STORE`` or ``.trazo/store.gpkg``); it is
loaded from the bundle first when it holds no localities. A higher ``--min-population``
(e.g. 2500) gives a shorter run with the same structure.
"""

from __future__ import annotations

import argparse
import heapq
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder leads sys.path and its name would hide the
# `distributed` package; the benchmarks import from the repository root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from layers.kinds import LayerKind  # noqa: E402
from layers.stores import open_store  # noqa: E402
from planner.proposals.proposal import Proposal  # noqa: E402
from usecases.context import shared_context, stored_frames, stored_localities  # noqa: E402
from usecases.national import (  # noqa: E402
    dask_client,
    national_partitions,
    partition_work,
    plan_national_last_mile,
    state_label,
)


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
    """This process's peak resident memory in MB, since it started its program.

    Linux keeps ``ru_maxrss`` across fork and exec, so a worker spawned by a process that
    once held 2.5 GB (this script loads the bundle) would report 2.5 GB; ``VmHWM`` in
    /proc/self/status is the peak of this program's own address space. Elsewhere
    ``ru_maxrss`` (KiB on Linux) is all there is.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time (user + system) of this process so far, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float:
    """CPU seconds every process on the machine has used since boot (all cores)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


@dataclass
class Run:
    """One engine's run: wall seconds, totals, CPU seconds of its processes, peaks."""

    seconds: float
    totals: dict[str, Any]
    cpu: float
    others: float
    """Cores other processes kept busy on average during the run."""
    peaks: list[float]
    states: dict[str, float] = field(default_factory=dict)
    startup: float = 0.0
    workers: list[dict[str, Any]] = field(default_factory=list)
    before: float = 0.0
    after: float = 0.0
    main_cpu: float = 0.0


def _serial(location: str, min_population: int, queue: Any) -> None:
    # the serial engine of `trazo plan last-mile --area all --by state`: the context is
    # loaded, then the states are planned on it one after another
    started = time.perf_counter()
    cpu = cpu_seconds()
    store = open_store(location)
    context = shared_context(store, None)
    loaded = (context.network, stored_localities(context.localities))
    states: dict[str, float] = {"(loading the network and localities)": 0.0}
    last = [time.perf_counter()]
    states["(loading the network and localities)"] = last[0] - started

    def progress(done: int, total: int, label: str) -> None:
        now = time.perf_counter()
        states[label] = now - last[0]
        last[0] = now

    proposal = plan_national_last_mile(
        store, None, min_population=min_population, progress=progress, loaded=loaded
    )
    seconds = time.perf_counter() - started
    # the plan's CPU, and the whole process's (imports too) for the machine's balance
    queue.put((seconds, totals(proposal), cpu_seconds() - cpu, cpu_seconds(), peak_mb(), states))


def serial_run(location: str, min_population: int) -> Run:
    """Plan every state one after another in a fresh process; the seconds of loading and
    of each state (the first one includes reading the states and partitioning)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_serial, args=(location, min_population, queue))
    busy, started = machine_busy(), time.perf_counter()
    process.start()
    seconds, result, cpu, lifetime_cpu, peak, states = queue.get()
    process.join()
    others = (machine_busy() - busy - lifetime_cpu) / (time.perf_counter() - started)
    return Run(seconds, result, cpu, max(others, 0.0), [peak], states)


def cluster_run(location: str, min_population: int, workers: int) -> Run:
    """Start a LocalCluster, plan every state on it; start-up, plan time, totals, peaks and
    where each worker's time went (from dask's task stream)."""
    from distributed import get_task_stream

    started = time.perf_counter()
    with dask_client(workers=workers) as client:
        ready = time.perf_counter()
        worker_cpu = client.run(cpu_seconds)
        main_cpu, busy, wall_ready = cpu_seconds(), machine_busy(), time.time()
        with get_task_stream(client) as stream:
            proposal = plan_national_last_mile(
                open_store(location), None, min_population=min_population, client=client
            )
        planned = time.perf_counter()
        wall_planned = time.time()
        main_cpu = cpu_seconds() - main_cpu
        spent = {w: cpu - worker_cpu[w] for w, cpu in client.run(cpu_seconds).items()}
        peaks = client.run(peak_mb)
        busy = machine_busy() - busy
    seconds = planned - ready
    ours = main_cpu + sum(spent.values())
    by_worker = _by_worker(stream.data, wall_ready, wall_planned, spent, peaks)
    starts = [w["first_start"] for w in by_worker]
    ends = [w["last_end"] for w in by_worker]
    return Run(
        seconds,
        totals(proposal),
        ours,
        max((busy - ours) / (wall_planned - wall_ready), 0.0),
        [w["peak"] for w in by_worker],
        startup=ready - started,
        workers=by_worker,
        before=min(starts) if starts else 0.0,
        after=seconds - max(ends) if ends else 0.0,
        main_cpu=main_cpu,
    )


def _by_worker(
    records: list[dict[str, Any]],
    start: float,
    end: float,
    cpu: dict[str, float],
    peaks: dict[str, float],
) -> list[dict[str, Any]]:
    """Per worker: states run, first state's seconds, busy, idle, CPU, peak (seconds from
    the start of the plan)."""
    rows = []
    for worker in sorted(cpu):
        spans = sorted(
            (ss["start"] - start, ss["stop"] - start, record["key"])
            for record in records
            if record.get("worker") == worker
            for ss in record["startstops"]
            if ss["action"] == "compute"
        )
        busy = sum(stop - begin for begin, stop, _ in spans)
        rows.append(
            {
                "worker": worker,
                "states": len(spans),
                "first": spans[0][1] - spans[0][0] if spans else 0.0,
                "first_start": spans[0][0] if spans else 0.0,
                "last_end": spans[-1][1] if spans else 0.0,
                "last_state": str(spans[-1][2]).split("-", 2)[-1] if spans else "",
                "busy": busy,
                "idle": (end - start) - busy,
                "cpu": cpu[worker],
                "peak": peaks[worker],
            }
        )
    return rows


def makespan(seconds: Sequence[float], workers: int) -> float:
    """When the last of these tasks ends, each started in the order given on the first
    worker free (how dask's scheduler hands out a queue of tasks)."""
    free = [0.0] * workers
    for duration in seconds:
        heapq.heappush(free, heapq.heappop(free) + duration)
    return max(free)


def ensure_store(location: str) -> None:
    """Load the bundle into the store when it holds no localities, and build its planning
    inputs (network, localities, states) in a process of their own.

    Built here, both runs load the same inputs from the store's planning cache. Left to the
    first run after a code change, the serial run would build them: it would pay the build
    and plan on inputs built in its own memory while the workers read them back (a Land
    read back was once unprepared: 0.5 ms a drop's covers test instead of 6 us).
    """
    store = open_store(location)
    if not any(info.kind is LayerKind.LOCALITIES for info in store.list_layers()):
        from layers.bundle import load_bundle

        print(f"loading the bundled layers into {location} ...", flush=True)
        load_bundle(store, ROOT / "data")
    process = multiprocessing.get_context("spawn").Process(target=_warm, args=(location,))
    process.start()
    process.join()


def _warm(location: str) -> None:
    context = shared_context(open_store(location), None)
    stored_localities(context.localities)


def schedule_lines(
    location: str, min_population: int, states: dict[str, float], workers: int
) -> str:
    """The makespan of the cluster's order (largest estimate first) and of the best
    largest-first order on the serial run's state times."""
    partitions, _ = national_partitions(open_store(location))
    localities = stored_localities(stored_frames(open_store(location), LayerKind.LOCALITIES))
    work = partition_work(partitions, localities, min_population)
    labels = [state_label(p) for p in partitions]
    order = sorted(range(len(labels)), key=lambda i: (-work[i], i))
    planned = makespan([states.get(labels[i], 0.0) for i in order], workers)
    best = makespan(sorted(states.values(), reverse=True), workers)
    return (
        f"on the serial state times, {workers} workers taking states in the cluster's order "
        f"(largest estimate first) end at {planned:.1f} s; taking the truly longest first, "
        f"at {best:.1f} s"
    )


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
    serial: list[Run] = []
    cluster: list[Run] = []
    for _ in range(args.rounds):
        serial.append(serial_run(args.store, args.min_population))
        cluster.append(cluster_run(args.store, args.min_population, args.workers))
    base = statistics.median(r.seconds for r in serial)
    dist = statistics.median(r.seconds for r in cluster)
    boot = statistics.median(r.startup for r in cluster)
    last_serial, last_cluster = serial[-1], cluster[-1]
    table = Table(
        title=f"national last mile by state, --min-population {args.min_population}, "
        f"{args.rounds} round(s), {os.cpu_count()} cores, load average at start "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    columns = (
        "engine",
        "plan s",
        "with start-up s",
        "x serial",
        "CPU s",
        "cores used",
        "others' cores",
    )
    for column in (*columns, "peak MB"):
        table.add_column(column, justify="left" if column == "engine" else "right")
    table.add_row(
        "serial (1 process)",
        f"{base:.1f}",
        f"{base:.1f}",
        "1.00",
        f"{statistics.median(r.cpu for r in serial):.1f}",
        f"{statistics.median(r.cpu / r.seconds for r in serial):.2f}",
        f"{statistics.median(r.others for r in serial):.1f}",
        f"{last_serial.peaks[0]:.0f}",
    )
    table.add_row(
        f"LocalCluster, {args.workers} workers",
        f"{dist:.1f}",
        f"{dist + boot:.1f}",
        f"{base / dist:.2f} ({base / (dist + boot):.2f} with start-up)",
        f"{statistics.median(r.cpu for r in cluster):.1f}",
        f"{statistics.median(r.cpu / r.seconds for r in cluster):.2f}",
        f"{statistics.median(r.others for r in cluster):.1f}",
        " / ".join(f"{p:.0f}" for p in last_cluster.peaks) + " per worker",
    )
    console = Console(width=max(Console().width, 120))
    console.print(table)
    console.print(_breakdown(last_cluster))
    work = last_serial.cpu / last_cluster.cpu
    cores = (last_cluster.cpu / last_cluster.seconds) / (last_serial.cpu / last_serial.seconds)
    console.print(
        f"x serial (last round) = {work * cores:.2f} = {work:.2f} (serial CPU / cluster CPU: "
        f"below 1, work the cluster adds) x {cores:.2f} (cores the cluster used / cores the "
        f"serial run used: below {args.workers}, CPU the cluster did not get or left idle)"
    )
    states = {k: v for k, v in last_serial.states.items() if not k.startswith("(")}
    loading = last_serial.seconds - sum(states.values())
    slowest = sorted(states.items(), key=lambda item: -item[1])[:5]
    total = sum(states.values())
    console.print(
        f"serial run (last): {loading:.1f} s loading, states {total:.1f} s in all; slowest "
        + ", ".join(f"{label} {s:.1f} s" for label, s in slowest)
        + f"; with {args.workers} workers no run can beat max(slowest, all / workers) = "
        f"{max(slowest[0][1], total / args.workers) if slowest else 0.0:.1f} s"
    )
    console.print(schedule_lines(args.store, args.min_population, states, args.workers))
    console.print(f"serial totals:  {last_serial.totals}")
    console.print(f"cluster totals: {last_cluster.totals}")
    same = all(r.totals == last_serial.totals for r in (*serial, *cluster))
    console.print("identical totals" if same else "TOTALS DIFFER")
    if not same:
        sys.exit(1)


def _breakdown(run: Run) -> Table:
    table = Table(
        title=f"where the cluster's {run.seconds:.1f} s go (last round)", title_justify="left"
    )
    for column in ("process", "states", "first state s", "busy s", "idle s", "CPU s", "peak MB"):
        table.add_column(column, justify="left" if column == "process" else "right")
    for w in run.workers:
        table.add_row(
            f"worker {w['worker'].rsplit(':', 1)[-1]} (last: {w['last_state']})",
            str(w["states"]),
            f"{w['first']:.1f}",
            f"{w['busy']:.1f}",
            f"{w['idle']:.1f}",
            f"{w['cpu']:.1f}",
            f"{w['peak']:.0f}",
        )
    table.add_row(
        "main (client + scheduler)",
        "",
        f"{run.before:.1f} before the first",
        "",
        f"{run.after:.1f} after the last",
        f"{run.main_cpu:.1f}",
        f"{peak_mb():.0f}",
    )
    return table


if __name__ == "__main__":
    main()
