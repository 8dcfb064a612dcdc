"""HiGHS through highspy answers as scipy.optimize.milp, which runs the same HiGHS, does."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from planner.plans.milp import INFEASIBLE, OPTIMAL, solve_milp


def test_a_knapsack_by_hand() -> None:
    # values 10, 13, 7, 8 and weights 5, 6, 3, 4 within 10: no three items fit (the lightest
    # three weigh 12), and the best pair that fits is the second and fourth, 13 + 8 = 21
    values = np.array([10.0, 13.0, 7.0, 8.0])
    weights = sp.csr_array(np.array([[5.0, 6.0, 3.0, 4.0]]))
    result = solve_milp(-values, [(weights, -np.inf, 10.0)], np.zeros(4), np.ones(4), np.ones(4))
    assert result.status == OPTIMAL
    assert result.x is not None and result.x.round().tolist() == [0, 1, 0, 1]
    assert result.fun == pytest.approx(-21.0)
    assert result.mip_dual_bound == pytest.approx(-21.0, abs=21 * 1e-4)


def test_an_impossible_programme_has_no_point() -> None:
    # x + y = 3 with x, y binary
    both = sp.csr_array(np.ones((1, 2)))
    result = solve_milp(np.ones(2), [(both, 3.0, 3.0)], np.zeros(2), np.ones(2), np.ones(2))
    assert result.status == INFEASIBLE and result.x is None and result.fun is None


def test_a_continuous_programme_is_a_linear_one() -> None:
    # min -x - y with x + 2y <= 4, 3x + y <= 6: the vertex (1.6, 1.2), -2.8 (by hand)
    rows = sp.csr_array(np.array([[1.0, 2.0], [3.0, 1.0]]))
    result = solve_milp(
        -np.ones(2),
        [(rows, -np.inf, np.array([4.0, 6.0]))],
        np.zeros(2),
        np.full(2, 10.0),
        np.zeros(2),
    )
    assert result.status == OPTIMAL
    assert result.x is not None and result.x.tolist() == pytest.approx([1.6, 1.2])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_the_same_answers_as_scipys_call(data: st.DataObject) -> None:
    """Random covering programmes, some stopped by a tiny node limit: the same status,
    point, value and bound as ``scipy.optimize.milp`` gives."""
    n = data.draw(st.integers(3, 12))
    m = data.draw(st.integers(1, 8))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = (rng.random((m, n)) < 0.4) * rng.integers(1, 6, (m, n)).astype(float)
    demand = rng.integers(0, 6, m).astype(float)
    cost = rng.integers(1, 20, n).astype(float)
    upper = rng.integers(1, 3, n).astype(float)
    integrality = (rng.random(n) < 0.7).astype(float)
    node_limit = data.draw(st.sampled_from([1, 200]))
    rows = sp.csr_array(a)
    ours = solve_milp(
        cost,
        [(rows, demand, np.inf), (sp.csr_array(np.ones((1, n))), -np.inf, float(n))],
        np.zeros(n),
        upper,
        integrality,
        node_limit=node_limit,
        mip_rel_gap=1e-4,
    )
    theirs = milp(
        cost,
        constraints=[
            LinearConstraint(rows, demand, np.inf),
            LinearConstraint(np.ones((1, n)), -np.inf, float(n)),
        ],
        integrality=integrality,
        bounds=Bounds(np.zeros(n), upper),
        options={"node_limit": node_limit, "mip_rel_gap": 1e-4},
    )
    assert ours.status == theirs.status
    assert (ours.x is None) == (theirs.x is None)
    if ours.x is not None:
        assert ours.x.tolist() == theirs.x.tolist()
        assert ours.fun == theirs.fun
        if integrality.any():
            assert ours.mip_dual_bound == theirs.mip_dual_bound


def test_an_unbounded_programme_is_numbered_as_scipy_numbers_it() -> None:
    # min -x with x >= 0 unbounded above
    free = sp.csr_array(np.ones((1, 1)))
    result = solve_milp(
        -np.ones(1), [(free, 0.0, np.inf)], np.zeros(1), np.full(1, np.inf), np.zeros(1)
    )
    theirs = milp(
        -np.ones(1),
        constraints=LinearConstraint(np.ones((1, 1)), 0.0, np.inf),
        bounds=Bounds(0, np.inf),
    )
    assert result.status == theirs.status == 3
