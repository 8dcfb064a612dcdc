"""A kept radio survey gives the plan a fresh survey gives, and other inputs survey anew."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planner.network.cost_model import load_cost_model
from planner.network.planning_memo import PlanningMemo
from planner.plans import wireless
from planner.plans.radio import ElevationGrid
from planner.plans.wireless import Candidates, WirelessPlan, plan_wireless

COSTS = load_cost_model()

# flat ground around (-93, 18): every path within range is clear
GRID = ElevationGrid(values=np.zeros((100, 100)), west=-93.5, north=18.5, dlon=0.01, dlat=0.01)

# six towns 2 km apart on a parallel (0.019° of longitude at 18°N), a mast at each
LON = -93.0 + 0.019 * np.arange(6)
LAT = np.full(6, 18.0)


def _plan(memo: PlanningMemo | None, lon: np.ndarray = LON) -> WirelessPlan:
    return plan_wireless(
        GRID,
        COSTS,
        loc_lon=lon,
        loc_lat=LAT,
        people=np.full(6, 400.0),
        households=np.full(6, 100.0),
        alternative_usd=np.full(6, 1e6),
        candidates=Candidates(
            lon=lon,
            lat=LAT,
            locality=np.arange(6),
            at_locality=np.ones(6, dtype=bool),
            feeder_usd=np.full(6, 50_000.0),
        ),
        fiber_lon=np.array([-93.05]),
        fiber_lat=np.array([18.0]),
        budget_usd=None,
        site_node_limit=200,
        memo=memo,
    )


def _summary(plan: WirelessPlan) -> Any:
    sites = [(s.candidate, s.localities, s.backhaul, s.cost_usd) for s in plan.sites]
    return sites, plan.site_of.tolist(), plan.alternative.tolist(), plan.margin_m.tolist()


def _surveys_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    real = wireless.coverage_pairs

    def counting(*args: Any) -> Any:
        counted.append(1)
        return real(*args)

    monkeypatch.setattr(wireless, "coverage_pairs", counting)
    return counted


def test_a_kept_survey_plans_as_a_fresh_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = _summary(_plan(None))
    assert fresh[0], "the towns get wireless sites"  # so the survey matters to the plan
    monkeypatch.setattr(wireless, "WORTH_KEEPING", 6)
    counted = _surveys_counted(monkeypatch)
    memo = PlanningMemo(tmp_path / "cache", "network-1")
    assert _summary(_plan(memo)) == fresh
    assert _summary(_plan(memo)) == fresh
    assert counted == [1]  # surveyed once, then read back
    assert len(list((tmp_path / "cache").glob(f"{wireless.SURVEYED}-*/"))) == 1


def test_other_points_or_another_network_survey_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wireless, "WORTH_KEEPING", 6)
    counted = _surveys_counted(monkeypatch)
    memo = PlanningMemo(tmp_path / "cache", "network-1")
    _plan(memo)
    moved = LON.copy()
    moved[5] += 0.001
    assert _summary(_plan(memo, moved)) == _summary(_plan(None, moved))
    _plan(PlanningMemo(tmp_path / "cache", "network-2"))
    assert len(counted) == 4  # the first, the moved town's (kept, then fresh), network 2


def test_few_localities_are_surveyed_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = _surveys_counted(monkeypatch)
    memo = PlanningMemo(tmp_path / "cache", "network-1")
    _plan(memo)
    _plan(memo)
    assert counted == [1, 1]
    assert not (tmp_path / "cache").exists()
