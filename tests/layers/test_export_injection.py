"""Exports do not carry spreadsheet formulas or KML markup out of a layer's attributes."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

from layers.export import export_frame

HOSTILE = [
    '=HYPERLINK("http://evil.example","clic")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\tTAB",
    "\rCR",
    "Villahermosa",
]


def _frame() -> gpd.GeoDataFrame:
    count = len(HOSTILE)
    return gpd.GeoDataFrame(
        {
            "name": HOSTILE,
            "population": [-5] * count,  # a number, not text: left as it is
            "=cmd": ["x"] * count,
        },
        geometry=[Point(-92.9 + i / 100, 17.9) for i in range(count)],
        crs="EPSG:4326",
    )


def test_csv_cells_and_headers_that_start_a_formula_are_quoted(tmp_path: Path) -> None:
    out = export_frame(_frame(), "csv", tmp_path / "x.csv", "x", geometry_type="Point")
    with out.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["name", "population", "'=cmd"]
    assert [row[0] for row in body] == [
        '\'=HYPERLINK("http://evil.example","clic")',
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1:A2)",
        "'\tTAB",
        "'\rCR",
        "Villahermosa",
    ]
    assert {row[1] for row in body} == {"-5"}
    # the coordinates are numbers and stay as they are (negative longitudes)
    assert float(body[0][header.index("lon")]) == -92.9


def test_kml_field_names_cannot_inject_elements(tmp_path: Path) -> None:
    frame = _frame().rename(columns={"=cmd": '"/><NetworkLink><Link><href>http://x</href>'})
    out = export_frame(frame, "kml", tmp_path / "x.kml", "x")
    text = out.read_text(encoding="utf-8")
    assert "<NetworkLink" not in text
    root = ET.fromstring(text.encode())  # well-formed XML
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    names = [field.get("name") for field in root.iterfind(".//k:SimpleField", ns)]
    # each character outside [A-Za-z0-9_] became "_"
    assert names == ["population", "____NetworkLink__Link__href_http___x__href_"]
    # the names came through as placemark names, escaped by the writer
    placemarks = [mark.text for mark in root.iterfind(".//k:Placemark/k:name", ns)]
    assert placemarks == [value.replace("\r", "\n") for value in HOSTILE]  # XML normalises CR
