"""Trace one route request through the service: every hop from the HTTP route to the engine.

Run from the repository root (it builds a two-town store in a temporary folder and runs
the service in this process, its jobs in threads)::

    .venv/bin/python docs/trace_route.py

It prints the call stack at two moments, when the request is handed to the job queue and
when the worker reaches the routing engine, and then every hop on the way: each call made
by a function of ``api/`` (the adapters) or ``usecases/`` (the application layer) to a
function of the project, or to pydantic to (de)serialise the request. Comprehensions and
the store's own record-table calls (``layers/``) are left out. A second request is traced,
after a first one has compiled the engine and built the planning inputs.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ENGINE = "shortest_path_rows"
"""The engine's entry: the compiled bidirectional A* over the CSR snapshot."""
ROUTE_FUNCTION = "submit_route"
"""The FastAPI route function of ``POST /proposals/route``."""
PYDANTIC = frozenset({"model_validate", "model_dump", "model_validate_json", "model_dump_json"})
BOOKKEEPING_CLASSES = ("JobStore.", "JobRunner.", "JobControl.")
BOOKKEEPING_FUNCTIONS = frozenset({"request_hash", "_now", "_job", "job_document"})
"""The job table's and the runner's own calls: recording, starting, reporting progress."""
KEY = {"X-API-Key": "p" * 20}

_state: dict[str, Any] = {"calls": [], "done": False, "task": None, "recording": set()}


def _project(code: CodeType) -> bool:
    path = Path(code.co_filename)
    return path.is_relative_to(REPO) and ".venv" not in path.parts


def _layer(code: CodeType) -> bool:
    """A function of the adapters (api/) or of the application layer (usecases/)."""
    return _project(code) and Path(code.co_filename).relative_to(REPO).parts[0] in {
        "api",
        "usecases",
    }


def _stack(frame: FrameType | None) -> list[CodeType]:
    codes = []
    while frame is not None:
        codes.append(frame.f_code)
        frame = frame.f_back
    return codes


def _profile(frame: FrameType, event: str, arg: object) -> None:
    if event != "call" or _state["done"] or not _state.get("active"):
        return
    code = frame.f_code
    thread = threading.get_ident()
    if code.co_name == ROUTE_FUNCTION and _layer(code):
        _state["recording"] = {thread}
        _state["calls"].append((None, code, 0))
        return
    if code.co_name == "submit" and code.co_filename.endswith("concurrent/futures/thread.py"):
        _state["task"] = frame.f_locals["fn"].__code__
        _state["handover"] = _stack(frame)[1:]
        _state["recording"] = set()  # the request thread hands over; the worker goes on
        return
    if code is _state["task"]:
        _state["recording"] = {thread}
    if thread not in _state["recording"]:
        return
    if code.co_name == ENGINE and _project(code):
        _state["engine"] = _stack(frame)
        _state["done"] = True
        return
    caller = frame.f_back
    if caller is None or not _layer(caller.f_code):
        return
    if code.co_name.startswith("<") or Path(code.co_filename).is_relative_to(REPO / "layers"):
        return
    if _project(code) or code.co_name in PYDANTIC:
        _state["calls"].append((caller.f_code, code, caller.f_lineno))


def _store(folder: Path) -> Path:
    road = [[-92.9, 17.0], [-92.9, 18.0]]
    roads = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"row_type": "highway", "name": "Federal 195"},
                "geometry": {"type": "LineString", "coordinates": road},
            }
        ],
    }
    (folder / "roads.geojson").write_text(json.dumps(roads), encoding="utf-8")
    (folder / "towns.csv").write_text(
        "name,state,population,lon,lat\nSur,Tabasco,5000,-92.9,17.0\n"
        "Norte,Tabasco,3000,-92.9,18.0\n",
        encoding="utf-8",
    )
    from layers.ingest import ingest
    from layers.store import Store

    store = Store(folder / "store.gpkg")
    ingest(store, folder / "roads.geojson", "rights_of_way", name="roads")
    ingest(store, folder / "towns.csv", "localities", name="towns")
    return store.path


def _bookkeeping(code: CodeType) -> bool:
    """A call of the job table or runner itself (its row, its state, its progress)."""
    qualname = getattr(code, "co_qualname", code.co_name)
    return qualname.startswith(BOOKKEEPING_CLASSES) or qualname in BOOKKEEPING_FUNCTIONS


def _where(code: CodeType) -> str:
    path = Path(code.co_filename)
    shown = path.relative_to(REPO) if path.is_relative_to(REPO) else Path(path.name)
    return f"{shown}:{code.co_name}"


def main() -> None:
    """Trace the second of two route requests and print its path and hops."""
    from fastapi.testclient import TestClient

    sys.path.insert(0, str(REPO))
    folder = Path(tempfile.mkdtemp(prefix="trazo-trace-"))
    os.environ["TRAZO_STORE"] = str(_store(folder))
    os.environ["TRAZO_JOB_EXECUTOR"] = "thread"
    from api.app import create_app
    from api.settings import ServiceSettings

    app = create_app(ServiceSettings(api_keys={"p" * 20: "planner"}))
    sys.setprofile(_profile)
    threading.setprofile(_profile)  # the service's threads start after this
    try:
        with TestClient(app) as client:
            first = {"from": "Sur", "to": "Norte"}
            client.post("/proposals/route?wait=true", json=first, headers=KEY)
            _state["active"] = True
            second = {"from": "Norte", "to": "Sur"}
            job = client.post("/proposals/route", json=second, headers=KEY).json()
            while job["status"] not in ("succeeded", "failed"):
                time.sleep(0.2)
                job = client.get(f"/jobs/{job['job_id']}", headers=KEY).json()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    if job["status"] != "succeeded":
        raise SystemExit(f"the route job failed: {job}")
    handover, engine = _state["handover"], _state["engine"]
    route = next(i for i, code in enumerate(handover) if code.co_name == ROUTE_FUNCTION)
    task = next(i for i, code in enumerate(engine) if code is _state["task"])
    path = handover[: route + 1][::-1] + engine[: task + 1][::-1]
    print("call stack: at the job queue, then in the worker at the engine")
    for code in path:
        print(f"    {_where(code)}")
    print("hops: calls made by api/ and usecases/ functions on the way")
    for caller, callee, line in _state["calls"]:
        source = "HTTP" if caller is None else f"{_where(caller)}:{line}"
        print(f"    {source} -> {_where(callee)}")
    calls = [callee for _, callee, _ in _state["calls"]]
    conversions = sum(
        1 for callee in calls if callee.co_name in PYDANTIC | {"to_dict", "from_dict"}
    )
    bookkeeping = sum(1 for callee in calls if _bookkeeping(callee))
    print(
        f"stack depth {len(path)}; {len(calls)} hops: {bookkeeping} job bookkeeping (the job "
        f"row and progress), {conversions} converting the request or its places, "
        f"{len(calls) - bookkeeping} on the request's own way"
    )


if __name__ == "__main__":
    main()
