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


def _cases():
    rng = np.random.default_rng(7)
    scores = rng.random(2000)
    yield (
        "calibrated",
        metrics.binned(
            scores, (rng.random(2000) < scores).astype(int), bins=20, threshold=0.3, k=10
        ),
    )
    yield (
        "rare outcome",
        metrics.binned(scores, (rng.random(2000) < 0.01).astype(int), bins=20, threshold=0.5, k=10),
    )
    yield "constant", _bins([0.3] * 40, [1, 0, 0, 0] * 10, k=5)
    yield "one outcome", _bins([0.1, 0.6] * 20, [0] * 40, k=5)
    yield "few people", _bins([0.1, 0.2, 0.8, 0.9, 0.95], [0, 1, 0, 1, 1], k=1)
    yield "threshold withheld", _bins([0.1] * 30 + [0.9] * 3, [0] * 30 + [1] * 3, k=10)


def test_the_bootstrap_computed_all_draws_at_once_agrees_with_the_plain_one_draw_at_a_time():
    for name, b in _cases():
        n, pos = metrics.draws_of(b)
        plain, fast = metrics.samples_plain(b, n, pos), metrics.samples_fast(b, n, pos)
        assert plain.keys() == fast.keys(), name
        for metric in plain:
            assert len(plain[metric]) == len(fast[metric]), (name, metric)
            assert np.allclose(plain[metric], fast[metric], rtol=1e-7, atol=1e-9), (name, metric)
        assert metrics.evaluate(b, base=5, plain=True) == metrics.evaluate(b, base=5), name


def _near_edges(bins: int, threshold: float, dtype, rng) -> np.ndarray:
    """Random scores, and every edge with its neighbours in `dtype` (edges included)."""
    grid = np.linspace(0.0, 1.0, bins + 1)
    points = np.concatenate([grid, [threshold]]).astype(dtype)
    up, down = np.nextafter(points, dtype(2)), np.nextafter(points, dtype(-1))
    scores = np.concatenate([rng.random(5000).astype(dtype), points, up, down, [0.0, 1.0]])
    return np.clip(scores, 0.0, 1.0).astype(dtype)


CUTS = [(20, 0.3), (20, 0.15), (10, 0.5), (7, 1e-9), (20, 0.999999), (100, 0.07), (13, 0.1)]


def test_the_fast_bin_index_puts_every_score_where_the_plain_one_does_edges_included():
    rng = np.random.default_rng(8)
    for dtype in (np.float64, np.float32):
        for bins, threshold in CUTS:
            scores = _near_edges(bins, threshold, dtype, rng)
            plain = metrics.bin_index_plain(scores, bins=bins, threshold=threshold)
            fast = metrics.bin_index(scores, bins=bins, threshold=threshold)
            wrong = scores[plain != fast]
            assert (plain == fast).all(), (dtype, bins, threshold, wrong)


def test_float32_scores_next_to_any_edge_are_binned_by_the_exact_product_as_the_rules_say():
    for bins in range(1, 121):
        near = np.float32(np.arange(bins + 1) / bins)
        scores = [near]
        for direction in (np.float32(0), np.float32(1)):
            step = near
            for _ in range(3):
                step = np.nextafter(step, direction)
                scores.append(step)
        scores = np.concatenate(scores)
        for threshold in (0.5, 0.3, 1 / bins):
            plain = metrics.bin_index_plain(scores, bins=bins, threshold=threshold)
            fast = metrics.bin_index(scores, bins=bins, threshold=threshold)
            assert (plain == fast).all(), (bins, threshold, scores[plain != fast])


def test_scores_out_of_range_or_of_another_type_are_binned_by_the_rules():
    odd = [
        np.array([-0.5, 0.2, 1.5, 0.7]),
        np.array([0.2, np.nan, 0.9]),
        np.array([0.25, 0.5, 1.0], dtype=np.float16),
        np.array([0, 1, 1]),
    ]
    for scores in odd:
        plain = metrics.bin_index_plain(scores, bins=10, threshold=0.3)
        assert (metrics.bin_index(scores, bins=10, threshold=0.3) == plain).all(), scores


def test_the_fast_histogram_counts_what_the_plain_one_counts():
    rng = np.random.default_rng(9)
    for dtype in (np.float64, np.float32):
        for bins, threshold in CUTS:
            scores = _near_edges(bins, threshold, dtype, rng)
            for labels in (
                (rng.random(len(scores)) < 0.2).astype(np.int8),
                rng.random(len(scores)) < 0.5,
                rng.random(len(scores)).round(1),  # not 0 or 1: weights, as the rules say
                rng.integers(0, 3, len(scores)),
            ):
                fast = metrics.histogram(scores, labels, bins=bins, threshold=threshold)
                plain = metrics.histogram(
                    scores, labels, bins=bins, threshold=threshold, plain=True
                )
                for field in ("n", "pos", "score"):
                    expected = getattr(plain, field)
                    assert np.array_equal(getattr(fast, field), expected), (dtype, bins, field)
                assert (fast.edges, fast.split) == (plain.edges, plain.split)


def test_scores_that_separate_the_outcomes_leave_the_calibration_undefined():
    n, pos, mean = np.array([5.0, 5.0]), np.array([0.0, 5.0]), np.array([0.3, 0.7])
    separated = metrics.calibration(n, pos, mean)
    assert separated == {"slope": None, "intercept": None}  # no maximum: not a made-up slope
