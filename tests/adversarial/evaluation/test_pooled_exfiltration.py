"""Federated evaluation: a model that singles out one patient at a node learns nothing of
their label, neither from what the node sends nor from the pooled metrics."""

from __future__ import annotations

import json

import numpy as np

from campus.evaluation import metrics, pooling

BINS, K = 20, 10


def test_a_model_that_singles_out_one_patient_at_a_node_learns_nothing_of_their_label():
    rng = np.random.default_rng(5)
    other_scores = rng.random(300)
    other_labels = (rng.random(300) < other_scores).astype(int)
    # At the small node the model gives the target (row 0) a score of their own and everyone
    # else low scores; two worlds differ in the target's label only (another person's label
    # moves the other way, so that the node's prevalence is the same).
    scores = np.r_[0.99, rng.random(39) * 0.2]
    world_a = np.r_[1, 0, [0, 1] * 19]
    world_b = np.r_[0, 1, [0, 1] * 19]
    for threshold in (0.5, 0.9):
        sent, pooled = [], []
        for labels in (world_a, world_b):
            part = pooling.node_part(scores, labels, bins=BINS, threshold=threshold, k=K)
            assert all(n == 0 or n >= K for n in part["people"])  # no bin of the target alone
            other = pooling.node_part(
                other_scores, other_labels, bins=BINS, threshold=threshold, k=K
            )
            bins, _ = pooling.pool([other, part], bins=BINS, threshold=threshold, k=K)
            sent.append(json.dumps(part, sort_keys=True))
            pooled.append(json.dumps(metrics.evaluate(bins, base=5), sort_keys=True))
        assert sent[0] == sent[1] and pooled[0] == pooled[1]
