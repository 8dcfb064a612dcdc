"""Mixed-integer programmes solved with HiGHS through its own Python interface, ``highspy``.

``scipy.optimize.milp`` runs the same HiGHS (1.12), but importing ``scipy.optimize`` takes
about 0.2 s (its linear-programming helpers bring ``scipy.linalg``, ``scipy.fft`` and
``scipy.special``): a tenth of a warm last mile, which solves a handful of small
programmes. ``highspy`` loads in a few hundredths. A programme goes to HiGHS exactly as
``scipy.optimize.milp`` passes it (the constraints stacked into one column-wise matrix,
the same options), and its result reads the same, status codes included, so the choices
are the ones scipy's call made.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from highspy import _core as highs

FloatArray = npt.NDArray[np.float64]

Constraint = tuple[Any, "float | FloatArray", "float | FloatArray"]
"""``(A, lower, upper)``: ``lower <= A @ x <= upper`` (``A`` a scipy sparse matrix)."""

OPTIMAL, LIMIT, INFEASIBLE, UNBOUNDED, OTHER = 0, 1, 2, 3, 4
"""Result statuses, numbered as ``scipy.optimize.milp`` numbers them."""

_STATUS = {
    highs.HighsModelStatus.kModelError: INFEASIBLE,
    highs.HighsModelStatus.kOptimal: OPTIMAL,
    highs.HighsModelStatus.kTimeLimit: LIMIT,
    highs.HighsModelStatus.kIterationLimit: LIMIT,
    highs.HighsModelStatus.kInfeasible: INFEASIBLE,
    highs.HighsModelStatus.kUnbounded: UNBOUNDED,
}

_SOLUTION_AT_LIMIT = {
    highs.HighsModelStatus.kTimeLimit,
    highs.HighsModelStatus.kIterationLimit,
    highs.HighsModelStatus.kSolutionLimit,
}


@dataclass(frozen=True)
class MilpResult:
    """What HiGHS found.

    ``status`` is :data:`OPTIMAL`, :data:`LIMIT` (a time or iteration limit), ... or
    :data:`OTHER` (a node limit among them); ``x`` and ``fun`` are None without a feasible
    point, and ``mip_dual_bound`` is the bound proven (NaN if none).
    """

    status: int
    x: FloatArray | None
    fun: float | None
    mip_dual_bound: float


def solve_milp(
    objective: FloatArray,
    constraints: Sequence[Constraint],
    lower: FloatArray,
    upper: FloatArray,
    integrality: FloatArray,
    *,
    node_limit: int | None = None,
    mip_rel_gap: float | None = None,
) -> MilpResult:
    """Minimise ``objective @ x`` subject to ``constraints`` and ``lower <= x <= upper``.

    ``integrality[i]`` is 1 for an integer variable, 0 for a continuous one.
    """
    c = np.asarray(objective, dtype=np.float64)
    matrix = sp.vstack([sp.csc_array(a) for a, _, _ in constraints], format="csc")
    row_lower = np.concatenate([_per_row(lo, a) for a, lo, _ in constraints])
    row_upper = np.concatenate([_per_row(hi, a) for a, _, hi in constraints])
    kinds = np.asarray(integrality).astype(np.uint8)

    lp = highs.HighsLp()
    lp.num_col_ = c.size
    lp.num_row_ = row_upper.size
    lp.a_matrix_.num_col_ = c.size
    lp.a_matrix_.num_row_ = row_upper.size
    lp.a_matrix_.format_ = highs.MatrixFormat.kColwise
    lp.col_cost_ = c
    lp.col_lower_ = np.asarray(lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.integrality_ = [highs.HighsVarType(int(kind)) for kind in kinds]

    solver = highs._Highs()
    options = highs.HighsOptions()
    options.log_to_console = False
    if node_limit is not None:
        options.mip_max_nodes = int(node_limit)
    if mip_rel_gap is not None:
        options.mip_rel_gap = float(mip_rel_gap)
    solver.passOptions(options)
    if solver.passModel(lp) == highs.HighsStatus.kError:
        raise ValueError("HiGHS refused the programme: its arrays do not fit together")
    solver.run()

    status = solver.getModelStatus()
    info = solver.getInfo()
    # a stopped branch and bound may still hold a feasible point; a stopped LP holds none
    found = status == highs.HighsModelStatus.kOptimal or (
        bool(kinds.any())
        and status in _SOLUTION_AT_LIMIT
        and info.objective_function_value != highs.kHighsInf
    )
    if not found:
        return MilpResult(_STATUS.get(status, OTHER), None, None, math.nan)
    return MilpResult(
        status=_STATUS.get(status, OTHER),
        x=np.array(solver.getSolution().col_value),
        fun=float(info.objective_function_value),
        mip_dual_bound=float(info.mip_dual_bound),
    )


def _per_row(bound: float | FloatArray, a: Any) -> FloatArray:
    """A constraint's lower or upper bound, one per row of its matrix ``a``."""
    return np.broadcast_to(np.asarray(bound, dtype=np.float64), (a.shape[0],))
