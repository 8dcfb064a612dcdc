"""HEAD wherever GET answers, and links built from the configured public URL, not Host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ServiceSettings, StoreSettings
from layers.ingest import ingest
from layers.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "layers"
GIS = "k" * 24


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("plumbing") / "store.gpkg")
    ingest(store, DATA / "tabasco_localities.csv", "localities", name="localities")
    return store


def _client(store: Store, public_url: str | None = None) -> TestClient:
    settings = ServiceSettings(mode="production", api_keys={GIS: "gis"}, public_url=public_url)  # type: ignore[arg-type]
    client = TestClient(create_app(settings, StoreSettings(store=store.path)))
    client.headers["X-API-Key"] = GIS
    return client


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[TestClient]:
    with _client(store) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/",
        "/collections",
        "/collections/localities",
        "/collections/localities/items?limit=2",
        "/collections/localities/items/1",
        "/layers",
        "/layers/localities",
        "/layers/localities.csv",
        "/openapi.json",
    ],
)
def test_head_answers_like_get_without_a_body(client: TestClient, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert got.status_code == 200
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert int(head.headers["content-length"]) == len(got.content)


@pytest.mark.parametrize("path", ["/layers/nowhere", "/scenarios/nothing/run", "/jobs/x"])
def test_head_fails_as_get_does_with_no_body(client: TestClient, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert got.status_code >= 400
    assert head.status_code == got.status_code
    assert head.content == b""


def test_a_forged_host_header_does_not_reach_links(client: TestClient) -> None:
    page = client.get("/collections", headers={"Host": "evil.example"}).json()
    hrefs = [link["href"] for link in page["links"]]
    assert hrefs and all(href.startswith("http://testserver/") for href in hrefs), hrefs


def test_links_and_redirects_use_the_public_url(store: Store) -> None:
    with _client(store, "https://trazo.example.org/api/") as client:
        page = client.get("/collections", headers={"Host": "evil.example"}).json()
        hrefs = [link["href"] for link in page["links"]]
        assert hrefs and all(h.startswith("https://trazo.example.org/api/") for h in hrefs)
        moved = client.get("/collections/", follow_redirects=False)
        assert moved.status_code in (301, 307, 308)
        assert moved.headers["location"] == "https://trazo.example.org/api/collections"


def test_a_public_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="public_url"):
        ServiceSettings(public_url="ftp://example.org")  # type: ignore[arg-type]
