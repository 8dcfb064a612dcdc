"""The kinds of layer Trazo knows, and the attributes each must or may carry.

A kind fixes the geometry family a layer may hold and its typed attributes. Column names
match case-insensitively and through the aliases listed here (INEGI and OGR spellings), so
a shapefile's ``CVE_ENT`` or a census ``POBTOT`` column is recognised. Attributes a kind
does not name are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

AttributeType = Literal["str", "int", "float", "bool"]
GeometryFamily = Literal["polygon", "line", "point"]


class LayerKind(StrEnum):
    """What a layer describes; fixes its geometry family and attribute schema."""

    STATES = "states"
    MUNICIPALITIES = "municipalities"
    RIGHTS_OF_WAY = "rights_of_way"
    FIBER_ROUTES = "fiber_routes"
    SUBSEA_LANDINGS = "subsea_landings"
    SUBSEA_CABLES = "subsea_cables"
    LOCALITIES = "localities"
    COVERAGE = "coverage"
    SITES = "sites"
    RASTER = "raster"


CORRIDOR_KINDS = (LayerKind.RIGHTS_OF_WAY, LayerKind.FIBER_ROUTES)
"""The kinds whose lines become corridors of the planner's graph."""


ROW_TYPES = frozenset({"rail", "highway", "pipeline", "power", "other"})
ROAD_CLASSES = frozenset({"motorway", "primary", "secondary", "local", "unpaved"})
"""Classes of road a ``highway`` right of way may have (see :mod:`layers.roads`)."""
FIBER_STATUSES = frozenset({"existing", "planned"})
COVERAGE_TECHNOLOGIES = frozenset(
    {"2g", "3g", "4g", "5g", "fixed_wireless", "fiber", "cable", "dsl", "satellite", "other"}
)
SITE_TYPES = frozenset({"health", "school", "square", "government", "library", "other"})


@dataclass(frozen=True)
class AttributeSpec:
    """One typed attribute of a kind.

    ``required`` attributes must be present (under their name or an alias); optional ones
    are added as nulls (or ``default``) when absent. ``allowed`` restricts string values
    (compared lower-case).
    """

    name: str
    type: AttributeType
    required: bool = False
    allowed: frozenset[str] | None = None
    aliases: tuple[str, ...] = ()
    default: str | int | float | bool | None = None


@dataclass(frozen=True)
class KindSpec:
    """The geometry family and attributes of one vector layer kind."""

    kind: LayerKind
    geometry: GeometryFamily
    attributes: tuple[AttributeSpec, ...] = field(default_factory=tuple)

    def attribute(self, name: str) -> AttributeSpec:
        """Return the spec of attribute ``name``; ``KeyError`` if the kind has none."""
        for spec in self.attributes:
            if spec.name == name:
                return spec
        raise KeyError(name)


KIND_SPECS: dict[LayerKind, KindSpec] = {
    LayerKind.STATES: KindSpec(
        LayerKind.STATES,
        "polygon",
        (
            AttributeSpec("cve_ent", "str", required=True, aliases=("cvegeo", "cve_edo")),
            AttributeSpec("name", "str", required=True, aliases=("nom_ent", "nombre", "nomgeo")),
            AttributeSpec("population", "int", aliases=("pobtot", "poblacion")),
        ),
    ),
    LayerKind.MUNICIPALITIES: KindSpec(
        LayerKind.MUNICIPALITIES,
        "polygon",
        (
            AttributeSpec("cvegeo", "str", required=True, aliases=("cve_geo", "cve_mun_geo")),
            AttributeSpec("name", "str", required=True, aliases=("nom_mun", "nomgeo", "nombre")),
            AttributeSpec("cve_ent", "str"),
            AttributeSpec("state", "str", aliases=("nom_ent",)),
            AttributeSpec("population", "int", aliases=("pobtot", "poblacion")),
        ),
    ),
    LayerKind.RIGHTS_OF_WAY: KindSpec(
        LayerKind.RIGHTS_OF_WAY,
        "line",
        (
            AttributeSpec("row_type", "str", required=True, allowed=ROW_TYPES),
            AttributeSpec("road_class", "str", allowed=ROAD_CLASSES),
            AttributeSpec("name", "str"),
            AttributeSpec("owner", "str"),
            AttributeSpec("status", "str"),
        ),
    ),
    LayerKind.FIBER_ROUTES: KindSpec(
        LayerKind.FIBER_ROUTES,
        "line",
        (
            AttributeSpec("operator", "str", required=True),
            AttributeSpec("status", "str", required=True, allowed=FIBER_STATUSES),
            AttributeSpec("lease_available", "bool"),
            AttributeSpec("fibers", "int"),
            AttributeSpec("name", "str"),
        ),
    ),
    LayerKind.SUBSEA_LANDINGS: KindSpec(
        LayerKind.SUBSEA_LANDINGS,
        "point",
        (
            AttributeSpec("name", "str", required=True),
            AttributeSpec("cables", "str"),
            AttributeSpec("country", "str"),
            AttributeSpec("ready_for_service", "int", aliases=("rfs_year", "rfs")),
            AttributeSpec("capacity_tbps", "float"),
        ),
    ),
    LayerKind.SUBSEA_CABLES: KindSpec(
        LayerKind.SUBSEA_CABLES,
        "line",
        (
            AttributeSpec("name", "str", required=True),
            AttributeSpec("ready_for_service", "int", aliases=("rfs_year", "rfs")),
            AttributeSpec("length_km", "float"),
            AttributeSpec("landings", "str"),
            AttributeSpec("capacity_tbps", "float"),
        ),
    ),
    LayerKind.LOCALITIES: KindSpec(
        LayerKind.LOCALITIES,
        "point",
        (
            AttributeSpec("name", "str", required=True, aliases=("nom_loc", "nombre", "nomgeo")),
            AttributeSpec("population", "int", required=True, aliases=("pobtot", "poblacion")),
            AttributeSpec("cvegeo", "str", aliases=("id",)),
            AttributeSpec("state", "str", aliases=("nom_ent",)),
            AttributeSpec("cve_ent", "str"),
            AttributeSpec("municipality", "str", aliases=("nom_mun",)),
            AttributeSpec("cve_mun", "str", aliases=("cve_mun_geo",)),
            AttributeSpec("connected", "bool"),
        ),
    ),
    LayerKind.COVERAGE: KindSpec(
        LayerKind.COVERAGE,
        "polygon",
        (
            AttributeSpec(
                "technology",
                "str",
                required=True,
                allowed=COVERAGE_TECHNOLOGIES,
                aliases=("tecnologia", "tech"),
            ),
            AttributeSpec("operator", "str", aliases=("operador",)),
            AttributeSpec("name", "str"),
        ),
    ),
    LayerKind.SITES: KindSpec(
        LayerKind.SITES,
        "point",
        (
            AttributeSpec(
                "site_type", "str", required=True, allowed=SITE_TYPES, aliases=("tipo", "type")
            ),
            AttributeSpec("name", "str", required=True, aliases=("nombre",)),
            AttributeSpec("cvegeo", "str"),
            AttributeSpec("state", "str", aliases=("nom_ent",)),
        ),
    ),
}


def kind_spec(kind: LayerKind | str) -> KindSpec:
    """Return the schema of a vector kind.

    Raises ``ValueError`` naming the known kinds for an unknown or raster kind.
    """
    try:
        layer_kind = LayerKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in LayerKind)
        raise ValueError(f"unknown layer kind {kind!r}; use one of: {known}") from None
    if layer_kind is LayerKind.RASTER:
        raise ValueError("raster layers have no attribute schema")
    return KIND_SPECS[layer_kind]
