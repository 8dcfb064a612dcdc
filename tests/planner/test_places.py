"""PLACE strings: coordinates, landings and localities by name, ambiguity and suggestions.

The localities are real INEGI 2020 localities (keys and coordinates of the locality
points; populations rounded to the thousand, enough to order candidates). The landing is
TeleGeography's Cancún landing point, its coordinates rounded.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import Point

from layers.errors import (
    AmbiguousPlaceError,
    InvalidPlaceError,
    NotFoundError,
    PlaceNotFoundError,
    TrazoError,
    WeakPlaceMatchError,
)
from planner.network.places import (
    Place,
    PlaceIndex,
    load_place_aliases,
    normalize_name,
    parse_lon_lat,
    resolve_place,
    resolve_places,
    split_places,
)

LOCALITIES = [
    # name, municipality, state, cvegeo, population, lon, lat
    ("Villahermosa", "Centro", "Tabasco", "270040001", 340_000, -92.9303, 17.9892),
    ("Emiliano Zapata", "Emiliano Zapata", "Tabasco", "270070001", 20_000, -91.7667, 17.7406),
    ("Emiliano Zapata", "Emiliano Zapata", "Morelos", "170080001", 27_000, -99.1828, 18.8439),
    ("Coatzacoalcos", "Coatzacoalcos", "Veracruz de Ignacio de la Llave", "300390001", 311_000,
     -94.4586, 18.1345),
    ("Cancún", "Benito Juárez", "Quintana Roo", "230050001", 888_000, -86.8475, 21.1619),
    ("Mérida", "Mérida", "Yucatán", "310500001", 921_000, -89.6217, 20.9670),
]  # fmt: skip


@pytest.fixture(scope="module")
def localities() -> gpd.GeoDataFrame:
    names, muns, states, codes, pops, lons, lats = zip(*LOCALITIES, strict=True)
    return gpd.GeoDataFrame(
        {
            "name": names,
            "population": pops,
            "cvegeo": codes,
            "state": states,
            "cve_ent": [c[:2] for c in codes],
            "municipality": muns,
            "cve_mun": [c[2:5] for c in codes],
            "connected": [True, False, False, True, True, True],
        },
        geometry=[Point(x, y) for x, y in zip(lons, lats, strict=True)],
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def landings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": ["Cancún"],
            "cables": ["AMX-1"],
            "country": ["Mexico"],
            "ready_for_service": [2014],
        },
        geometry=[Point(-86.85, 21.17)],
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def index(localities: gpd.GeoDataFrame, landings: gpd.GeoDataFrame) -> PlaceIndex:
    return PlaceIndex(localities, landings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-99.1332,19.4326", (-99.1332, 19.4326)),
        ("  -99.1332 , 19.4326 ", (-99.1332, 19.4326)),
        ("-86,21", (-86.0, 21.0)),
        ("+10.5,-.5", (10.5, -0.5)),
        ("Mérida", None),
        ("1,2,3", None),
    ],
)
def test_parse_lon_lat(text: str, expected: tuple[float, float] | None) -> None:
    assert parse_lon_lat(text) == expected


def test_lat_lon_in_mexico_is_refused_with_the_swapped_pair(index: PlaceIndex) -> None:
    with pytest.raises(InvalidPlaceError, match=r"lat,lon.*did you mean -99.1332,19.4326\?"):
        index.resolve("19.4326,-99.1332")
    # within range (lat -88 is Antarctica) but still a swapped Mexican pair
    with pytest.raises(InvalidPlaceError, match="did you mean -88,17"):
        index.resolve("17,-88")


@pytest.mark.parametrize("text", ["200,10", "-99,95", "point:Mérida", "   ", "locality:"])
def test_bad_coordinates_are_refused(index: PlaceIndex, text: str) -> None:
    with pytest.raises(InvalidPlaceError):
        index.resolve(text)


def test_invalid_place_is_a_value_error_and_a_trazo_error() -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_lon_lat("-190,10")
    assert issubclass(InvalidPlaceError, TrazoError)
    assert issubclass(PlaceNotFoundError, NotFoundError)
    assert issubclass(AmbiguousPlaceError, TrazoError)


def test_coordinates_resolve_to_a_point_without_layers() -> None:
    place = resolve_place("-92.93,17.99")
    assert place == Place("-92.93,17.99", -92.93, 17.99)
    assert place.kind == "point"


def test_normalize_name_drops_accents_case_and_spaces() -> None:
    assert normalize_name(" Mérida ") == normalize_name("MERIDA") == "merida"
    assert normalize_name("Peñasco\t Grande") == "penasco grande"


@pytest.mark.parametrize("text", ["cancun", "Cancún", "CANCUN", "landing:cancún"])
def test_landing_names_ignore_accents_and_case(index: PlaceIndex, text: str) -> None:
    place = index.resolve(text)
    assert (place.name, place.kind) == ("Cancún", "landing")
    assert place.attributes["cables"] == "AMX-1"
    assert place.attributes["ready_for_service"] == 2014


def test_locality_prefix_skips_the_landing_of_the_same_name(index: PlaceIndex) -> None:
    place = index.resolve("locality:cancun")
    assert (place.name, place.kind, place.population) == ("Cancún", "locality", 888_000)
    assert place.state == "Quintana Roo"
    assert place.attributes["municipality"] == "Benito Juárez"


@pytest.mark.parametrize("text", ["villahermosa", "VILLAHERMOSA ", "270040001"])
def test_locality_by_name_or_key(index: PlaceIndex, text: str) -> None:
    place = index.resolve(text)
    assert (place.name, place.kind, place.state) == ("Villahermosa", "locality", "Tabasco")
    assert (place.lon, place.lat) == (-92.9303, 17.9892)
    assert place.population == 340_000
    assert place.attributes["cvegeo"] == "270040001"
    assert place.attributes["connected"] is True


def test_shared_name_is_refused_with_candidates(index: PlaceIndex) -> None:
    with pytest.raises(
        AmbiguousPlaceError, match=r"matches 2 localities.*'Emiliano Zapata, State'"
    ) as err:
        index.resolve("emiliano zapata")
    assert err.value.candidates == [
        "Emiliano Zapata, Emiliano Zapata, Morelos (pop. 27,000; INEGI 170080001)",
        "Emiliano Zapata, Emiliano Zapata, Tabasco (pop. 20,000; INEGI 270070001)",
    ]
    assert "lon,lat" in err.value.message


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Emiliano Zapata, Tabasco", "Tabasco"),
        ("emiliano zapata,morelos", "Morelos"),
        ("Emiliano Zapata, Emiliano Zapata, Tabasco", "Tabasco"),
        ("locality:Emiliano Zapata, Morelos", "Morelos"),
    ],
)
def test_state_qualifier_resolves(index: PlaceIndex, text: str, state: str) -> None:
    place = index.resolve(text)
    assert (place.name, place.state) == ("Emiliano Zapata", state)


def test_municipality_alone_qualifies_when_it_is_unique(index: PlaceIndex) -> None:
    # Both are in a municipality named Emiliano Zapata: still ambiguous.
    with pytest.raises(AmbiguousPlaceError):
        index.resolve("Emiliano Zapata, Emiliano Zapata")
    assert index.resolve("Villahermosa, Centro").name == "Villahermosa"


@pytest.mark.parametrize(
    "text", ["Coatzacoalcos, Veracruz", "Coatzacoalcos, veracruz de ignacio de la llave"]
)
def test_everyday_state_names(index: PlaceIndex, text: str) -> None:
    assert index.resolve(text).attributes["cvegeo"] == "300390001"


def test_qualifier_that_matches_nothing_says_where_the_name_is(index: PlaceIndex) -> None:
    with pytest.raises(
        PlaceNotFoundError, match=r"in 'Chiapas' \(there is one in: Morelos, Tabasco\)"
    ):
        index.resolve("Emiliano Zapata, Chiapas")


def test_unknown_name_suggests_close_names(index: PlaceIndex) -> None:
    with pytest.raises(PlaceNotFoundError, match="did you mean: Villahermosa") as err:
        index.resolve("Villahermoza")
    assert err.value.suggestions == ["Villahermosa"]
    with pytest.raises(PlaceNotFoundError, match="check the spelling or give lon,lat"):
        index.resolve("Xyzzy")


def test_names_need_a_layer() -> None:
    with pytest.raises(PlaceNotFoundError, match="no localities or subsea landings layer"):
        resolve_place("Villahermosa")
    with pytest.raises(PlaceNotFoundError, match="no subsea landings layer"):
        resolve_place("landing:Cancún")


def test_layers_in_other_crs_are_read_in_lon_lat(localities: gpd.GeoDataFrame) -> None:
    place = resolve_place("Mérida", localities=localities.to_crs(6372))
    assert place.lon == pytest.approx(-89.6217, abs=1e-9)
    assert place.lat == pytest.approx(20.9670, abs=1e-9)


def test_split_places_keeps_commas_inside_places() -> None:
    assert split_places("Emiliano Zapata, Tabasco; -99.13,19.43\n\n# comment\n Mérida ;") == [
        "Emiliano Zapata, Tabasco",
        "-99.13,19.43",
        "Mérida",
    ]


def test_resolve_places_from_text_and_sequences(index: PlaceIndex) -> None:
    text = "Emiliano Zapata, Tabasco; -99.13,19.43\ncancun"
    places = resolve_places(text, index=index)
    assert [(p.name, p.kind) for p in places] == [
        ("Emiliano Zapata", "locality"),
        ("-99.13,19.43", "point"),
        ("Cancún", "landing"),
    ]
    assert resolve_places(["Mérida", "Villahermosa"], index=index)[1].state == "Tabasco"


def test_resolve_places_names_the_bad_entry(index: PlaceIndex) -> None:
    with pytest.raises(AmbiguousPlaceError, match=r"^place 2: 'Emiliano Zapata' matches") as err:
        resolve_places("Mérida; Emiliano Zapata", index=index)
    assert len(err.value.candidates) == 2
    with pytest.raises(InvalidPlaceError, match="no places given"):
        resolve_places(" ; \n", index=index)


def test_resolve_places_reads_files(index: PlaceIndex, tmp_path: Path) -> None:
    txt = tmp_path / "terminals.txt"
    txt.write_text("# backbone terminals\nVillahermosa\n\n-94.4586,18.1345\n", encoding="utf-8")
    assert [p.name for p in resolve_places(txt, index=index)] == [
        "Villahermosa",
        "-94.4586,18.1345",
    ]

    by_name = tmp_path / "names.csv"
    by_name.write_text('name\nMérida\n"Emiliano Zapata, Morelos"\n', encoding="utf-8")
    assert [p.state for p in resolve_places(by_name, index=index)] == ["Yucatán", "Morelos"]

    by_coords = tmp_path / "points.csv"
    by_coords.write_text("Name,Lon,Lat\nPoP norte,-99.13,19.43\n,-92.93,17.99\n", encoding="utf-8")
    assert [(p.name, p.lon) for p in resolve_places(by_coords, index=index)] == [
        ("PoP norte", -99.13),
        ("-92.93,17.99", -92.93),
    ]

    points = tmp_path / "points.geojson"
    points.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [-89.62, 20.97]},
                        "properties": {"name": "Mérida PoP", "site": 7},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    (place,) = resolve_places(points, index=index)
    assert (place.name, place.lon, place.lat, place.attributes) == (
        "Mérida PoP",
        -89.62,
        20.97,
        {"site": 7},
    )


def test_resolve_places_file_errors(index: PlaceIndex, tmp_path: Path) -> None:
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("lon,lat\n19.43,-99.13\n", encoding="utf-8")
    with pytest.raises(InvalidPlaceError, match=r"swapped\.csv line 2: .*lat,lon"):
        resolve_places(swapped, index=index)
    no_columns = tmp_path / "bad.csv"
    no_columns.write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidPlaceError, match="'name' column"):
        resolve_places(no_columns, index=index)
    lines = tmp_path / "lines.geojson"
    lines.write_text(
        json.dumps({"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}}),
        encoding="utf-8",
    )
    with pytest.raises(InvalidPlaceError, match="Point features"):
        resolve_places(lines, index=index)
    with pytest.raises(InvalidPlaceError, match=r"\.txt"):
        resolve_places(tmp_path / "terminals.shp", index=index)


def test_a_string_is_never_opened_as_a_file(index: PlaceIndex, tmp_path: Path) -> None:
    path = tmp_path / "terminals.txt"
    path.write_text("Villahermosa\n", encoding="utf-8")
    with pytest.raises(PlaceNotFoundError):
        resolve_places(str(path), index=index)


def test_place_round_trips_through_a_dict() -> None:
    place = Place("Cancún", -86.85, 21.17, "landing", None, None, {"cables": "AMX-1"})
    assert Place.from_dict(json.loads(json.dumps(place.to_dict()))) == place


# Cárdenas, Tabasco: the municipal seat (INEGI locality 0001, 80,454 people in 2020) and a
# hamlet of 186 people with the same name in the same municipality.
CARDENAS = [
    ("Cárdenas", "Cárdenas", "Tabasco", "270020001", 80_454, -93.3750, 18.0017),
    ("Cárdenas", "Cárdenas", "Tabasco", "", 186, -93.5012, 18.0833),
]


def _towns(rows: list[tuple[str, str, str, str, int, float, float]]) -> PlaceIndex:
    names, muns, states, codes, pops, lons, lats = zip(*rows, strict=True)
    frame = gpd.GeoDataFrame(
        {"name": names, "population": pops, "cvegeo": codes, "state": states, "municipality": muns},
        geometry=[Point(x, y) for x, y in zip(lons, lats, strict=True)],
        crs="EPSG:4326",
    )
    return PlaceIndex(frame)


@pytest.mark.parametrize("text", ["Cárdenas", "Cárdenas, Tabasco", "cardenas, cardenas, tabasco"])
def test_the_municipal_seat_wins_among_namesakes_of_one_state(text: str) -> None:
    place = _towns(CARDENAS).resolve(text)
    assert (place.population, place.attributes["cvegeo"]) == (80_454, "270020001")


def test_namesakes_without_a_seat_stay_ambiguous() -> None:
    hamlets = [(*CARDENAS[1][:3], "", 95, -93.6, 18.1), CARDENAS[1]]
    with pytest.raises(AmbiguousPlaceError, match="INEGI key or lon,lat"):
        _towns(hamlets).resolve("Cárdenas, Tabasco")


def test_seats_of_two_states_stay_ambiguous(index: PlaceIndex) -> None:
    # both Emiliano Zapata localities are seats (…0001), but in different states
    with pytest.raises(AmbiguousPlaceError):
        index.resolve("Emiliano Zapata")


# ----------------------------------------------------------------------------- aliases


@pytest.fixture(scope="module")
def capital_index() -> PlaceIndex:
    rows = [
        # name, municipality, state, INEGI key, population (Censo 2020), lon, lat
        ("Santiago de Querétaro", "Querétaro", "Querétaro", "220140001", 794_789, -100.39, 20.59),
        ("Querétaro", "Cuauhtémoc", "Chihuahua", "080170123", 12, -106.9, 28.4),
        ("San Francisco de Campeche", "Campeche", "Campeche", "040020001", 249_623, -90.53, 19.84),
        ("Campeche", "Othón P. Blanco", "Quintana Roo", "230040456", 40, -88.5, 18.6),
        ("Cuauhtémoc", "Cuauhtémoc", "Ciudad de México", "090150001", 545_884, -99.15, 19.43),
        ("Houston", "Tulum", "Quintana Roo", None, 2, -87.6, 20.1),
        ("Tenosique de Pino Suárez", "Tenosique", "Tabasco", "270170001", 32_579, -91.42, 17.47),
    ]
    names, muns, states, codes, pops, lons, lats = zip(*rows, strict=True)
    frame = gpd.GeoDataFrame(
        {"name": names, "municipality": muns, "state": states, "cvegeo": codes,
         "population": pops},
        geometry=[Point(x, y) for x, y in zip(lons, lats, strict=True)],
        crs="EPSG:4326",
    )  # fmt: skip
    return PlaceIndex(frame)


@pytest.mark.parametrize(
    ("typed", "name", "cvegeo"),
    [
        ("Querétaro, Querétaro", "Santiago de Querétaro", "220140001"),
        ("QUERETARO", "Santiago de Querétaro", "220140001"),
        ("Campeche, Campeche", "San Francisco de Campeche", "040020001"),
        ("Ciudad de México", "Cuauhtémoc", "090150001"),
        ("CDMX", "Cuauhtémoc", "090150001"),
    ],
)
def test_common_names_resolve_by_the_alias_file_and_say_so(
    capital_index: PlaceIndex, typed: str, name: str, cvegeo: str
) -> None:
    place = capital_index.resolve(typed)
    assert (place.name, place.cvegeo) == (name, cvegeo)
    assert place.match is not None
    assert {k: place.match[k] for k in ("typed", "name", "cvegeo", "how")} == {
        "typed": typed, "name": name, "cvegeo": cvegeo, "how": "alias"
    }  # fmt: skip
    assert "INEGI" in place.match["source"]
    assert place.describe().startswith(f"{typed!r} → {name}, ")


def test_an_exact_spelling_carries_no_match_record(capital_index: PlaceIndex) -> None:
    place = capital_index.resolve("Santiago de Querétaro, Querétaro")
    assert place.match is None and place.describe() == (
        "Santiago de Querétaro, Querétaro (INEGI 220140001)"
    )
    spelled = capital_index.resolve("tenosique de pino suarez")
    assert spelled.match is not None and spelled.match["how"] == "spelling"


def test_a_bare_name_matching_only_a_hamlet_is_refused(capital_index: PlaceIndex) -> None:
    with pytest.raises(WeakPlaceMatchError) as refused:
        capital_index.resolve("Houston")
    assert refused.value.code == "weak_place_match"
    assert refused.value.candidates == ["Houston, Tulum, Quintana Roo (pop. 2)"]
    assert "'Houston, Quintana Roo'" in refused.value.message
    assert capital_index.resolve("Houston, Quintana Roo").population == 2


def test_every_alias_names_a_key_once_and_the_file_cites_inegi() -> None:
    aliases = load_place_aliases()
    assert "INEGI" in aliases.source
    capitals = {entry.cvegeo for entry in aliases.entries}
    assert len(capitals) == 32  # 31 state capitals and Mexico City
    assert all(key.endswith("0001") for key in capitals)  # municipal seats
    typed = [normalize_name(e.alias) for e in aliases.entries]
    assert len(typed) == len(set(typed))


def test_a_one_column_csv_keeps_the_comma_inside_a_place(index: PlaceIndex, tmp_path: Path) -> None:
    path = tmp_path / "terminals.csv"
    path.write_text("place\nVillahermosa, Tabasco\n\n# a comment\nMérida, Yucatán\n", "utf-8")
    names = [p.name for p in resolve_places(path, index=index)]
    assert names == ["Villahermosa", "Mérida"]
    wide = tmp_path / "wide.csv"
    wide.write_text("place,note\nVillahermosa, Tabasco,capital\n", encoding="utf-8")
    with pytest.raises(InvalidPlaceError, match=r"wide\.csv line 2 has more fields"):
        resolve_places(wide, index=index)
