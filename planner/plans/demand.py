"""Where last mile is needed: the area asked for, and the people in it without a connection.

A last-mile plan starts from an *area* (a state, a municipality or a polygon, see
:func:`select_area`) and the localities in it (:func:`localities_in_area`). For each locality
above a population threshold, :func:`estimate_demand` says how many people are not yet
connected and how it knows, in this order:

1. ``"connected attribute"``: the localities layer's ``connected`` value, where the user's
   layer has one for that locality (True: nobody is counted; False: the whole population);
2. ``"census household internet share"``: the population times the share of the
   municipality's occupied dwellings without internet in the 2020 census
   (:func:`load_household_internet`), where the census table has that municipality;
3. ``"distance to corridor"``: a locality within ``connected_within_km`` of existing fiber or
   the backbone counts as served, any other locality is wholly unserved.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from layers.bundled_data import BUNDLED_DATA_DIR
from layers.errors import (
    AmbiguousAreaError,
    AreaNotFoundError,
    DegenerateRequestError,
    InvalidAreaError,
    TrazoError,
)
from planner.network.places import names_state, normalize_name

AreaKind = Literal["state", "municipality", "polygon"]
DEMAND_METHODS: tuple[str, ...] = (
    "connected attribute",
    "census household internet share",
    "distance to corridor",
    "coverage layer",
)

COUNTED_AS_SERVED: tuple[str, ...] = ("4g", "5g", "fixed_wireless", "fiber", "cable")
"""Technologies of a ``coverage`` layer whose people a plan counts as served by default."""

DEFAULT_STATE_COVERAGE_PATH = BUNDLED_DATA_DIR / "demand" / "red_compartida_coverage_2021.csv"

DEFAULT_HOUSEHOLD_INTERNET_PATH = (
    BUNDLED_DATA_DIR / "demand" / "inegi_censo2020_household_ict_by_municipio_13_states.csv"
)

DEFAULT_CONNECTED_WITHIN_KM = 2.0
"""A locality whose point lies this close to existing fiber counts as served (distance rule).

