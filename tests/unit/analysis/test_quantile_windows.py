"""Quantiles as means of disjoint windows of k order statistics (results.quantile_windows)."""

import itertools

import pytest

from campus.analysis.results import quantile_windows


@pytest.mark.parametrize("n", [10, 13, 19, 20, 37, 200])
def test_windows_hold_k_values_and_never_overlap(n):
    qs = [round(0.05 * i, 2) for i in range(1, 20)]
    windows = [w for w in quantile_windows(n, qs, 10) if w is not None]
    assert windows and all(
        stop - start == 10 and start >= 0 and stop <= n for start, stop in windows
    )
    ordered = sorted(windows)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ordered))


def test_a_group_smaller_than_k_gets_no_quantile():
    assert quantile_windows(9, [0.25, 0.5, 0.75], 10) == [None, None, None]


def test_a_group_between_k_and_2k_gets_one_quantile_only():
    shown = [w for w in quantile_windows(15, [0.25, 0.5, 0.75], 10) if w is not None]
    assert len(shown) == 1


def test_quantiles_are_answered_in_the_order_asked():
    assert quantile_windows(100, [0.75, 0.25], 10) == [(70, 80), (20, 30)]
