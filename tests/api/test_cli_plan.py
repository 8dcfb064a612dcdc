"""``trazo plan`` and ``trazo proposals`` on a tiny store with hand-worked answers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()

# 1° of latitude between 17° and 18° N is 110.67 km (meridian arc tables); 1° of longitude
# at 18° N is 105.89 km (111.32 km · cos 18° on the ellipsoid: 105.88-105.90).
NORTH_KM = 110.67
EAST_KM = 105.89
HIGHWAY, RAIL = 18_000, 16_000  # USD/km, data/cost_model.toml


def feature(coords: list[list[float]], **props: object) -> dict[str, object]:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "LineString", "coordinates": coords}}  # fmt: skip


@pytest.fixture
def tiny_store(store_env: Path, tmp_path: Path) -> Path:
    roads = {"type": "FeatureCollection", "features": [
        feature([[-93.0, 17.0], [-93.0, 18.0]], row_type="highway", name="MEX-N"),
        feature([[-93.0, 18.0], [-92.0, 18.0]], row_type="rail", name="FC-E"),
    ]}  # fmt: skip
    (tmp_path / "roads.geojson").write_text(json.dumps(roads), encoding="utf-8")
    (tmp_path / "towns.csv").write_text(
        "name,state,population,lon,lat\n"
        "Sur,Tabasco,5000,-93.0,17.0\n"
        "Norte,Tabasco,3000,-93.0,18.0\n"
        "Este,Tabasco,800,-92.0,18.0\n",
        encoding="utf-8",
    )
    for file, kind in (("roads.geojson", "rights_of_way"), ("towns.csv", "localities")):
        result = runner.invoke(app, ["layers", "load", str(tmp_path / file), "--kind", kind])
        assert result.exit_code == 0, result.output
    return tmp_path


def test_route_is_costed_stored_and_exported(tiny_store: Path) -> None:
    out = tiny_store / "route.geojson"
    result = runner.invoke(
        app, ["plan", "route", "--from", "Sur", "--to", "Norte", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "110.7 km" in result.output and "route_sur_norte" in result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    metrics = document["metrics"]
    assert metrics["total_km"] == pytest.approx(NORTH_KM, abs=0.05)
    # highway build + one splice site (floor(110.67 / 90)) + two terminal PoPs
    expected = HIGHWAY * metrics["total_km"] + 150_000 + 2 * 100_000
    # total_km is rounded to the metre: USD 18 per metre of slack
    assert metrics["capex_usd_total"] == pytest.approx(expected, abs=20)

    listed = runner.invoke(app, ["proposals", "list"])
    assert "route_sur_norte" in listed.output
    boq_file = tiny_store / "boq.csv"
    exported = runner.invoke(
        app, ["proposals", "export", "route_sur_norte", "--format", "csv", "--out", str(boq_file)]
    )
    assert exported.exit_code == 0, exported.output
    boq = pd.read_csv(boq_file)
    assert boq.iloc[-1]["usd"] == pytest.approx(metrics["capex_usd_total"], abs=1)


@pytest.mark.slow
def test_backbone_joins_three_towns(tiny_store: Path) -> None:
    result = runner.invoke(
        app, ["plan", "backbone", "--terminals", "Sur; Norte; Este, Tabasco", "--name", "tres"]
    )
    assert result.exit_code == 0, result.output
    stored = runner.invoke(app, ["proposals", "export", "tres", "--format", "geojson",
                                 "--out", str(tiny_store / "tres.geojson")])  # fmt: skip
    assert stored.exit_code == 0
    metrics = json.loads((tiny_store / "tres.geojson").read_text(encoding="utf-8"))["metrics"]
    assert metrics["total_km"] == pytest.approx(NORTH_KM + EAST_KM, abs=0.1)
    assert metrics["km_by_deployment"]["rail"] == pytest.approx(EAST_KM, abs=0.05)


def test_last_mile_covers_at_most_the_people_there(tiny_store: Path) -> None:
    fiber = {"type": "FeatureCollection", "features": [
        feature([[-93.0, 18.0], [-92.0, 18.0]], operator="CFE", status="existing",
                lease_available=True),
    ]}  # fmt: skip
    (tiny_store / "fiber.geojson").write_text(json.dumps(fiber), encoding="utf-8")
    loaded = runner.invoke(
        app, ["layers", "load", str(tiny_store / "fiber.geojson"), "--kind", "fiber_routes"]
    )
    assert loaded.exit_code == 0, loaded.output
    area = "POLYGON((-93.5 16.5, -91.5 16.5, -91.5 18.5, -93.5 18.5, -93.5 16.5))"
    result = runner.invoke(app, ["plan", "last-mile", "--area", area, "--min-population", "500"])
    assert result.exit_code == 0, result.output
    stored = runner.invoke(app, ["proposals", "export", "last_mile_polygon", "--format", "geojson",
                                 "--out", str(tiny_store / "lm.geojson")])  # fmt: skip
    assert stored.exit_code == 0, stored.output
    metrics = json.loads((tiny_store / "lm.geojson").read_text(encoding="utf-8"))["metrics"]
    assert 0 < metrics["people_covered"] <= 5000 + 3000 + 800
    assert metrics["usd_per_person"] == pytest.approx(
        metrics["capex_usd_total"] / metrics["people_covered"], rel=1e-3
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "route", "--from", "Sur", "--to", "Nowhere"], "Nowhere"),
        (["plan", "route", "--from", "Sur", "--to", "17.0,-93.0"], "lat,lon"),
        (["plan", "backbone", "--terminals", "Sur"], "at least two"),
        (["plan", "backbone", "--terminals", "missing.txt"], "missing.txt"),
        (["proposals", "show", "nothing"], "nothing"),
    ],
)
def test_planning_errors_are_one_line(tiny_store: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and message in result.output
    assert "Traceback" not in result.output


AFRICA = "POLYGON((20 0, 21 0, 21 1, 20 1, 20 0))"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "route", "--from", "Sur", "--to", "Sur"], "same place: 'Sur' at -93.00000"),
        # the same point typed as a name and as coordinates
        (["plan", "route", "--from", "Norte", "--to", "-93.0,18.0"], "same place"),
        (["plan", "last-mile", "--area", AFRICA], "holds no localities"),
        (
            ["plan", "last-mile", "--area", "POLYGON((-93.5 16.5, -91.5 16.5, -91.5 18.5, "
             "-93.5 16.5))", "--min-population", "6000"],
            "no locality of at least 6,000 people (its largest has 5,000)",
        ),
    ],
)  # fmt: skip
def test_degenerate_requests_are_refused_and_store_nothing(
    tiny_store: Path, args: list[str], message: str
) -> None:
    before = runner.invoke(app, ["proposals", "list"]).output
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert runner.invoke(app, ["proposals", "list"]).output == before


@pytest.mark.parametrize("area", ["Tabasco", "Centro, Tabasco"])
def test_an_area_name_needs_the_admin_layers(tiny_store: Path, area: str) -> None:
    # the tiny store holds no states or municipalities: a name cannot be found, a polygon can
    result = runner.invoke(app, ["plan", "last-mile", "--area", area])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the store holds no states or")
    assert "WKT polygon" in lines[0] and "Traceback" not in result.output


def test_a_taken_default_name_gets_a_suffix_as_over_http(tiny_store: Path) -> None:
    outputs = [
        runner.invoke(app, ["plan", "route", "--from", "Sur", "--to", "Norte"]) for _ in range(2)
    ]
    assert [r.exit_code for r in outputs] == [0, 0], outputs[-1].output
    assert "stored as 'route_sur_norte'" in outputs[0].output
    assert "stored as 'route_sur_norte_2'" in outputs[1].output
    # --replace without --name replaces the default name instead
    replaced = runner.invoke(app, ["plan", "route", "--from", "Sur", "--to", "Norte", "--replace"])
    assert replaced.exit_code == 0 and "stored as 'route_sur_norte'" in replaced.output
    listed = runner.invoke(app, ["proposals", "list"]).output
    assert "route_sur_norte_3" not in listed


@pytest.mark.parametrize("listed", [True, False], ids=["names read", "names read stale"])
def test_a_taken_default_name_costs_one_write(
    tiny_store: Path, monkeypatch: pytest.MonkeyPatch, listed: bool
) -> None:
    # the free name is found from the stored names, not by writing the proposal under
    # each taken one; a name taken after they were read (another job) is skipped
    from layers.store import Store

    route = ["plan", "route", "--from", "Sur", "--to", "Norte"]
    for _ in range(3):
        assert runner.invoke(app, route).exit_code == 0
    writes: list[str] = []
    write = Store.write_proposal

    def counted(self: Store, name: str, *args: object, **kwargs: object) -> object:
        writes.append(name)
        return write(self, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "write_proposal", counted)
    if not listed:
        monkeypatch.setattr(Store, "proposal_names", lambda self: ["route_sur_norte"])
    result = runner.invoke(app, route)
    assert result.exit_code == 0, result.output
    assert "stored as 'route_sur_norte_4'" in result.output
    expected = ["route_sur_norte_4"] if listed else [f"route_sur_norte_{n}" for n in (2, 3, 4)]
    assert writes == expected
