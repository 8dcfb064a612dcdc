"""Public sites as last-mile targets: health centres, schools, squares, government offices.

CFE Telecomunicaciones e Internet para Todos connects public places (free access points in
health centres, schools and squares). :func:`plan_public_sites` connects every public site
of an area with the last-mile planner (:func:`planner.plans.last_mile.plan_last_mile`): each site
is one connection (one drop and ONT on fiber, one subscriber antenna on a shared wireless
site, or one satellite terminal), with no in-town cable beyond the building, so fiber is
chosen where its feeder pays against wireless or satellite.

Where no ``sites`` layer is loaded, :func:`seat_stand_ins` stands the municipal seats in
for the public buildings: one site per seat (its town hall), at the seat's locality point.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import geopandas as gpd
import pandas as pd

from planner.network.planning_network import PlanningNetwork
from planner.plans.last_mile import plan_last_mile
from planner.proposals.proposal import Proposal

SEAT_SUFFIX = "0001"
"""INEGI numbers a municipality's seat as its locality 0001."""


def sites_in_area(sites: gpd.GeoDataFrame, area: object) -> gpd.GeoDataFrame:
    """The public sites (a ``sites`` layer) inside ``area`` (a shapely geometry)."""
    frame = sites if sites.crs is None or sites.crs.to_epsg() == 4326 else sites.to_crs(4326)
    return frame[frame.intersects(area)].reset_index(drop=True)


def seat_stand_ins(localities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One stand-in public site per municipal seat among ``localities`` (its town hall)."""
    codes = localities.get("cvegeo")
    if codes is None:
        return gpd.GeoDataFrame(
            {"name": [], "site_type": []}, geometry=[], crs=localities.crs or "EPSG:4326"
        )
    text = codes.astype("string").fillna("").str.split(".").str[0].fillna("")
    seats = localities[text.str.endswith(SEAT_SUFFIX).fillna(False).to_numpy(dtype=bool)]
    return gpd.GeoDataFrame(
        {
            "name": [f"{n} town hall (stand-in)" for n in seats["name"]],
            "site_type": ["government"] * len(seats),
            "cvegeo": seats["cvegeo"].to_numpy(),
            "cve_ent": seats["cve_ent"].to_numpy() if "cve_ent" in seats else None,
            "state": seats["state"].to_numpy() if "state" in seats else None,
        },
        geometry=seats.geometry.to_numpy(),
        crs=localities.crs or "EPSG:4326",
    )


def plan_public_sites(
    network: PlanningNetwork,
    sites: gpd.GeoDataFrame,
    *,
    area_name: str,
    budget_usd: float | None = None,
    backbone_nodes: Sequence[Hashable] | None = None,
    stand_ins: bool = False,
    name: str | None = None,
) -> Proposal:
    """Connect every public site of an area (or the most a budget allows).

    Parameters
    ----------
    network
        The priced planning network (sites are attached to it).
    sites
        Points with ``name`` and ``site_type`` (a ``sites`` layer, or
        :func:`seat_stand_ins`).
    area_name
        For the proposal's name and parameters.
    budget_usd, backbone_nodes
        As in :func:`planner.plans.last_mile.plan_last_mile`.
    stand_ins
        Whether ``sites`` are stand-ins (said in the notes and parameters).
    name
        Proposal name; default ``public-sites-<area_name>``.

    Returns
    -------
    Proposal
        A last-mile proposal whose ``people_covered`` counts connected sites.
    """
    frame = gpd.GeoDataFrame(
        {
            "name": [f"{n} ({t})" for n, t in zip(sites["name"], sites["site_type"], strict=True)],
            "population": 1,
            "connected": pd.array([False] * len(sites), dtype="boolean"),
            "cvegeo": sites["cvegeo"].to_numpy() if "cvegeo" in sites else None,
            "cve_ent": sites["cve_ent"].to_numpy() if "cve_ent" in sites else None,
            "state": sites["state"].to_numpy() if "state" in sites else None,
        },
        geometry=sites.geometry.to_numpy(),
        crs=sites.crs or "EPSG:4326",
    )
    proposal = plan_last_mile(
        network,
        frame,
        area_name=area_name,
        min_population=1,
        budget_usd=budget_usd,
        backbone_nodes=backbone_nodes,
        household_internet=pd.DataFrame({"cvegeo": [], "share_without_internet": []}),
        name=name or f"public-sites-{area_name}",
    )
    counts = sites["site_type"].astype(str).value_counts().to_dict()
    note = (
        f"public sites: {len(sites)} sites ("
        + ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
        + "), each one connection; people covered counts connected sites"
    )
    if stand_ins:
        note += (
            "; no public-site layer is loaded, so each municipal seat's town hall stands in "
            "for its public buildings"
        )
    parameters = dict(proposal.parameters)
    parameters.update(
        mode="public sites",
        public_sites=len(sites),
        public_site_types=counts,
        public_site_stand_ins=stand_ins,
    )
    return Proposal(
        kind=proposal.kind,
        name=proposal.name,
        segments=proposal.segments,
        terminals=proposal.terminals,
        node_costs_usd=proposal.node_costs_usd,
        parameters=parameters,
        people_covered=proposal.people_covered,
        cost_model_source=proposal.cost_model_source,
        notes=[*proposal.notes, note],
        created_at=proposal.created_at,
        markers=proposal.markers,
    )
