"""Refusals of paths and archives before anything reaches GDAL."""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from layers._safety import (
    check_archive,
    check_file,
    check_user_string,
    extract_dataset,
    human_bytes,
)
from layers.errors import LayerValidationError, LimitExceededError, UnsafeInputError
from layers.limits import Limits
from layers.read import DATASET_SUFFIXES

POINT_GEOJSON = (
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
    b'{"name": "Villahermosa"}, "geometry": {"type": "Point", "coordinates": [-92.93, 17.99]}}]}'
)


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("/vsicurl/http://x", "virtual file system"),
        ("/VSIZIP/upload.zip/a.shp", "virtual file system"),
        ("  /vsistdin/", "virtual file system"),
        ("https://example.com/municipios.geojson", "scheme://"),
        ("s3://bucket/municipios.gpkg", "scheme://"),
        ('{"type": "Point", "coordinates": [-92.93, 17.99]}', "inline JSON"),
        ("  [1, 2]", "inline JSON"),
        ("<kml><Document/></kml>", "inline JSON, XML or WKT"),
        ("", "empty"),
        ("layer\x00.geojson", "NUL"),
    ],
)
def test_user_strings_gdal_would_interpret_are_refused(path: str, match: str) -> None:
    with pytest.raises(UnsafeInputError, match=match):
        check_user_string(path)


def test_plain_names_pass_unchanged() -> None:
    assert check_user_string("data/municipios vsi.geojson") == "data/municipios vsi.geojson"


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafeInputError, match=r"'nowhere\.geojson' does not exist"):
        check_file(tmp_path / "nowhere.geojson", Limits())


def test_wkt_string_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(UnsafeInputError, match="does not exist"):
        check_file("POINT (-92.93 17.99)", Limits())


def test_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafeInputError, match="is a folder"):
        check_file(tmp_path, Limits())


def test_device_is_refused() -> None:
    with pytest.raises(UnsafeInputError, match="not a regular file"):
        check_file("/dev/null", Limits())


def test_symlink_outside_its_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "private" / "secret.geojson"
    secret.parent.mkdir()
    secret.write_bytes(POINT_GEOJSON)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    link = uploads / "layer.geojson"
    link.symlink_to(secret)
    with pytest.raises(UnsafeInputError, match="symbolic link to a file outside its folder"):
        check_file(link, Limits())


def test_symlink_within_its_folder_is_followed(tmp_path: Path) -> None:
    target = tmp_path / "real.geojson"
    target.write_bytes(POINT_GEOJSON)
    link = tmp_path / "alias.geojson"
    link.symlink_to(target.name)
    assert check_file(link, Limits()) == target.resolve()


def test_oversize_file_is_refused_from_stat(tmp_path: Path) -> None:
    path = tmp_path / "big.geojson"
    path.write_bytes(b" " * 2048)
    with pytest.raises(
        LimitExceededError,
        match=r"'big.geojson' is 2.0 KiB, over the 1000 B limit \(max_file_bytes\)",
    ):
        check_file(path, Limits(max_file_bytes=1000))


def test_file_at_the_size_limit_passes(tmp_path: Path) -> None:
    path = tmp_path / "exact.geojson"
    path.write_bytes(b" " * 1000)
    assert check_file(path, Limits(max_file_bytes=1000)) == path.resolve()


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (5 * 1024**2, "5.0 MiB"),
        (2 * 1024**3, "2.0 GiB"),
    ],
)
def test_human_bytes(size: int, text: str) -> None:
    assert human_bytes(size) == text


