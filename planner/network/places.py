"""Turn the PLACE strings people type into points: coordinates, landings and localities.

A PLACE is one of, tried in this order:

1. ``lon,lat``: two decimal numbers, longitude first (``-99.1332,19.4326``). A pair that
   reads like ``lat,lon`` in Mexico (first value 14..33, second -118..-86) is refused with
   the swapped pair as a hint.
2. An INEGI locality key (``cvegeo``, all digits, e.g. ``270040001``).
3. A subsea landing name (``Cancun`` finds ``Cancún``).
4. A locality name (``villahermosa`` finds ``Villahermosa``). Names repeat (Mexico has dozens
   of Emiliano Zapata), so a name that matches several localities is refused with the
   candidates; qualify it as ``"Name, State"``, ``"Name, Municipality"`` or
   ``"Name, Municipality, State"``, or give ``lon,lat``. The most populous candidate is never
   picked silently.

Before 3 and 4, the names people use for cities are looked up in ``data/place_aliases.toml``
(:func:`load_place_aliases`): "Querétaro, Querétaro" is Santiago de Querétaro, "CDMX" is the
seat of Cuauhtémoc, each by its INEGI key, with the alias file's source.

Names compare without accents, case or repeated spaces. A prefix ``landing:``, ``locality:``
or ``point:`` restricts the lookup to that kind (``locality:Tijuana`` skips the landing of the
same name). Unknown names raise :class:`PlaceNotFoundError` with up to five close names.

Every place found by anything but its exact spelling (an alias, another accent or case, a
municipal seat picked among namesakes) carries a ``match`` record saying what was typed,
which place it became (name, state, INEGI key) and why, and proposals list it. A bare name
whose only match is a rural locality (fewer than 2,500 people, INEGI's urban threshold) that
is not a municipal seat is a *weak* match ("Houston" is a ranch of 2 people in Tulum): it is
refused with the candidates unless qualified by state or municipality, or given by key.

A list of terminals (:func:`resolve_places`) is separated by ``;`` or new lines, never by
commas, because commas belong to ``lon,lat`` and ``Name, State``. Files are read only when
passed as :class:`pathlib.Path` (``.txt``, ``.csv`` or ``.geojson``), never from a string, so
text from an API request cannot name a server file.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import shapely

from layers.bundled_data import BUNDLED_DATA_DIR
from layers.errors import (
    AmbiguousPlaceError,
    InvalidPlaceError,
    PlaceAliasError,
    PlaceNotFoundError,
    WeakPlaceMatchError,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy.typing as npt
    import pandas as pd

    from planner.network.land import Land

PlaceKind = Literal["point", "landing", "locality"]

#: Everyday names of states whose INEGI name is longer, normalised (see :func:`normalize_name`).
STATE_ALIASES: dict[str, str] = {
    "cdmx": "ciudad de mexico",
    "df": "ciudad de mexico",
    "distrito federal": "ciudad de mexico",
    "estado de mexico": "mexico",
    "edomex": "mexico",
    "coahuila": "coahuila de zaragoza",
    "michoacan": "michoacan de ocampo",
    "veracruz": "veracruz de ignacio de la llave",
}


ALIASES_FILE = BUNDLED_DATA_DIR / "place_aliases.toml"
"""The bundled names people use for cities (state capitals, Mexico City), with INEGI keys."""
URBAN_POPULATION = 2_500
"""INEGI's threshold between rural and urban localities: a bare name matching only a smaller
locality (not a municipal seat) is a weak match."""
_MAX_CANDIDATES = 10
_MAX_SUGGESTIONS = 5
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_LON_LAT = re.compile(rf"^\s*({_NUMBER})\s*,\s*({_NUMBER})\s*$")
_PREFIX = re.compile(r"^\s*(landing|locality|point)\s*:\s*(.*)$", re.IGNORECASE)
_CVEGEO = re.compile(r"^\d{9}$")


def names_state(wanted: str, state: str) -> bool:
    """Whether ``wanted`` names ``state``: its INEGI name or an everyday one (STATE_ALIASES).

    Both are normalised names (see :func:`normalize_name`).

    Examples
    --------
    >>> names_state("cdmx", "ciudad de mexico"), names_state("tabasco", "tabasco")
    (True, True)
    >>> names_state("veracruz", "tabasco")
    False
    """
    return wanted == state or STATE_ALIASES.get(wanted) == state


@dataclass(frozen=True)
class PlaceAlias:
    """A name people use for a locality: ``alias`` (as typed) for INEGI key ``cvegeo``."""

    alias: str
    cvegeo: str
    name: str
    state: str


@dataclass(frozen=True)
class PlaceAliases:
    """The alias file: every alias and the source the keys come from."""

    entries: tuple[PlaceAlias, ...]
    source: str
    file: str

    def find(self, text: str) -> PlaceAlias | None:
        """The alias ``text`` means: ``"Alias"`` or ``"Alias, State"`` (accents/case free)."""
        wanted = normalize_name(text)
        for entry in self.entries:
            alias = normalize_name(entry.alias)
            if wanted == alias:
                return entry
            head, _, tail = wanted.rpartition(",")
            state = normalize_name(entry.state)
            tail = tail.strip()
            if head.strip() == alias and names_state(tail, state):
                return entry
        return None


def load_place_aliases(path: Path | None = None) -> PlaceAliases:
    """Read an alias file (default: the bundled ``data/place_aliases.toml``).

    Each ``[[place]]`` gives ``cvegeo``, the official ``name``, ``state`` and ``aliases``;
    ``[meta] source`` says where the keys come from.

    Raises
    ------
    PlaceAliasError
        When the file is missing or malformed, or an entry lacks a field.
    """
    from planner._toml import read_toml

    path = path or ALIASES_FILE
    raw = read_toml(path, what="place alias file", error=PlaceAliasError)
    source = str((raw.get("meta") or {}).get("source") or "")
    entries: list[PlaceAlias] = []
    for number, row in enumerate(raw.get("place") or [], 1):
        try:
            cvegeo, name, state = str(row["cvegeo"]), str(row["name"]), str(row["state"])
            aliases = [str(a) for a in row.get("aliases") or []]
        except (KeyError, TypeError) as err:
            raise PlaceAliasError(f"{path.name}: place {number} lacks {err}") from None
        if not _CVEGEO.match(cvegeo):
            raise PlaceAliasError(f"{path.name}: place {number}: {cvegeo!r} is not an INEGI key")
        # the official name alone finds the capital too ("Mérida" is not the hamlet)
        entries += [PlaceAlias(alias, cvegeo, name, state) for alias in [name, *aliases]]
    return PlaceAliases(tuple(entries), source, path.name)


@dataclass(frozen=True)
class Place:
    """A resolved place: a point with a name and what it is.

    Parameters
    ----------
    name : str
        Display name (the layer's spelling, or ``"lon,lat"`` for a point).
    lon, lat : float
        EPSG:4326 coordinates.
    kind : {"point", "landing", "locality"}
    population : int or None
        Census population of a locality.
    state : str or None
        State of a locality.
    attributes : mapping
        The layer's other attributes (``cvegeo``, ``municipality``, ``cables``, ...).
    match : mapping or None
        How a typed name became this place when it was not its exact spelling: ``typed``,
        ``name``, ``state``, ``cvegeo``, ``how`` (``alias``, ``spelling``, ``municipal_seat``)
        and ``why`` (a sentence). None for an exact match, a key or coordinates.
    """

    name: str
    lon: float
    lat: float
    kind: PlaceKind = "point"
    population: int | None = None
    state: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict, hash=False)
    match: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)

    def __post_init__(self) -> None:
        _check_range(float(self.lon), float(self.lat))
        object.__setattr__(self, "lon", float(self.lon))
        object.__setattr__(self, "lat", float(self.lat))
        object.__setattr__(self, "attributes", dict(self.attributes))

    def to_dict(self) -> dict[str, Any]:
        """Return the place as a plain dict (the shape :meth:`from_dict` reads)."""
        return {
            "name": self.name,
            "lon": self.lon,
            "lat": self.lat,
            "kind": self.kind,
            "population": self.population,
            "state": self.state,
            "attributes": dict(self.attributes),
            "match": None if self.match is None else dict(self.match),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Place:
        """Build a place from :meth:`to_dict` output."""
        population = data.get("population")
        return cls(
            name=str(data["name"]),
            lon=float(data["lon"]),
            lat=float(data["lat"]),
            kind=cast(PlaceKind, data.get("kind") or "point"),
            population=None if population is None else int(population),
            state=data.get("state"),
            attributes=data.get("attributes") or {},
            match=data.get("match"),
        )

    @property
    def cvegeo(self) -> str | None:
        """The INEGI locality key, when the place is a locality that has one."""
        value = self.attributes.get("cvegeo")
        return None if value in (None, "", "None") else str(value)

    def describe(self) -> str:
        """``"Name, State (INEGI key)"`` with the parts the place has, and how it was found.

        Examples
        --------
        >>> Place("Teapa", -92.95, 17.55, "locality", state="Tabasco",
        ...       attributes={"cvegeo": "270120001"}).describe()
        'Teapa, Tabasco (INEGI 270120001)'
        """
        text = ", ".join(p for p in (self.name, self.state) if p)
        if self.cvegeo:
            text += f" (INEGI {self.cvegeo})"
        elif self.kind != "locality":
            text += f" ({self.kind} at {self.lon:.5f},{self.lat:.5f})"
        if self.match is not None:
            text = f"{self.match.get('typed')!r} → {text}: {self.match.get('why')}"
        return text


def normalize_name(text: str) -> str:
    """Return ``text`` without accents, case folded, with single spaces.

    Examples
    --------
    >>> normalize_name("  Cancún ")
    'cancun'
    >>> normalize_name("PEÑA  Blanca")
    'pena blanca'
    """
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def _check_range(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidPlaceError("coordinates must be finite numbers")
    if not -180.0 <= lon <= 180.0 or not -90.0 <= lat <= 90.0:
        raise InvalidPlaceError(
            f"{lon:g},{lat:g} is out of range: give lon,lat with lon in -180..180 "
            "and lat in -90..90"
        )


def parse_lon_lat(text: str) -> tuple[float, float] | None:
    """Parse ``"lon,lat"``; return None when ``text`` is not two numbers.

    Raises
    ------
    InvalidPlaceError
        When the numbers are out of range, or read like ``lat,lon`` in Mexico.

    Examples
    --------
    >>> parse_lon_lat("-99.1332, 19.4326")
    (-99.1332, 19.4326)
    >>> parse_lon_lat("Mérida") is None
    True
    """
    match = _LON_LAT.match(text)
    if match is None:
        return None
    first, second = float(match.group(1)), float(match.group(2))
    if 14.0 <= first <= 33.0 and -118.0 <= second <= -86.0:
        raise InvalidPlaceError(
            f"{text.strip()!r} looks like lat,lon in Mexico; places take lon,lat "
            f"(longitude first): did you mean {second:g},{first:g}?"
        )
    _check_range(first, second)
    return first, second


def _as_int(value: Any) -> int | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else int(number)


def _clean(value: Any) -> Any:
    """Return a JSON-friendly attribute value (numpy scalars unwrapped, NaN to None).

    A frame's missing values (pandas' NA, NaT) are None by then: :func:`_column_values`.
    """
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


class NameIndex(Mapping[str, list[int]]):
    """Normalised name to the rows that carry it, kept as flat arrays.

    A ``dict`` of some 190,000 lists of ints takes most of the time of loading the place
    index; the same content as one list of names and two integer arrays loads in a
    fraction of it. Lookups build the name-to-position dict on first use.

    Examples
    --------
    >>> index = NameIndex({"cardenas": [4, 9], "teapa": [2]})
    >>> index.get("cardenas"), index.get("jalapa"), list(index.items())[1]
    ([4, 9], None, ('teapa', [2]))
    """

    def __init__(self, groups: Mapping[str, list[int]]) -> None:
        self._names = list(groups)
        sizes = np.fromiter((len(rows) for rows in groups.values()), np.int64, len(groups))
        self._offsets = np.zeros(len(groups) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self._offsets[1:])
        self._rows = np.fromiter(
            (row for rows in groups.values() for row in rows), np.int64, int(self._offsets[-1])
        )
        self._position: dict[str, int] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"names": self._names, "offsets": self._offsets, "rows": self._rows}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._names, self._offsets, self._rows = state["names"], state["offsets"], state["rows"]
        self._position = None

    def _at(self, position: int) -> list[int]:
        rows: list[int] = self._rows[self._offsets[position] : self._offsets[position + 1]].tolist()
        return rows

    def __getitem__(self, name: str) -> list[int]:
        if self._position is None:
            self._position = {key: i for i, key in enumerate(self._names)}
        return self._at(self._position[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def items(self) -> Iterator[tuple[str, list[int]]]:  # type: ignore[override]
        """Each name with its rows, in the order the names were first seen."""
        for position, name in enumerate(self._names):
            yield name, self._at(position)


class _Coded:
    """A column as one code per row into its distinct values.

    Place attributes repeat (32 states, 2,464 municipality keys, 5,779 populations on
    189,432 localities): kept so, a column loads from the planning cache as one integer
    array and a short list instead of a Python object per row.
    """

    def __init__(self, values: Sequence[Any]) -> None:
        # keyed by type too: True, 1 and 1.0 are equal keys but different values
        position: dict[tuple[type, Any], int] = {}
        self.codes = np.fromiter(
            (position.setdefault((type(v), v), len(position)) for v in values),
            np.int32,
            len(values),
        )
        self.values = [value for _, value in position]

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, index: int) -> Any:
        return self.values[self.codes[index]]

    def __iter__(self) -> Iterator[Any]:
        return iter([self.values[code] for code in self.codes.tolist()])


def _column_values(values: pd.Series) -> npt.NDArray[Any] | _Coded:
    """A frame column as the place index keeps it, with no pandas type left in it.

    Numbers stay a numpy array; anything else becomes plain values (:func:`_clean`, every
    missing value None), coded (:class:`_Coded`). The index is read from the planning
    cache by every command that resolves a place, and these load without pandas.
    """
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
        return values.to_numpy()
    plain = values.astype(object).where(values.notna(), None).tolist()
    return _Coded([_clean(v) for v in plain])


_KEPT_APART = frozenset({"name", "state"})
"""Columns a table keeps as lists of their own (:attr:`_Table.names`, :attr:`_Table.states`)."""

_NOT_ATTRIBUTES = frozenset({"name", "population", "state"})
"""Columns a place has as fields of its own, not among its attributes."""


class _Table:
    """One point layer prepared for name lookups."""

    def __init__(self, frame: gpd.GeoDataFrame, kind: PlaceKind) -> None:
        import pandas as pd  # building reads a frame; lookups need only what is kept here

        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(4326)
        frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
        if "name" not in frame.columns:
            raise InvalidPlaceError(f"the {kind} layer has no 'name' column to look places up")
        self.kind = kind
        frame = frame.reset_index(drop=True)
        points = shapely.point_on_surface(np.asarray(frame.geometry.values, dtype=object))
        # the attributes only: a place's position is in lon/lat, and 190,000 geometries
        # would take most of the time of loading the index from its cache
        attributes = frame.drop(columns=frame.geometry.name)
        # the name and the state are kept apart (names, states), as places and labels read them
        self.columns = {
            str(c): _column_values(attributes[c])
            for c in attributes.columns
            if c not in _KEPT_APART
        }
        self.lon = shapely.get_x(points)
        self.lat = shapely.get_y(points)
        self.names = [str(n) for n in attributes["name"].fillna("")]
        self.populations: list[float] = (
            pd.to_numeric(attributes["population"], errors="coerce").fillna(0).tolist()
            if "population" in attributes.columns
            else [0.0] * len(attributes)
        )
        self.states = self._text_column(attributes, "state")
        self.municipalities = self._text_column(attributes, "municipality")
        by_name: dict[str, list[int]] = {}
        normal: dict[str, str] = {}  # names repeat a lot; normalise each spelling once
        for index, name in enumerate(self.names):
            key = normal.get(name)
            if key is None:
                key = normal[name] = normalize_name(name)
            by_name.setdefault(key, []).append(index)
            if kind == "landing" and "," in name:
                # TeleGeography-style "Town, Region": the town alone also finds it.
                short = normalize_name(name.split(",", 1)[0])
                by_name.setdefault(short, []).append(index)
        self.by_name = NameIndex(by_name)
        # built here, not on first lookup: the index is built once and kept beside the
        # store (planner.network.build_cache), so a command that resolves a key does not rebuild it
        self._by_code: dict[str, int] = (
            {str(c): i for i, c in enumerate(self.columns["cvegeo"]) if _clean(c)}
            if "cvegeo" in self.columns
            else {}
        )

    @staticmethod
    def _text_column(frame: pd.DataFrame, column: str) -> list[str | None]:
        if column not in frame.columns:
            return [None] * len(frame)
        values = frame[column]
        present = values.notna().tolist()
        # a state or municipality name repeats on thousands of rows: one string object
        # each, so the index pickles (and loads) each name once
        one: dict[str, str] = {}
        texts: list[str | None] = []
        for value, ok in zip(values.tolist(), present, strict=True):
            text = str(value) if ok else None
            texts.append(None if text is None else one.setdefault(text, text))
        return texts

    def by_code(self, code: str) -> int | None:
        return self._by_code.get(code)

    def population(self, index: int) -> int | None:
        if "population" not in self.columns:
            return None
        return _as_int(self.columns["population"][index])

    def place(self, index: int) -> Place:
        attributes = {
            k: _clean(v[index]) for k, v in self.columns.items() if k not in _NOT_ATTRIBUTES
        }
        return Place(
            name=self.names[index],
            lon=float(self.lon[index]),
            lat=float(self.lat[index]),
            kind=self.kind,
            population=self.population(index),
            state=self.states[index],
            attributes=attributes,
        )

    def label(self, index: int) -> str:
        """Return ``"Name, Municipality, State (pop. N)"`` with the parts the layer has."""
        parts = [self.names[index], self.municipalities[index], self.states[index]]
        text = ", ".join(p for p in parts if p)
        population = self.population(index)
        details = [f"pop. {population:,}"] if population is not None else []
        if "cvegeo" in self.columns and _clean(key := self.columns["cvegeo"][index]):
            details.append(f"INEGI {key}")
        return f"{text} ({'; '.join(details)})" if details else text

    def state_is(self, index: int, qualifier: str) -> bool:
        state = self.states[index]
        if state is None:
            return False
        return names_state(qualifier, normalize_name(state))

    def municipality_is(self, index: int, qualifier: str) -> bool:
        municipality = self.municipalities[index]
        return municipality is not None and normalize_name(municipality) == qualifier


class PlaceIndex:
    """Resolve PLACE strings against a localities layer and a subsea landings layer.

    Build it once per pair of layers (it indexes names) and call :meth:`resolve` as often as
    needed. Either layer may be None; coordinates always work.

    Parameters
    ----------
    localities : geopandas.GeoDataFrame, optional
        A ``localities`` layer (``name``, ``population``, ``state``, ``municipality``,
        ``cvegeo``, ...).
    landings : geopandas.GeoDataFrame, optional
        A ``subsea_landings`` layer (``name``, ``cables``, ...).
    area : planner.network.land.Land, optional
        The planning area: a place outside it is refused
        (:class:`planner.network.land.OutsidePlanningAreaError`).

    Examples
    --------
    >>> place = PlaceIndex().resolve("-86.85,21.16")
    >>> place.kind, place.lon, place.lat
    ('point', -86.85, 21.16)
    """

    def __init__(
        self,
        localities: gpd.GeoDataFrame | None = None,
        landings: gpd.GeoDataFrame | None = None,
        aliases: PlaceAliases | None = None,
        area: Land | None = None,
    ) -> None:
        self.localities = None if localities is None else _Table(localities, "locality")
        self.landings = None if landings is None else _Table(landings, "landing")
        self.aliases = aliases if aliases is not None else load_place_aliases()
        self.area = area

    def resolve(self, text: str) -> Place:
        """Resolve one PLACE string and refuse it outside the planning area.

        See :meth:`find` for the rules; raises
        :class:`planner.network.land.OutsidePlanningAreaError` for a place outside ``area``.
        """
        place = self.find(text)
        if self.area is not None:
            self.area.check_place(place.name, place.lon, place.lat)
        return place

    def find(self, text: str) -> Place:
        """Resolve one PLACE string; see the module documentation for the rules.

        Parameters
        ----------
        text : str
            ``lon,lat``, a locality key, a landing name or a locality name, optionally
            prefixed ``landing:``, ``locality:`` or ``point:``.

        Returns
        -------
        Place

        Raises
        ------
        InvalidPlaceError
            Empty text or bad coordinates.
        AmbiguousPlaceError
            The name matches several places.
        PlaceNotFoundError
            Nothing has that name.
        """
        text = text.strip()
        only: str | None = None
        prefixed = _PREFIX.match(text)
        if prefixed:
            only, text = prefixed.group(1).lower(), prefixed.group(2).strip()
        if not text:
            raise InvalidPlaceError("empty place: give lon,lat, a landing or a locality name")

        if only in (None, "point"):
            coords = parse_lon_lat(text)
            if coords is not None:
                return Place(name=f"{coords[0]:g},{coords[1]:g}", lon=coords[0], lat=coords[1])
            if only == "point":
                raise InvalidPlaceError(
                    f"{text!r} is not lon,lat: give two numbers, longitude first"
                )

        if only in (None, "locality") and self.localities is not None and _CVEGEO.match(text):
            index = self.localities.by_code(text)
            if index is not None:
                return self.localities.place(index)

        if only in (None, "locality") and self.localities is not None:
            alias = self.aliases.find(text)
            index = None if alias is None else self.localities.by_code(alias.cvegeo)
            if alias is not None and index is not None:
                place = self.localities.place(index)
                if " ".join(text.split()) == f"{place.name}, {place.state}":
                    return place
                if normalize_name(alias.alias) == normalize_name(alias.name):
                    why = (
                        f"{alias.name}, {alias.state} is listed in {self.aliases.file} (state "
                        "capitals and Mexico City): the name alone means it, not its namesakes"
                    )
                else:
                    why = f"{alias.alias!r} is what people call {alias.name} ({self.aliases.file})"
                return _matched(place, text, "alias", why, source=self.aliases.source)

        tables = [
            t for t in (self.landings, self.localities) if t is not None and only in (None, t.kind)
        ]
        if not tables:
            wanted = {"landing": "subsea landings", "locality": "localities"}.get(
                only or "", "localities or subsea landings"
            )
            raise PlaceNotFoundError(
                f"cannot look up {text!r}: no {wanted} layer is loaded; give lon,lat instead"
            )
        mismatch: str | None = None
        for table in tables:
            found, hint = _lookup(table, text)
            if found is not None:
                return _check_weak(table, found, text, tables)
            mismatch = mismatch or hint
        suggestions = _suggest(tables, text)
        message = mismatch or f"no place named {text!r}"
        if suggestions:
            message += "; did you mean: " + "; ".join(suggestions) + "?"
        else:
            message += "; check the spelling or give lon,lat"
        raise PlaceNotFoundError(message, suggestions)


def _lookup(table: _Table, text: str) -> tuple[Place | None, str | None]:
    """Find ``text`` in one table; return the place, or a hint why a qualifier failed."""
    exact = table.by_name.get(normalize_name(text))
    if exact:
        return _pick(table, exact, text), None
    parts = [p.strip() for p in text.split(",")]
    hint: str | None = None
    for qualifiers in (1, 2):
        if len(parts) <= qualifiers:
            break
        name = ", ".join(parts[:-qualifiers])
        found = table.by_name.get(normalize_name(name))
        if not found:
            continue
        wanted = [normalize_name(q) for q in parts[-qualifiers:]]
        if qualifiers == 1:
            keep = [
                i
                for i in found
                if table.state_is(i, wanted[0]) or table.municipality_is(i, wanted[0])
            ]
        else:
            keep = [
                i
                for i in found
                if table.municipality_is(i, wanted[0]) and table.state_is(i, wanted[1])
            ]
        if keep:
            return _pick(table, keep, text), None
        if hint is None:
            where = sorted({s for i in found if (s := table.states[i])})
            hint = f"no {table.kind} named {name!r} in {', '.join(parts[-qualifiers:])!r}"
            if where:
                hint += f" (there is one in: {', '.join(where[:_MAX_CANDIDATES])})"
    return None, hint


def _matched(place: Place, typed: str, how: str, why: str, source: str | None = None) -> Place:
    """``place`` with the record of how ``typed`` became it."""
    record: dict[str, Any] = {
        "typed": typed,
        "name": place.name,
        "state": place.state,
        "cvegeo": place.cvegeo,
        "how": how,
        "why": why,
    }
    if source:
        record["source"] = source
    return Place(
        place.name,
        place.lon,
        place.lat,
        place.kind,
        place.population,
        place.state,
        place.attributes,
        match=record,
    )


def _spelled_exactly(place: Place, typed: str) -> bool:
    text = " ".join(typed.split())
    return text in {place.name, f"{place.name}, {place.state}"} or (
        place.attributes.get("municipality") is not None
        and text
        in {
            f"{place.name}, {place.attributes['municipality']}",
            f"{place.name}, {place.attributes['municipality']}, {place.state}",
        }
    )


def _pick(table: _Table, indices: list[int], text: str) -> Place:
    unique = list(dict.fromkeys(indices))
    if len(unique) == 1:
        place = table.place(unique[0])
        if _spelled_exactly(place, text):
            return place
        return _matched(
            place, text, "spelling", "the only place of that name, ignoring accents and case"
        )
    seat = _municipal_seat(table, unique)
    if seat is not None:
        return _matched(
            table.place(seat),
            text,
            "municipal_seat",
            f"the municipal seat (INEGI locality 0001) among {len(unique)} localities of "
            "that name in the state",
        )
    ranked = sorted(unique, key=lambda i: (-(table.population(i) or 0), table.label(i)))
    candidates = [table.label(i) for i in ranked[:_MAX_CANDIDATES]]
    more = f" (first {_MAX_CANDIDATES} shown)" if len(unique) > _MAX_CANDIDATES else ""
    name = table.names[unique[0]]
    if table.kind == "locality":
        what = "localities"
        fix = (
            f"Add the state ('{name}, State') or municipality and state "
            f"('{name}, Municipality, State'), or give its INEGI key or lon,lat"
        )
    else:
        what = "landings"
        fix = "Give the landing's lon,lat"
    raise AmbiguousPlaceError(
        f"{text!r} matches {len(unique)} {what}{more}: {'; '.join(candidates)}. {fix}",
        candidates,
    )


def _check_weak(table: _Table, place: Place, text: str, tables: Sequence[_Table]) -> Place:
    """Refuse a bare name whose match is a small rural locality that is not a seat."""
    qualified = "," in text
    small = place.population is not None and place.population < URBAN_POPULATION
    seat = bool(place.cvegeo and place.cvegeo.endswith("0001"))
    if table.kind != "locality" or qualified or not small or seat:
        return place
    index = table.by_name[normalize_name(text)][0]
    towns = [
        name
        for name in _suggest(tables, text, min_population=URBAN_POPULATION)
        if normalize_name(name) != normalize_name(text)
    ]
    candidates = [table.label(index), *towns]
    raise WeakPlaceMatchError(
        f"{text!r} only matches {table.label(index)}, a rural locality that is not a "
        f"municipal seat: too weak a match to plan on. If that is the place, write "
        f"'{place.name}, {place.state}' or its INEGI key"
        + (f"; towns with close names: {'; '.join(towns)}" if towns else "")
        + "; a place outside Mexico needs lon,lat",
        candidates,
    )


def _municipal_seat(table: _Table, indices: list[int]) -> int | None:
    """The one municipal seat among same-named localities of one state, if there is one.

    INEGI numbers the seat (cabecera municipal) of every municipality locality 0001, so its
    9-digit key ends in ``0001``. Within one state the seat is what a planner means by a
    town's name ("Cárdenas, Tabasco" is the city of 80,000, not the hamlet of 186 with the
    same name); across states the name stays ambiguous.
    """
    if table.kind != "locality" or "cvegeo" not in table.columns:
        return None
    if len({table.states[i] for i in indices}) != 1:
        return None
    codes = table.columns["cvegeo"]
    seats = [i for i in indices if _clean(codes[i]) and str(codes[i]).endswith("0001")]
    return seats[0] if len(seats) == 1 else None


def _suggest(tables: Sequence[_Table], text: str, min_population: int = 0) -> list[str]:
    wanted = normalize_name(text.split(",", 1)[0])
    spelled: dict[str, str] = {}
    for table in tables:
        for normal, indices in table.by_name.items():
            small = min_population and table.kind == "locality"
            if small and max(table.populations[i] for i in indices) < min_population:
                continue
            spelled.setdefault(normal, table.names[indices[0]])
    close = difflib.get_close_matches(wanted, list(spelled), n=_MAX_SUGGESTIONS, cutoff=0.75)
    return [spelled[c] for c in close]


def resolve_place(
    text: str,
    localities: gpd.GeoDataFrame | None = None,
    landings: gpd.GeoDataFrame | None = None,
) -> Place:
    """Resolve one PLACE string; see :class:`PlaceIndex` to resolve many against large layers.

    Parameters
    ----------
    text : str
        ``lon,lat``, a locality key, a landing name or a locality name.
    localities, landings : geopandas.GeoDataFrame, optional
        The layers names are looked up in.

    Returns
    -------
    Place

    Examples
    --------
    >>> resolve_place("-99.1332,19.4326").lat
    19.4326
    """
    return PlaceIndex(localities, landings).resolve(text)


def split_places(text: str) -> list[str]:
    """Split a terminal list on ``;`` and new lines, dropping blanks and ``#`` comments.

    Examples
    --------
    >>> split_places("Mérida, Yucatán; -99.13,19.43\\n# ignored\\nCancún")
    ['Mérida, Yucatán', '-99.13,19.43', 'Cancún']
    """
    items: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        items.extend(part.strip() for part in line.split(";"))
    return [item for item in items if item]


def resolve_places(
    source: str | Path | Sequence[str],
    localities: gpd.GeoDataFrame | None = None,
    landings: gpd.GeoDataFrame | None = None,
    *,
    index: PlaceIndex | None = None,
) -> list[Place]:
    """Resolve a list of terminals.

    Parameters
    ----------
    source : str, pathlib.Path or sequence of str
        A string of PLACEs separated by ``;`` or new lines (commas stay inside a PLACE:
        ``"Mérida, Yucatán; -99.13,19.43"``); a sequence of PLACE strings; or a
        :class:`pathlib.Path` to a file:

        - ``.txt``: one PLACE per line, ``#`` comments and blank lines skipped;
        - ``.csv`` with a header row, either
          one column ``place`` (or ``name``): every following line is one whole PLACE,
          commas included (``Villahermosa, Tabasco`` needs no quotes), ``#`` lines skipped;
          or several columns: a ``place``/``name`` column of PLACEs (quoted when they hold a
          comma) and/or ``lon`` and ``lat`` columns (``longitude``/``latitude``/``lng``
          also read) for points, named by ``name`` when present;
        - ``.geojson`` / ``.json``: Point features, named by their ``name`` property.

        A string is never opened as a file.
    localities, landings : geopandas.GeoDataFrame, optional
        The layers names are looked up in; ignored when ``index`` is given.
    index : PlaceIndex, optional
        A prepared index to reuse.

    Returns
    -------
    list of Place
        In input order.

    Raises
    ------
    InvalidPlaceError, AmbiguousPlaceError, PlaceNotFoundError
        For the first bad entry, its message prefixed with its position.
    """
    index = index or PlaceIndex(localities, landings)
    if isinstance(source, Path):
        entries = _read_file(source)
    elif isinstance(source, str):
        entries = [(f"place {n}", item) for n, item in enumerate(split_places(source), 1)]
    else:
        entries = [(f"place {n}", item) for n, item in enumerate(source, 1)]
    if not entries:
        raise InvalidPlaceError(
            "no places given: separate them with ';' or new lines, e.g. 'Mérida; Cancún'"
        )
    places = []
    for where, entry in entries:
        try:
            places.append(entry if isinstance(entry, Place) else index.resolve(entry))
        except AmbiguousPlaceError as err:
            raise AmbiguousPlaceError(f"{where}: {err.message}", err.candidates) from None
        except WeakPlaceMatchError as err:
            raise WeakPlaceMatchError(f"{where}: {err.message}", err.candidates) from None
        except PlaceNotFoundError as err:
            raise PlaceNotFoundError(f"{where}: {err.message}", err.suggestions) from None
        except InvalidPlaceError as err:
            raise InvalidPlaceError(f"{where}: {err.message}") from None
    return places


def _read_file(path: Path) -> list[tuple[str, str | Place]]:
    suffix = path.suffix.lower()
    if suffix not in {".txt", ".csv", ".geojson", ".json"}:
        raise InvalidPlaceError(
            f"cannot read places from {path.name!r}: use a .txt (one per line), .csv "
            "(name or lon/lat columns) or .geojson (Point features) file"
        )
    text = path.read_text(encoding="utf-8-sig")
    if suffix == ".txt":
        entries: list[tuple[str, str | Place]] = []
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if line and not line.startswith("#"):
                entries.append((f"{path.name} line {number}", line))
        return entries
    if suffix == ".csv":
        return _read_csv(path.name, text)
    return _read_geojson(path.name, text)


def _read_csv(label: str, text: str) -> list[tuple[str, str | Place]]:
    """Read a terminals CSV: see :func:`resolve_places` for the layout."""
    lines = text.splitlines()
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip().strip('"').strip().lower() in {"place", "name"}:
        # one column of PLACEs: each line is a whole PLACE, commas and all, so an unquoted
        # "Villahermosa, Tabasco" is not split into two fields
        entries: list[tuple[str, str | Place]] = []
        for number, line in enumerate(lines[first + 1 :], first + 2):
            item = line.strip()
            if item.startswith('"') and item.endswith('"') and len(item) > 1:
                item = item[1:-1].replace('""', '"').strip()
            if item and not item.startswith("#"):
                entries.append((f"{label} line {number}", item))
        return entries
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower(): c for c in reader.fieldnames or []}
    lon_col = columns.get("lon") or columns.get("longitude") or columns.get("lng")
    lat_col = columns.get("lat") or columns.get("latitude")
    name_col = columns.get("name") or columns.get("place")
    if not (lon_col and lat_col) and not name_col:
        raise InvalidPlaceError(
            f"{label} needs a 'name' column of places or 'lon' and 'lat' columns; "
            f"it has: {', '.join(columns) or 'no header'}"
        )
    entries = []
    for number, row in enumerate(reader, 2):
        where = f"{label} line {number}"
        if row.get(None):
            raise InvalidPlaceError(
                f"{where} has more fields than the header ({', '.join(columns)}): quote a "
                'PLACE that holds a comma ("Villahermosa, Tabasco"), or give a one-column '
                "file whose header is 'place'"
            )
        name = (row.get(name_col) or "").strip() if name_col else ""
        lon = (row.get(lon_col) or "").strip() if lon_col else ""
        lat = (row.get(lat_col) or "").strip() if lat_col else ""
        if lon and lat:
            coords = _coords(where, f"{lon},{lat}")
            entries.append((where, Place(name or f"{lon},{lat}", coords[0], coords[1])))
        elif name:
            entries.append((where, name))
    return entries


def _coords(where: str, text: str) -> tuple[float, float]:
    try:
        coords = parse_lon_lat(text)
    except InvalidPlaceError as err:
        raise InvalidPlaceError(f"{where}: {err.message}") from None
    if coords is None:
        raise InvalidPlaceError(f"{where}: {text!r} is not a lon,lat pair of numbers")
    return coords


def _read_geojson(label: str, text: str) -> list[tuple[str, str | Place]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidPlaceError(f"{label} is not valid JSON (line {err.lineno})") from None
    if not isinstance(document, dict):
        raise InvalidPlaceError(f"{label} is not a GeoJSON object")
    if document.get("type") == "FeatureCollection":
        features = document.get("features") or []
    elif document.get("type") == "Feature":
        features = [document]
    else:
        raise InvalidPlaceError(f"{label} must be a GeoJSON Feature or FeatureCollection")
    entries: list[tuple[str, str | Place]] = []
    for number, feature in enumerate(features, 1):
        where = f"{label} feature {number}"
        geometry = (feature or {}).get("geometry") or {}
        coordinates = geometry.get("coordinates")
        if geometry.get("type") != "Point" or not isinstance(coordinates, list | tuple):
            raise InvalidPlaceError(f"{where}: terminals must be Point features")
        if len(coordinates) < 2:
            raise InvalidPlaceError(f"{where}: a Point needs lon and lat")
        lon, lat = coordinates[0], coordinates[1]
        try:
            lon, lat = float(lon), float(lat)
        except (TypeError, ValueError):
            raise InvalidPlaceError(f"{where}: coordinates must be numbers") from None
        _coords(where, f"{lon!r},{lat!r}")
        properties = feature.get("properties") or {}
        name = str(properties.get("name") or f"{lon:g},{lat:g}")
        attributes = {k: _clean(v) for k, v in properties.items() if k != "name"}
        entries.append((where, Place(name, lon, lat, attributes=attributes)))
    return entries
