"""Federated evaluation's pooling: from each node's binned counts to the one-site metrics."""

from __future__ import annotations

import numpy as np
import pytest

from campus.errors import BadRequest
from campus.evaluation import metrics, pooling

BINS, THRESHOLD, K = 20, 0.3, 10


def _node(rng, people: int, skew: float):
    scores = rng.random(people) ** skew
    labels = (rng.random(people) < scores).astype(int)
    return scores, labels


def _nodes(sizes, seed=11):
    rng = np.random.default_rng(seed)
    return [_node(rng, size, skew) for size, skew in zip(sizes, (1.0, 2.5, 0.6), strict=False)]


def _parts(nodes):
    return [pooling.node_part(s, y, bins=BINS, threshold=THRESHOLD, k=K) for s, y in nodes]


def _union(nodes):
    return np.concatenate([s for s, _ in nodes]), np.concatenate([y for _, y in nodes])


def _same(a: metrics.Bins, b: metrics.Bins) -> None:
    assert np.array_equal(a.n, b.n) and np.array_equal(a.pos, b.pos) and a.cut == b.cut
    assert np.allclose(a.score, b.score, rtol=1e-12)
    assert metrics.evaluate(a, base=5) == metrics.evaluate(b, base=5)


def test_pooled_bins_equal_the_one_site_binned_computation_on_the_union_at_the_same_edges():
    nodes = _nodes([150, 400, 120])  # small nodes: each merges its own bins differently
    parts = _parts(nodes)
    for part in parts:  # what a node sends: bins of at least k people, or empty
        assert all(n == 0 or n >= K for n in part["people"])
    pooled, common = pooling.pool(parts, bins=BINS, threshold=THRESHOLD, k=K)
    # Coarser than the benchmark's resolution, but the nodes' edges fall on one tree: the
    # pooled bins are about as fine as the smallest node's (8 bins), not one or two.
    assert 6 <= len(common) - 1 < BINS and pooled.cut >= 0
    scores, labels = _union(nodes)
    one_site = metrics.binned(scores, labels, bins=BINS, threshold=THRESHOLD, k=K, within=common)
    _same(pooled, one_site)


def test_nodes_large_enough_pool_to_exactly_the_one_site_result():
    nodes = _nodes([20_000, 30_000, 25_000])
    pooled, common = pooling.pool(_parts(nodes), bins=BINS, threshold=THRESHOLD, k=K)
    assert len(common) >= BINS  # the benchmark's resolution, every populated bin kept
    scores, labels = _union(nodes)
    _same(pooled, metrics.binned(scores, labels, bins=BINS, threshold=THRESHOLD, k=K))


def test_the_binned_auroc_is_within_its_stated_bound_of_the_exact_auroc():
    nodes = _nodes([400, 900, 300])
    pooled, _ = pooling.pool(_parts(nodes), bins=BINS, threshold=THRESHOLD, k=K)
    scores, labels = _union(nodes)
    ranks = np.argsort(np.argsort(scores)) + 1  # continuous scores: no ties
    positives, negatives = labels.sum(), len(labels) - labels.sum()
    exact = (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    binned = metrics.auroc(pooled.n, pooled.pos)
    bound = pooling.auroc_tie_bound(pooled)
    assert 0 < bound < 0.1 and abs(binned - exact) <= bound


def test_a_node_whose_side_of_the_threshold_is_small_withholds_the_pooled_threshold_metrics():
    rng = np.random.default_rng(3)
    big = _node(rng, 500, 1.0)
    few_below = (np.r_[rng.random(200) * 0.7 + 0.3, [0.1] * 4], np.r_[[0, 1] * 100, [0] * 4])
    pooled, _ = pooling.pool(_parts([big, few_below]), bins=BINS, threshold=THRESHOLD, k=K)
    out = metrics.evaluate(pooled, base=5)
    assert out["threshold_metrics"] is False and "sensitivity" not in out["metrics"]
    alone, _ = pooling.pool(_parts([big]), bins=BINS, threshold=THRESHOLD, k=K)
    assert metrics.evaluate(alone, base=5)["threshold_metrics"] is True


def test_a_node_part_with_a_bin_under_k_or_malformed_is_refused_and_nothing_is_pooled():
    parts = _parts(_nodes([300, 200]))
    small = {**parts[1], "people": [*parts[1]["people"][:-1], 3]}
    small["positives"] = [
        min(p, n) for p, n in zip(small["positives"], small["people"], strict=True)
    ]
    small["score_sums"] = [
        min(s, n) for s, n in zip(small["score_sums"], small["people"], strict=True)
    ]
    with pytest.raises(BadRequest) as refused:
        pooling.pool([parts[0], small], bins=BINS, threshold=THRESHOLD, k=K)
    assert refused.value.code == "node_bins_invalid" and refused.value.where == "parts[1]"
    assert "fewer than 10 people" in refused.value.message
    for bad in (
        {**parts[0], "edges": parts[0]["edges"][::-1]},
        {**parts[0], "positives": [n + 1 for n in parts[0]["people"]]},
        {**parts[0], "score_sums": [float("nan")] * len(parts[0]["people"])},
        {**parts[0], "extra": 1},
        [1, 2, 3],
    ):
        with pytest.raises(BadRequest) as refused:
            pooling.pool([bad], bins=BINS, threshold=THRESHOLD, k=K)
        assert refused.value.where == "parts[0]"
