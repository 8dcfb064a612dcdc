"""Public sites as last-mile targets on the synthetic Tabasco network of test_last_mile.

Each site is one connection. Worked by hand with the default cost model:

- a health centre on the fiber line (-93.0, 18.1): feeder 0, one drop and ONT 350 and 10 m
  of cable (0.01 km x 12,000 = 120): 470, against a wireless site (60,000 + 150) or a
  satellite terminal with ten years of service (350 + 6,000 = 6,350);
- a school far from everything (-92.0, 17.5): satellite 6,350 (its fiber feeder is an
  83 km greenfield drop, a wireless site 60,150).
"""

from __future__ import annotations

import geopandas as gpd
import pytest

from planner.plans.public_sites import plan_public_sites, seat_stand_ins
from planner.proposals.metrics import compute_metrics
from tests.planner.test_last_mile import network


def sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Centro de Salud", "Escuela Primaria"], "site_type": ["health", "school"]},
        geometry=gpd.points_from_xy([-93.0, -92.0], [18.1, 17.5]),
        crs="EPSG:4326",
    )


def test_every_public_site_connected_by_its_cheapest_means() -> None:
    proposal = plan_public_sites(network(), sites(), area_name="t")
    records = {r["name"]: r for r in proposal.parameters["localities"]}
    health = records["Centro de Salud (health)"]
    school = records["Escuela Primaria (school)"]
    assert health["technology"] == "fiber"
    assert health["cost_usd"] == pytest.approx(470)
    assert school["technology"] == "satellite"
    assert school["cost_usd"] == pytest.approx(6350)
    assert compute_metrics(proposal).capex_usd_total == pytest.approx(6820)
    assert proposal.people_covered == 2
    assert proposal.parameters["public_site_types"] == {"health": 1, "school": 1}
    assert any("public sites: 2 sites (1 health, 1 school)" in n for n in proposal.notes)


def test_budget_connects_the_cheapest_site_first() -> None:
    proposal = plan_public_sites(network(), sites(), area_name="t", budget_usd=1000)
    assert proposal.people_covered == 1
    assert compute_metrics(proposal).capex_usd_total == pytest.approx(470)


def test_municipal_seats_stand_in() -> None:
    localities = gpd.GeoDataFrame(
        {
            "name": ["Villahermosa", "Ranchería", "Teapa"],
            "cvegeo": ["270040001", "270040123", "270170001"],
            "cve_ent": ["27"] * 3,
            "population": [340_000, 900, 27_000],
        },
        geometry=gpd.points_from_xy([-92.93, -92.9, -92.95], [17.99, 18.0, 17.55]),
        crs="EPSG:4326",
    )
    seats = seat_stand_ins(localities)
    assert seats["name"].tolist() == [
        "Villahermosa town hall (stand-in)",
        "Teapa town hall (stand-in)",
    ]
    assert set(seats["site_type"]) == {"government"}
