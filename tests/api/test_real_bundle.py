"""The shipped Mexican layers, loaded by ``trazo demo`` and planned on, checked against facts.

Expectations come from outside Trazo: the published Tren Maya length, the size of Mexico's
rail and 230/400 kV grids, and the great-circle distance between the two cities.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from layers.store import Store
from planner.network.places import PlaceIndex
from planner.plans.route import plan_route
from usecases.context import PlanningContext, planning_context
from usecases.proposals import measure

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``trazo demo`` run once: the store it filled and what it printed."""
    folder = tmp_path_factory.mktemp("demo")
    store = folder / "store.gpkg"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRAZO_STORE", str(store))
        patch.setenv("TRAZO_DATA_DIR", str(Path(__file__).resolve().parents[2] / "data"))
        patch.chdir(folder)
        result = runner.invoke(app, ["demo"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return store, result.output


@pytest.fixture(scope="module")
def demo_store(demo_run: tuple[Path, str]) -> Path:
    return demo_run[0]


def row_km(output: str, row_type: str, layer: str) -> float:
    match = re.search(rf"{row_type}\s*│\s*{layer}\s*│\s*([\d,]+)", output)
    assert match, output
    return float(match.group(1).replace(",", ""))


def test_demo_loads_every_bundled_layer(demo_store: Path) -> None:
    layers = {info.name: info for info in Store(demo_store).list_layers()}
    counts = {name: info.feature_count for name, info in layers.items()}
    # counts published by the sources (data/README.md): 32 states, 2,478 municipalities,
    # 189,432 INEGI 2020 localities with coordinates, 12 Mexican landings, 10 cables
    assert counts["states"] == 32
    assert counts["municipalities"] == 2_478
    assert counts["localities"] == 189_432
    assert counts["subsea_landings"] == 12
    assert counts["subsea_cables"] == 10
    assert {"railways", "tren_maya", "highways", "power_lines", "cfe_fiber", "pipelines"} <= set(
        layers
    )
    assert layers["elevation"].kind.value == "raster"


def test_demo_prints_plausible_lengths(demo_run: tuple[Path, str]) -> None:
    _, output = demo_run
    # Tren Maya: 1,554 km of main line (FONATUR); OSM track adds sidings and yards
    assert 1_400 <= row_km(output, "rail", "tren_maya") <= 1_900
    # Mexico has about 26,700 km of railway (SICT); Natural Earth 10m keeps the main lines
    assert 10_000 <= row_km(output, "rail", "railways") <= 27_000
    # CFE's 400 kV and 230 kV lines: roughly 25,000 + 30,000 km of circuits; the OSM-derived
    # corridors merge parallel circuits and straighten lines
    assert 20_000 <= row_km(output, "power", "power_lines") <= 60_000


@pytest.fixture(scope="module")
def context(demo_store: Path) -> PlanningContext:
    return planning_context(Store(demo_store))


def test_no_land_corridor_runs_out_to_sea(context: PlanningContext) -> None:
    """The invariant of land and sea on the real network: every edge but a subsea crossing
    lies within 1 km of the states; the offshore Southeast Gateway pipeline (629 km, laid
    in the Gulf from Tuxpan to Coatzacoalcos and Dos Bocas) keeps at most its landfalls."""
    graph, land = context.network.graph, context.network.land
    assert land is not None
    lines = [d["geometry"] for *_, d in graph.edges(data=True) if d["deployment_type"] != "subsea"]
    assert land.allows(lines).all()
    gateway = sum(
        d["length_km"]
        for *_, d in graph.edges(data=True)
        if "Southeast Gateway" in str(d.get("name") or "")
    )
    assert gateway < 0.05 * 629
    assert context.network.offshore_km > 600


def test_villahermosa_to_cancun(context: PlanningContext) -> None:
    start = context.places.resolve("Villahermosa, Tabasco")
    end = context.places.resolve("Cancún")
    proposal = plan_route(context.network, start, end)
    metrics = measure(context, proposal)
    # great circle Villahermosa (17.99 N, 92.93 W) - Cancún (21.16 N, 86.85 W): about 730 km
    # (haversine below); the road is about 900 km. A route on corridors lies in between.
    lat1, lon1, lat2, lon2 = map(math.radians, (17.99, -92.93, 21.16, -86.85))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    great_circle_km = 2 * 6371.0 * math.asin(math.sqrt(a))
    assert great_circle_km == pytest.approx(730, abs=15)
    assert great_circle_km < metrics.total_km < 1.5 * great_circle_km
    assert metrics.one_way_latency_ms == pytest.approx(metrics.total_km * 4.9 / 1000)
    crossed = {area.name for area in metrics.states_crossed or ()}
    assert {"Tabasco", "Campeche", "Quintana Roo"} <= crossed
    assert metrics.reuse_share > 0.8


@pytest.fixture(scope="module")
def place_index(context: PlanningContext) -> PlaceIndex:
    """The bundled localities and landings, indexed once for the name tests."""
    return context.places


@pytest.mark.parametrize(
    ("typed", "name", "cvegeo"),
    [
        ("Querétaro, Querétaro", "Santiago de Querétaro", "220140001"),
        ("Oaxaca, Oaxaca", "Oaxaca de Juárez", "200670001"),
        ("Campeche, Campeche", "San Francisco de Campeche", "040020001"),
        ("Ciudad de México", "Cuauhtémoc", "090150001"),
        ("cdmx", "Cuauhtémoc", "090150001"),
        ("queretaro", "Santiago de Querétaro", "220140001"),
        ("Villahermosa", "Villahermosa", "270040001"),
    ],
)
def test_the_names_people_type_resolve_and_say_how(
    place_index: PlaceIndex, typed: str, name: str, cvegeo: str
) -> None:
    # keys from INEGI's catalogue of state capitals (municipal seats, locality 0001)
    place = place_index.resolve(typed)
    assert (place.name, place.cvegeo) == (name, cvegeo)
    assert place.match is not None
    assert place.match["typed"] == typed and place.match["cvegeo"] == cvegeo
    assert place.match["how"] == "alias" and "place_aliases.toml" in place.match["why"]


def test_every_openapi_example_place_resolves(place_index: PlaceIndex) -> None:
    from usecases.requests import BackboneRequest, RouteRequest

    index = place_index
    typed = []
    for model in (RouteRequest, BackboneRequest):
        for example in model.model_config["json_schema_extra"]["examples"]:  # type: ignore[index]
            typed += example.get("terminals", []) + [example.get(k) for k in ("from", "to")]
    places = [index.resolve(text) for text in typed if text]
    assert "San Francisco de Campeche" in {p.name for p in places}


def test_a_weak_match_is_refused_with_the_candidates(place_index: PlaceIndex) -> None:
    from planner.network.places import WeakPlaceMatchError

    index = place_index
    with pytest.raises(WeakPlaceMatchError) as refused:
        index.resolve("Houston")  # a ranch of 2 people in Tulum (INEGI Censo 2020)
    assert refused.value.candidates[0].startswith("Houston, Tulum, Quintana Roo (pop. 2")
    # qualified by its state it is what the user asked for
    assert index.resolve("Houston, Quintana Roo").population == 2
