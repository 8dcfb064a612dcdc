"""Make a user's path safe to hand to GDAL.

A path from a user never reaches GDAL as typed. GDAL reads far more than files: ``/vsicurl/``
fetches URLs, ``/vsizip/`` opens archives in place, a string starting with ``{`` is parsed as
inline GeoJSON and ``<OGRVRTDataSource>`` can point at any file on the server. This module
refuses such strings, checks that the path names a regular file of bounded size, and opens
zip archives itself: every entry is checked with :mod:`zipfile` before anything is written,
and the one dataset the archive holds is extracted under server-chosen names into a private
folder.

Every refusal raises :class:`~layers.errors.UnsafeInputError` or
:class:`~layers.errors.LimitExceededError` naming the problem and, for limits, the
:class:`~layers.limits.Limits` field that was hit.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from layers.errors import LayerValidationError, LimitExceededError, UnsafeInputError
from layers.limits import Limits

logger = logging.getLogger(__name__)

#: Parts of a shapefile that travel together in an archive; the first three are required.
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
ZIP_SUFFIXES = (".zip", ".kmz")

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_DRIVE = re.compile(r"^[A-Za-z]:")
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SafeInput:
    """A file that passed the safety checks.

    Attributes
    ----------
    path : Path
        Absolute path of the file GDAL may open: the user's file itself or the dataset
        extracted from their archive under a server-chosen name.
    display_name : str
        The user's file name (no folders), used in messages and the report.
    member : str | None
        Name of the dataset inside the archive, when the input was an archive.
    """

    path: Path
    display_name: str
    member: str | None = None

    @property
    def source(self) -> str:
        """The user-facing name of the input: ``file`` or ``archive.zip/member``."""
        if self.member is None:
            return self.display_name
        return f"{self.display_name}/{self.member}"


def human_bytes(size: float) -> str:
    """Format a byte count for a message, in binary units.

    Examples
    --------
    >>> human_bytes(512)
    '512 B'
    >>> human_bytes(3 * 1024**3 + 200 * 1024**2)
    '3.2 GiB'
    """
    if size < 1024:
        return f"{int(size)} B"
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.1f} {unit}"


def check_user_string(path: str | os.PathLike[str]) -> str:
    """Refuse a path string GDAL would interpret instead of opening as a file.

    Parameters
    ----------
    path : str or path-like
        The path exactly as the user gave it.

    Returns
    -------
    str
        The path string, unchanged.

    Raises
    ------
    UnsafeInputError
        For virtual file system paths (``/vsi...`` in any case), URLs and other
        ``scheme://`` strings, inline JSON, XML or WKT, and strings with NUL bytes.

    Examples
    --------
    >>> check_user_string("municipios.geojson")
    'municipios.geojson'
    """
    text = os.fspath(path)
    if not isinstance(text, str):
        raise UnsafeInputError("the path must be text, not bytes")
    stripped = text.strip()
    if not stripped:
        raise UnsafeInputError("the path is empty; give the name of a file to load")
    if "\x00" in text:
        raise UnsafeInputError("the path contains a NUL character; give a plain file name")
    if stripped[0] in "{[<":
        raise UnsafeInputError(
            "the path looks like inline JSON, XML or WKT, not a file name; "
            "save the data to a file and give its name"
        )
    if stripped.lower().startswith(("/vsi", "\\vsi")):
        raise UnsafeInputError(
            "GDAL virtual file system paths (/vsi...) are not accepted; give a local file"
        )
    if "://" in stripped:
        raise UnsafeInputError(
            "URLs and other 'scheme://' paths are not accepted; download the file and give "
            "its local name"
        )
    return text


def check_file(path: str | os.PathLike[str], limits: Limits) -> Path:
    """Check that a user's path names a regular local file within the size limit.

    Parameters
    ----------
    path : str or path-like
        The path as the user gave it.
    limits : Limits
        ``max_file_bytes`` is enforced from ``os.stat`` before anything reads the file.

    Returns
    -------
    Path
        The absolute, resolved path of the file.

    Raises
    ------
    UnsafeInputError
        For strings GDAL would interpret (see :func:`check_user_string`), missing files,
        folders, devices, pipes and symbolic links that point outside their own folder.
    LimitExceededError
        When the file is larger than ``limits.max_file_bytes``.
    """
    text = check_user_string(path)
    given = Path(text)
    name = given.name or text
    try:
        link_stat = given.lstat()
    except (FileNotFoundError, NotADirectoryError):
        raise UnsafeInputError(f"file {name!r} does not exist") from None
    except OSError as err:
        raise UnsafeInputError(f"file {name!r} cannot be read ({err.strerror})") from None
    if stat.S_ISLNK(link_stat.st_mode):
        folder = given.absolute().parent.resolve()
        target = given.resolve()
        if not target.is_relative_to(folder):
            raise UnsafeInputError(
                f"{name!r} is a symbolic link to a file outside its folder; give the file itself"
            )
    resolved = given.resolve()
    try:
        file_stat = resolved.stat()
    except OSError:
        raise UnsafeInputError(f"file {name!r} does not exist") from None
    if stat.S_ISDIR(file_stat.st_mode):
        raise UnsafeInputError(
            f"{name!r} is a folder; give one file (zip a shapefile's parts into one .zip)"
        )
    if not stat.S_ISREG(file_stat.st_mode):
        raise UnsafeInputError(f"{name!r} is not a regular file (device, pipe or socket)")
    if file_stat.st_size > limits.max_file_bytes:
        raise LimitExceededError(
            f"file {name!r} is {human_bytes(file_stat.st_size)}, over the "
            f"{human_bytes(limits.max_file_bytes)} limit (max_file_bytes)"
        )
    return resolved


def is_zip(path: Path) -> bool:
    """Tell whether a file is a zip archive, by its extension or its first bytes."""
    if path.suffix.lower() in ZIP_SUFFIXES:
        return True
    with path.open("rb") as handle:
        head = handle.read(4)
    return head in _ZIP_MAGIC


def _unsafe_entry_reason(info: zipfile.ZipInfo) -> str | None:
    """Say why an archive entry may not be extracted, or ``None`` if it may."""
    name = info.filename.replace("\\", "/")
    if "\x00" in name:
        return "has a NUL character in its name"
    if name.startswith("/") or _DRIVE.match(name):
        return "has an absolute path (zip-slip)"
    if ".." in PurePosixPath(name).parts:
        return "has a '..' component that would write outside the extraction folder (zip-slip)"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if info.flag_bits & 0x1:
        return "is encrypted; give an archive without a password"
    return None


def check_archive(path: Path, limits: Limits, display_name: str) -> list[zipfile.ZipInfo]:
    """Check every entry of a zip archive before anything is extracted.

    Parameters
    ----------
    path : Path
        The archive, already checked with :func:`check_file`.
    limits : Limits
        ``max_zip_entries``, ``max_zip_uncompressed_bytes`` and ``max_zip_ratio``.
    display_name : str
        The user's name for the archive, for messages.

    Returns
    -------
    list of zipfile.ZipInfo
        The archive's entries.

    Raises
    ------
    UnsafeInputError
        For entries with absolute names, drive letters or ``..`` components (zip-slip),
        symbolic links and encrypted entries.
    LimitExceededError
        For too many entries, too many bytes once expanded, or an entry that expands more
        than ``max_zip_ratio`` times its compressed size (a zip bomb).
    LayerValidationError
        When the file is not a readable zip archive.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as err:
        logger.info("unreadable archive %s: %s", path, err)
        raise LayerValidationError(f"{display_name!r} is not a readable zip archive") from None
    if len(entries) > limits.max_zip_entries:
        raise LimitExceededError(
            f"archive {display_name!r} has {len(entries):,} entries, over the "
            f"{limits.max_zip_entries:,} limit (max_zip_entries)"
        )
    total = 0
    for info in entries:
        reason = _unsafe_entry_reason(info)
        if reason is not None:
            shown = info.filename[:120]
            raise UnsafeInputError(f"archive {display_name!r}: entry {shown!r} {reason}")
        total += info.file_size
        if info.file_size > 0:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_zip_ratio:
                raise LimitExceededError(
                    f"archive {display_name!r}: entry {info.filename[:120]!r} expands "
                    f"{ratio:,.0f} times ({human_bytes(info.file_size)} from "
                    f"{human_bytes(info.compress_size)}), over the {limits.max_zip_ratio:g} "
                    "limit (max_zip_ratio); this looks like a zip bomb"
                )
    if total > limits.max_zip_uncompressed_bytes:
        raise LimitExceededError(
            f"archive {display_name!r} expands to {human_bytes(total)}, over the "
            f"{human_bytes(limits.max_zip_uncompressed_bytes)} limit "
            "(max_zip_uncompressed_bytes)"
        )
    return entries


