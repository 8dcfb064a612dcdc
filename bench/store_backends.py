"""Benchmark the two store backends on one workload: GeoPackage (baseline) and PostGIS.

Plain script, not a test: ``python bench/store_backends.py`` starts a throwaway PostGIS
cluster the way the tests do (needs ``.ci/install-postgis.sh``), or give an existing one
with ``--postgres postgresql://user@host/db`` (a schema ``trazo_bench`` is created there
and dropped after). Prints one table; both backends run in the same process, in turn.

Workload
--------
1. **Load the bundle**: every layer of ``data/manifest.toml`` through the full ingest
   (validation, reprojection, store write), as ``make demo`` does.
2. **OGC page reads**: ``GET /collections/localities/items`` on the real app (TestClient),
   ``--reads`` requests each: pages of 100 at random offsets over the 189,432 localities,
   and bbox pages (a random 0.5° box over southern Mexico). p50 and p95 in ms.
3. **Concurrent writers**: ``--writers`` threads, each with its own store object, replace
   layers ``--rounds`` times: all the same layer (they serialise), then one layer each
   (PostGIS writes them at once; a GeoPackage has one writer at a time). Replaced layer:
   the bundle's ``highways`` (844 lines). Wall time and failures.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from api.settings import ServiceSettings, StoreSettings  # noqa: E402
from layers.bundle import load_bundle  # noqa: E402
from layers.kinds import LayerKind  # noqa: E402
from layers.report import ValidationReport  # noqa: E402
from layers.store_api import LayerStore  # noqa: E402
from layers.stores import open_store  # noqa: E402


@contextlib.contextmanager
def postgis(url: str | None) -> Iterator[str]:
    """A PostGIS URL with a fresh schema: the given server, or a throwaway cluster."""
    import psycopg

    if url is None:
        from postgis_cluster import running_cluster

        with running_cluster() as started:
            yield f"{started}&schema=trazo_bench"
        return
    joiner = "&" if "?" in url else "?"
    try:
        yield f"{url}{joiner}schema=trazo_bench"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS trazo_bench CASCADE")


def timed_load(store: LayerStore) -> float:
    start = time.perf_counter()
    load_bundle(store, ROOT / "data")
    return time.perf_counter() - start


def page_reads(location: str, work: Path, reads: int, seed: int) -> dict[str, list[float]]:
    """Milliseconds per OGC items request, by request type."""
    rng = random.Random(seed)
    app = create_app(
        ServiceSettings(mode="development", max_items_per_page=1000),
        StoreSettings(store=location, work_dir=work),
    )
    times: dict[str, list[float]] = {"page": [], "bbox": []}
    with TestClient(app) as client:
        client.get("/collections/localities/items?limit=1")  # warm caches and pools
        for _ in range(reads):
            offset = rng.randrange(0, 189_000)
            lon, lat = rng.uniform(-105.0, -88.0), rng.uniform(15.0, 21.0)
            for kind, url in (
                ("page", f"/collections/localities/items?limit=100&offset={offset}"),
                (
                    "bbox",
                    f"/collections/localities/items?limit=100&bbox={lon},{lat},"
                    f"{lon + 0.5},{lat + 0.5}",
                ),
            ):
                start = time.perf_counter()
                response = client.get(url)
                times[kind].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
    return times


def writers(location: str, work: Path, count: int, rounds: int, same: bool) -> tuple[float, int]:
    """Wall seconds for ``count`` threads replacing layers ``rounds`` times; failures."""
    source = open_store(location, work_dir=work)
    frame = source.read("highways")
    source.close()
    report = ValidationReport("highways", "rights_of_way", "bench", "GPKG", "EPSG:4326")
    failures: list[BaseException] = []

    def write(index: int) -> None:
        store = open_store(location, work_dir=work)
        name = "highways" if same else f"highways_w{index}"
        try:
            for _ in range(rounds):
                store.write_layer(name, LayerKind.RIGHTS_OF_WAY, frame, report, replace=True)
        except BaseException as exc:  # counted and shown
            failures.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(count)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, len(failures)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="an existing PostGIS database URL")
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder, postgis(args.postgres) as pg_url:
        locations = {"GeoPackage": str(Path(folder) / "store.gpkg"), "PostGIS": pg_url}
        for backend, location in locations.items():
            work = Path(folder) / f"{backend}-work"
            row: dict[str, Any] = {}
            store = open_store(location, work_dir=work)
            print(f"{backend}: loading the bundle...", file=sys.stderr)
            row["load"] = timed_load(store)
            store.close()
            print(f"{backend}: page reads...", file=sys.stderr)
            times = page_reads(location, work, args.reads, args.seed)
            row["page p50"], row["page p95"] = pct(times["page"], 0.5), pct(times["page"], 0.95)
            row["bbox p50"], row["bbox p95"] = pct(times["bbox"], 0.5), pct(times["bbox"], 0.95)
            print(f"{backend}: concurrent writers...", file=sys.stderr)
            row["same layer"] = writers(location, work, args.writers, args.rounds, same=True)
            row["own layers"] = writers(location, work, args.writers, args.rounds, same=False)
            results[backend] = row

    base, pg = results["GeoPackage"], results["PostGIS"]
    writes = args.writers * args.rounds
    print(
        f"\nStore backends, same workload (GeoPackage is the same-run baseline); "
        f"{args.reads} reads of each kind, {args.writers} writers x {args.rounds} replaces"
    )
    print(f"{'measure':<44} {'GeoPackage':>12} {'PostGIS':>12} {'PG / GPKG':>10}")
    rows = [
        ("load the bundle (12 layers), s", base["load"], pg["load"]),
        ("OGC items page of 100 at offset, p50 ms", base["page p50"], pg["page p50"]),
        ("OGC items page of 100 at offset, p95 ms", base["page p95"], pg["page p95"]),
        ("OGC items bbox page of 100, p50 ms", base["bbox p50"], pg["bbox p50"]),
        ("OGC items bbox page of 100, p95 ms", base["bbox p95"], pg["bbox p95"]),
        (f"{writes} replaces of one layer, wall s", base["same layer"][0], pg["same layer"][0]),
        (f"{writes} replaces of own layers, wall s", base["own layers"][0], pg["own layers"][0]),
    ]
    for label, left, right in rows:
        print(f"{label:<44} {left:>12.2f} {right:>12.2f} {right / left:>10.2f}")
    fails = (
        base["same layer"][1] + base["own layers"][1],
        pg["same layer"][1] + pg["own layers"][1],
    )
    print(f"{'failed writes':<44} {fails[0]:>12} {fails[1]:>12}")


if __name__ == "__main__":
    main()
