"""``trazo map``: one self-contained HTML map of the stored layers and a proposal."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from api._console import console, limits, open_store, user_errors
from api.settings import StoreSettings
from layers.catalog import parse_bbox
from layers.errors import (
    InvalidParameterError,
    LimitExceededError,
    NotFoundError,
    ProposalFormatError,
)
from usecases.proposal_files import draw_proposal_map

Bbox = tuple[float, float, float, float]


def _bbox_option(text: str | None) -> Bbox | None:
    """The map's area: read as the service reads a bbox, then checked as a map view needs."""
    if text is None:
        return None
    example = "e.g. -94.2,17.2,-90.9,18.7"
    if text.count(",") != 3:
        raise typer.BadParameter(f"bbox must be four numbers west,south,east,north, {example}")
    try:
        west, south, east, north = parse_bbox(text)
    except InvalidParameterError as err:
        raise typer.BadParameter(str(err)) from None
    # the service reads west > east as crossing the antimeridian; a map of Mexico never does
    if not (west < east and south < north):
        raise typer.BadParameter(f"bbox needs west < east and south < north, {example}")
    return (west, south, east, north)


def read_proposal(path: Path) -> dict[str, Any]:
    """Read a proposal: a stored proposal's name, or a GeoJSON file exported by the planner."""
    if path.suffix.lower() not in {".json", ".geojson"} and not path.is_file():
        return open_store().proposal(str(path)).document
    if not path.is_file():
        raise NotFoundError(f"no proposal file at {path}")
    size, cap = path.stat().st_size, limits().max_file_bytes
    if size > cap:
        raise LimitExceededError(
            f"{path} is {size:,} bytes, over the {cap:,}-byte limit (TRAZO_LIMIT_MAX_FILE_BYTES)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProposalFormatError(f"{path} is not a JSON file: {err}") from None
    if not isinstance(data, dict):
        raise ProposalFormatError(f"{path} does not hold a GeoJSON FeatureCollection")
    return data


@user_errors
def map_command(
    proposal: Annotated[
        Path | None,
        typer.Argument(help="A stored proposal's name, or a proposal GeoJSON file."),
    ] = None,
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("map.html"),
    compare: Annotated[
        Path | None, typer.Option(help="A second proposal (name or file), shown side by side.")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title; default: the proposal's name.")] = None,
    bbox: Annotated[
        str | None,
        typer.Option(
            help="Area of interest west,south,east,north in degrees (e.g. Tabasco: "
            "-94.2,17.2,-90.9,18.7); default: around the proposal, else all of Mexico."
        ),
    ] = None,
    choropleth: Annotated[
        str | None, typer.Option(help="Numeric state column to shade states by, e.g. population.")
    ] = None,
    min_population: Annotated[
        int, typer.Option(min=0, help="Show localities with at least this many people.")
    ] = 1000,
    max_localities: Annotated[
        int, typer.Option(min=0, help="Show at most this many localities (the most populous).")
    ] = 5000,
    tiles_url: Annotated[
        str | None,
        typer.Option(help="Optional online basemap, https://.../{z}/{x}/{y}.png (needs network)."),
    ] = None,
    tiles_attribution: Annotated[str, typer.Option(help="Credit line of the online basemap.")] = "",
) -> None:
    """Write one HTML map that opens anywhere, with no network: layers, proposal, summary."""
    area = _bbox_option(bbox)
    if compare is not None and proposal is None:
        raise typer.BadParameter("--compare needs a first proposal file")
    first = read_proposal(proposal) if proposal is not None else None
    second = read_proposal(compare) if compare is not None else None
    started = time.perf_counter()
    try:
        written = draw_proposal_map(
            open_store(),
            first,
            out,
            data_dir=StoreSettings().data_dir,
            compare_with=second,
            title=title,
            focus_bbox=area,
            choropleth_field=choropleth,
            min_population=min_population,
            max_localities=max_localities,
            tiles_url=tiles_url,
            tiles_attribution=tiles_attribution,
        )
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    console.print(
        f"wrote {written} ({written.stat().st_size / 1e6:.1f} MB, "
        f"{time.perf_counter() - started:.1f} s); open it in any browser, no network needed"
    )
