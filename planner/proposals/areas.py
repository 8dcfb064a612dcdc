"""The admin areas a proposal is measured against, without their frames.

The states and municipalities a proposal crosses (:mod:`planner.proposals.metrics`) need
each area's label, code and polygon, nothing else of the layer. :class:`Areas` holds
those, made once from a layer's frame (:meth:`Areas.of_states`,
:meth:`Areas.of_municipalities`); the planning cache keeps them, so measuring a proposal
reads neither the layer nor pandas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import geopandas as gpd


@dataclass(frozen=True)
class Areas:
    """Polygons in EPSG:4326, each with the label and code it is reported under.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> states = gpd.GeoDataFrame({"name": ["Tabasco", None], "cve_ent": ["27", "04"]},
    ...     geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs="EPSG:4326")
    >>> Areas.of_states(states).labels, Areas.of_states(states).codes
    (('Tabasco', '04'), ('27', '04'))
    """

    labels: tuple[str, ...]
    codes: tuple[str | None, ...]
    polygons: tuple[Any, ...]
    """Shapely polygons (None where the layer has no geometry)."""

    def __len__(self) -> int:
        return len(self.polygons)

    def polygon_array(self) -> npt.NDArray[np.object_]:
        """The polygons as a numpy object array, in order."""
        return np.asarray(self.polygons, dtype=object)

    @classmethod
    def of_states(cls, states: gpd.GeoDataFrame) -> Areas:
        """A ``states`` layer (``name``, ``cve_ent``; any CRS): labelled by ``name``
        (``cve_ent`` when a name is missing), coded by ``cve_ent``."""
        states = _in_4326(states)
        codes = _column(states, "cve_ent")
        names = [n or c or "unnamed" for n, c in zip(_column(states, "name"), codes, strict=True)]
        return cls(tuple(names), tuple(codes), _polygons(states))

    @classmethod
    def of_municipalities(cls, municipalities: gpd.GeoDataFrame) -> Areas:
        """A ``municipalities`` layer (``cvegeo``, ``name``, ``state``; any CRS).

        Municipality names repeat across states (there are several Benito Juárez), so each
        is labelled ``"Name, State"`` when the layer has a ``state`` column.
        """
        municipalities = _in_4326(municipalities)
        codes = _column(municipalities, "cvegeo")
        labels = []
        for name, state, code in zip(
            _column(municipalities, "name"), _column(municipalities, "state"), codes, strict=True
        ):
            label = name or code or "unnamed"
            labels.append(f"{label}, {state}" if state else label)
        return cls(tuple(labels), tuple(codes), _polygons(municipalities))


def _polygons(frame: gpd.GeoDataFrame) -> tuple[Any, ...]:
    return tuple(np.asarray(frame.geometry.values, dtype=object).tolist())


def _column(frame: gpd.GeoDataFrame, name: str) -> Sequence[str | None]:
    if name not in frame.columns:
        return [None] * len(frame)
    return [None if _missing(v) else str(v) for v in frame[name]]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _in_4326(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        return frame.to_crs(4326)
    return frame