A locality's point is its centre; a town of a few thousand people spans one to two
kilometres, so a cable passing within 2 km runs through or along its streets, and operators
serve the towns their routes cross. Farther than that, a new feeder would be needed.
"""

_WKT = re.compile(r"^\s*(MULTI)?POLYGON\s*(Z\s*)?\(", re.IGNORECASE)
_MAX_LISTED = 10
_MAX_SUGGESTIONS = 5


@dataclass(frozen=True)
class AreaSelection:
    """An area to plan in.

    Attributes
    ----------
    name
        Display name: the state, ``"Municipality, State"``, or the polygon's label.
    geometry
        Polygon or MultiPolygon in EPSG:4326.
    kind
        ``"state"``, ``"municipality"`` or ``"polygon"``.
    code
        ``cve_ent`` of a state or ``cvegeo`` of a municipality; None for a polygon.
    """

    name: str
    geometry: BaseGeometry
    kind: AreaKind
    code: str | None = None


def _in_4326(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        return frame.to_crs(4326)
    return frame


def _texts(frame: gpd.GeoDataFrame, column: str) -> list[str | None]:
    if column not in frame.columns:
        return [None] * len(frame)
    return [None if pd.isna(v) else str(v) for v in frame[column].tolist()]


def _union(frame: gpd.GeoDataFrame, rows: Sequence[int]) -> BaseGeometry:
    geoms = np.asarray(frame.geometry.values, dtype=object)[list(rows)]
    return shapely.union_all(shapely.make_valid(geoms))


def _polygonal(geometry: BaseGeometry, label: str) -> BaseGeometry:
    """Check a user polygon: non-empty, polygonal, in lon/lat; repaired if invalid."""
    if geometry.is_empty:
        raise InvalidAreaError(f"{label} is empty; give a polygon with an area")
    if geometry.geom_type not in {"Polygon", "MultiPolygon"}:
        raise InvalidAreaError(f"{label} is a {geometry.geom_type}; give a Polygon or MultiPolygon")
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidAreaError(
            f"{label} has coordinates outside lon/lat range; give EPSG:4326 "
            "longitude, latitude (longitude first)"
        )
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
        parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon"]
        geometry = shapely.union_all(parts) if parts else geometry
    if geometry.area <= 0:
        raise InvalidAreaError(f"{label} has no area; check the ring is closed and not flat")
    return geometry


def _read_geojson_polygon(path: Path) -> BaseGeometry:
    if path.suffix.lower() not in {".geojson", ".json"}:
        raise InvalidAreaError(
            f"cannot read an area from {path.name!r}: give a .geojson file with a Polygon"
        )
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as err:
        raise InvalidAreaError(f"cannot read {path.name!r} as GeoJSON ({err})") from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        geometries = [f.get("geometry") for f in data.get("features") or []]
    elif isinstance(data, dict) and data.get("type") == "Feature":
        geometries = [data.get("geometry")]
    else:
        geometries = [data]
    try:
        shapes = [shape(g) for g in geometries if g]
    except (AttributeError, TypeError, ValueError, shapely.errors.GEOSException) as err:
        raise InvalidAreaError(f"{path.name!r} holds no readable geometry ({err})") from None
    if not shapes:
        raise InvalidAreaError(f"{path.name!r} holds no geometry; give a Polygon feature")
    return _polygonal(shapely.union_all(shapes), repr(path.name))


def select_area(
    area: str | Path,
    states: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
) -> AreaSelection:
    """Resolve the area a last-mile plan covers.

    Parameters
    ----------
    area : str or pathlib.Path
        One of:

        - a state name (accents and case ignored, ``"tabasco"``, ``"CDMX"``) or its
          two-digit ``cve_ent`` (``"27"``);
        - a municipality as ``"Municipality, State"`` (``"Centro, Tabasco"``) or its
          five-digit ``cvegeo`` (``"27004"``); a bare municipality name works when only one
          state has it;
        - a polygon as WKT (``"POLYGON((-93 17.9, -92.8 17.9, -92.8 18.1, -93 17.9))"``,
          lon/lat) or a :class:`pathlib.Path` to a GeoJSON file. A string is never opened
          as a file.
    states : geopandas.GeoDataFrame
        A ``states`` layer (``cve_ent``, ``name``).
    municipalities : geopandas.GeoDataFrame
        A ``municipalities`` layer (``cvegeo``, ``name``, ``state``, ``cve_ent``).

    Returns
    -------
    AreaSelection
        Its geometry in EPSG:4326.

    Raises
    ------
    AreaNotFoundError
        No state or municipality has that name (close names are suggested).
    AmbiguousAreaError
        A bare municipality name exists in several states; the message lists them.
    InvalidAreaError
        A WKT or GeoJSON polygon that cannot be read or is not a polygon.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> states = gpd.GeoDataFrame({"cve_ent": ["27"], "name": ["Tabasco"]},
    ...     geometry=[box(-94.2, 17.2, -90.9, 18.7)], crs="EPSG:4326")
    >>> municipalities = gpd.GeoDataFrame({"cvegeo": ["27004"], "name": ["Centro"],
    ...     "state": ["Tabasco"], "cve_ent": ["27"]},
    ...     geometry=[box(-93.1, 17.8, -92.7, 18.2)], crs="EPSG:4326")
    >>> select_area("tabásco", states, municipalities).kind
    'state'
    >>> select_area("Centro, Tabasco", states, municipalities).code
    '27004'
    """
    if isinstance(area, Path):
        return AreaSelection(area.stem, _read_geojson_polygon(area), "polygon")
    text = area.strip()
    if not text:
        raise InvalidAreaError("empty area: give a state, 'Municipality, State' or a polygon")
    if _WKT.match(text):
        try:
            geometry = shapely.from_wkt(text)
        except shapely.errors.GEOSException as err:
            raise InvalidAreaError(f"cannot read the WKT polygon ({err})") from None
        return AreaSelection("polygon", _polygonal(geometry, "the WKT polygon"), "polygon")

    states = _in_4326(states)
    municipalities = _in_4326(municipalities)
    state_names = _texts(states, "name")
    state_codes = [c.zfill(2) if c else None for c in _texts(states, "cve_ent")]
    muni_names = _texts(municipalities, "name")
    muni_codes = [c.zfill(5) if c else None for c in _texts(municipalities, "cvegeo")]
    muni_states = _texts(municipalities, "state")
    if all(s is None for s in muni_states):
        by_code = dict(zip(state_codes, state_names, strict=True))
        muni_states = [by_code.get(c[:2]) if c else None for c in muni_codes]

    if text.isdigit() and len(text) <= 2:
        rows = [i for i, c in enumerate(state_codes) if c == text.zfill(2)]
        if rows:
            return _state(states, rows, state_names, state_codes)
    if text.isdigit() and len(text) == 5:
        rows = [i for i, c in enumerate(muni_codes) if c == text]
        if rows:
            return _municipality(municipalities, rows, muni_names, muni_states, muni_codes)

    wanted = normalize_name(text)
    rows = _state_rows(state_names, wanted)
    if rows:
        return _state(states, rows, state_names, state_codes)
    if "," in text:
        name, qualifier = (normalize_name(p) for p in text.rsplit(",", 1))
        rows = [
            i
            for i, (m, s) in enumerate(zip(muni_names, muni_states, strict=True))
            if m is not None
            and normalize_name(m) == name
            and s is not None
            and _state_matches(s, qualifier)
        ]
        if rows:
            return _municipality(municipalities, rows, muni_names, muni_states, muni_codes)
    rows = [i for i, m in enumerate(muni_names) if m is not None and normalize_name(m) == wanted]
    if rows:
        places = sorted({muni_states[i] or "?" for i in rows})
        if len(places) > 1:
            labels = [f"{muni_names[rows[0]]}, {s}" for s in places]
            shown = "; ".join(labels[:_MAX_LISTED])
            more = f" (first {_MAX_LISTED} shown)" if len(labels) > _MAX_LISTED else ""
            raise AmbiguousAreaError(
                f"{text!r} is a municipality in {len(labels)} states{more}: {shown}. "
                f"Add the state, e.g. {labels[0]!r}, or give its 5-digit cvegeo",
                labels,
            )
        return _municipality(municipalities, rows, muni_names, muni_states, muni_codes)

    choices = [s for s in state_names if s] + [
        f"{m}, {s}" if s else m
        for m, s in zip(muni_names, muni_states, strict=True)
        if m is not None
    ]
    suggestions = _suggest(text, choices)
    message = f"no state or municipality named {text!r}"
    if suggestions:
        message += "; did you mean: " + "; ".join(suggestions) + "?"
    else:
        message += "; give a state, 'Municipality, State', a cvegeo or a WKT polygon"
    raise AreaNotFoundError(message, suggestions)


def _state_matches(name: str, wanted: str) -> bool:
    return names_state(wanted, normalize_name(name))


def _state_rows(names: Sequence[str | None], wanted: str) -> list[int]:
    return [i for i, n in enumerate(names) if n is not None and _state_matches(n, wanted)]


def _state(
    states: gpd.GeoDataFrame,
    rows: list[int],
    names: Sequence[str | None],
    codes: Sequence[str | None],
) -> AreaSelection:
    first = rows[0]
    return AreaSelection(
        names[first] or codes[first] or "state", _union(states, rows), "state", codes[first]
    )


def _municipality(
    municipalities: gpd.GeoDataFrame,
    rows: list[int],
    names: Sequence[str | None],
    states: Sequence[str | None],
    codes: Sequence[str | None],
) -> AreaSelection:
    first = rows[0]
    label = names[first] or codes[first] or "municipality"
    if states[first]:
        label = f"{label}, {states[first]}"
    return AreaSelection(label, _union(municipalities, rows), "municipality", codes[first])


def _suggest(text: str, choices: Sequence[str]) -> list[str]:
    spelled: dict[str, str] = {}
    for choice in choices:
        spelled.setdefault(normalize_name(choice), choice)
    wanted = normalize_name(text)
    close = difflib.get_close_matches(wanted, list(spelled), n=_MAX_SUGGESTIONS, cutoff=0.75)
    if not close and "," not in wanted:
        # a bare municipality name: compare with the names before the state
        bare: dict[str, list[str]] = {}
        for normal, choice in spelled.items():
            bare.setdefault(normal.split(",", 1)[0], []).append(choice)
        names = difflib.get_close_matches(wanted, list(bare), n=_MAX_SUGGESTIONS, cutoff=0.75)
        return [c for n in names for c in bare[n]][:_MAX_SUGGESTIONS]
    return [spelled[c] for c in close]


def anchor_points(geometries: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Lon and lat of a point on each geometry's surface (``shapely.point_on_surface``).

    A point is its own such point: locality layers are points, so their coordinates are
    read as they are instead of asking GEOS for each.
    """
    geometries = np.asarray(geometries, dtype=object)
    if geometries.size and bool((shapely.get_type_id(geometries) == 0).all()):
        return shapely.get_x(geometries), shapely.get_y(geometries)
    points = shapely.point_on_surface(geometries)
    return shapely.get_x(points), shapely.get_y(points)


