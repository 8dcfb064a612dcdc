"""Write ``rnc_red_vial.gpkg``: roads with the attributes of INEGI's Red Nacional de Caminos.

Run from the repository root: ``python tests/data/layers/make_rnc_fixture.py``. The values
are made up; the attribute names and their domains follow INEGI's published data
dictionary of the RNC ``red_vial`` layer (see README.md beside this file).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely import LineString

HERE = Path(__file__).resolve().parent

# (TIPO_VIAL, NOMBRE, COND_PAV, RECUBRI, CARRILES, ADMINISTRA, PEAJE), all as in the dictionary
ROADS = [
    (
        "Carretera",
        "Coatzacoalcos - Villahermosa (cuota)",
        "Con pavimento",
        "Asfalto",
        4,
        "Federal",
        "Si",
    ),
    ("Carretera", "Villahermosa - Escárcega", "Con pavimento", "Asfalto", 4, "Federal", "No"),
    ("Carretera", "Villahermosa - Teapa", "Con pavimento", "Asfalto", 2, "Federal", "No"),
    ("Carretera", "Villahermosa - Nacajuca", "Con pavimento", "Asfalto", 2, "Estatal", "No"),
    ("Carretera", "Tacotalpa - Tapijulapa", "Con pavimento", "Revestimiento", 2, "Estatal", "No"),
    ("Enlace", "Enlace Periférico", "Con pavimento", "Concreto", 1, "Federal", "No"),
    ("Avenida", "Paseo Tabasco", "Con pavimento", "Concreto", 4, "Municipal", "N/A"),
    ("Calle", "Calle 5 de Mayo", "Con pavimento", "Asfalto", 2, "Municipal", "N/A"),
    ("Camino", "Camino a Buena Vista", "Sin pavimento", "Terracería", 1, "Municipal", "N/A"),
    ("Brecha", "Ninguno", "Sin pavimento", "Sin recubrimiento", 1, "N/A", "N/A"),
    ("Vereda", "Ninguno", "N/A", "N/A", 0, "N/A", "N/A"),
]


def main() -> None:
    # parallel east-west lines 0.01 degrees apart near Villahermosa, 0.1 degrees long
    geometry = [
        LineString([(-93.0, 18.0 + 0.01 * i), (-92.9, 18.0 + 0.01 * i)]) for i in range(len(ROADS))
    ]
    columns = ["TIPO_VIAL", "NOMBRE", "COND_PAV", "RECUBRI", "CARRILES", "ADMINISTRA", "PEAJE"]
    frame = gpd.GeoDataFrame(
        {name: [road[i] for road in ROADS] for i, name in enumerate(columns)},
        geometry=geometry,
        crs="EPSG:4326",
    )
    frame.insert(0, "ID_RED", list(range(1, len(ROADS) + 1)))
    frame["ESTATUS"] = "Habilitado"
    frame.to_file(HERE / "rnc_red_vial.gpkg", layer="red_vial", driver="GPKG")


if __name__ == "__main__":
    main()