@pytest.mark.parametrize(
    "entry",
    ["../evil.txt", "ok/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "..\\evil.txt"],
)
def test_zip_slip_entries_are_refused_before_extracting(
    entry: str, make_zip: Callable[..., Path], tmp_path: Path
) -> None:
    archive = make_zip({"layer.geojson": POINT_GEOJSON, entry: b"owned"})
    workdir = tmp_path / "work"
    with pytest.raises(UnsafeInputError, match="zip-slip"):
        extract_dataset(
            archive, Limits(), workdir, display_name="upload.zip", dataset_suffixes=DATASET_SUFFIXES
        )
    assert not workdir.exists()
    assert not (tmp_path.parent / "evil.txt").exists()


def test_symlink_entry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "links.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("layer.geojson")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeInputError, match=r"'layer\.geojson' is a symbolic link"):
        check_archive(path, Limits(), "links.zip")


def test_encrypted_entry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "locked.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("layer.geojson", POINT_GEOJSON)
    # Set bit 0 ("encrypted") of the general-purpose flags in the local and central headers.
    raw = bytearray(path.read_bytes())
    local = raw.index(b"PK\x03\x04")
    central = raw.index(b"PK\x01\x02")
    raw[local + 6] |= 0x1
    raw[central + 8] |= 0x1
    path.write_bytes(bytes(raw))
    with pytest.raises(UnsafeInputError, match="encrypted"):
        check_archive(path, Limits(), "locked.zip")


def test_zip_bomb_is_refused_by_its_ratio(make_zip: Callable[..., Path]) -> None:
    # 4 MiB of spaces deflate to about 4 KiB: a ratio near 1,000, over the default 200.
    archive = make_zip({"layer.geojson": b" " * (4 * 1024**2)})
    assert archive.stat().st_size < 10_000
    with pytest.raises(LimitExceededError, match=r"over the 200 limit \(max_zip_ratio\)"):
        check_archive(archive, Limits(), "upload.zip")


def test_total_expanded_size_is_capped(make_zip: Callable[..., Path]) -> None:
    payload = os.urandom(800)  # incompressible: ratio about 1
    archive = make_zip({"a.geojson": payload, "b.txt": payload})
    with pytest.raises(
        LimitExceededError,
        match=r"expands to 1.6 KiB, over the 1.0 KiB limit \(max_zip_uncompressed_bytes\)",
    ):
        check_archive(archive, Limits(max_zip_uncompressed_bytes=1024), "upload.zip")


def test_entry_count_is_capped(make_zip: Callable[..., Path]) -> None:
    archive = make_zip({f"part{i}.txt": b"x" for i in range(5)})
    with pytest.raises(
        LimitExceededError, match=r"5 entries, over the 3 limit \(max_zip_entries\)"
    ):
        check_archive(archive, Limits(max_zip_entries=3), "upload.zip")


def test_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    path.write_bytes(b"PK\x03\x04 but then nothing sensible")
    with pytest.raises(LayerValidationError, match="not a readable zip archive"):
        check_archive(path, Limits(), "upload.zip")


def test_dataset_is_extracted_under_a_server_chosen_name(
    make_zip: Callable[..., Path], tmp_path: Path
) -> None:
    archive = make_zip(
        {
            "datos/Localidades ñ (2020).geojson": POINT_GEOJSON,
            "datos/LEEME.txt": b"read me",
            "__MACOSX/datos/._Localidades.geojson": b"resource fork",
        }
    )
    workdir = tmp_path / "work"
    source = extract_dataset(
        archive, Limits(), workdir, display_name="upload.zip", dataset_suffixes=DATASET_SUFFIXES
    )
    assert source.path == workdir / "layer.geojson"
    assert source.path.read_bytes() == POINT_GEOJSON
    assert sorted(p.name for p in workdir.iterdir()) == ["layer.geojson"]
    assert source.source == "upload.zip/Localidades ñ (2020).geojson"


def test_shapefile_parts_are_extracted_together(
    make_zip: Callable[..., Path], tmp_path: Path
) -> None:
    archive = make_zip(
        {"m/Muni.SHP": b"shp", "m/Muni.shx": b"shx", "m/Muni.dbf": b"dbf", "m/Muni.prj": b"prj"}
    )
    workdir = tmp_path / "work"
    source = extract_dataset(
        archive, Limits(), workdir, display_name="upload.zip", dataset_suffixes=DATASET_SUFFIXES
    )
    assert source.path == workdir / "layer.shp"
    assert sorted(p.name for p in workdir.iterdir()) == [
        "layer.dbf",
        "layer.prj",
        "layer.shp",
        "layer.shx",
    ]
    assert source.member == "Muni.shp"


@pytest.mark.parametrize(
    ("entries", "match"),
    [
        ({"a.geojson": b"{}", "b.csv": b"x,y"}, r"holds 2 datasets \(a.geojson, b.csv\)"),
        ({"a.shp": b"", "a.shx": b"", "a.dbf": b"", "b.shp": b""}, "holds 2 datasets"),
        ({"readme.txt": b"hello", "a.prj": b"GEOGCS"}, "holds no dataset Trazo reads"),
    ],
)
def test_archive_must_hold_exactly_one_dataset(
    entries: dict[str, bytes], match: str, make_zip: Callable[..., Path], tmp_path: Path
) -> None:
    archive = make_zip(entries)
    with pytest.raises(LayerValidationError, match=match):
        extract_dataset(
            archive,
            Limits(),
            tmp_path / "work",
            display_name="upload.zip",
            dataset_suffixes=DATASET_SUFFIXES,
        )
