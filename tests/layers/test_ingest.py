"""read_layer and ingest: names, clean-up, and the store touched only after validation."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning

from layers.errors import LayerValidationError, LimitExceededError, UnsafeInputError
from layers.ingest import default_layer_name, ingest, read_layer
from layers.kinds import LayerKind
from layers.limits import Limits
from layers.report import ValidationReport


@dataclass
class FakeStore:
    """Records what it is asked to write; checks a raster file exists while it is written."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def write_layer(
        self,
        name: str,
        kind: LayerKind,
        frame: gpd.GeoDataFrame,
        report: ValidationReport,
        *,
        replace: bool = False,
    ) -> None:
        self.calls.append(("write_layer", (name, kind, len(frame), report, replace)))

    def write_raster(
        self, name: str, tif: Path, report: ValidationReport, *, replace: bool = False
    ) -> None:
        assert tif.is_file()
        with rasterio.open(tif) as src:
            epsg = src.crs.to_epsg()
        self.calls.append(("write_raster", (name, tif, epsg, report, replace)))


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point ``tempfile`` at an empty folder, to see what loading leaves behind."""
    folder = tmp_path / "server_tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


def work_folders(folder: Path) -> list[Path]:
    """What is left in the temporary folder but this process's owner lock (layers.workdirs)."""
    return [path for path in folder.iterdir() if not path.name.startswith("trazo-owner-")]


def test_ingest_stores_a_validated_vector_layer(data_dir: Path, private_tmp: Path) -> None:
    store = FakeStore()
    report = ingest(
        store, data_dir / "tabasco_municipalities_shp.zip", "municipalities", replace=True
    )
    assert [call[0] for call in store.calls] == ["write_layer"]
    name, kind, count, stored_report, replace = store.calls[0][1]
    assert (name, kind, count, replace) == (
        "tabasco_municipalities_shp",
        LayerKind.MUNICIPALITIES,
        2,
        True,
    )
    assert stored_report is report
    assert work_folders(private_tmp) == []


def test_a_caveat_given_to_ingest_is_kept_with_the_report(data_dir: Path) -> None:
    store = FakeStore()
    caveat = "a proxy: bus stops standing in for towns"
    report = ingest(store, data_dir / "tabasco_localities.csv", "localities", caveat=caveat)
    assert report.caveat == caveat and store.calls[0][1][3].caveat == caveat
    assert report.to_dict()["caveat"] == caveat


def test_ingest_uses_the_given_name(data_dir: Path) -> None:
    store = FakeStore()
    report = ingest(store, data_dir / "tabasco_localities.csv", "localities", name="pueblos")
    assert report.name == "pueblos"
    assert store.calls[0][1][0] == "pueblos"


@pytest.fixture
def utm_raster(tmp_path: Path) -> Path:
    """A 20 x 10 cell GeoTIFF in UTM 15N (1 km cells) just west of Villahermosa."""
    path = tmp_path / "Elevación UTM.tif"
    data = np.arange(200, dtype="int16").reshape(10, 20)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=20,
        height=10,
        count=1,
        dtype="int16",
        crs="EPSG:32615",
        transform=Affine(1000, 0, 490_000, 0, -1000, 1_995_000),
        nodata=-32768,
    ) as dst:
        dst.write(data, 1)
    return path


def test_ingest_reprojects_a_raster_and_cleans_up(utm_raster: Path, private_tmp: Path) -> None:
    store = FakeStore()
    report = ingest(store, utm_raster, LayerKind.RASTER)
    [(method, (name, tif, epsg, _, _))] = store.calls
    assert (method, name, epsg) == ("write_raster", "elevacion_utm", 4326)
    assert not tif.exists()
    assert work_folders(private_tmp) == []
    assert report.crs_in == "EPSG:32615"
    assert report.bbox is not None
    left, bottom, right, top = report.bbox
    # 490-510 km east, 1985-1995 km north in zone 15 (central meridian 93 W): about
    # 93.09 to 92.90 W and 17.95 to 18.04 N.
    assert -93.1 < left < -93.08 and -92.91 < right < -92.89
    assert 17.94 < bottom < 17.96 and 18.03 < top < 18.05


def test_read_layer_keeps_a_reprojected_raster_until_closed(utm_raster: Path) -> None:
    layer = read_layer(utm_raster, "raster")
    assert layer.raster is not None and layer.raster.is_file()
    with rasterio.open(layer.raster) as src:
        assert src.crs.to_epsg() == 4326
        assert src.nodata == -32768
    layer.close()
    assert not layer.raster.exists()


def test_raster_without_crs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sin_crs.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=1,
        dtype="uint8",
        transform=Affine(0.01, 0, -93, 0, -0.01, 18),
    ) as dst:
        dst.write(np.zeros((1, 4, 4), dtype="uint8"))
    with pytest.raises(LayerValidationError, match=r"'sin_crs\.tif' has no CRS"):
        read_layer(path, "raster")


def test_raster_without_geotransform_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sin_transformada.tif"
    with (
        warnings.catch_warnings(action="ignore", category=NotGeoreferencedWarning),
        rasterio.open(
            path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8", crs="EPSG:4326"
        ) as dst,
    ):
        dst.write(np.zeros((1, 4, 4), dtype="uint8"))
    with pytest.raises(LayerValidationError, match="has no geotransform"):
        read_layer(path, "raster")


