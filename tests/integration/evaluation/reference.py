"""Metrics computed in plain Python, independently of campus.evaluation.metrics: the bins
(equal widths plus the threshold as an edge), merged to at least k people without crossing
the threshold, then AUROC by counting pairs, Brier with the bins' mean scores, sensitivity
and specificity by counting people."""

from __future__ import annotations


def merged_bins(scores: list[float], threshold: float, bins: int, k: int) -> list[int]:
    edges = sorted({i / bins for i in range(bins + 1)} | {threshold})
    raw = []
    for s in scores:
        b = 0
        while b + 1 < len(edges) - 1 and s >= edges[b + 1]:
            b += 1
        raw.append(b)
    split = edges.index(threshold)
    groups: dict[int, int] = {}
    for side in (range(split), range(split, len(edges) - 1)):
        count, members, closed = 0, [], []
        for b in side:
            members.append(b)
            count += raw.count(b)
            if count >= k:
                closed.append(members)
                count, members = 0, []
        if members and closed:
            closed[-1] = closed[-1] + members
        elif members:
            closed.append(members)
        for members in closed:
            label = min(members)
            for b in members:
                groups[b] = label
    return [groups[b] for b in raw]


def metrics(scores: list[float], labels: list[int], threshold: float, bins: int, k: int) -> dict:
    group = merged_bins(scores, threshold, bins, k)
    pos = [i for i, y in enumerate(labels) if y]
    neg = [i for i, y in enumerate(labels) if not y]
    wins = 0.0
    for i in pos:
        for j in neg:
            wins += 1.0 if group[i] > group[j] else 0.5 if group[i] == group[j] else 0.0
    means = {}
    for g in set(group):
        members = [s for s, h in zip(scores, group, strict=True) if h == g]
        means[g] = sum(members) / len(members)
    brier = sum((means[g] - y) ** 2 for g, y in zip(group, labels, strict=True)) / len(labels)
    tp = sum(1 for i in pos if scores[i] >= threshold)
    tn = sum(1 for i in neg if scores[i] < threshold)
    return {
        "auroc": wins / (len(pos) * len(neg)),
        "brier": brier,
        "sensitivity": tp / len(pos),
        "specificity": tn / len(neg),
    }