def localities_in_area(localities: gpd.GeoDataFrame, area: AreaSelection) -> gpd.GeoDataFrame:
    """Return the localities whose point lies in (or on the edge of) ``area``.

    Parameters
    ----------
    localities : geopandas.GeoDataFrame
        A ``localities`` layer of points (any CRS; the result is in EPSG:4326).
    area : AreaSelection

    Returns
    -------
    geopandas.GeoDataFrame
        The rows inside, index kept.
    """
    localities = _in_4326(localities)
    geometry = area.geometry
    shapely.prepare(geometry)
    lon, lat = anchor_points(localities.geometry.values)
    inside = shapely.intersects_xy(geometry, lon, lat)
    return localities[np.asarray(inside, dtype=bool)]


@dataclass(frozen=True)
class PointLayer:
    """A layer of points kept as coordinates beside its other columns.

    A shapely point costs about a microsecond to make, and the national localities layer
    holds 190,000 of them: reading it whole to keep one state's few thousand made every
    point. Here an area's rows are found from the coordinates and only they are made
    points (:meth:`in_area`), the frame :func:`localities_in_area` gives for the layer.
    Made with :meth:`of`, in EPSG:4326.
    """

    attributes: pd.DataFrame
    """Every column but the geometry, with the layer's index."""
    xy: npt.NDArray[np.float64]
    """Each row's point, ``(n, 2)`` lon/lat."""
    crs: Any
    columns: tuple[str, ...]
    """The layer's columns in order, the geometry's among them."""
    geometry_name: str

    @classmethod
    def of(cls, frame: gpd.GeoDataFrame) -> PointLayer | None:
        """The layer of ``frame``; None unless every geometry is a non-empty 2D point."""
        frame = _in_4326(frame)
        geometries = np.asarray(frame.geometry.values, dtype=object)
        if not geometries.size:
            return None
        plain = (shapely.get_type_id(geometries) == 0) & ~shapely.is_empty(geometries)
        if not plain.all() or shapely.has_z(geometries).any():
            return None
        name = frame.geometry.name
        return cls(
            attributes=pd.DataFrame(frame.drop(columns=name)),
            xy=shapely.get_coordinates(geometries),
            crs=frame.crs,
            columns=tuple(frame.columns),
            geometry_name=name,
        )

    def in_area(self, area: AreaSelection) -> gpd.GeoDataFrame:
        """The rows whose point lies in (or on the edge of) ``area``, index kept."""
        geometry = area.geometry
        shapely.prepare(geometry)
        inside = np.asarray(shapely.intersects_xy(geometry, self.xy[:, 0], self.xy[:, 1]))
        rows = np.flatnonzero(inside)
        points = gpd.points_from_xy(self.xy[rows, 0], self.xy[rows, 1], crs=self.crs)
        frame = gpd.GeoDataFrame(self.attributes.iloc[rows], geometry=points)
        if self.geometry_name != frame.geometry.name:
            frame = frame.rename_geometry(self.geometry_name)
        return frame[list(self.columns)]


