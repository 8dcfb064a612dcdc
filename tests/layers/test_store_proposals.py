"""Proposals kept in the store: one GeoJSON document each, beside the layers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from layers.errors import AlreadyExistsError, NotFoundError
from layers.kinds import LayerKind
from layers.report import ValidationReport
from layers.store import Store

ROUTE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"deployment_type": "highway", "length_km": 12.5, "role": "primary"},
            "geometry": {"type": "LineString", "coordinates": [[-92.93, 17.99], [-92.95, 17.55]]},
        }
    ],
    "proposal": {"name": "route_a", "kind": "route", "created_at": "2026-11-01T10:00:00Z"},
    "metrics": {"total_km": 12.5, "capex_usd_total": 225000},
}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store.gpkg")


def test_round_trip_list_and_delete(store: Store) -> None:
    store.write_proposal("route_a", "route", ROUTE)
    stored = store.proposal("route_a")
    assert stored.kind == "route"
    assert stored.created_at == "2026-11-01T10:00:00Z"
    assert stored.document == ROUTE
    assert [p.name for p in store.list_proposals()] == ["route_a"]
    store.delete_proposal("route_a")
    assert store.list_proposals() == []


def test_a_taken_name_needs_replace(store: Store) -> None:
    store.write_proposal("route_a", "route", ROUTE)
    changed = {**ROUTE, "metrics": {"total_km": 1.0}}
    with pytest.raises(AlreadyExistsError, match=r"^proposal 'route_a' already exists$") as err:
        store.write_proposal("route_a", "route", changed)
    assert err.value.subject == "proposal"  # the adapters add how to replace it
    assert store.proposal("route_a").document == ROUTE
    store.write_proposal("route_a", "route", changed, replace=True)
    assert store.proposal("route_a").document["metrics"] == {"total_km": 1.0}


def test_unknown_proposal_names_what_is_stored(store: Store) -> None:
    with pytest.raises(NotFoundError, match=r"'nowhere' .*none stored"):
        store.proposal("nowhere")
    store.write_proposal("route_a", "route", ROUTE)
    with pytest.raises(NotFoundError, match="stored: route_a"):
        store.delete_proposal("nowhere")


@pytest.mark.parametrize("name", ["Route A", "route-a", "1route", ""])
def test_proposal_names_follow_the_layer_rule(store: Store, name: str) -> None:
    with pytest.raises(Exception, match="name"):
        store.write_proposal(name, "route", ROUTE)


def test_proposals_are_hidden_from_gdal_and_leave_layers_alone(store: Store) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["Teapa"], "population": [26_000]}, geometry=[Point(-92.95, 17.55)], crs=4326
    )
    report = ValidationReport("towns", "localities", "towns.csv", "CSV", None)
    store.write_layer("towns", LayerKind.LOCALITIES, frame, report)
    store.write_proposal("route_a", "route", ROUTE)
    assert [str(name).split("__v")[0] for name, _ in pyogrio.list_layers(store.path)] == ["towns"]
    assert store.read("towns")["name"].tolist() == ["Teapa"]
