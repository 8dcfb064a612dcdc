"""Benchmark attaching localities to the network against an earlier version of the code.

Plain script, not a test. ``python bench/attach.py [--before COMMIT] [--repeats N]``

The bundled Mexican layers go into a temporary store. Each code path — this checkout and
``--before`` (a commit, extracted with ``git archive`` into a temporary folder; by default
the last commit before attaching was vectorised) — runs in its own fresh process on this
checkout's environment and:

- attaches the localities of 250 people or more of Tabasco and of the whole country to a
  copy of the warm network (:func:`planner.network.planning_network.attach_places`),
  ``--repeats`` times, reporting the median wall and CPU seconds and a digest of the graph
  it made (every node and edge with its values): the digests must be equal;
- runs ``trazo plan last-mile --area Tabasco`` as a fresh process, warm (planning cache
  built first), median wall and CPU seconds of ``--repeats`` runs, and its segment cost.

The machine may be shared: the table gives both paths from the same run, their ratio and
the load average.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from roads import CPU, ROOT, load_average, median_runs, print_table, row, trazo

BEFORE = "80f66ff"
"""The last commit before attaching was vectorised (its Land was also not re-prepared when
read back from the planning cache)."""

ATTACH = r"""
import hashlib, json, statistics, sys, time
from pathlib import Path

import numpy as np
import shapely

from layers.store import Store
from planner.network.places import Place
from planner.network.planning_network import attach_places
from usecases.context import planning_context, stored_localities
from usecases.last_mile import area_localities

store, area, repeats = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
context = planning_context(Store(store))
if area == "all":
    inside = stored_localities(context.localities)
else:
    inside = area_localities(area, context)[1]
inside = inside[inside["population"] >= 250]
anchor = shapely.point_on_surface(np.asarray(inside.geometry.values, dtype=object))
places = [
    Place(name=str(name), lon=float(x), lat=float(y), kind="locality")
    for name, x, y in zip(inside["name"], shapely.get_x(anchor), shapely.get_y(anchor))
]


def digest(graph, nodes):
    def value(v):
        return v.wkb_hex if isinstance(v, shapely.Geometry) else repr(v)

    edges = sorted(
        repr((str(u), str(v), str(k), sorted((n, value(x)) for n, x in d.items())))
        for u, v, k, d in graph.edges(keys=True, data=True)
    )
    points = sorted(
        repr((str(n), sorted((a, repr(x)) for a, x in d.items())))
        for n, d in graph.nodes(data=True)
    )
    text = repr((edges, points, [str(n) for n in nodes]))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


walls, cpus, digests = [], [], set()
for _ in range(repeats):
    network = context.network.copy()
    wall, cpu = time.perf_counter(), time.process_time()
    nodes = attach_places(network, places)
    walls.append(time.perf_counter() - wall)
    cpus.append(time.process_time() - cpu)
    digests.add(digest(network.graph, nodes))
print(json.dumps({
    "places": len(places),
    "wall": statistics.median(walls),
    "cpu": statistics.median(cpus),
    "digests": sorted(digests),
}))
"""


@dataclass(frozen=True)
class Attached:
    """One code path's attachment of an area: median seconds and the graph's digest."""

    places: int
    wall: float
    cpu: float
    digests: list[str]


def attach_run(code: Path, store: Path, area: str, repeats: int) -> Attached:
    """Attach ``area``'s localities with the code at ``code``; its timings and digest."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAZO_")}
    env["PYTHONPATH"] = str(code)
    done = subprocess.run(
        [sys.executable, "-c", ATTACH, str(store), area, str(repeats)],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"attaching {area} with {code} failed:\n{done.stderr}")
    return Attached(**json.loads(done.stdout.strip().splitlines()[-1]))


def checkout(commit: str, folder: Path) -> Path:
    """The project's files at ``commit``, extracted into ``folder``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True
    ).stdout
    folder.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help=f"baseline commit (default {BEFORE})")
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing (median)")
    args = parser.parse_args()

    from layers.bundle import load_bundle
    from layers.store import Store

    with tempfile.TemporaryDirectory(prefix="trazo-bench-attach-") as tmp:
        store = Path(tmp) / "store.gpkg"
        print("loading the bundled layers ...", flush=True)
        load_bundle(Store(store), ROOT / "data")
        before = checkout(args.before, Path(tmp) / "before")
        for code in (ROOT, before):  # each version builds its own planning cache entry
            attach_run(code, store, "Tabasco", 1)
        for area, label in (("Tabasco", "Tabasco"), ("all", "Mexico")):
            ours = attach_run(ROOT, store, area, args.repeats)
            old = attach_run(before, store, area, args.repeats)
            same = ours.digests == old.digests and len(ours.digests) == 1
            size = f"{ours.places:,} localities >= 250"
            task = f"attach, {label}"
            row(task, size, ours.wall, old.wall, "wall s")
            note = f"CPU s; same graph (every node and edge): {same}"
            row(task, size, ours.cpu, old.cpu, note)
        args_cli = ["plan", "last-mile", "--area", "Tabasco", "--min-population", "250"]
        out = Path(tmp) / "proposal.geojson"
        for code in (ROOT, before):  # cold: builds the planning cache
            trazo(store, *args_cli, "--out", str(out), "--replace", code=code)
        ours_wall, ours_cpu, ours_capex = median_runs(store, args_cli, out, True, args.repeats)
        old_wall, old_cpu, old_capex = median_runs(store, args_cli, out, True, args.repeats, before)
        same = math.isclose(ours_capex, old_capex, rel_tol=1e-9)
        task, size = "trazo plan last-mile --area Tabasco", "warm, fresh process"
        row(task, size, ours_wall, old_wall, "wall s (issue 12 target <= 3 s)")
        note = f"CPU s; same segment cost: {same} (USD {ours_capex:,.2f})"
        row(task, size, ours_cpu, old_cpu, note)
        del CPU[:]
    print_table(f"Attaching localities: this checkout vs {args.before}; {load_average()}")


if __name__ == "__main__":
    main()