def require_localities(
    localities: pd.DataFrame, *, area_name: str, min_population: int = 0
) -> None:
    """Refuse an area without a single locality of at least ``min_population`` people.

    Such a request (a polygon drawn at sea or abroad, a threshold above the largest town)
    has nothing to plan; answering it with an empty USD 0 proposal would hide the mistake.

    Raises
    ------
    layers.errors.DegenerateRequestError
        Naming the area, how many localities it holds and the threshold.
    """
    if len(localities) and (localities["population"] >= min_population).any():
        return
    if not len(localities):
        raise DegenerateRequestError(
            f"{area_name} holds no localities: nothing to connect (is the area inside Mexico, "
            "in lon/lat order?)"
        )
    largest = int(localities["population"].max())
    raise DegenerateRequestError(
        f"{area_name} holds no locality of at least {min_population:,} people (its largest has "
        f"{largest:,}): nothing to connect; lower min_population"
    )


def load_household_internet(path: Path | None = None) -> pd.DataFrame:
    """Read the 2020 census share of dwellings without internet, per municipality.

    Parameters
    ----------
    path : pathlib.Path, optional
        An INEGI Censo 2020 table with ``nivel``, ``cvegeo``, ``vivparh_cv`` (occupied
        private dwellings with characteristics) and ``vph_inter`` (those with internet);
        by default the bundled table for 13 states (see ``data/README.md``).

    Returns
    -------
    pandas.DataFrame
        One row per municipality: ``cvegeo`` (5 digits), ``dwellings``,
        ``dwellings_with_internet`` and ``share_without_internet`` = 1 - vph_inter /
        vivparh_cv, clipped to [0, 1]. Municipalities whose figures are withheld (``*``)
        or have no dwellings are left out.

    Examples
    --------
    >>> table = load_household_internet()
    >>> row = table[table.cvegeo == "27004"].iloc[0]  # Centro, Tabasco
    >>> round(float(row.share_without_internet), 3)
    0.453
    """
    source = DEFAULT_HOUSEHOLD_INTERNET_PATH if path is None else path
    raw = pd.read_csv(source, dtype=str, keep_default_na=False)
    missing = {"cvegeo", "vivparh_cv", "vph_inter"} - set(raw.columns)
    if missing:
        raise TrazoError(
            f"{source.name} lacks the census columns {sorted(missing)}; it needs cvegeo, "
            "vivparh_cv and vph_inter (INEGI Censo 2020)"
        )
    if "nivel" in raw.columns:
        raw = raw[raw["nivel"].str.strip().str.lower() == "municipio"]
    codes = raw["cvegeo"].str.strip()
    dwellings = pd.to_numeric(raw["vivparh_cv"].str.strip(), errors="coerce")
    online = pd.to_numeric(raw["vph_inter"].str.strip(), errors="coerce")
    keep = (codes.str.len() == 5) & dwellings.notna() & online.notna() & (dwellings > 0)
    share = (1.0 - online[keep] / dwellings[keep]).clip(0.0, 1.0)
    return pd.DataFrame(
        {
            "cvegeo": codes[keep].to_numpy(dtype=object),
            "dwellings": dwellings[keep].to_numpy(dtype=np.int64),
            "dwellings_with_internet": online[keep].to_numpy(dtype=np.int64),
            "share_without_internet": share.to_numpy(dtype=np.float64),
        }
    )


