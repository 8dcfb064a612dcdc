"""What a scenario run reads and what it produces.

:class:`ScenarioWorkspace` reads the store's layers once and builds one priced network per
distinct planning basis (corridor layers, cost-model overrides, subsea links);
:class:`ScenarioResult` holds each step's proposal, the summary's tables and the files.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.errors import NotFoundError
from layers.kinds import CORRIDOR_KINDS, LayerKind
from layers.store_api import LayerStore
from planner.network.cost_model import CostModel
from planner.network.planning_network import PlanningNetwork, build_network
from planner.plans.scenario import Scenario
from planner.plans.subsea import SubseaLink, add_subsea_links
from planner.proposals.metrics import ProposalMetrics
from planner.proposals.proposal import Proposal
from usecases.context import PlanningContext, planning_context

Progress = Callable[[str], None]
"""Called with a short line before each stage of a run."""


@dataclass
class TableResult:
    """A table of the summary (latency, inventory, demand)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)


@dataclass
class StepResult:
    """One step's proposal, its metrics, where it was written and how long it took."""

    name: str
    title: str
    kind: str
    store_name: str
    proposal: Proposal
    metrics: ProposalMetrics
    document: dict[str, Any]
    files: dict[str, Path]
    seconds: float
    budget_usd: float | None = None
    km_off_land: float | None = None
    """Km of land deployments farther than the coastal tolerance from land (should be 0)."""


@dataclass
class ScenarioResult:
    """Everything a scenario run produced."""

    spec: Scenario
    steps: list[StepResult]
    tables: list[TableResult]
    files: dict[str, Path]
    seconds: float
    cost_model: CostModel
    layers: tuple[str, ...]
    subsea_links: list[SubseaLink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def step(self, name: str) -> StepResult:
        """The result of the step called ``name``."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


@dataclass
class Variant:
    """A scenario's planning context and the subsea links added to its network."""

    context: PlanningContext
    subsea_links: list[SubseaLink]


class ScenarioWorkspace:
    """The store's layers read once, and one priced network per distinct planning basis.

    Parameters
    ----------
    store
        The layer store.
    cost_model_path
        Base cost model; default ``data/cost_model.toml``. Scenario overrides apply on top.
    """

    def __init__(self, store: LayerStore, cost_model_path: Path | None = None) -> None:
        self.store = store
        self.base = planning_context(store, cost_model_path)
        infos = store.list_layers()
        self.kinds: dict[str, LayerKind] = {info.name: info.kind for info in infos}
        self.corridor_layers = tuple(info.name for info in infos if info.kind in CORRIDOR_KINDS)
        self._frames: dict[str, gpd.GeoDataFrame] = {}
        self._variants: dict[tuple[Any, ...], Variant] = {
            (self.corridor_layers, "{}", False): Variant(self.base, [])
        }

    def frame(self, name: str) -> gpd.GeoDataFrame:
        """A stored vector layer, read once."""
        if name not in self._frames:
            self._frames[name] = self.store.read(name)
        return self._frames[name]

    def frames_of(self, kind: LayerKind) -> list[str]:
        """Names of the stored layers of one kind."""
        return [name for name, k in self.kinds.items() if k is kind]

    def layers_for(self, spec: Scenario) -> tuple[str, ...]:
        """The corridor layers a scenario plans on (checked against the store)."""
        if spec.layers is None:
            return self.corridor_layers
        missing = [name for name in spec.layers if name not in self.corridor_layers]
        if missing:
            raise NotFoundError(
                f"scenario {spec.name!r}: layers {', '.join(missing)} are not stored corridor "
                f"layers; stored: {', '.join(self.corridor_layers) or 'none'}",
                subject="layers",
            )
        return tuple(spec.layers)

    def variant(self, spec: Scenario, progress: Progress | None = None) -> Variant:
        """The planning context for a scenario's layers, cost model and subsea option."""
        layers = self.layers_for(spec)
        overrides = json.dumps(spec.cost_model, sort_keys=True, default=str)
        key = (layers, overrides, spec.subsea)
        if key not in self._variants:
            base_model = self.base.network.cost_model
            model = base_model.with_overrides(spec.cost_model) if spec.cost_model else base_model
            if progress:
                progress(f"building the priced network for {spec.name} ({len(layers)} layers)")
            network = build_network(
                {name: self.frame(name) for name in layers},
                model,
                elevation=self.base.network.elevation,
                elevations=self.base.network.elevations,
                land=self.base.network.land,
                caveats=self.base.network.caveats,
            )
            links: list[SubseaLink] = []
            if spec.subsea:
                links = self._add_subsea(network, model)
            self._variants[key] = Variant(dataclasses.replace(self.base, network=network), links)
        return self._variants[key]

    def _add_subsea(self, network: PlanningNetwork, model: CostModel) -> list[SubseaLink]:
        cables = self.frames_of(LayerKind.SUBSEA_CABLES)
        landings = self.frames_of(LayerKind.SUBSEA_LANDINGS)
        if not cables or not landings:
            raise NotFoundError(
                "subsea = true needs a subsea_cables and a subsea_landings layer",
                subject="layers",
            )
        links: list[SubseaLink] = []
        landing_frame = pd.concat([self.frame(n) for n in landings], ignore_index=True)
        for name in cables:
            links += add_subsea_links(
                network,
                self.frame(name),
                gpd.GeoDataFrame(landing_frame, crs="EPSG:4326"),
                cost_model=model,
            )
        return links
