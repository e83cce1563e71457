"""Binned metrics: defined or flagged on degenerate predictors, reproducible bootstrap."""

from __future__ import annotations

import numpy as np

from campus.evaluation import metrics


def _bins(scores, labels, k=1, threshold=0.5):
    return metrics.binned(
        np.array(scores, dtype=float), np.array(labels), bins=10, threshold=threshold, k=k
    )


def test_a_perfect_ranking_has_an_auroc_and_auprc_of_one():
    b = _bins([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])
    assert metrics.auroc(b.n, b.pos) == 1.0 and metrics.auprc(b.n, b.pos) == 1.0


def test_a_constant_predictor_gets_an_auroc_of_one_half_and_no_calibration_slope():
    out = metrics.evaluate(_bins([0.3] * 40, [1, 0, 0, 0] * 10, k=5), base=5)
    assert out["metrics"]["auroc"]["value"] == 0.5
    assert out["metrics"]["slope"]["value"] is None  # flagged: one bin, no slope
    assert out["metrics"]["brier"]["value"] is not None


def test_one_outcome_only_leaves_auroc_undefined_rather_than_a_number():
    out = metrics.evaluate(_bins([0.1, 0.6] * 20, [0] * 40, k=5), base=5)
    assert out["metrics"]["auroc"] == {"value": None, "ci95": None}


def test_the_bootstrap_is_seeded_and_reproducible():
    rng = np.random.default_rng(3)
    scores = rng.random(300)
    labels = (rng.random(300) < scores).astype(int)
    b = metrics.binned(scores, labels, bins=20, threshold=0.5, k=10)
    first, again = metrics.evaluate(b, base=5), metrics.evaluate(b, base=5)
    assert first == again
    assert metrics.evaluate(b, base=5, seed=1) != first
    low, high = first["metrics"]["auroc"]["ci95"]
    assert low < first["metrics"]["auroc"]["value"] < high


def test_bins_are_merged_to_k_people_without_crossing_the_threshold():
    rng = np.random.default_rng(4)
    scores = rng.random(200)
    b = metrics.binned(scores, np.zeros(200, dtype=int), bins=20, threshold=0.3, k=15)
    assert (b.n >= 15).all()
    assert b.n[: b.cut].sum() == (scores < 0.3).sum()


def test_a_side_of_the_threshold_under_k_withholds_the_threshold_metrics():
    b = _bins([0.1] * 30 + [0.9] * 3, [0] * 30 + [1] * 3, k=10)
    out = metrics.evaluate(b, base=5)
    assert out["threshold_metrics"] is False and "sensitivity" not in out["metrics"]
