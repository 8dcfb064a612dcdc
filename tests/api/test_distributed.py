"""National runs on a real dask LocalCluster (2 worker processes) against the serial run.

The store holds two states side by side: Oeste (cve_ent 07) from 94 W to 93 W and Este
(cve_ent 27) from 93 W to 92 W, both 17-18 N. An existing leasable fiber runs along 17.5 N
from 93.8 W to 92.2 W and two highways go north from it. Localities (nobody connected):

========  ==========  =========  ===========================================
name      people      where      partition
========  ==========  =========  ===========================================
Uno       5,000       93.5 W     07
Dos       800         93.7 W     07
Linde     1,000       93.0 W     07 (on the shared border: the lower code)
Tres      3,000       92.5 W     27
Cuatro    400         92.3 W     27
Mini      100         92.4 W     27, below the 250 threshold
Fuera     2,000       91.5 W     in no state: left out
========  ==========  =========  ===========================================

So at 250 people: 07 has 3 localities with 6,800 people, 27 has 2 (plus Mini) with 3,400,
and a national plan serving everyone covers 10,200 people in 5 localities.
"""

from __future__ import annotations

import importlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from dask_tasks import die_once, fail_in_27, note_start
from fastapi.testclient import TestClient
from shapely import LineString, Point, box
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.settings import DistributedSettings, JobSettings, ServiceSettings, StoreSettings
from layers.errors import PartitionFailedError
from layers.ingest import ingest
from layers.store import Store
from planner.proposals.formats import proposal_to_geojson
from planner.proposals.proposal import Proposal
from usecases.national import (
    NationalRequest,
    dask_client,
    national_partitions,
    plan_national_last_mile,
    run_partitions,
    state_label,
)

# dask LocalClusters of worker processes, each running national plans.
pytestmark = pytest.mark.slow

runner = CliRunner()
CRS = "EPSG:4326"
PEOPLE_07 = 5000 + 800 + 1000
PEOPLE_27 = 3000 + 400


def _layers() -> list[tuple[str, str, gpd.GeoDataFrame]]:
    return [
        (
            "states",
            "states",
            gpd.GeoDataFrame(
                {"cve_ent": ["27", "07"], "name": ["Este", "Oeste"]},
                geometry=[box(-93.0, 17.0, -92.0, 18.0), box(-94.0, 17.0, -93.0, 18.0)],
                crs=CRS,
            ),
        ),
        (
            "municipalities",
            "municipalities",
            gpd.GeoDataFrame(
                {
                    "cvegeo": ["27001", "07001"],
                    "name": ["Centro Este", "Centro Oeste"],
                    "cve_ent": ["27", "07"],
                    "state": ["Este", "Oeste"],
                },
                geometry=[box(-93.0, 17.0, -92.0, 18.0), box(-94.0, 17.0, -93.0, 18.0)],
                crs=CRS,
            ),
        ),
        (
            "fiber",
            "fiber_routes",
            gpd.GeoDataFrame(
                {"operator": ["Op"], "status": ["existing"], "lease_available": [True]},
                geometry=[LineString([(-93.8, 17.5), (-92.2, 17.5)])],
                crs=CRS,
            ),
        ),
        (
            "roads",
            "rights_of_way",
            gpd.GeoDataFrame(
                {"row_type": ["highway", "highway"]},
                geometry=[
                    LineString([(-93.5, 17.5), (-93.5, 17.9)]),
                    LineString([(-92.5, 17.5), (-92.5, 17.9)]),
                ],
                crs=CRS,
            ),
        ),
        (
            "localities",
            "localities",
            gpd.GeoDataFrame(
                {
                    "name": ["Uno", "Dos", "Linde", "Tres", "Cuatro", "Mini", "Fuera"],
                    "population": [5000, 800, 1000, 3000, 400, 100, 2000],
                    "connected": [False] * 7,
                },
                geometry=[
                    Point(-93.5, 17.9),
                    Point(-93.7, 17.6),
                    Point(-93.0, 17.7),
                    Point(-92.5, 17.9),
                    Point(-92.3, 17.6),
                    Point(-92.4, 17.3),
                    Point(-91.5, 17.5),
                ],
                crs=CRS,
            ),
        ),
    ]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("national")
    store = Store(folder / "store.gpkg")
    for name, kind, frame in _layers():
        path = folder / f"{name}.geojson"
        frame.to_file(path, driver="GeoJSON")
        ingest(store, path, kind, name=name)
    return store


