"""Small Tabasco-like layers and proposals, with coordinates close to the real places.

Not real data: state shapes are coarse polygons traced by hand around Tabasco and its
neighbours, lines join real towns, populations are rounded 2020 census figures (INEGI).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from shapely.geometry import LineString, Point, Polygon

# (lon, lat) of towns in and around Tabasco.
VILLAHERMOSA = (-92.93, 17.99)
CARDENAS = (-93.37, 18.00)
COMALCALCO = (-93.22, 18.26)
PARAISO = (-93.21, 18.40)
FRONTERA = (-92.65, 18.53)
MACUSPANA = (-92.60, 17.76)
TEAPA = (-92.95, 17.55)
TENOSIQUE = (-91.42, 17.47)
PALENQUE = (-91.98, 17.51)
COATZACOALCOS = (-94.45, 18.14)
DOS_BOCAS = (-93.19, 18.43)

TABASCO_BBOX = (-94.2, 17.2, -90.9, 18.7)


def states() -> gpd.GeoDataFrame:
    shapes = {
        ("27", "Tabasco", 2_402_598): Polygon(
            [
                (-94.13, 18.15),
                (-93.6, 18.35),
                (-92.9, 18.45),
                (-92.47, 18.65),
                (-91.9, 18.45),
                (-91.2, 17.95),
                (-90.99, 17.25),
                (-91.45, 17.25),
                (-91.9, 17.6),
                (-92.6, 17.45),
                (-93.1, 17.3),
                (-93.65, 17.55),
                (-94.13, 18.15),
            ]
        ),
        ("04", "Campeche", 928_363): Polygon(
            [
                (-92.47, 18.65),
                (-91.9, 18.45),
                (-91.2, 17.95),
                (-90.99, 17.25),
                (-89.2, 17.8),
                (-89.2, 19.6),
                (-90.7, 19.9),
                (-91.8, 18.8),
                (-92.47, 18.65),
            ]
        ),
        ("07", "Chiapas", 5_543_828): Polygon(
            [
                (-94.1, 17.0),
                (-93.65, 17.55),
                (-93.1, 17.3),
                (-92.6, 17.45),
                (-91.9, 17.6),
                (-91.45, 17.25),
                (-90.99, 17.25),
                (-91.4, 16.1),
                (-92.2, 15.3),
                (-93.9, 16.1),
                (-94.1, 17.0),
            ]
        ),
        ("30", "Veracruz", 8_062_579): Polygon(
            [
                (-94.13, 18.15),
                (-93.65, 17.55),
                (-94.1, 17.0),
                (-95.5, 17.6),
                (-96.3, 18.8),
                (-95.2, 18.8),
                (-94.6, 18.2),
                (-94.13, 18.15),
            ]
        ),
    }
    return gpd.GeoDataFrame(
        {
            "cve_ent": [k[0] for k in shapes],
            "name": [k[1] for k in shapes],
            "population": [k[2] for k in shapes],
            "share_connected": [0.62, 0.58, 0.41, 0.55],
        },
        geometry=list(shapes.values()),
        crs="EPSG:4326",
    )


def rights_of_way(evil_name: str | None = None) -> gpd.GeoDataFrame:
    rows = [
        ("rail", "Tren Maya, tramo 1", "FONATUR", [PALENQUE, TENOSIQUE]),
        (
            "rail",
            "Ferrocarril del Sureste",
            "Ferrosur",
            [COATZACOALCOS, CARDENAS, VILLAHERMOSA, PALENQUE],
        ),
        ("highway", "MEX-180", "SCT", [COATZACOALCOS, CARDENAS, VILLAHERMOSA, FRONTERA]),
        ("highway", "MEX-186", "SCT", [VILLAHERMOSA, MACUSPANA, (-91.8, 17.8), TENOSIQUE]),
        ("pipeline", "Gasoducto Dos Bocas", "PEMEX", [DOS_BOCAS, COMALCALCO, CARDENAS]),
        ("power", "LT 400 kV Malpaso–Tabasco", "CFE", [(-93.6, 17.2), TEAPA, VILLAHERMOSA]),
        ("other", "Camino de acceso", None, [PARAISO, COMALCALCO]),
    ]
    names = [r[1] for r in rows]
    if evil_name is not None:
        names[0] = evil_name
    return gpd.GeoDataFrame(
        {
            "row_type": [r[0] for r in rows],
            "name": names,
            "owner": [r[2] for r in rows],
            "status": ["operating"] * len(rows),
        },
        geometry=[LineString(r[3]) for r in rows],
        crs="EPSG:4326",
    )


def fiber_routes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "operator": ["CFE Telecom", "Telmex"],
            "status": ["existing", "planned"],
            "lease_available": [True, False],
            "fibers": [48, 96],
            "name": ["Red troncal CFE", "Anillo Villahermosa"],
        },
        geometry=[
            LineString([(-93.6, 17.25), TEAPA, VILLAHERMOSA, MACUSPANA]),
            LineString([VILLAHERMOSA, COMALCALCO, PARAISO]),
        ],
        crs="EPSG:4326",
    )


def subsea_cables() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Golfo Sur (ilustrativo)"], "ready_for_service": [2019], "length_km": [512.0]},
        geometry=[LineString([COATZACOALCOS, (-94.2, 19.0), (-93.0, 19.3), DOS_BOCAS])],
        crs="EPSG:4326",
    )


def landings(evil_name: str | None = None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": [evil_name or "Dos Bocas", "Coatzacoalcos"],
            "cables": ["Golfo Sur (ilustrativo)", "Golfo Sur (ilustrativo)"],
            "ready_for_service": [2019, 2019],
            "country": ["Mexico", "Mexico"],
        },
        geometry=[Point(DOS_BOCAS), Point(COATZACOALCOS)],
        crs="EPSG:4326",
    )


def localities(evil_name: str | None = None) -> gpd.GeoDataFrame:
    rows = [
        ("Villahermosa", 340_060, "Centro", VILLAHERMOSA, True),
        ("Cárdenas", 91_558, "Cárdenas", CARDENAS, True),
        ("Comalcalco", 41_458, "Comalcalco", COMALCALCO, True),
        ("Paraíso", 26_000, "Paraíso", PARAISO, False),
        ("Frontera", 23_000, "Centla", FRONTERA, False),
        ("Macuspana", 35_000, "Macuspana", MACUSPANA, True),
        ("Teapa", 30_000, "Teapa", TEAPA, False),
        ("Tenosique", 32_000, "Tenosique", TENOSIQUE, False),
        ("Ranchería El Pino", 320, "Centro", (-92.80, 18.10), False),
    ]
    names = [r[0] for r in rows]
    if evil_name is not None:
        names[-2] = evil_name  # Tenosique stands alone: drawn unclustered
    return gpd.GeoDataFrame(
        {
            "name": names,
            "population": [r[1] for r in rows],
            "municipality": [r[2] for r in rows],
            "state": ["Tabasco"] * len(rows),
            "connected": [r[4] for r in rows],
        },
        geometry=[Point(r[3]) for r in rows],
        crs="EPSG:4326",
    )


def frames(evil_name: str | None = None) -> dict[str, tuple[str, gpd.GeoDataFrame]]:
    return {
        "states": ("states", states()),
        "rights_of_way": ("rights_of_way", rights_of_way(evil_name)),
        "fiber": ("fiber_routes", fiber_routes()),
        "subsea_cables": ("subsea_cables", subsea_cables()),
        "landings": ("subsea_landings", landings(evil_name)),
        "localities": ("localities", localities(evil_name)),
    }


ATTRIBUTIONS = {
    "states": "INEGI, Marco Geoestadístico 2023",
    "rights_of_way": "© OpenStreetMap contributors (ODbL)",
    "fiber": "CFE Telecomunicaciones e Internet para Todos",
    "subsea_cables": "TeleGeography, Submarine Cable Map (CC BY-SA 4.0)",
    "landings": "TeleGeography, Submarine Cable Map (CC BY-SA 4.0)",
    "localities": "INEGI, Censo de Población y Vivienda 2020",
}


def _segment(coords: list[tuple[float, float]], **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
        "properties": properties,
    }


def proposal(
    name: str = "Villahermosa–Palenque backbone", segment_name: str | None = None
) -> dict[str, Any]:
    """Four segments: two primary, one alternative, one last mile."""
    features = [
        _segment(
            [CARDENAS, VILLAHERMOSA],
            deployment_type="fiber_lease",
            length_km=49.2,
            cost_usd=310_000,
            role="primary",
            source_layer="fiber",
            corridor="MEX-180",
            name=segment_name or "Cárdenas–Villahermosa lease",
        ),
        _segment(
            [VILLAHERMOSA, (-92.5, 17.8), PALENQUE],
            deployment_type="rail",
            length_km=121.7,
            cost_usd=4_620_000,
            role="primary",
            source_layer="rights_of_way",
            corridor="Ferrocarril del Sureste",
            name="Villahermosa–Palenque along rail",
        ),
        _segment(
            [VILLAHERMOSA, MACUSPANA, (-91.8, 17.8), PALENQUE],
            deployment_type="highway",
            length_km=133.0,
            cost_usd=5_980_000,
            role="alternative-1",
            source_layer="rights_of_way",
            corridor="MEX-186",
            name="Villahermosa–Palenque along MEX-186",
        ),
        _segment(
            [VILLAHERMOSA, (-92.86, 18.05)],
            deployment_type="last_mile_fiber",
            length_km=9.8,
            cost_usd=196_000,
            role="last-mile",
            source_layer=None,
            corridor=None,
            name="Last mile, Ranchería El Pino",
        ),
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "proposal": {
            "name": name,
            "kind": "backbone",
            "parameters": {"max_latency_ms": 5},
            "cost_model_source": "data/costs.toml (illustrative)",
            "notes": "",
        },
        "metrics": {
            "total_km": 1234.4,
            "km_by_deployment": {"fiber_lease": 49.2, "rail": 121.7, "last_mile_fiber": 9.8},
            "capex_usd_total": 12_345_678,
            "capex_by_deployment": {
                "fiber_lease": 310_000,
                "rail": 4_620_000,
                "last_mile_fiber": 196_000,
            },
            "reuse_share": 0.724,
            "one_way_latency_ms": 0.91,
            "people_covered": 433_400,
            "usd_per_person": 28.49,
            "states_crossed": ["Tabasco", "Chiapas"],
        },
    }


def proposal_b() -> dict[str, Any]:
    """A second scenario: greenfield and aerial, with half its metrics missing."""
    return {
        "type": "FeatureCollection",
        "features": [
            _segment(
                [CARDENAS, COMALCALCO, PARAISO],
                deployment_type="greenfield",
                length_km=52.0,
                cost_usd=2_600_000,
                role="primary",
                name="Costa greenfield",
            ),
            _segment(
                [VILLAHERMOSA, TEAPA],
                deployment_type="power_aerial",
                length_km=48.0,
                cost_usd=720_000,
                role="primary",
                name="Aerial on CFE 400 kV",
            ),
        ],
        "proposal": {"name": "Costa y Sierra", "kind": "route"},
        "metrics": {"people_covered": 120_000},
    }


def route_proposal() -> dict[str, Any]:
    """Cárdenas to Palenque along the rail of :func:`rights_of_way`, with its two ends.

    The planner's made-up name (``route-…``) stands in the document, as when a route is
    planned without ``--name``.
    """
    return {
        "type": "FeatureCollection",
        "features": [
            _segment(
                [CARDENAS, VILLAHERMOSA, PALENQUE],
                deployment_type="rail",
                length_km=210.0,
                cost_usd=3_360_000,
                role="primary",
                source_layer="rights_of_way",
                corridor="Ferrocarril del Sureste",
            ),
            _segment(
                [CARDENAS, COMALCALCO, PARAISO],
                deployment_type="highway",
                length_km=52.0,
                cost_usd=1_040_000,
                role="primary",
                source_layer="rights_of_way",
            ),
        ],
        "proposal": {
            "name": "route-Paraíso-Palenque",
            "kind": "route",
            "parameters": {"from": "Paraíso, Tabasco", "to": "Palenque", "alternatives": 1},
            "terminals": [
                {"name": "Paraíso", "lon": PARAISO[0], "lat": PARAISO[1], "population": 26_000},
                {"name": "Palenque", "lon": PALENQUE[0], "lat": PALENQUE[1]},
            ],
        },
    }
