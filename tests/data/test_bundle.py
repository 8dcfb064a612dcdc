"""The shipped data bundle: manifest, files, schemas and counts checked against the sources.

Expected numbers come from the publishers (INEGI, TeleGeography) as documented in
SOURCES.md, not from the build script, so a build regression shows up here.
"""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from layers.kinds import LayerKind, kind_spec

DATA = Path(__file__).resolve().parents[2] / "data"
MANIFEST = tomllib.loads((DATA / "manifest.toml").read_text(encoding="utf-8"))
LAYERS = {row["name"]: row for row in MANIFEST["layer"]}
VECTOR = [name for name, row in LAYERS.items() if row["kind"] != LayerKind.RASTER]

EXPECTED_ORDER = [
    "states",
    "municipalities",
    "localities",
    "railways",
    "tren_maya",
    "highways",
    "power_lines",
    "cfe_fiber",
    "pipelines",
    "subsea_cables",
    "subsea_landings",
    "elevation",
]
# Feature counts documented by the publishers (SOURCES.md).
EXPECTED_COUNTS = {
    "states": 32,
    "municipalities": 2_478,
    "localities": 189_432,
    "subsea_landings": 12,
    "subsea_cables": 10,
}
NATIONAL_POPULATION_2020 = 126_014_024  # INEGI, Censo de Población y Vivienda 2020
MEXICO_LON = (-118.5, -86.5)
MEXICO_LAT = (14.5, 33.0)


def _path(name: str) -> str:
    """A path pyogrio opens; the localities are the one CSV inside a zip."""
    path = DATA / LAYERS[name]["file"]
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            (member,) = archive.namelist()
        return f"/vsizip/{path}/{member}"
    return str(path)


def _columns(name: str) -> set[str]:
    return {str(field).lower() for field in pyogrio.read_info(_path(name))["fields"]}


def test_manifest_lists_the_layers_in_load_order() -> None:
    assert [row["name"] for row in MANIFEST["layer"]] == EXPECTED_ORDER


@pytest.mark.parametrize("name", EXPECTED_ORDER)
def test_manifest_entry_is_complete_and_file_exists(name: str) -> None:
    row = LAYERS[name]
    for key in ("kind", "file", "title", "source", "attribution", "license", "notes"):
        assert row.get(key), f"{name}: manifest has no {key}"
    LayerKind(row["kind"])
    assert (DATA / row["file"]).is_file()


@pytest.mark.parametrize("name", VECTOR)
def test_vector_layer_has_the_required_columns(name: str) -> None:
    spec = kind_spec(LAYERS[name]["kind"])
    columns = _columns(name)
    for attribute in spec.attributes:
        if attribute.required:
            assert attribute.name in columns, f"{name} lacks {attribute.name}"


@pytest.mark.parametrize(("name", "count"), EXPECTED_COUNTS.items())
def test_feature_counts_match_the_sources(name: str, count: int) -> None:
    assert pyogrio.read_info(_path(name), force_feature_count=True)["features"] == count


def test_localities_population_is_the_national_total() -> None:
    frame = pd.read_csv(DATA / LAYERS["localities"]["file"], dtype=str, keep_default_na=False)
    assert frame["population"].astype("int64").sum() == NATIONAL_POPULATION_2020
    assert {"lon", "lat", "cvegeo", "cve_mun", "connected"} <= set(frame.columns)
    assert frame["cve_ent"].str.fullmatch(r"\d{2}").all()
    codes = frame.loc[frame["cvegeo"] != "", "cvegeo"]
    assert codes.str.fullmatch(r"\d{9}").all()
    assert not codes.duplicated().any()


def test_states_population_sums_to_the_national_total() -> None:
    states = pyogrio.read_dataframe(_path("states"), read_geometry=False)
    assert states["population"].sum() == NATIONAL_POPULATION_2020
    assert sorted(states["cve_ent"]) == [f"{i:02d}" for i in range(1, 33)]


def test_states_lie_within_mexico() -> None:
    states = pyogrio.read_dataframe(_path("states"))
    for minx, miny, maxx, maxy in states.geometry.bounds.itertuples(index=False):
        assert MEXICO_LON[0] <= minx < maxx <= MEXICO_LON[1]
        assert MEXICO_LAT[0] <= miny < maxy <= MEXICO_LAT[1]


def test_tren_maya_has_track_lines_only() -> None:
    info = pyogrio.read_info(_path("tren_maya"))
    assert info["geometry_type"] in {"LineString", "MultiLineString"}
    frame = pyogrio.read_dataframe(_path("tren_maya"))
    assert set(frame.geom_type) <= {"LineString", "MultiLineString"}
    assert set(frame["row_type"]) == {"rail"}
    assert set(frame["name"]) == {"Tren Maya"}


@pytest.mark.parametrize(
    ("name", "row_type"),
    [
        ("railways", "rail"),
        ("tren_maya", "rail"),
        ("highways", "highway"),
        ("power_lines", "power"),
        ("pipelines", "pipeline"),
    ],
)
def test_rights_of_way_have_their_row_type(name: str, row_type: str) -> None:
    frame = pyogrio.read_dataframe(_path(name), columns=["row_type"], read_geometry=False)
    assert set(frame["row_type"]) == {row_type}


def test_cfe_fiber_is_flagged_as_a_proxy() -> None:
    frame = pyogrio.read_dataframe(_path("cfe_fiber"), read_geometry=False)
    assert set(frame["status"]) == {"existing"}
    assert frame["lease_available"].all()
    assert frame["fibers"].isna().all()
    assert frame["assumption"].str.contains("proxy", case=False).all()
    # the manifest's caveat reaches the catalog, and every proposal reusing the layer
    (entry,) = [row for row in MANIFEST["layer"] if row["name"] == "cfe_fiber"]
    assert entry["caveat"].startswith("an assumption")
    assert "transmission corridors" in entry["caveat"]


def test_subsea_landings_name_their_cables() -> None:
    landings = pyogrio.read_dataframe(_path("subsea_landings"), read_geometry=False)
    cables = pyogrio.read_dataframe(_path("subsea_cables"), read_geometry=False)
    assert set(landings["country"]) == {"Mexico"}
    assert "Cancún" in set(landings["name"])
    named = {c.strip() for text in landings["cables"] for c in text.split(",")}
    assert named == set(cables["name"])


def test_non_commercial_sources_say_so() -> None:
    for name in ("subsea_cables", "subsea_landings", "pipelines"):
        assert "NC" in LAYERS[name]["license"] or "NC" in LAYERS[name]["attribution"]
    assert (DATA / "licenses" / "CC-BY-NC-SA-3.0.txt").is_file()


def test_elevation_raster_opens() -> None:
    import rasterio

    with rasterio.open(DATA / LAYERS["elevation"]["file"]) as raster:
        assert raster.crs.to_epsg() == 4326
        assert (raster.width, raster.height) == (3381, 2025)
