"""Benchmark planning on a built-once network against today's rebuild-everything path.

Plain script, not a test. Two parts, each printing one table with a same-run baseline:

``python bench/roads.py bundled``
    The bundled Mexican layers in a temporary store. Each CLI command runs as a fresh
    process (wall time end to end, median of ``--repeats``) with the planning cache off
    (``TRAZO_PLANNING_CACHE=false``: read every layer, build and price the network and the
    place index, as every command did before) and warm (loaded from ``<store>.cache``).
    Both must give the same capex (1e-9 relative). Then the per-route search through the
    planner's own call (:func:`planner.search.route_search.shortest_route`) against networkx's
    bidirectional Dijkstra on the same priced graph.

``python bench/roads.py service [--segments N]``
    The HTTP service (uvicorn on 127.0.0.1) on the bundled layers, or on a synthetic road
    layer of N segments: the peak memory (PSS of server and job workers: pages they share,
    such as the memory-mapped network, counted once) of one cold route job
    and of ten submitted at once (the planning cache deleted before each), then the p50
    of 20 warm route jobs, submission to result.

``python bench/roads.py synthetic --segments 1000000``
    A seeded road-like layer (see :func:`road_layer`) written as a FlatGeobuf file, loaded
    with ``trazo layers load``, then ``trazo plan route`` cold (first build) and warm, each
    a fresh process whose peak RSS is read from ``getrusage``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS: list[tuple[str, str, str, str, str]] = []

TABASCO_SEATS = (
    "Balancán, Tabasco; Cárdenas, Tabasco; Frontera, Tabasco; Villahermosa, Tabasco; "
    "Comalcalco, Tabasco; Cunduacán, Tabasco; Emiliano Zapata, Tabasco; "
    "Huimanguillo, Tabasco; Jalapa, Tabasco; Jalpa de Méndez, Tabasco; Jonuta, Tabasco; "
    "Macuspana, Tabasco; Nacajuca, Tabasco; Paraíso, Tabasco; Tacotalpa, Tabasco; "
    "Teapa, Tabasco; Tenosique de Pino Suárez, Tabasco"
)


def row(task: str, size: str, ours: float, baseline: float | None, note: str) -> None:
    ratio = f"{baseline / ours:.1f}x" if baseline else "-"
    base = f"{baseline:.3f}" if baseline else "-"
    ROWS.append((task, size, f"{ours:.3f}", base, f"{ratio}  {note}"))
    print(f"  {task}: {ours:.3f} vs {base} {note}", flush=True)


def print_table(title: str) -> None:
    print(f"\n{title}")
    header = ("task", "size", "ours", "baseline", "speed-up / note")
    widths = [max(len(r[i]) for r in [header, *ROWS]) for i in range(5)]
    for line in [header, tuple("-" * w for w in widths), *ROWS]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
    ROWS.clear()


CPU: list[float] = []
"""CPU seconds (user + system) of every ``trazo`` run, in order: on a shared machine wall
time includes waiting for a core, CPU time does not."""


def trazo(
    store: Path, *args: str, cache: bool = True, code: Path = ROOT
) -> tuple[float, float, str]:
    """Run ``trazo ARGS`` in a fresh process; return (wall s, peak RSS MB, stdout).

    ``code`` is the checkout whose ``trazo`` runs (another one: the same-run baseline of
    an earlier version, on this checkout's environment). Its CPU time is appended to
    :data:`CPU`.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAZO_")}
    # Python as it runs by default: the first (cold) run writes each module's compiled
    # bytecode and warm runs read it, instead of compiling the project's sources anew
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        TRAZO_STORE=str(store),
        TRAZO_PLANNING_CACHE="true" if cache else "false",
        COLUMNS="200",
    )
    program = (
        "import atexit, resource, sys\n"
        # the peak is reported on the way out, whichever way the program ends (the trazo
        # program ends its process itself once the exit handlers have run)
        "@atexit.register\n"
        "def report_peak():\n"
        # ru_maxrss survives fork and exec (this script's own peak would show); VmHWM is
        # the peak of the command's own address space
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n            peak = int(line.split()[1]) / 1024\n"
        "    print(f'@@peak {peak:.1f}', file=sys.stderr)\n"
        "import api.cli\n"
        # the trazo program itself (api.cli:main); a checkout from before it had only app
        "run = getattr(api.cli, 'main', api.cli.app)\n"
        f"sys.argv = ['trazo', *{list(args)!r}]\n"
        "run()\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, cwd=code, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"trazo {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    peak = float(done.stderr.rsplit("@@peak ", 1)[1].split()[0])
    return wall, peak, done.stdout


def _segments(out: Path) -> list[tuple[Any, ...]]:
    """Each segment of a proposal's GeoJSON: its cost, role and coordinates."""
    document = json.loads(out.read_text(encoding="utf-8"))
    return [
        (f["properties"].get("cost_usd"), f["properties"].get("role"), json.dumps(f["geometry"]))
        for f in document["features"]
    ]


def capex(out: Path) -> float:
    """Sum of the proposal's segment costs as written in its GeoJSON."""
    document = json.loads(out.read_text(encoding="utf-8"))
    return math.fsum(float(f["properties"]["cost_usd"]) for f in document["features"])


def median_runs(
    store: Path, args: list[str], out: Path, cache: bool, n: int, code: Path = ROOT
) -> tuple[float, float, float]:
    """Median wall and CPU seconds of ``n`` runs, and the proposal's segment cost."""
    return interleaved_runs(store, args, out, {"runs": (cache, code)}, n)["runs"]


def interleaved_runs(
    store: Path, args: list[str], out: Path, arms: dict[str, tuple[bool, Path]], n: int
) -> dict[str, tuple[float, float, float]]:
    """For each arm ``label: (cache on, checkout)``: median wall and CPU seconds of ``n``
    runs and the proposal's segment cost. The arms take turns, run by run, so a burst of
    load on this shared machine falls on all of them rather than on one arm's runs."""
    walls: dict[str, list[float]] = {label: [] for label in arms}
    cpus: dict[str, list[float]] = {label: [] for label in arms}
    capexes: dict[str, float] = {}
    for _ in range(n):
        for label, (cache, code) in arms.items():
            wall, _, _ = trazo(store, *args, "--out", str(out), "--replace", cache=cache, code=code)
            walls[label].append(wall)
            cpus[label].append(CPU[-1])
            capexes[label] = capex(out)
    return {
        label: (statistics.median(walls[label]), statistics.median(cpus[label]), capexes[label])
        for label in arms
    }


# ---------------------------------------------------------------------------- bundled


TARGETS_S = {
    "route Villahermosa - Cancún": 1.0,
    "backbone, 17 Tabasco seats": 1.5,
    "last mile, Tabasco >= 250": 3.0,
}
"""Issue 12's wall-time targets for the warm bundled commands, in seconds."""


def bundled(repeats: int, before: Path | None) -> None:
    """Warm commands against the cache-off path and, given ``before``, an earlier checkout."""
    from layers.bundle import load_bundle
    from layers.store import Store

    with tempfile.TemporaryDirectory(prefix="trazo-bench-") as tmp:
        store = Path(tmp) / "store.gpkg"
        print("loading the bundled layers ...", flush=True)
        load_bundle(Store(store), ROOT / "data")
        commands = {
            "route Villahermosa - Cancún": [
                "plan", "route", "--from", "Villahermosa, Tabasco", "--to", "Cancún",
            ],
            "backbone, 17 Tabasco seats": ["plan", "backbone", "--terminals", TABASCO_SEATS],
            "last mile, Tabasco >= 250": [
                "plan", "last-mile", "--area", "Tabasco", "--min-population", "250",
            ],
        }  # fmt: skip
        for task, args in commands.items():
            out = Path(tmp) / "proposal.geojson"
            target = f"target <= {TARGETS_S[task]:.1f} s wall"
            trazo(store, *args, "--out", str(out), "--replace")  # cold: builds the cache
            arms = {"ours": (True, ROOT), "cache off": (False, ROOT)}
            if before is not None:
                trazo(store, *args, "--out", str(out), "--replace", code=before)  # its cache
                arms["before"] = (True, before)
            found = interleaved_runs(store, args, out, arms, repeats)
            ours, ours_cpu, ours_capex = found["ours"]
            if before is not None:
                old, old_cpu, old_capex = found["before"]
                same = math.isclose(ours_capex, old_capex, rel_tol=1e-9)
                row(task, "bundled, warm", ours, old, f"wall s vs before; {target}")
                note = f"same segment cost as before: {same} (USD {ours_capex:,.2f})"
                row(task, "bundled, warm", ours_cpu, old_cpu, f"CPU s vs before; {note}")
            base, base_cpu, base_capex = found["cache off"]
            same = math.isclose(ours_capex, base_capex, rel_tol=1e-9)
            row(task, "bundled", ours, base, f"wall s vs cache off; {target}")
            note = f"same segment cost as cache off: {same} (USD {ours_capex:,.2f})"
            row(task, "bundled", ours_cpu, base_cpu, f"CPU s vs cache off; {note}")
        route_search(store)
    baseline = "cache off (TRAZO_PLANNING_CACHE=false)"
    if before is not None:
        baseline = f"the checkout before ({before.name}), warm, and {baseline}"
    print_table(f"Bundled data: warm CLI vs {baseline}; {load_average()}")


def load_average() -> str:
    """The machine's load average: wall times on a shared machine depend on it."""
    one, five, fifteen = os.getloadavg()
    cores = os.cpu_count()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min), {cores} cores"


def route_search(store: Path, pairs: int = 60, seed: int = 7, repeats: int = 5) -> None:
    """Per-route search through the planner's call vs networkx on the same priced graph.

    Timed as :mod:`timeit` times: both are warmed up first (the planner's first search in a
    process runs interpreted, its second loads the compiled kernels), each pair is timed
    ``repeats`` times each way, alternating, with the garbage collector off, and the best
    time of each is kept. A single sub-millisecond sample is at the mercy of whatever else
    the machine does (a context switch, a collection of the whole heap started by the
    other side's allocations), which moved the ratio of medians between 10x and 25x from
    run to run; the best of a few is the time of the call itself. The table gives the
    median over pairs and the ratio of medians.
    """
    import gc

    import networkx as nx

    from layers.store import Store
    from planner.search.route_search import shortest_route
    from usecases.context import planning_context

    graph = planning_context(Store(store)).network.graph
    rng = np.random.default_rng(seed)
    nodes = np.array(list(graph.nodes))
    for _ in range(2):  # the interpreted first search, then the compiled kernels' load
        shortest_route(graph, int(nodes[0]), int(nodes[1]), "cost_usd")
    ours: list[float] = []
    base: list[float] = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        while len(ours) < pairs:
            s, t = (int(x) for x in rng.choice(nodes, 2, replace=False))
            try:
                cost_b, _ = nx.bidirectional_dijkstra(graph, s, t, weight="cost_usd")
            except nx.NetworkXNoPath:
                continue
            route = shortest_route(graph, s, t, "cost_usd")
            assert math.isclose(route.cost, cost_b, rel_tol=1e-9), (route.cost, cost_b)
            best_ours = best_base = math.inf
            for _ in range(repeats):
                start = time.perf_counter()
                nx.bidirectional_dijkstra(graph, s, t, weight="cost_usd")
                best_base = min(best_base, time.perf_counter() - start)
                start = time.perf_counter()
                shortest_route(graph, s, t, "cost_usd")
                best_ours = min(best_ours, time.perf_counter() - start)
            ours.append(best_ours)
            base.append(best_base)
    finally:
        if enabled:
            gc.enable()
    size = f"{graph.number_of_edges():,} edges"
    slowest = max(b / o for o, b in zip(ours, base, strict=True))
    fastest = min(b / o for o, b in zip(ours, base, strict=True))
    row(
        "route search, planner's call (median)",
        size,
        statistics.median(ours),
        statistics.median(base),
        f"s; vs networkx bidirectional Dijkstra, same costs; {pairs} pairs, best of "
        f"{repeats} each; per pair {fastest:.1f}x to {slowest:.1f}x; target >= 10x",
    )


# ---------------------------------------------------------------------------- synthetic


def road_layer(segments: int, seed: int = 11) -> tuple[object, tuple[str, str]]:
    """A seeded road-like layer of ``segments`` three-point lines, and two far places.

    A square grid of streets 0.005° apart near Mexico City, each street one segment whose
    interior is jittered by up to 0.001° (so it is not straight), 10% of streets removed,
    classes by position: every 20th row and column a primary road, every 100th a motorway,
    the rest local streets, 5% of them unpaved.
    """
    import geopandas as gpd
    import shapely

    side = math.isqrt(int(segments / 1.8)) + 2  # 2 side^2 streets, 90% of them kept
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    lon = -99.9 + j * 0.005
    lat = 19.0 + i * 0.005
    horizontal = (
        lon[:, :-1].ravel(),
        lat[:, :-1].ravel(),
        lon[:, 1:].ravel(),
        lat[:, 1:].ravel(),
        i[:, :-1].ravel(),
    )
    vertical = (
        lon[:-1, :].ravel(),
        lat[:-1, :].ravel(),
        lon[1:, :].ravel(),
        lat[1:, :].ravel(),
        j[:-1, :].ravel(),
    )
    x0, y0, x1, y1, line = (np.concatenate(pair) for pair in zip(horizontal, vertical, strict=True))
    keep = np.flatnonzero(rng.random(x0.size) > 0.10)[:segments]  # exactly `segments`
    x0, y0, x1, y1, line = x0[keep], y0[keep], x1[keep], y1[keep], line[keep]
    mx = (x0 + x1) / 2 + rng.uniform(-0.001, 0.001, x0.size) * (y0 != y1)
    my = (y0 + y1) / 2 + rng.uniform(-0.001, 0.001, x0.size) * (x0 != x1)
    coords = np.stack(
        [np.column_stack([x0, y0]), np.column_stack([mx, my]), np.column_stack([x1, y1])], axis=1
    )
    geometry = shapely.linestrings(coords)
    road_class = np.where(line % 100 == 0, "motorway", np.where(line % 20 == 0, "primary", "local"))
    road_class = np.where(
        (road_class == "local") & (rng.random(x0.size) < 0.05), "unpaved", road_class
    )
    frame = gpd.GeoDataFrame(
        {"row_type": "highway", "road_class": road_class}, geometry=geometry, crs="EPSG:4326"
    )
    far = (
        f"{-99.9 + 0.0025:.4f},{19.0 + 0.0025:.4f}",
        f"{lon[-1, -1] - 0.0025:.4f},{lat[-1, -1] - 0.0025:.4f}",
    )
    return frame, far


def synthetic(segments: int, before: Path | None = None) -> None:
    """Load the synthetic layer, build cold and route warm; ``before``: an earlier
    checkout whose cold build (its own cache entry) runs as a same-run baseline."""
    with tempfile.TemporaryDirectory(prefix="trazo-bench-") as tmp:
        start = time.perf_counter()
        frame, (origin, destination) = road_layer(segments)
        layer = Path(tmp) / "roads.fgb"
        frame.to_file(layer, driver="FlatGeobuf")  # type: ignore[attr-defined]
        n = len(frame)  # type: ignore[arg-type]
        del frame
        print(f"  generated {n:,} segments in {time.perf_counter() - start:.1f} s", flush=True)
        store = Path(tmp) / "store.gpkg"
        size = f"{n:,} segments"
        millions = n / 1e6
        load, load_peak, _ = trazo(store, "layers", "load", str(layer), "--kind", "rights_of_way")
        load_cpu = CPU[-1]
        row("load the layer (trazo layers load)", size, load, None, f"s; peak {load_peak:,.0f} MB")
        route = ["plan", "route", f"--from={origin}", f"--to={destination}"]
        cold, cold_peak, _ = trazo(store, *route, "--out", str(Path(tmp) / "ours.geojson"))
        cold_cpu = CPU[-1]
        old: tuple[float, float, float] | None = None
        if before is not None:
            # the earlier code's key differs (the code is hashed into it): its own cold build
            theirs = Path(tmp) / "before.geojson"
            wall, old_peak, _ = trazo(store, *route, "--out", str(theirs), "--replace", code=before)
            old = (wall, old_peak, CPU[-1])
            ours_usd, old_usd = capex(Path(tmp) / "ours.geojson"), capex(theirs)
            same = math.isclose(ours_usd, old_usd, rel_tol=1e-9)
            print(f"  route USD {ours_usd:,.2f}, before {old_usd:,.2f}: same {same}", flush=True)
        warm: list[float] = []
        warm_cpu: list[float] = []
        warm_peak = 0.0
        for _ in range(3):
            wall, peak, _ = trazo(store, *route, "--replace")
            warm.append(wall)
            warm_cpu.append(CPU[-1])
            warm_peak = max(warm_peak, peak)
        # a warm route's peak is what a process holds whatever it builds (imports, the
        # mapped network it touches, the route): the build's own memory is the rest
        per = f"{(cold_peak - warm_peak) / millions:,.0f} MB per million segments over warm"
        row(
            "first build + route (cold)",
            size,
            cold,
            old[0] if old else None,
            f"wall s; peak {cold_peak:,.0f} MB ({per})"
            + (
                f"; before {old[1]:,.0f} MB ({(old[1] - warm_peak) / millions:,.0f} per million)"
                if old
                else ""
            ),
        )
        row("first build + route (cold)", size, cold_cpu, old[2] if old else None, "CPU s")
        peak = max(load_peak, cold_peak)
        row("load + first build", size, load + cold, None, f"wall s; peak {peak:,.0f} MB")
        row("load + first build", size, load_cpu + cold_cpu, None, "CPU s (user+system)")
        note = f"wall s vs cold; peak {warm_peak:,.0f} MB; target <= 1.5 s"
        row("route, warm (median of 3)", size, statistics.median(warm), cold, note)
        row("route, warm (median of 3)", size, statistics.median(warm_cpu), cold_cpu, "CPU s")
        if before is not None:
            # the earlier checkout warm on its own cache entry: same route, segment by segment
            old_warm: list[float] = []
            old_cpu: list[float] = []
            old_peak = 0.0
            ours_out, theirs = Path(tmp) / "ours.geojson", Path(tmp) / "before.geojson"
            for i in range(3):
                wall, peak, _ = trazo(store, *route, "--out", str(theirs), "--replace", code=before)
                old_warm.append(wall)
                old_cpu.append(CPU[-1])
                old_peak = max(old_peak, peak)
                if i == 0:
                    trazo(store, *route, "--out", str(ours_out), "--replace")
            same = _segments(ours_out) == _segments(theirs)
            note = f"wall s vs before, warm; before peak {old_peak:,.0f} MB; same segments: {same}"
            row(
                "route, warm (median of 3)",
                size,
                statistics.median(warm),
                statistics.median(old_warm),
                note,
            )
            row(
                "route, warm (median of 3)",
                size,
                statistics.median(warm_cpu),
                statistics.median(old_cpu),
                "CPU s vs before, warm",
            )
        cache = sum(p.stat().st_size for p in (Path(tmp) / "store.cache").rglob("*") if p.is_file())
        both = " (both versions' entries)" if before else ""
        print(f"  cache beside the store{both}: {cache / 1e6:,.0f} MB", flush=True)
    baseline = f"the checkout before ({before.name})" if before else "the cold first build"
    print_table(f"Synthetic road layer, {n:,} segments (baseline: {baseline}); {load_average()}")


# ---------------------------------------------------------------------------- service


def _load_bench() -> Any:
    """``bench/load.py`` as a module (its server harness)."""
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _pss_kib(load: Any, pid: int) -> int:
    """Proportional memory (PSS, KiB) of the server and its job workers.

    Resident memory (RSS) counts a page that several processes map once in each of them:
    a network the workers share through the page cache would be counted once per worker.
    PSS splits each shared page among the processes that map it, so the sum is the memory
    the service really holds.
    """
    total = 0
    for process in [pid, *load.children(pid)]:
        try:
            text = Path(f"/proc/{process}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total


def _jobs(load: Any, server: Any, pairs: list[tuple[str, str]]) -> tuple[list[float], float]:
    """Submit route jobs for ``pairs`` at once; (seconds each, peak MiB of server+workers)."""
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _pss_kib(load, server.process.pid) / 1024)
            time.sleep(0.05)

    seconds: list[float] = [math.nan] * len(pairs)

    def route(i: int, origin: str, destination: str) -> None:
        started = time.perf_counter()
        body = {"from": origin, "to": destination}
        status, answer = load.request(server.port, "POST", "/proposals/route", body, 600)
        if status not in (200, 202):
            raise RuntimeError(f"route job refused: {status} {answer[:300]!r}")
        job = json.loads(answer)["job_id"]
        while True:
            status, answer = load.request(server.port, "GET", f"/jobs/{job}")
            state = json.loads(answer)["status"]
            if state in ("succeeded", "failed"):
                if state == "failed":
                    raise RuntimeError(f"route job failed: {answer[:300]!r}")
                seconds[i] = time.perf_counter() - started
                return
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=route, args=(i, o, d)) for i, (o, d) in enumerate(pairs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    sampler.join()
    return seconds, peak[0]


def _service_runs(
    load: Any, store: Path, tmp: Path, code: Path, pairs: list[tuple[str, str]]
) -> tuple[float, float, float]:
    """(peak MiB one cold job, peak MiB ten cold jobs, p50 s of 20 warm jobs)."""
    cache = store.with_suffix(".cache")
    peaks = []
    for count in (1, 10):
        shutil.rmtree(cache, ignore_errors=True)
        server = load.Server(store, tmp, code=code)
        try:
            _, peak = _jobs(load, server, (pairs * 10)[:count])
        finally:
            server.stop()
        peaks.append(peak)
    server = load.Server(store, tmp, code=code)
    try:
        _jobs(load, server, pairs[:2])  # each job worker loads the network once
        warm: list[float] = []
        for i in range(20):
            seconds, _ = _jobs(load, server, [pairs[i % len(pairs)]])
            warm.extend(seconds)
    finally:
        server.stop()
    return peaks[0], peaks[1], statistics.median(warm)


def service(segments: int | None, before: Path | None) -> None:
    """Service memory and warm route jobs; ``before``: the earlier checkout as baseline."""
    load = _load_bench()
    with tempfile.TemporaryDirectory(prefix="trazo-bench-") as tmp:
        folder = Path(tmp)
        if segments is None:
            print("building the store (bundled layers) ...", flush=True)
            store, _ = load.build_store(folder)
            pairs = load.ROUTES[:5]
            size = "bundled (states, highways, railways, localities)"
        else:
            frame, far = road_layer(segments)
            layer = folder / "roads.fgb"
            frame.to_file(layer, driver="FlatGeobuf")  # type: ignore[attr-defined]
            del frame
            store = folder / "store.gpkg"
            trazo(store, "layers", "load", str(layer), "--kind", "rights_of_way")
            a, b = far
            pairs = [(a, b), (b, a)]
            size = f"{segments:,} segments"
        checkouts = {"ours": ROOT, **({"before": before} if before is not None else {})}
        found = {}
        for label, code in checkouts.items():
            print(f"  service runs, {label} ...", flush=True)
            found[label] = _service_runs(load, store, folder, code, pairs)
            one, ten, p50 = found[label]
            print(f"    {label}: one cold {one:,.0f} MiB, ten cold {ten:,.0f} MiB, p50 {p50:.3f} s")
    one, ten, p50 = found["ours"]
    old = found.get("before")
    row(
        "warm route job p50 (submission to result)",
        size,
        p50,
        old[2] if old else None,
        "s; target <= 0.3 s at 1 M segments",
    )
    row(
        "peak memory, one cold route job",
        size,
        one,
        old[0] if old else None,
        "MiB PSS, server + job workers",
    )
    row(
        "peak memory, ten cold route jobs at once",
        size,
        ten,
        old[1] if old else None,
        f"MiB; {ten / one:.2f}x one job (target <= 1.3x)"
        + (f"; before {old[1] / old[0]:.2f}x" if old else ""),
    )
    print_table(f"Service (job workers: processes); baseline: {before or 'none'}; {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["bundled", "synthetic", "service"])
    parser.add_argument("--repeats", type=int, default=3, help="runs per CLI timing (median)")
    parser.add_argument("--segments", type=int, default=None, help="default 1,000,000")
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of an earlier version (git worktree add DIR COMMIT): its warm "
        "commands run as a second same-run baseline, on this checkout's environment",
    )
    args = parser.parse_args()
    if args.part == "bundled":
        bundled(args.repeats, args.before)
    elif args.part == "service":
        service(args.segments, args.before)
    else:
        synthetic(args.segments or 1_000_000, args.before)


if __name__ == "__main__":
    main()