def municipality_codes(localities: pd.DataFrame) -> list[str | None]:
    """Return each locality's 5-digit municipality ``cvegeo``, None where unknown.

    ``cve_mun`` is read as a full code when it has 5 digits and as the municipality number
    within ``cve_ent`` when it has up to 3 (INEGI's ``MUN``); failing both, the first 5
    digits of a 9-digit locality ``cvegeo``.
    """
    mun = _strings(localities, "cve_mun")
    ent = _strings(localities, "cve_ent")
    loc = _strings(localities, "cvegeo")
    codes: list[str | None] = []
    for m, e, c in zip(mun, ent, loc, strict=True):
        if m is not None and m.isdigit() and len(m) == 5:
            codes.append(m)
        elif m is not None and m.isdigit() and len(m) <= 3 and e is not None and e.isdigit():
            codes.append(e.zfill(2) + m.zfill(3))
        elif c is not None and c.isdigit() and len(c) == 9:
            codes.append(c[:5])
        else:
            codes.append(None)
    return codes


def _strings(frame: pd.DataFrame, column: str) -> list[str | None]:
    if column not in frame.columns:
        return [None] * len(frame)
    return [None if pd.isna(v) else str(v).strip() or None for v in frame[column].tolist()]


def estimate_demand(
    localities_in_area: pd.DataFrame,
    *,
    min_population: int,
    household_internet: pd.DataFrame | None,
    backbone_distance_km: npt.ArrayLike | None,
    connected_within_km: float = DEFAULT_CONNECTED_WITHIN_KM,
) -> pd.DataFrame:
    """Estimate the people without a connection in each locality of an area.

    Parameters
    ----------
    localities_in_area : pandas.DataFrame
        Localities (``population`` and optionally ``connected``, ``cve_mun``, ``cve_ent``,
        ``cvegeo``); a GeoDataFrame works as well.
    min_population : int
        Localities with fewer people (or no population) are left out.
    household_internet : pandas.DataFrame or None
        :func:`load_household_internet` output; None: no census shares.
    backbone_distance_km : array-like or None
        Distance in km from each locality (same order as ``localities_in_area``) to the
        nearest existing fiber or backbone, for the distance rule. Needed only when some
        locality has neither a ``connected`` value nor a census share.
    connected_within_km : float
        The distance rule: closer than this to fiber counts as served (see
        :data:`DEFAULT_CONNECTED_WITHIN_KM`).

    Returns
    -------
    pandas.DataFrame
        The localities kept (index kept) with ``people_unserved`` (int), ``demand_method``
        (one of :data:`DEMAND_METHODS`) and ``share_without_internet`` (NaN unless the
        census was used). :func:`demand_method_counts` counts the methods.

    Raises
    ------
    ValueError
        If the distance rule is needed and ``backbone_distance_km`` is missing or of the
        wrong length.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"population": [900, 400, 100],
    ...     "connected": pd.array([True, False, None], dtype="boolean")})
    >>> out = estimate_demand(frame, min_population=250, household_internet=None,
    ...     backbone_distance_km=None)
    >>> out.people_unserved.tolist()
    [0, 400]
    """
    if min_population < 0:
        raise ValueError("min_population must be 0 or more")
    if not connected_within_km >= 0:
        raise ValueError("connected_within_km must be a distance >= 0")
    frame = localities_in_area
    population = pd.to_numeric(frame["population"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    keep = np.isfinite(population) & (population >= min_population)
    distances: npt.NDArray[np.float64] | None = None
    if backbone_distance_km is not None:
        distances = np.asarray(backbone_distance_km, dtype=np.float64)
        if distances.shape != (len(frame),):
            raise ValueError(
                f"backbone_distance_km has {distances.size} values for {len(frame)} localities"
            )
    if "connected" in frame.columns:
        connected = frame["connected"].astype("boolean")
        known = ~np.asarray(connected.isna(), dtype=bool)
        is_connected = np.asarray(connected.fillna(False), dtype=bool)
    else:
        known = np.zeros(len(frame), dtype=bool)
        is_connected = known.copy()
    shares = np.full(len(frame), np.nan)
    if household_internet is not None and len(household_internet):
        table = dict(
            zip(
                household_internet["cvegeo"].astype(str),
                household_internet["share_without_internet"].astype(float),
                strict=True,
            )
        )
        codes = municipality_codes(frame)
        shares = np.array([table.get(c, np.nan) if c else np.nan for c in codes])

    people = np.zeros(len(frame), dtype=np.int64)
    method = np.empty(len(frame), dtype=object)
    use_attribute = known
    use_census = ~known & np.isfinite(shares)
    use_distance = ~known & ~use_census
    if np.any(use_distance & keep) and distances is None:
        raise ValueError(
            "some localities have neither a 'connected' value nor a census share: pass "
            "backbone_distance_km for the distance rule"
        )
    whole = np.where(keep, population, 0.0).astype(np.int64)
    people[use_attribute] = np.where(is_connected[use_attribute], 0, whole[use_attribute])
    method[use_attribute] = DEMAND_METHODS[0]
    people[use_census] = np.rint(population[use_census] * shares[use_census]).astype(np.int64)
    method[use_census] = DEMAND_METHODS[1]
    if distances is not None:
        near = distances <= connected_within_km
        people[use_distance] = np.where(near[use_distance], 0, whole[use_distance])
    method[use_distance] = DEMAND_METHODS[2]

    out = frame[keep].copy()
    out["people_unserved"] = people[keep]
    out["demand_method"] = pd.Series(method[keep], index=out.index, dtype=object)
    out["share_without_internet"] = shares[keep]
    return out


def load_state_coverage(path: Path | None = None) -> pd.DataFrame:
    """The share of each state's people a mobile network covers (bundled: Red Compartida).

    Columns ``cve_ent`` (two digits), ``state``, ``coverage_share`` (0-1) and ``source``.
    The bundled table has the five southern states of the USTDA Mexico ICT resource guide
    (table 5, PROMTEL figures of December 2021).
    """
    table = pd.read_csv(path or DEFAULT_STATE_COVERAGE_PATH, dtype={"cve_ent": str})
    table["cve_ent"] = table["cve_ent"].str.zfill(2)
    return table


def apply_coverage(
    demand: pd.DataFrame,
    *,
    inside: npt.ArrayLike | None = None,
    state_coverage: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Take the people that existing coverage serves out of the demand.

    Parameters
    ----------
    demand
        :func:`estimate_demand` output.
    inside
        One bool per row: the locality lies inside a coverage polygon of a technology the
        plan counts as served. Those localities have nobody left to connect
        (``demand_method`` ``"coverage layer"``).
    state_coverage
        :func:`load_state_coverage` output. Every other locality of a state in the table
        keeps ``1 - coverage_share`` of its unserved people (rounded), as if the covered
        share were spread evenly over the state.

    Returns
    -------
    pandas.DataFrame
        A copy with ``people_unserved`` and ``demand_method`` updated and a ``coverage``
        column saying what was applied (None where nothing was).

    Examples
    --------
    >>> frame = pd.DataFrame({"people_unserved": [1000, 1000, 1000], "cve_ent": ["27", "27", "09"],
    ...     "demand_method": ["census household internet share"] * 3})
    >>> out = apply_coverage(frame, inside=[True, False, False],
    ...     state_coverage=pd.DataFrame({"cve_ent": ["27"], "coverage_share": [0.35]}))
    >>> out.people_unserved.tolist()
    [0, 650, 1000]
    """
    out = demand.copy()
    coverage = np.full(len(out), None, dtype=object)
    people = out["people_unserved"].to_numpy(dtype=np.int64).copy()
    covered = np.zeros(len(out), dtype=bool)
    if inside is not None:
        covered = np.asarray(inside, dtype=bool)
        if covered.shape != (len(out),):
            raise ValueError(f"inside has {covered.size} values for {len(out)} localities")
        people[covered] = 0
        coverage[covered] = "inside a coverage polygon"
        methods = out["demand_method"].to_numpy(dtype=object, copy=True)
        methods[covered] = "coverage layer"
        out["demand_method"] = methods
    if state_coverage is not None and len(state_coverage) and "cve_ent" in out.columns:
        shares = dict(
            zip(
                state_coverage["cve_ent"].astype(str).str.zfill(2),
                state_coverage["coverage_share"].astype(float),
                strict=True,
            )
        )
        codes = [None if pd.isna(c) else str(c).split(".")[0].zfill(2) for c in out["cve_ent"]]
        for i, code in enumerate(codes):
            share = shares.get(code) if code else None
            if share is None or covered[i]:
                continue
            people[i] = int(np.rint(people[i] * (1.0 - share)))
            coverage[i] = f"state mobile coverage share {share:.0%}"
    out["people_unserved"] = people
    out["coverage"] = coverage
    return out


def demand_method_counts(demand: pd.DataFrame) -> dict[str, int]:
    """Count the localities of :func:`estimate_demand` output per demand method.

    Every method appears, with 0 when unused, in the order of :data:`DEMAND_METHODS`.
    """
    counts = demand["demand_method"].value_counts()
    return {m: int(counts.get(m, 0)) for m in DEMAND_METHODS}


def households_for(people: int, persons_per_household: float) -> int:
    """Households (subscribers) for ``people``: rounded up, at least one when people > 0.

    Examples
    --------
    >>> households_for(1000, 3.6)
    278
    """
    if people <= 0:
        return 0
    return math.ceil(people / persons_per_household)
