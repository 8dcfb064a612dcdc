"""Property-based calls to every operation of the OpenAPI document, on the real server.

Schemathesis generates requests from the schema (a small example budget per operation)
against uvicorn on loopback with a store holding one small layer and one proposal. No
request may make the server fail (5xx).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema

from layers.ingest import ingest
from layers.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
VIEWER = "v" * 24
GIS = "g" * 24
EXAMPLES = 20  # per operation: keeps the whole run well under a minute
GIS_ONLY = {("POST", "/layers"), ("DELETE", "/layers/{name}")}

PROPOSAL = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[-93.0, 18.0], [-92.9, 18.1]]},
            "properties": {"deployment_type": "greenfield", "cost_usd": 1000},
        }
    ],
    "proposal": {"name": "ring", "kind": "backbone"},
    "metrics": {},
}


@pytest.fixture
def api_schema(live_server: Callable[[dict[str, str]], str], tmp_path: Path) -> BaseSchema:
    store = Store(tmp_path / "store" / "store.gpkg")
    ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
    store.write_proposal("ring", "backbone", PROPOSAL)
    base = live_server(
        {
            "TRAZO_MODE": "production",
            "TRAZO_API_KEYS": json.dumps({VIEWER: "viewer", GIS: "gis"}),
            "TRAZO_STORE": str(store.path),
            "TRAZO_MAX_UPLOAD_BYTES": str(256 * 1024),
        }
    )
    # The API definition needs a key in production, like every route but /healthz.
    return schemathesis.openapi.from_url(f"{base}/openapi.json", headers={"X-API-Key": VIEWER})


def _fuzz(operation: Any, key: str) -> None:
    """Call ``operation`` with generated requests (and the schema's examples) as ``key``."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"X-API-Key": key}, checks=[not_a_server_error])

    call()


def test_no_request_makes_the_server_fail(api_schema: BaseSchema) -> None:
    """Viewer calls everywhere, gis calls for the layer writes: never a 5xx.

    The operations are walked here rather than with ``schema.parametrize()``, whose
    fixture-backed form does not run under pytest 9.
    """
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        gis = (operation.method.upper(), operation.path) in GIS_ONLY
        _fuzz(operation, GIS if gis else VIEWER)
