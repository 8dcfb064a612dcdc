"""Cut the layer-loading test fixtures from the shared source data (run once, by hand).

Usage: ``python tests/data/layers/make_fixtures.py /path/to/shared/data``. The tests use the
files this writes and never run it. See README.md in this folder for provenance.
"""

from __future__ import annotations

import csv
import gzip
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import rasterio
from rasterio.windows import from_bounds

HERE = Path(__file__).resolve().parent
MUNICIPALITIES = ("27004", "27013")  # Centro, Nacajuca (Tabasco)
RAIL_UIDENTS = (82406, 82506, 82706)  # three Natural Earth railroads in south-east Mexico
LOCALITIES = 6  # the most populous localities of Centro, Tabasco
ELEVATION_WINDOW = (-93.2, 17.8, -92.7, 18.2)  # lon/lat around Villahermosa


def main(shared: Path) -> None:
    municipalities = gpd.read_file(
        shared / "admin/mexico_municipalities_inegi_mg2025.geojson",
        where=f"cve_geo IN ({', '.join(repr(c) for c in MUNICIPALITIES)})",
    )
    municipalities.to_file(HERE / "tabasco_municipalities.geojson", driver="GeoJSON")
    municipalities.to_file(
        HERE / "tabasco_municipalities.gpkg", layer="municipalities", driver="GPKG"
    )
    shp_dir = HERE / "_shp"
    shp_dir.mkdir(exist_ok=True)
    municipalities.to_crs("EPSG:6372").to_file(
        shp_dir / "municipios.shp", driver="ESRI Shapefile", encoding="UTF-8"
    )
    with zipfile.ZipFile(HERE / "tabasco_municipalities_shp.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for part in sorted(shp_dir.iterdir()):
            z.write(part, f"municipios/{part.name}")
            part.unlink()
    shp_dir.rmdir()

    rails = gpd.read_file(
        shared / "rights_of_way/natural_earth/ne_10m_railroads_north_america_MEX.geojson"
    )
    rails = rails[rails["uident"].isin(RAIL_UIDENTS)].copy()
    rails.insert(0, "row_type", "rail")
    pyogrio.write_dataframe(rails, HERE / "southeast_railways.kml", driver="KML")
    pyogrio.write_dataframe(rails, HERE / "southeast_railways.fgb", driver="FlatGeobuf")

    with gzip.open(shared / "localities/iter2020_localities_points.csv.gz", "rt") as src:
        reader = csv.reader(src)
        header = next(reader)
        rows = [row for row in reader if row[2] == "27004"]
    rows.sort(key=lambda row: -int(row[7]))
    with (HERE / "tabasco_localities.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows[:LOCALITIES])
    with zipfile.ZipFile(HERE / "tabasco_localities_csv.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(HERE / "tabasco_localities.csv", "localidades/tabasco_localities.csv")

    with rasterio.open(shared / "raster/mexico_elevation_1km_smndatar_gridmex.tif") as src:
        window = from_bounds(*ELEVATION_WINDOW, transform=src.transform).round_offsets()
        window = window.round_lengths()
        profile = src.profile.copy()
        profile.update(
            width=window.width,
            height=window.height,
            transform=src.window_transform(window),
            compress="deflate",
            tiled=False,
        )
        profile.pop("blockxsize", None)
        profile.pop("blockysize", None)
        with rasterio.open(HERE / "villahermosa_elevation.tif", "w", **profile) as dst:
            dst.write(src.read(window=window))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
