"""Federated evaluation: one benchmark scored at several nodes, pooled from binned counts.

Each node scores the model on its own feature table and sends only its histogram at the
benchmark's resolution (`node_part`): for each bin of the benchmark's fine bins (`bins`
equal widths on [0, 1] and the threshold as an edge), merged by the node's own disclosure
control into bins of at least k people that do not cross the threshold, the people, the
positives and the sum of scores. The confusion counts at the threshold follow from them,
since the threshold is an edge (a node whose side of the threshold holds fewer than k
people merges across it, and the pooled threshold metrics are then withheld: the pooled
bins have the threshold as an edge only when every node kept it).

The centre (`pool`) checks every part (well-formed, each bin empty or of at least k
people), pools them at the edges that every node kept (each node's bins are then whole
within a pooled bin), merges the pooled bins again to k (the centre's own disclosure
control), and computes every metric from those bins as for one site (`metrics.evaluate`).
Pooled this way the result is exactly the one-site binned computation on the union of the
nodes' people at the same edges (`metrics.binned(..., within=common_edges(parts))`); when
every node's bins are already fine enough, exactly the one-site result. AUROC is then the
binned AUROC, pairs within a bin counted as ties: it differs from the AUROC of the exact
scores by at most `auroc_tie_bound` (half the share of positive-negative pairs that share a
bin), stated as such in docs/evaluation.md.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from campus.errors import BadRequest
from campus.evaluation import metrics
from campus.i18n import N_

FIELDS = ("edges", "people", "positives", "score_sums")


def node_part(
    scores: np.ndarray, labels: np.ndarray, *, bins: int, threshold: float, k: int
) -> dict[str, Any]:
    """What a node sends: its histogram merged to k at its own edges (no score, no label)."""
    fine = metrics.histogram(scores, labels, bins=bins, threshold=threshold)
    wide, _cut = metrics.merged(fine, k, metrics.tree_side)
    return {
        "edges": list(wide.edges),
        "people": [int(v) for v in wide.n],
        "positives": [int(v) for v in wide.pos],
        "score_sums": [float(v) for v in wide.score],
    }


def _fine(bins: int, threshold: float) -> tuple[int, int]:
    """(number of fine bins, index of the threshold's edge)."""
    edges = np.unique(np.concatenate([np.linspace(0.0, 1.0, bins + 1), [threshold]]))
    return len(edges) - 1, int(np.searchsorted(edges, threshold, side="left"))


def fine_bins(bins: int, threshold: float) -> int:
    """How many bins the benchmark's resolution has (its equal widths, the threshold an edge)."""
    return _fine(bins, threshold)[0]


def _refuse(node: int, message: str, **values: Any) -> BadRequest:
    return BadRequest(
        message, code="node_bins_invalid", where=f"parts[{node}]", values={"node": node, **values}
    )


def checked(part: Any, node: int, *, bins: int, threshold: float, k: int) -> metrics.Histogram:
    """A node's part as a histogram; BadRequest when it is malformed or a bin holds fewer
    than k people (a node whose own disclosure control let a small bin through)."""
    size, split = _fine(bins, threshold)
    if not isinstance(part, dict) or set(part) != set(FIELDS):
        raise _refuse(
            node, N_("node {node}: a part has exactly {fields}"), fields=", ".join(FIELDS)
        )
    edges, people = part["edges"], part["people"]
    positives, sums = part["positives"], part["score_sums"]
    lists = (edges, people, positives, sums)
    if not all(isinstance(v, list) for v in lists) or not (
        len(edges) == len(people) + 1 == len(positives) + 1 == len(sums) + 1 >= 2
    ):
        raise _refuse(node, N_("node {node}: edges must be one more than each bin's values"))
    whole = (*edges, *people, *positives)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in whole):
        raise _refuse(node, N_("node {node}: edges, people and positives are whole numbers"))
    if edges[0] != 0 or edges[-1] != size or any(a >= b for a, b in itertools.pairwise(edges)):
        raise _refuse(
            node,
            N_("node {node}: edges must rise from 0 to {size}, the benchmark's bins"),
            size=size,
        )
    for n, pos, total in zip(people, positives, sums, strict=True):
        if not 0 <= pos <= n:
            raise _refuse(node, N_("node {node}: a bin has more positives than people"))
        if not (
            isinstance(total, float | int) and math.isfinite(total) and 0 <= total <= n * 1.000001
        ):
            raise _refuse(node, N_("node {node}: a bin's sum of scores is outside 0 to its people"))
        if 0 < n < k:
            raise _refuse(
                node, N_("node {node}: a bin holds fewer than {k} people; nothing is pooled"), k=k
            )
    return metrics.Histogram(
        n=np.array(people, dtype=np.float64),
        pos=np.array(positives, dtype=np.float64),
        score=np.array(sums, dtype=np.float64),
        edges=tuple(edges),
        split=edges.index(split) if split in edges else -1,
    )


def common_edges(parts: list[dict[str, Any]]) -> tuple[int, ...]:
    """The edges every node kept: the pooled resolution (0 and the last edge always)."""
    kept = set(parts[0]["edges"])
    for part in parts[1:]:
        kept &= set(part["edges"])
    return tuple(sorted(kept))


def pool(
    parts: list[dict[str, Any]], *, bins: int, threshold: float, k: int
) -> tuple[metrics.Bins, tuple[int, ...]]:
    """The pooled bins (merged to k again) and the edges they were pooled at."""
    if not parts:
        raise BadRequest(N_("no node sent its bins"), code="no_parts", where="parts")
    histograms = [
        checked(part, i, bins=bins, threshold=threshold, k=k) for i, part in enumerate(parts)
    ]
    common = common_edges(parts)
    _size, split = _fine(bins, threshold)
    wide = [h.coarsen(common) for h in histograms]
    total = metrics.Histogram(
        n=np.sum([h.n for h in wide], axis=0),
        pos=np.sum([h.pos for h in wide], axis=0),
        score=np.sum([h.score for h in wide], axis=0),
        edges=common,
        split=common.index(split) if split in common else -1,
    )
    return metrics.to_bins(total, k), common


def auroc_tie_bound(b: metrics.Bins) -> float | None:
    """How far the binned AUROC can be from the exact scores' AUROC: half the share of
    positive-negative pairs within one bin (they count as ties, one half each)."""
    neg = b.n - b.pos
    pairs = b.pos.sum() * neg.sum()
    return float(0.5 * np.sum(b.pos * neg) / pairs) if pairs else None
