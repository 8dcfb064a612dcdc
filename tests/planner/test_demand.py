"""Area selection, the census internet table and the demand estimate, worked by hand."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely import Point, box

from layers.errors import AmbiguousAreaError, AreaNotFoundError, InvalidAreaError, NotFoundError
from planner.plans.demand import (
    AreaSelection,
    PointLayer,
    demand_method_counts,
    estimate_demand,
    load_household_internet,
    localities_in_area,
    municipality_codes,
    select_area,
)


@pytest.fixture
def states() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"cve_ent": ["27", "23", "09"], "name": ["Tabasco", "Quintana Roo", "Ciudad de México"]},
        geometry=[
            box(-94.2, 17.2, -90.9, 18.7),
            box(-89.3, 17.8, -86.7, 21.7),
            box(-99.4, 19.0, -98.9, 19.6),
        ],
        crs="EPSG:4326",
    )


@pytest.fixture
def municipalities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "cvegeo": ["27004", "27002", "23005", "09014"],
            "name": ["Centro", "Cárdenas", "Benito Juárez", "Benito Juárez"],
            "cve_ent": ["27", "27", "23", "09"],
            "state": ["Tabasco", "Tabasco", "Quintana Roo", "Ciudad de México"],
        },
        geometry=[
            box(-93.1, 17.8, -92.7, 18.2),
            box(-93.9, 17.8, -93.3, 18.4),
            box(-87.0, 20.9, -86.7, 21.3),
            box(-99.2, 19.35, -99.1, 19.41),
        ],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("text", ["Tabasco", "  TABÁSCO ", "27"])
def test_state_by_name_accent_case_or_code(
    text: str, states: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame
) -> None:
    area = select_area(text, states, municipalities)
    assert (area.name, area.kind, area.code) == ("Tabasco", "state", "27")
    assert area.geometry.equals(box(-94.2, 17.2, -90.9, 18.7))


def test_state_alias(states: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame) -> None:
    assert select_area("CDMX", states, municipalities).name == "Ciudad de México"


@pytest.mark.parametrize("text", ["Centro, Tabasco", "centro,tabasco", "27004", "Centro"])
def test_municipality(
    text: str, states: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame
) -> None:
    area = select_area(text, states, municipalities)
    assert (area.name, area.kind, area.code) == ("Centro, Tabasco", "municipality", "27004")


def test_municipality_in_several_states_is_refused_with_them(
    states: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame
) -> None:
    with pytest.raises(AmbiguousAreaError, match="in 2 states") as info:
        select_area("benito juarez", states, municipalities)
    assert info.value.candidates == [
        "Benito Juárez, Ciudad de México",
        "Benito Juárez, Quintana Roo",
    ]
    area = select_area("Benito Juárez, Quintana Roo", states, municipalities)
    assert area.code == "23005"


def test_wkt_polygon(states: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame) -> None:
    area = select_area(
        "POLYGON((-93 17.9, -92.8 17.9, -92.8 18.1, -93 18.1, -93 17.9))", states, municipalities
    )
    assert area.kind == "polygon"
    assert area.geometry.equals(box(-93, 17.9, -92.8, 18.1))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("POLYGON((-93 17.9, -92.8 17.9", "cannot read"),
        ("POLYGON((-93 17.9, -92.8 17.9, -93 17.9))", "no area|cannot read"),
        ("POLYGON((17.9 -93, 18 -92.8, 18.1 -93, 17.9 -93))", "outside lon/lat"),
    ],
)
def test_bad_wkt(
    text: str, match: str, states: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame
) -> None:
    with pytest.raises(InvalidAreaError, match=match):
        select_area(text, states, municipalities)


def test_geojson_path_but_never_a_string_path(
    tmp_path: Path, states: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame
) -> None:
    path = tmp_path / "zone.geojson"
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[-93, 17.9], [-92.8, 17.9], [-92.8, 18.1], [-93, 17.9]]],
        },
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    area = select_area(path, states, municipalities)
    assert (area.name, area.kind) == ("zone", "polygon")
    assert area.geometry.area == pytest.approx(0.02)
    with pytest.raises(AreaNotFoundError):
        select_area(str(path), states, municipalities)


def test_unknown_area_suggests_close_names(
    states: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame
) -> None:
    with pytest.raises(NotFoundError, match="did you mean: Tabasco") as info:
        select_area("Tabasko", states, municipalities)
    assert isinstance(info.value, AreaNotFoundError)
    assert info.value.suggestions == ["Tabasco"]
    with pytest.raises(AreaNotFoundError, match="Centro, Tabasco"):
        select_area("Centor", states, municipalities)
    with pytest.raises(AreaNotFoundError, match="give a state"):
        select_area("Atlantis", states, municipalities)


def test_localities_in_area() -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["in", "edge", "out"]},
        geometry=[Point(-92.9, 18.0), Point(-92.8, 18.0), Point(-92.0, 18.0)],
        crs="EPSG:4326",
    )
    area = AreaSelection("box", box(-93, 17.9, -92.8, 18.1), "polygon")
    assert localities_in_area(frame, area)["name"].tolist() == ["in", "edge"]


def test_a_point_layer_keeps_the_rows_in_an_area_as_the_frame_does() -> None:
    # the geometry between other columns, under another name, a gappy index, in UTM
    points = [Point(-92.9, 18.0), Point(-92.8, 18.0), Point(-92.0, 18.0), Point(-92.85, 17.95)]
    frame = gpd.GeoDataFrame(
        {
            "name": pd.array(["in", "edge", "out", "in too"], dtype="string"),
            "where": gpd.GeoSeries(points, crs="EPSG:4326").to_crs(32615).values,
            "population": pd.array([300, 1_200, 40, None], dtype="Int64"),
        },
        geometry="where",
        index=[7, 3, 11, 5],
    )
    area = AreaSelection("box", box(-93, 17.9, -92.8, 18.1), "polygon")
    layer = PointLayer.of(frame)
    assert layer is not None
    kept = layer.in_area(area)
    # rows in (and on the edge of) the box, index, columns, types and points as the frame's
    assert kept.index.tolist() == [7, 3, 5]
    assert kept["name"].tolist() == ["in", "edge", "in too"]
    assert_geodataframe_equal(kept, localities_in_area(frame, area))
    assert kept.geometry.name == "where" and kept.crs == "EPSG:4326"
    assert PointLayer.of(frame.iloc[:0]) is None


def test_a_layer_not_all_of_points_has_no_point_layer() -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["town", "district"]},
        geometry=[Point(-92.9, 18.0), box(-93, 17.9, -92.8, 18.1)],
        crs="EPSG:4326",
    )
    assert PointLayer.of(frame) is None
    assert PointLayer.of(frame.iloc[:1]) is not None
    assert PointLayer.of(frame.iloc[:1].set_geometry([Point()], crs="EPSG:4326")) is None


def test_household_internet_skips_withheld_and_empty(tmp_path: Path) -> None:
    path = tmp_path / "census.csv"
    path.write_text(
        "nivel,cvegeo,vivparh_cv,vph_inter\n"
        "entidad,27,1000,400\n"  # a state total: not a municipality
        "municipio,27001,200,50\n"  # 1 - 50/200 = 0.75
        "municipio,27002,*,10\n"  # withheld
        "municipio,27003,0,0\n"  # no dwellings
        "municipio,27005,100,120\n"  # more with internet than dwellings: clipped to 0
    )
    table = load_household_internet(path)
    assert table["cvegeo"].tolist() == ["27001", "27005"]
    assert table["share_without_internet"].tolist() == pytest.approx([0.75, 0.0])


def test_bundled_household_internet_has_tabasco() -> None:
    table = load_household_internet()
    tabasco = table[table["cvegeo"].str.startswith("27")]
    assert len(tabasco) == 17
    assert tabasco["share_without_internet"].between(0, 1).all()


def test_municipality_codes_from_full_or_short_keys() -> None:
    frame = pd.DataFrame(
        {
            "cve_mun": ["27004", "4", None, None],
            "cve_ent": ["27", "27", "27", None],
            "cvegeo": [None, None, "270020001", None],
        }
    )
    assert municipality_codes(frame) == ["27004", "27004", "27002", None]


def test_demand_by_each_method_by_hand() -> None:
    frame = pd.DataFrame(
        {
            "name": ["yes", "no", "census", "near", "far", "tiny"],
            "population": [1000, 800, 600, 500, 400, 100],
            "connected": pd.array([True, False, None, None, None, None], dtype="boolean"),
            "cve_mun": ["27001", "27001", "27001", "27999", "27999", "27999"],
        }
    )
    census = pd.DataFrame({"cvegeo": ["27001"], "share_without_internet": [0.25]})
    out = estimate_demand(
        frame,
        min_population=250,
        household_internet=census,
        backbone_distance_km=np.array([0.0, 0.0, 0.0, 1.5, 2.5, 99.0]),
    )
    assert out["name"].tolist() == ["yes", "no", "census", "near", "far"]  # "tiny" < 250
    # connected -> 0; not connected -> all 800; 600 x 0.25 = 150; 1.5 km <= 2 km -> served;
    # 2.5 km > 2 km -> all 400
    assert out["people_unserved"].tolist() == [0, 800, 150, 0, 400]
    assert out["demand_method"].tolist() == [
        "connected attribute",
        "connected attribute",
        "census household internet share",
        "distance to corridor",
        "distance to corridor",
    ]
    assert demand_method_counts(out) == {
        "connected attribute": 2,
        "census household internet share": 1,
        "distance to corridor": 2,
        "coverage layer": 0,
    }


def test_distance_rule_needs_distances() -> None:
    frame = pd.DataFrame({"population": [500]})
    with pytest.raises(ValueError, match="backbone_distance_km"):
        estimate_demand(frame, min_population=0, household_internet=None, backbone_distance_km=None)
    out = estimate_demand(
        frame,
        min_population=0,
        household_internet=None,
        backbone_distance_km=[3.0],
        connected_within_km=5.0,
    )
    assert out["people_unserved"].tolist() == [0]
