"""Load a user's file as a layer: safety checks, read, validate, then hand it to the store.

:func:`read_layer` does everything but storing and touches no store, so a file can be
checked on its own; :func:`ingest` stores what :func:`read_layer` accepted. The store is
called only after the whole file has been validated. Work folders are always removed.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from layers._safety import SafeInput, check_file, extract_dataset, is_zip, remove_tree
from layers.catalog import check_layer_name
from layers.errors import LayerValidationError
from layers.kinds import LayerKind
from layers.limits import Limits, LoadDeadline
from layers.read import DATASET_SUFFIXES, RawLayer, read_input
from layers.report import ValidationReport
from layers.roads import ProgressCallback, classify_rnc, is_rnc
from layers.validate import validate_raster, validate_vector
from layers.workdirs import make_workdir

if TYPE_CHECKING:
    import geopandas as gpd

    from layers.store_api import LayerWriter

logger = logging.getLogger(__name__)


@dataclass
class ValidatedLayer:
    """A file that passed validation, ready to store.

    Attributes
    ----------
    frame : GeoDataFrame or None
        The features in EPSG:4326, for vector kinds.
    raster : Path or None
        The GeoTIFF in EPSG:4326, for the raster kind. It may live in a private work
        folder that :meth:`close` (or leaving a ``with`` block) removes.
    report : ValidationReport
        What validation found and did.
    """

    frame: gpd.GeoDataFrame | None
    raster: Path | None
    report: ValidationReport
    _workdir: Path | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._finalizer = (
            weakref.finalize(self, remove_tree, self._workdir) if self._workdir else None
        )

    def close(self) -> None:
        """Remove the work folder holding :attr:`raster`, if any."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> ValidatedLayer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def default_layer_name(path: str | os.PathLike[str]) -> str:
    """Derive a layer name from a file name.

    The stem is lower-cased, accents are removed and every character outside
    ``[a-z0-9_]`` becomes ``_``.

    Examples
    --------
    >>> default_layer_name("/data/Municipios Tabasco.geojson")
    'municipios_tabasco'
    >>> default_layer_name("Población-2020.csv")
    'poblacion_2020'
    """
    stem = Path(os.fspath(path)).stem
    folded = unicodedata.normalize("NFKD", stem)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9_]", "_", folded.lower())


def read_layer(
    path: str | os.PathLike[str],
    kind: LayerKind | str,
    *,
    name: str | None = None,
    limits: Limits | None = None,
    source_layer: str | None = None,
    progress: ProgressCallback | None = None,
) -> ValidatedLayer:
    """Check, read and validate a file without storing it.

    Parameters
    ----------
    path : str or path-like
        A local file: GeoJSON, GeoPackage, zipped shapefile, KML, FlatGeobuf, CSV with
        longitude/latitude columns, GeoTIFF, or a zip holding one of these.
    kind : LayerKind or str
        What the layer describes; ``"raster"`` for a GeoTIFF.
    name : str, optional
        Layer name; default: derived from the file name (:func:`default_layer_name`).
    limits : Limits, optional
        Size and time limits; default ``Limits()``. The load time limit
        (``max_load_seconds``) runs from the call to the end of validation.
    source_layer : str, optional
        The layer to read from a file holding several (GeoPackage, KML).
    progress : callable, optional
        Called with the features read so far while a large OSM extract streams in.

    Returns
    -------
    ValidatedLayer
        Close it (or use it in a ``with`` block) when done with a raster.

    Raises
    ------
    UnsafeInputError, LimitExceededError, LayerValidationError
        With a message that says what is wrong and, for limits, which limit. A load past
        its time limit leaves nothing behind (its work folder is removed).

    Examples
    --------
    >>> from pathlib import Path
    >>> fixture = Path("tests/data/layers/tabasco_localities.csv")
    >>> layer = read_layer(fixture, "localities")
    >>> layer.report.name, layer.report.features_kept, layer.frame.crs.to_epsg()
    ('tabasco_localities', 6, 4326)
    """
    limits = limits or Limits()
    layer_kind = _kind(kind)
    display_name = Path(os.fspath(path)).name
    deadline = LoadDeadline(limits.max_load_seconds, display_name)
    checked = check_file(path, limits)
    layer_name = check_layer_name(name if name is not None else default_layer_name(display_name))
    workdir = make_workdir("trazo-load-")
    keep_workdir = False
    try:
        deadline.check("checking the file")
        if is_zip(checked):
            source = extract_dataset(
                checked,
                limits,
                workdir / "in",
                display_name=display_name,
                dataset_suffixes=DATASET_SUFFIXES,
            )
        else:
            source = SafeInput(checked, display_name)
        deadline.check("unpacking it")
        raw = read_input(source, limits, layer=source_layer, progress=progress, deadline=deadline)
        report = ValidationReport(
            name=layer_name,
            kind=layer_kind.value,
            source=source.source,
            format=raw.format if source.member is None else f"{raw.format} (zip)",
            crs_in=None,
            warnings=list(raw.warnings),
        )
        if layer_kind is LayerKind.RASTER:
            if raw.raster is None:
                raise LayerValidationError(
                    f"{source.source!r} is a {raw.format} vector file; the raster kind takes "
                    "a GeoTIFF"
                )
            tif = validate_raster(raw.raster, report, workdir / "out", limits=limits)
            deadline.check("validating it")
            keep_workdir = tif.is_relative_to(workdir)
            return ValidatedLayer(None, tif, report, _workdir=workdir if keep_workdir else None)
        if raw.frame is None:
            raise LayerValidationError(
                f"{source.source!r} is a raster; load it with the raster kind, not "
                f"{layer_kind.value!r}"
            )
        frame = _as_rights_of_way(raw, layer_kind, report, source.source)
        frame = validate_vector(frame, layer_kind, report)
        deadline.check("validating it")
        return ValidatedLayer(frame, None, report)
    finally:
        if not keep_workdir:
            remove_tree(workdir)


