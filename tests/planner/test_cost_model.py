"""Tests of the cost model: loading, sources, validation messages, overrides and arithmetic."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.errors import CostModelError, TrazoError
from planner.network.cost_model import (
    DEFAULT_COST_MODEL_PATH,
    DEPLOYMENT_TYPES,
    CostModel,
    load_cost_model,
)


@pytest.fixture(scope="module")
def model() -> CostModel:
    return load_cost_model()


def _write_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_COST_MODEL_PATH.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in the default cost model"
    path = tmp_path / "cost_model.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_default_model_loads_with_every_deployment_type(model: CostModel) -> None:
    assert model.meta.currency == "USD"
    for deployment in DEPLOYMENT_TYPES:
        assert model.usd_per_km(deployment) > 0


def test_every_table_in_the_file_has_a_non_empty_source() -> None:
    raw = tomllib.loads(DEFAULT_COST_MODEL_PATH.read_text(encoding="utf-8"))

    def tables(node: object, path: str) -> list[tuple[str, dict[str, object]]]:
        found: list[tuple[str, dict[str, object]]] = []
        if isinstance(node, dict):
            if any(not isinstance(v, (dict, list)) for v in node.values()):
                found.append((path, node))
            for key, value in node.items():
                found += tables(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                found += tables(item, f"{path}[{i}]")
        return found

    entries = tables(raw, "")
    assert len(entries) >= 20
    for path, table in entries:
        source = table.get("source")
        assert isinstance(source, str) and source.strip(), f"{path} has no source"


def test_describe_gives_every_value_a_source(model: CostModel) -> None:
    described = model.describe()
    assert described["deployment.rail.usd_per_km"]["value"] == model.usd_per_km("rail")
    assert described["latency.us_per_km"]["value"] == 4.9
    assert "terrain.slope[0].multiplier" in described
    assert all(item["source"].strip() for item in described.values())


def test_deployment_order_matches_the_rationale(model: CostModel) -> None:
    # Leasing is cheaper than any new build; aerial on power lines is the cheapest new build;
    # along-ROW builds are cheaper than a greenfield trench.
    new_builds = ["rail", "highway", "pipeline", "power_aerial", "greenfield"]
    assert model.usd_per_km("fiber_lease") < min(model.usd_per_km(d) for d in new_builds)
    assert model.usd_per_km("power_aerial") == min(model.usd_per_km(d) for d in new_builds)
    assert model.usd_per_km("greenfield") == max(model.usd_per_km(d) for d in new_builds)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "usd_per_km = 16000",
            "usd_per_km = -5",
            r"cost_model\.toml: deployment\.rail\.usd_per_km must be > 0",
        ),
        (
            "usd_per_km = 16000",
            'usd_per_km = "cheap"',
            r"deployment\.rail\.usd_per_km must be a number",
        ),
        ("spacing_km = 90", "spacing_km = 0", r"nodes\.splice_site\.spacing_km must be > 0"),
        ("persons_per_household = 3.6\n", "", r"households\.persons_per_household is missing"),
        ("years = 10", "years = 10\nyeras = 5", r"last_mile\.horizon\.yeras is not a known key"),
        ('policy = "impassable"', 'policy = "swim"', r"terrain\.nodata\.policy"),
        ("max_deg = 90.0", "max_deg = 60.0", r"terrain: the last slope band must have max_deg"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _write_variant(tmp_path, old, new)
    with pytest.raises(CostModelError, match=message):
        load_cost_model(path)


def test_source_must_not_be_empty(tmp_path: Path) -> None:
    text = DEFAULT_COST_MODEL_PATH.read_text(encoding="utf-8")
    start = text.index("[deployment.rail]")
    begin = text.index("source = ", start)
    end = text.index("\n", begin)
    path = tmp_path / "cost_model.toml"
    path.write_text(text[:begin] + 'source = "  "' + text[end:], encoding="utf-8")
    with pytest.raises(CostModelError, match=r"deployment\.rail\.source must not be empty"):
        load_cost_model(path)


def test_missing_and_malformed_files_are_cost_model_errors(tmp_path: Path) -> None:
    with pytest.raises(CostModelError, match=r"not found: nowhere\.toml"):
        load_cost_model(tmp_path / "nowhere.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[deployment\nrail = ", encoding="utf-8")
    with pytest.raises(CostModelError, match=r"broken\.toml is not valid TOML"):
        load_cost_model(broken)
    assert issubclass(CostModelError, TrazoError)


def test_user_file_is_used(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, "usd_per_km = 16000", "usd_per_km = 11111")
    assert load_cost_model(path).usd_per_km("rail") == 11111


def test_overrides_merge_over_defaults(model: CostModel) -> None:
    changed = model.with_overrides({"deployment": {"rail": {"usd_per_km": 9000}}})
    assert changed.usd_per_km("rail") == 9000
    assert changed.usd_per_km("highway") == model.usd_per_km("highway")
    assert model.usd_per_km("rail") == 16000  # the original is untouched
    source = changed.describe()["deployment.rail.usd_per_km"]["source"]
    assert source.startswith("scenario override")

    dotted = model.with_overrides(
        {"nodes.splice_site.spacing_km": 80, "nodes.splice_site.source": "vendor quote 2025"}
    )
    assert dotted.nodes.splice_site.spacing_km == 80
    assert dotted.nodes.splice_site.usd_each == model.nodes.splice_site.usd_each
    assert dotted.nodes.splice_site.source == "vendor quote 2025"


def test_overrides_are_validated(model: CostModel) -> None:
    message = r"overrides: deployment\.rail\.usd_per_km must be > 0"
    with pytest.raises(CostModelError, match=message):
        model.with_overrides({"deployment": {"rail": {"usd_per_km": 0}}})
    with pytest.raises(CostModelError, match=r"deployment\.rial is not a known key"):
        model.with_overrides({"deployment.rial.usd_per_km": 1})


def test_edge_cost_is_km_times_rate_times_multiplier(model: CostModel) -> None:
    assert model.edge_cost_usd("greenfield", 12.5, 1.3) == pytest.approx(30000 * 12.5 * 1.3)
    assert model.edge_cost_usd("power_aerial", 100.0) == pytest.approx(1_200_000)
    assert model.edge_cost_usd("rail", 0.0) == 0.0
    with pytest.raises(CostModelError, match="length_km"):
        model.edge_cost_usd("rail", -1.0)
    with pytest.raises(CostModelError, match="unknown deployment type 'ferry'"):
        model.edge_cost_usd("ferry", 1.0)


@settings(max_examples=30, deadline=None)
@given(
    deployment=st.sampled_from(DEPLOYMENT_TYPES),
    length_km=st.floats(min_value=0, max_value=5000, allow_nan=False),
    multiplier=st.floats(min_value=0.01, max_value=10, allow_nan=False),
)
def test_costs_are_non_negative(deployment: str, length_km: float, multiplier: float) -> None:
    model = load_cost_model()
    assert model.edge_cost_usd(deployment, length_km, multiplier) >= 0
    assert model.node_costs_usd(length_km, 1, 1).total_usd >= 0


@pytest.mark.parametrize(
    ("row_type", "is_fiber", "lease", "expected"),
    [
        ("rail", False, False, "rail"),
        ("highway", False, False, "highway"),
        ("Pipeline", False, False, "pipeline"),
        ("power", False, False, "power_aerial"),
        ("other", False, False, "greenfield"),
        ("highway", True, True, "fiber_lease"),
        ("other", True, False, "greenfield"),
        ("rail", False, True, "rail"),
    ],
)
def test_deployment_for_row_type(
    model: CostModel, row_type: str, is_fiber: bool, lease: bool, expected: str
) -> None:
    assert model.deployment_for_row_type(row_type, is_fiber, lease) == expected


def test_unknown_row_type_is_refused(model: CostModel) -> None:
    with pytest.raises(CostModelError, match="unknown right-of-way type 'canal'"):
        model.deployment_for_row_type("canal", False, False)


def test_node_costs(model: CostModel) -> None:
    costs = model.node_costs_usd(200.0, n_landings=1, n_terminals=3)
    assert costs.splice_sites == 2  # floor(200 / 90)
    assert costs.splice_usd == 2 * 150_000
    assert costs.landing_usd == 500_000
    assert costs.terminal_usd == 3 * 100_000
    assert costs.total_usd == 300_000 + 500_000 + 300_000
    assert model.node_costs_usd(89.9).splice_sites == 0
    assert model.node_costs_usd(90.0).splice_sites == 1


def test_latency_of_1000_km_is_4_9_ms(model: CostModel) -> None:
    assert model.latency_ms(1000.0) == pytest.approx(4.9)
    # The stated group index gives the same delay to within 0.1%.
    assert 1000 * model.latency.group_index / 299_792.458 == pytest.approx(4.9e-3, rel=1e-3)


def test_slope_multiplier_table(model: CostModel) -> None:
    slopes = np.array([0.0, 4.9, 5.0, 14.9, 15.0, 29.9, 30.0, 60.0, 90.0, np.nan])
    expected = [1.0, 1.0, 1.3, 1.3, 1.8, 1.8, 2.5, 2.5, 2.5]
    got = model.slope_multiplier(slopes)
    np.testing.assert_allclose(got[:-1], expected)
    assert np.isnan(got[-1])
    assert model.min_terrain_multiplier == 1.0
