"""Road layers as users have them: an OSM extract and INEGI's Red Nacional de Caminos."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyrosm
import pytest

from layers.errors import LayerValidationError, LimitExceededError
from layers.ingest import ingest, read_layer
from layers.limits import Limits
from layers.store import Store

# pyrosm's wheel ships a small real OSM extract (part of Helsinki); pyrosm's own PBF parser
# is the independent reference for what the file holds.
OSM_TEST_PBF = Path(pyrosm.get_data("test_pbf"))

# data/roads/osm_tags.csv, as the README documents it
HIGHWAY_CLASS = {
    "motorway": "motorway",
    "motorway_link": "motorway",
    "trunk": "motorway",
    "trunk_link": "motorway",
    "primary": "primary",
    "primary_link": "primary",
    "secondary": "secondary",
    "secondary_link": "secondary",
    "tertiary": "local",
    "tertiary_link": "local",
    "unclassified": "local",
    "residential": "local",
    "living_street": "local",
    "service": "local",
    "road": "local",
    "track": "unpaved",
}
UNPAVED = {"unpaved", "dirt", "earth", "ground", "gravel", "fine_gravel", "compacted", "sand"}


def _reference_ways() -> tuple[dict[int, str], dict[int, str]]:
    """``{way id: road class}`` and ``{way id: row type}`` from pyrosm's parse of the file."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrosm's own deprecation chatter
        osm = pyrosm.OSM(str(OSM_TEST_PBF))
        roads = osm.get_data_by_custom_criteria(
            custom_filter={"highway": True}, keep_nodes=False, keep_relations=False
        )
        rail = osm.get_data_by_custom_criteria(
            custom_filter={"railway": ["rail", "light_rail", "narrow_gauge", "subway"]},
            keep_nodes=False,
            keep_relations=False,
        )
        power = osm.get_data_by_custom_criteria(
            custom_filter={"power": ["line", "minor_line"]},
            keep_nodes=False,
            keep_relations=False,
        )
    classes: dict[int, str] = {}
    for way_id, highway, surface in zip(
        roads["id"], roads["highway"], roads["surface"], strict=True
    ):
        if highway in HIGHWAY_CLASS:
            paved = surface not in UNPAVED
            classes[int(way_id)] = HIGHWAY_CLASS[highway] if paved else "unpaved"
    types = {way_id: "highway" for way_id in classes}
    types |= {int(i): "rail" for i in rail["id"]}
    types |= {int(i): "power" for i in power["id"]}
    return classes, types


def test_osm_extract_loads_roads_rail_and_power_with_their_classes() -> None:
    seen: list[int] = []
    layer = read_layer(OSM_TEST_PBF, "rights_of_way", name="osm_roads", progress=seen.append)
    frame = layer.frame
    assert frame is not None
    classes, types = _reference_ways()
    ours = dict(zip(frame["osm_id"].astype(int), frame["row_type"], strict=True))
    assert ours == types
    roads = frame[frame["row_type"] == "highway"]
    assert dict(zip(roads["osm_id"].astype(int), roads["road_class"], strict=True)) == classes
    # the file holds 2 motorways and 10 motorway links (pyrosm's count above): 12 motorway ways
    assert (roads["road_class"] == "motorway").sum() == 12
    assert frame.loc[frame["row_type"] != "highway", "road_class"].isna().all()
    assert layer.report.format == "OSM"
    assert seen and seen[-1] >= len(frame)  # progress reported the ways read


def test_osm_extract_over_the_feature_limit_is_refused() -> None:
    with pytest.raises(LimitExceededError, match=r"more than 100 ways.*max_features"):
        read_layer(OSM_TEST_PBF, "rights_of_way", limits=Limits(max_features=100))


def test_osm_extract_is_only_rights_of_way() -> None:
    with pytest.raises(LayerValidationError, match="load it as rights_of_way"):
        read_layer(OSM_TEST_PBF, "fiber_routes")


def test_a_pbf_that_is_not_osm_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "roads.osm.pbf"
    fake.write_bytes(b"\x00\x00\x00\x0dnot an osm header at all" * 4)
    with pytest.raises(LayerValidationError, match="OSMHeader"):
        read_layer(fake, "rights_of_way")


# the fixture's roads in order, with the class INEGI's attributes give them under the rules
# of data/roads/rnc_road_class.csv (see tests/data/layers/make_rnc_fixture.py)
RNC_CLASSES = [
    "motorway",  # federal toll road (PEAJE = Si)
    "motorway",  # federal, four lanes
    "primary",  # federal, two lanes
    "secondary",  # state road, asphalt
    "unpaved",  # state road with gravel surfacing (Revestimiento)
    "primary",  # federal link
    "local",  # urban avenue
    "local",  # street
    "unpaved",  # dirt road (Terracería)
    "unpaved",  # brecha
    "unpaved",  # vereda
]


@pytest.mark.parametrize("as_shapefile", [False, True])
def test_rnc_roads_get_row_type_and_class(
    data_dir: Path, tmp_path: Path, as_shapefile: bool
) -> None:
    source = data_dir / "rnc_red_vial.gpkg"
    if as_shapefile:
        import pyogrio

        shp = tmp_path / "red_vial.shp"
        pyogrio.write_dataframe(pyogrio.read_dataframe(source), shp)
        archive = shutil.make_archive(str(tmp_path / "red_vial"), "zip", tmp_path, ".")
        source = Path(archive)
    layer = read_layer(source, "rights_of_way", name="rnc")
    frame = layer.frame
    assert frame is not None
    frame = frame.sort_values("ID_RED" if "ID_RED" in frame else "id_red")
    assert frame["road_class"].tolist() == RNC_CLASSES
    assert set(frame["row_type"]) == {"highway"}
    assert frame["name"].iloc[2] == "Villahermosa - Teapa"
    assert frame["owner"].iloc[3] == "Estatal"


def test_rnc_layer_is_stored_with_its_classes(data_dir: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "store.gpkg")
    ingest(store, data_dir / "rnc_red_vial.gpkg", "rights_of_way", name="rnc")
    stored = store.read("rnc")
    assert sorted(stored["road_class"]) == sorted(RNC_CLASSES)