@pytest.fixture(scope="module")
def client() -> Any:
    with dask_client(workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def serial(store: Store) -> Proposal:
    return plan_national_last_mile(store, None, min_population=250)


def _comparable(proposal: Proposal) -> dict[str, Any]:
    document = proposal_to_geojson(proposal)
    document["proposal"].pop("created_at")
    return document


def test_partitions_follow_state_codes_and_the_lower_code_takes_the_border(store: Store) -> None:
    partitions, outside = national_partitions(store)
    assert [(p.cve_ent, p.name, len(p.rows)) for p in partitions] == [
        ("07", "Oeste", 3),
        ("27", "Este", 3),
    ]
    assert outside == 1


def test_serial_run_merges_every_state(serial: Proposal) -> None:
    states = serial.parameters["states"]
    assert [s["cve_ent"] for s in states] == ["07", "27"]
    assert [s["people_covered"] for s in states] == [PEOPLE_07, PEOPLE_27]
    assert serial.people_covered == PEOPLE_07 + PEOPLE_27
    assert serial.parameters["localities_served"] == 5
    assert serial.parameters["localities_outside_states"] == 1
    names = {r["name"] for r in serial.parameters["localities"]}
    assert names == {"Uno", "Dos", "Linde", "Tres", "Cuatro"}
    capex = sum(s.cost_usd for s in serial.segments) + sum(serial.node_costs_usd.values())
    standalone = sum(s["capex_usd"] for s in states)
    assert capex <= standalone + 1e-6  # a trench two states share is paid once


def test_local_cluster_gives_the_serial_proposal(
    store: Store, client: Any, serial: Proposal
) -> None:
    seen: list[tuple[int, int, str]] = []
    distributed = plan_national_last_mile(
        store, None, min_population=250, client=client, progress=lambda *a: seen.append(a)
    )
    assert _comparable(distributed) == _comparable(serial)
    assert sorted(done for done, _, _ in seen) == [1, 2]
    assert {total for _, total, _ in seen} == {2}
    assert {last for _, _, last in seen} == {"07 Oeste", "27 Este"}


def test_a_killed_worker_is_retried_and_the_result_is_unchanged(
    store: Store, client: Any, serial: Proposal, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    partitions, _ = national_partitions(store)
    request = NationalRequest(store, None, 250)
    results = run_partitions(client, die_once, partitions, request, str(marker), label=state_label)
    killed = int(marker.read_text(encoding="utf-8"))
    pids = [pid for pid, _ in results]
    assert killed not in pids  # state 27 ran again, on another (or a restarted) worker
    plans = [plan for _, plan in results]
    assert [p.people_covered for p in plans if p is not None] == [PEOPLE_07, PEOPLE_27]


def test_the_largest_partitions_start_first_and_the_smallest_last(
    client: Any, tmp_path: Path
) -> None:
    # six 0.3 s tasks on 2 workers: whatever the order they are listed in, the two
    # largest go first, and the two smallest wait for the others (longest first keeps a
    # big partition from starting last while the other worker idles)
    # both workers up (one may be restarting after the killed-worker test) and with the
    # task's module imported, so no start waits seconds on imports
    client.wait_for_workers(2)
    client.run(importlib.import_module, "dask_tasks")
    log = tmp_path / "starts.txt"
    items = ["a", "b", "c", "d", "e", "f"]
    work = [1.0, 2.0, 3.0, 4.0, 6.0, 5.0]
    assert run_partitions(client, note_start, items, str(log), work=work) == items
    starts = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    started = [item for _, item in sorted((float(at), item) for at, item in starts)]
    assert set(started[:2]) == {"e", "f"}
    assert set(started[-2:]) == {"a", "b"}


@pytest.mark.parametrize("engine", ["serial", "cluster"])
def test_a_failed_partition_names_its_state(store: Store, client: Any, engine: str) -> None:
    partitions, _ = national_partitions(store)
    request = NationalRequest(store, None, 250)
    with pytest.raises(PartitionFailedError, match="27 Este failed: ValueError: no route"):
        run_partitions(
            client if engine == "cluster" else None,
            fail_in_27,
            partitions,
            request,
            label=state_label,
        )


@pytest.fixture
def cli_store(store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Store:
    monkeypatch.setenv("TRAZO_STORE", str(store.path))
    monkeypatch.delenv("TRAZO_SCHEDULER", raising=False)
    return store


def test_cli_plans_every_state_on_two_workers(cli_store: Store, serial: Proposal) -> None:
    result = runner.invoke(
        app,
        [
            "plan",
            "last-mile",
            "--area",
            "all",
            "--by",
            "state",
            "--workers",
            "2",
            "--name",
            "national",
            "--replace",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2/2" in result.output and "27 Este" in result.output
    stored = cli_store.proposal("national").document
    assert stored["proposal"]["people_covered"] == PEOPLE_07 + PEOPLE_27
    assert len(stored["features"]) == len(_comparable(serial)["features"])


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--area", "Este", "--by", "state"], "plans --area all"),
        (["--area", "all", "--budget", "1000"], "cannot be split between states"),
        (["--area", "Este", "--workers", "2"], "need --area all --by state"),
    ],
)
def test_cli_refuses_what_a_national_run_cannot_do(
    cli_store: Store, args: list[str], shown: str
) -> None:
    result = runner.invoke(app, ["plan", "last-mile", *args])
    assert result.exit_code == 2, result.output
    assert shown in result.output and "Traceback" not in result.output


KEYS = {"p" * 20: "planner"}
PLANNER = {"X-API-Key": "p" * 20}


def national_service(store: Store, scheduler: str | None) -> TestClient:
    """The service on ``store``, its national jobs on ``scheduler`` (None: in the worker)."""
    app = create_app(
        ServiceSettings(mode="production", api_keys=KEYS),  # type: ignore[arg-type]
        StoreSettings(store=str(store.path)),
        jobs=JobSettings(executor="thread", wait_seconds=60),  # type: ignore[arg-type]
        distributed=DistributedSettings(scheduler=scheduler),
    )
    return TestClient(app)


@pytest.fixture
def service(store: Store) -> Iterator[TestClient]:
    with national_service(store, None) as client:
        yield client


def test_http_job_plans_every_state_and_reports_progress(
    service: TestClient, serial: Proposal
) -> None:
    body = {"area": "all", "by": "state", "name": "national_http", "replace": True}
    response = service.post("/proposals/last-mile?wait=true", json=body, headers=PLANNER)
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1.0
    stored = service.get("/proposals/national_http", headers=PLANNER).json()
    assert stored["proposal"]["people_covered"] == PEOPLE_07 + PEOPLE_27
    states = stored["proposal"]["parameters"]["states"]
    assert [s["cve_ent"] for s in states] == ["07", "27"]


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({"area": "Este", "by": "state"}, "by 'state' plans area 'all'"),
        ({"area": "all", "budget_usd": 1000}, "cannot be split between states"),
    ],
)
def test_http_refuses_what_a_national_run_cannot_do(
    service: TestClient, body: dict[str, Any], shown: str
) -> None:
    response = service.post("/proposals/last-mile", json=body, headers=PLANNER)
    assert response.status_code == 422, response.text
    assert shown in response.text


SCENARIOS = {
    "pair": """
name = "pair"
title = "Uno to Tres"
description = "A route across the border."

[[facts]]
text = "A fact."
source = "A source."

[[steps]]
name = "link"
kind = "route"
title = "Uno to Tres"
from = "Uno"
to = "Tres"
""",
    "este": """
name = "este"
title = "Este's last mile"
description = "One state's last mile."

[[facts]]
text = "A fact."
source = "A source."

[[steps]]
name = "access"
kind = "last_mile"
title = "Este"
area = "Este"
min_population = 250
""",
}


def test_scenarios_on_two_workers_match_the_serial_run(cli_store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    for name, text in SCENARIOS.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    figures = {}
    for engine in ("serial", "cluster"):
        extra = ["--workers", "2"] if engine == "cluster" else []
        out = tmp_path / engine
        args = ["scenario", "run", "all", "--dir", str(folder), "--out", str(out), *extra]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        figures[engine] = {
            name: _comparable_document(cli_store.proposal(f"{name}_{step}").document)
            for name, step in (("pair", "link"), ("este", "access"))
        }
    assert figures["cluster"] == figures["serial"]
    # --area Este holds the localities on its edge too: Linde (1,000) joins Este's 3,400
    assert figures["serial"]["este"]["proposal"]["people_covered"] == PEOPLE_27 + 1000


def _comparable_document(document: dict[str, Any]) -> dict[str, Any]:
    document = dict(document)
    document["proposal"] = {k: v for k, v in document["proposal"].items() if k != "created_at"}
    return document


def test_http_job_runs_on_the_scheduler_the_service_was_given(store: Store) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    body = {"area": "all", "by": "state", "name": "national_away", "replace": True}
    with national_service(store, f"tcp://127.0.0.1:{port}") as client:
        response = client.post("/proposals/last-mile?wait=true", json=body, headers=PLANNER)
    job = response.json()
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "scheduler_unreachable"
    assert f"tcp://127.0.0.1:{port}" in job["error"]["message"]