def _is_noise(name: str) -> bool:
    """Entries that are never data: folders and macOS resource forks."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return (
        name.endswith(("/", "\\"))
        or not parts
        or parts[0] == "__MACOSX"
        or parts[-1].startswith(".")
    )


def _choose_members(
    entries: list[zipfile.ZipInfo], dataset_suffixes: Collection[str], display_name: str
) -> dict[str, zipfile.ZipInfo]:
    """Pick the one dataset in an archive; map each server-side suffix to its entry."""
    files = [info for info in entries if not _is_noise(info.filename)]
    shapefiles: dict[str, dict[str, zipfile.ZipInfo]] = {}
    singles: list[zipfile.ZipInfo] = []
    for info in files:
        member = PurePosixPath(info.filename.replace("\\", "/"))
        suffix = member.suffix.lower()
        if suffix in SHAPEFILE_PARTS:
            stem = str(member.with_suffix("")).lower()
            parts = shapefiles.setdefault(stem, {})
            if suffix in parts:
                raise LayerValidationError(
                    f"archive {display_name!r} holds two {suffix} files for {stem!r}"
                )
            parts[suffix] = info
        elif suffix in dataset_suffixes:
            singles.append(info)
    # A lone .prj or .cpg is not a shapefile.
    shapefiles = {
        stem: parts for stem, parts in shapefiles.items() if parts.keys() & {".shp", ".shx", ".dbf"}
    }
    found = [f"{stem}.shp" for stem in sorted(shapefiles)] + [info.filename for info in singles]
    if not found:
        listed = ", ".join(info.filename for info in files[:10]) or "nothing"
        supported = ", ".join(sorted({".shp", *dataset_suffixes}))
        raise LayerValidationError(
            f"archive {display_name!r} holds no dataset Trazo reads ({supported}); "
            f"it contains: {listed}"
        )
    if len(found) > 1:
        raise LayerValidationError(
            f"archive {display_name!r} holds {len(found)} datasets ({', '.join(found[:10])}); "
            "put one dataset in each archive"
        )
    if shapefiles:
        return next(iter(shapefiles.values()))
    info = singles[0]
    return {PurePosixPath(info.filename).suffix.lower(): info}


def extract_dataset(
    path: Path,
    limits: Limits,
    workdir: Path,
    *,
    display_name: str,
    dataset_suffixes: Collection[str],
) -> SafeInput:
    """Check a zip archive and extract its one dataset under server-chosen names.

    A zipped shapefile's parts are written as ``layer.shp``, ``layer.shx``, ``layer.dbf``,
    ``layer.prj`` and ``layer.cpg``; any other dataset as ``layer`` plus its suffix.
    Entries that are not part of the dataset (read-me files, metadata) are not extracted.

    Parameters
    ----------
    path : Path
        The archive, already checked with :func:`check_file`.
    limits : Limits
        Archive limits, see :func:`check_archive`.
    workdir : Path
        A private, empty folder to extract into; the caller removes it.
    display_name : str
        The user's name for the archive.
    dataset_suffixes : collection of str
        Lower-case suffixes (``".geojson"``, ...) of single-file formats the caller reads.

    Returns
    -------
    SafeInput
        The extracted dataset (for a shapefile, ``layer.shp``, which may be missing when
        the archive lacks it; the reader names the missing parts).
    """
    entries = check_archive(path, limits, display_name)
    chosen = _choose_members(entries, dataset_suffixes, display_name)
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    budget = limits.max_zip_uncompressed_bytes
    with zipfile.ZipFile(path) as archive:
        for suffix, info in chosen.items():
            target = workdir / f"layer{suffix}"
            written = 0
            try:
                with archive.open(info) as source, target.open("xb") as sink:
                    while chunk := source.read(_COPY_CHUNK):
                        written += len(chunk)
                        if written > info.file_size or written > budget:
                            raise LimitExceededError(
                                f"archive {display_name!r}: entry {info.filename[:120]!r} "
                                "expands beyond the size its header declares"
                            )
                        sink.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                logger.info("cannot extract %s from %s: %s", info.filename, path, err)
                raise LayerValidationError(
                    f"archive {display_name!r}: entry {info.filename[:120]!r} is corrupt"
                ) from None
            budget -= written
    if chosen.keys() <= set(SHAPEFILE_PARTS):
        main_suffix = ".shp"
        some_part = next(iter(chosen.values()))
        member = PurePosixPath(some_part.filename.replace("\\", "/")).with_suffix(".shp").name
    else:
        main_suffix, info = next(iter(chosen.items()))
        member = PurePosixPath(info.filename.replace("\\", "/")).name
    return SafeInput(workdir / f"layer{main_suffix}", display_name, member)


def remove_tree(path: Path) -> None:
    """Remove a private work folder, logging rather than raising on failure."""
    shutil.rmtree(path, ignore_errors=True)
