"""Differential privacy on counts with OpenDP: Laplace or Gaussian noise per cell.

Each person is in exactly one cell of a grouped count (the cohort has one row per patient),
so a table's sensitivity is 1 and every cell can share the table's epsilon. A job's epsilon
is split evenly over its noisy tables; the project's ledger refuses a job once its budget is
spent (see `campus.analysis.service.charge_budget`).
"""

from __future__ import annotations

from collections.abc import Callable

GAUSSIAN_DELTA = 1e-6


def _opendp():
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def laplace(epsilon: float) -> Callable[[int], int]:
    """A discrete Laplace mechanism on an integer count, epsilon-DP for sensitivity 1."""
    dp = _opendp()
    measurement = dp.m.make_laplace(
        dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=1.0 / epsilon
    )
    assert measurement.map(1) <= epsilon + 1e-9
    return measurement


def gaussian(epsilon: float, delta: float = GAUSSIAN_DELTA) -> Callable[[int], int]:
    """A discrete Gaussian mechanism calibrated to (epsilon, delta)-DP for sensitivity 1."""
    dp = _opendp()
    space = dp.atom_domain(T=int), dp.absolute_distance(T=int)

    def build(scale: float):
        return dp.c.make_fix_delta(
            dp.c.make_zCDP_to_approxDP(dp.m.make_gaussian(*space, scale=scale)), delta
        )

    scale = dp.binary_search_param(build, d_in=1, d_out=(epsilon, delta))
    return dp.m.make_gaussian(*space, scale=scale)


def mechanism(name: str, epsilon: float) -> Callable[[int], int]:
    if name == "gaussian":
        return gaussian(epsilon)
    return laplace(epsilon)