@pytest.mark.parametrize(
    ("file", "kind", "match"),
    [
        ("tabasco_localities.csv", "raster", "the raster kind takes a GeoTIFF"),
        ("villahermosa_elevation.tif", "localities", "load it with the raster kind"),
        ("tabasco_localities.csv", "roads", "unknown layer kind 'roads'"),
    ],
)
def test_kind_and_format_must_agree(file: str, kind: str, match: str, data_dir: Path) -> None:
    store = FakeStore()
    with pytest.raises(LayerValidationError, match=match):
        ingest(store, data_dir / file, kind)
    assert store.calls == []


@pytest.mark.parametrize(
    ("path", "name", "match"),
    [
        ("tabasco_localities.csv", "Pueblos", r"layer name 'Pueblos' is not allowed"),
        ("tabasco_localities.csv", "a" * 64, "use 1-63 characters"),
        ("tabasco_localities.csv", "_pueblos", "a lower-case letter first"),
        ("tabasco_localities.csv", "pueblos;drop", "not allowed"),
    ],
)
def test_layer_names_follow_the_rule(path: str, name: str, match: str, data_dir: Path) -> None:
    store = FakeStore()
    with pytest.raises(LayerValidationError, match=match):
        ingest(store, data_dir / path, "localities", name=name)
    assert store.calls == []


def test_a_63_character_name_is_allowed(data_dir: Path) -> None:
    store = FakeStore()
    ingest(store, data_dir / "tabasco_localities.csv", "localities", name="p" * 63)
    assert store.calls[0][1][0] == "p" * 63


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("Municipios Tabasco.geojson", "municipios_tabasco"),
        ("/srv/uploads/Población-2020.CSV", "poblacion_2020"),
        ("vías.férreas.kml", "vias_ferreas"),
        ("2020_localidades.csv", "2020_localidades"),
    ],
)
def test_default_layer_name(file: str, expected: str) -> None:
    assert default_layer_name(file) == expected


def test_default_name_that_breaks_the_rule_is_refused(
    write_text: Callable[[str, str], Path],
) -> None:
    path = write_text("2020.csv", "name,population,lon,lat\nVillahermosa,340060,-92.9,17.9\n")
    with pytest.raises(LayerValidationError, match="layer name '2020' is not allowed"):
        read_layer(path, "localities")
    assert read_layer(path, "localities", name="l2020").report.name == "l2020"


@pytest.fixture
def bad_inputs(
    tmp_path: Path,
    data_dir: Path,
    make_zip: Callable[..., Path],
    write_text: Callable[[str, str], Path],
    write_geojson: Callable[..., Path],
) -> dict[str, tuple[str, str, type[Exception], Limits]]:
    """Inputs that fail at each stage: (path, kind, error, limits)."""
    slip = make_zip({"../evil.txt": b"x", "a.geojson": b"{}"}, name="slip.zip")
    bomb = make_zip({"a.geojson": b" " * (2 * 1024**2)}, name="bomb.zip")
    swapped = write_text("swapped.csv", "name,population,lon,lat\nVillahermosa,1,17.98,-92.91\n")
    wrong_type = write_geojson(
        [({"type": "Point", "coordinates": [-92.9, 17.9]}, {"row_type": "rail"})], "pts.geojson"
    )
    bad_value = write_geojson(
        [({"type": "LineString", "coordinates": [[-93, 18], [-92, 18]]}, {"row_type": "road"})],
        "road.geojson",
    )
    return {
        "url": ("https://example.com/a.geojson", "localities", UnsafeInputError, Limits()),
        "vsi": ("/vsicurl/http://x", "localities", UnsafeInputError, Limits()),
        "zip-slip": (str(slip), "localities", UnsafeInputError, Limits()),
        "zip bomb": (str(bomb), "localities", LimitExceededError, Limits()),
        "oversize": (
            str(data_dir / "tabasco_localities.csv"),
            "localities",
            LimitExceededError,
            Limits(max_file_bytes=100),
        ),
        "swapped": (str(swapped), "localities", LayerValidationError, Limits()),
        "wrong type": (str(wrong_type), "rights_of_way", LayerValidationError, Limits()),
        "bad value": (str(bad_value), "rights_of_way", LayerValidationError, Limits()),
        "missing column": (
            str(data_dir / "southeast_railways.fgb"),
            "fiber_routes",
            LayerValidationError,
            Limits(),
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "url",
        "vsi",
        "zip-slip",
        "zip bomb",
        "oversize",
        "swapped",
        "wrong type",
        "bad value",
        "missing column",
    ],
)
def test_store_is_never_called_when_validation_fails(
    case: str,
    bad_inputs: dict[str, tuple[str, str, type[Exception], Limits]],
    private_tmp: Path,
) -> None:
    path, kind, error, limits = bad_inputs[case]
    store = FakeStore()
    with pytest.raises(error):
        ingest(store, path, kind, limits=limits)
    assert store.calls == []
    assert work_folders(private_tmp) == []
