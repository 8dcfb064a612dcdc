"""Concurrent writers and readers against the real server: no 5xx, no crash, store intact.

Two writers replace the same layer over and over while readers page through it, fetch
single features and list the catalog. Python's ``sqlite3`` (catalog, jobs) and the SQLite
inside GDAL (features) then both work on the one WAL GeoPackage in one server process;
before the store kept the two apart this answered 500s and the server died of SIGBUS.
The test is bounded in rounds and in time.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from layers.ingest import ingest
from layers.store import Store
from layers.store_api import LayerStore
from layers.stores import open_store

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
GIS = "c" * 24
ROUNDS = 10  # replacements per writer, unless the time budget runs out first
MIN_ROUNDS = 3  # a slow machine must still overlap this many replacements per writer
READERS = 6
TIME_BUDGET_S = 60.0
BOUNDARY = "c0ncurrency"
READ_PATHS = (
    "/collections/localities/items?limit=3",
    "/collections/localities/items?limit=2&offset=3",
    "/collections/localities/items/1",
    "/collections/localities",
    "/layers",
    "/layers/localities",
    "/collections/railways/items?limit=5",
)


def _content(store: LayerStore, name: str) -> str:
    """A hash of a layer's features (geometry and attributes) as the store returns them."""
    return hashlib.sha256(store.read(name).to_json(sort_keys=True).encode()).hexdigest()


def _form(path: Path) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nlocalities\r\n',
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nlocalities\r\n',
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n',
    ]
    return "".join(parts).encode() + path.read_bytes() + f"\r\n--{BOUNDARY}--\r\n".encode()


class _Tally:
    """Statuses seen, and connection failures (a dead server), shared by the threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: dict[int, int] = {}
        self.server_errors: list[str] = []
        self.failures: list[str] = []
        self.uploads = 0

    def record(self, method: str, path: str, status: int, body: bytes) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 500:
                self.server_errors.append(f"{method} {path} -> {status} {body[:200]!r}")

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


def _request(base: str, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    address = urlsplit(base)
    conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
    headers = {"X-API-Key": GIS}
    if body is not None:
        headers["Content-Type"] = f"multipart/form-data; boundary={BOUNDARY}"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_two_writers_and_readers_get_no_5xx_and_leave_the_store_intact(
    live_server: Callable[[dict[str, str]], str], tmp_path: Path, store_location: str
) -> None:
    store = open_store(store_location, work_dir=tmp_path / "work")
    ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
    ingest(store, DATA / "southeast_railways.fgb", "rights_of_way", name="railways")
    localities_before = _content(store, "localities")
    railways_before = _content(store, "railways")
    base = live_server(
        {
            "TRAZO_MODE": "production",
            "TRAZO_API_KEYS": json.dumps({GIS: "gis"}),
            "TRAZO_STORE": store_location,
            "TRAZO_WORK_DIR": str(tmp_path / "work"),
        }
    )
    form = _form(DATA / "tabasco_localities.csv")
    tally = _Tally()
    deadline = time.monotonic() + TIME_BUDGET_S
    writers_done = threading.Event()

    def writer() -> None:
        for _ in range(ROUNDS):
            if time.monotonic() > deadline:
                return
            with tally.lock:
                tally.uploads += 1
            try:
                status, body = _request(base, "POST", "/layers?replace=true", form)
            except OSError as err:
                tally.fail(f"upload: {err!r}")
                return
            tally.record("POST", "/layers", status, body)

    def reader(offset: int) -> None:
        turn = offset
        while not writers_done.is_set() and time.monotonic() < deadline:
            path = READ_PATHS[turn % len(READ_PATHS)]
            turn += 1
            try:
                status, body = _request(base, "GET", path)
            except OSError as err:
                tally.fail(f"GET {path}: {err!r}")
                return
            tally.record("GET", path, status, body)

    writers = [threading.Thread(target=writer) for _ in range(2)]
    readers = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
    for thread in writers + readers:
        thread.start()
    for thread in writers:
        thread.join()
    writers_done.set()
    for thread in readers:
        thread.join()

    assert tally.failures == []
    assert tally.server_errors == []
    # every upload either replaced the layer (201) or found the other writer busy (503 is
    # a 5xx too, so none may appear); readers saw only 200s
    assert tally.uploads >= 2 * MIN_ROUNDS
    assert tally.statuses.get(201, 0) == tally.uploads, tally.statuses
    assert set(tally.statuses) == {200, 201}, tally.statuses
    assert tally.statuses[200] >= 10 * READERS  # the readers did overlap the writers
    status, _ = _request(base, "GET", "/healthz")
    assert status == 200
    # the replaced layer holds exactly what was uploaded, the other is untouched, and no
    # versioned table was left behind
    assert _content(store, "localities") == localities_before
    assert _content(store, "railways") == railways_before
    assert [info.name for info in store.list_layers()] == ["localities", "railways"]
    if isinstance(store, Store):
        tables, files = store._orphans()
        assert (tables, files) == ([], [])