def _as_rights_of_way(
    raw: RawLayer, kind: LayerKind, report: ValidationReport, display_name: str
) -> gpd.GeoDataFrame:
    """Road layers as users have them: OSM ways and INEGI RNC roads get their row types.

    An OSM extract is only a rights-of-way layer; an RNC layer (recognised by its official
    ``TIPO_VIAL`` attribute) is classified by ``data/roads/rnc_road_class.csv``.
    """
    frame = raw.frame
    assert frame is not None
    if raw.format == "OSM":
        if kind is not LayerKind.RIGHTS_OF_WAY:
            raise LayerValidationError(
                f"{display_name!r} is an OpenStreetMap extract; load it as rights_of_way"
            )
        report.warnings.append(
            "OpenStreetMap ways mapped to rights of way by data/roads/osm_tags.csv"
        )
    elif kind is LayerKind.RIGHTS_OF_WAY and is_rnc(frame):
        frame = classify_rnc(frame)
        report.warnings.append(
            "INEGI Red Nacional de Caminos roads classified by data/roads/rnc_road_class.csv"
        )
    return frame


def _kind(kind: LayerKind | str) -> LayerKind:
    try:
        return LayerKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in LayerKind)
        raise LayerValidationError(f"unknown layer kind {kind!r}; use one of: {known}") from None


def ingest(
    store: LayerWriter,
    path: str | os.PathLike[str],
    kind: LayerKind | str,
    *,
    name: str | None = None,
    replace: bool = False,
    limits: Limits | None = None,
    source_layer: str | None = None,
    progress: ProgressCallback | None = None,
    caveat: str | None = None,
) -> ValidationReport:
    """Validate a file and store it as a layer.

    Runs :func:`read_layer`, then ``store.write_layer`` (vectors) or
    ``store.write_raster`` (rasters). Nothing reaches the store unless the whole file
    validated.

    Parameters
    ----------
    store : Store
        Where the layer goes.
    path, kind, name, limits, source_layer, progress
        As for :func:`read_layer`.
    replace : bool
        Replace a stored layer of the same name; otherwise the store refuses.
    caveat : str, optional
        What the layer really is when it stands in for something else (kept in the
        catalog with the report; proposals that reuse the layer repeat it).

    Returns
    -------
    ValidationReport
        What validation found and did.
    """
    with read_layer(
        path, kind, name=name, limits=limits, source_layer=source_layer, progress=progress
    ) as layer:
        report = layer.report
        report.caveat = caveat
        if layer.raster is not None:
            store.write_raster(report.name, layer.raster, report, replace=replace)
        elif layer.frame is not None:
            store.write_layer(
                report.name, LayerKind(report.kind), layer.frame, report, replace=replace
            )
        logger.info(
            "stored layer %s (%s, %d features kept of %d)",
            report.name,
            report.kind,
            report.features_kept,
            report.features_read,
        )
    return report
