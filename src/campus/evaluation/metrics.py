"""Metrics of a model's scores against the labels, from binned counts only.

The scores are reduced at once to bins on [0, 1] (the benchmark's resolution, with the
submitter's threshold as an edge); adjacent bins are merged until each holds at least
`k` people (the disclosure threshold), without crossing the threshold. Every released
number - AUROC, AUPRC, Brier score, calibration, sensitivity, specificity, PPV, NPV, their
bootstrap intervals, the ROC and reliability points - is computed from the merged bins'
(count, positives, sum of scores), so none depends on one person: a model that gives one
patient a score of its own shares that patient's bin with at least k - 1 others.
Stated as such: AUROC and AUPRC count pairs within a bin as ties, and the Brier score and
calibration use each bin's mean score.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from campus.evaluation import bootstrap

BOOTSTRAP = 200
SEED = 20261207


@dataclass(frozen=True)
class Bins:
    n: np.ndarray  # people per bin, in increasing score order
    pos: np.ndarray  # positives per bin
    score: np.ndarray  # sum of scores per bin
    cut: int  # bins [cut:] are at or above the threshold; -1 when threshold metrics are withheld

    @property
    def mean(self) -> np.ndarray:
        return np.divide(self.score, self.n, out=np.zeros(len(self.n)), where=self.n > 0)


@dataclass(frozen=True)
class Histogram:
    """People, positives and sum of scores per bin, the bins given by their edges in the
    benchmark's fine bins (`edges[i]` to `edges[i + 1]`); `split` is the index in `edges` of
    the threshold's edge, -1 when it is not one of them."""

    n: np.ndarray
    pos: np.ndarray
    score: np.ndarray
    edges: tuple[int, ...]
    split: int

    def coarsen(self, edges: tuple[int, ...]) -> Histogram:
        """The same people in wider bins: `edges`, a subset of this histogram's edges."""
        at = np.searchsorted(np.array(self.edges), np.array(edges))
        if len(edges) < 2 or not np.array_equal(np.array(self.edges)[at], np.array(edges)):
            raise ValueError("the new edges must be edges of the histogram")
        starts = at[:-1]
        threshold = self.edges[self.split] if self.split >= 0 else None
        return Histogram(
            n=np.add.reduceat(self.n, starts),
            pos=np.add.reduceat(self.pos, starts),
            score=np.add.reduceat(self.score, starts),
            edges=tuple(edges),
            split=edges.index(threshold) if threshold in edges else -1,
        )


def _side(n: np.ndarray, a: int, b: int, k: int) -> list[int]:
    """Edges (indices into n) of the side [a, b) merged into bins of at least k people: a
    bin closes once it holds k, and what is left after the last joins it."""
    ends: list[int] = []
    held = 0
    for i in range(a, b):
        held += n[i]
        if held >= k:
            ends.append(i + 1)
            held = 0
    if not ends:
        return [a, b]
    ends[-1] = b
    return [a, *ends]


def tree_side(n: np.ndarray, a: int, b: int, k: int) -> list[int]:
    """Edges of the side [a, b) halved again and again (at (a + b) // 2) while both halves
    hold k people or none: every node that halves the same range this way cuts at edges of
    one tree, so that the edges all nodes keep are as fine as the smallest node allows
    there (greedy merging from the left puts each node's edges elsewhere)."""
    if b - a < 2:
        return [a, b]
    mid = (a + b) // 2
    left, right = n[a:mid].sum(), n[mid:b].sum()
    if left + right > 0 and (left == 0 or left >= k) and (right == 0 or right >= k):
        return tree_side(n, a, mid, k)[:-1] + tree_side(n, mid, b, k)
    return [a, b]


def merge_edges(
    n: np.ndarray, split: int, k: int, side: Callable[..., list[int]] | None = None
) -> tuple[tuple[int, ...], int]:
    """The edges (indices into n's bins) that merge adjacent bins until each holds at least
    k people without crossing the threshold (bins [split:] are at or above it), and the index
    of the threshold's edge among them; over the whole range and -1 (threshold metrics
    withheld) when one side holds fewer than k people but not none, or `split` is -1."""
    side = side or _side
    size = len(n)
    if split < 0:
        return tuple(side(n, 0, size, k)), -1
    below_n, above_n = n[:split].sum(), n[split:].sum()
    if (0 < below_n < k) or (0 < above_n < k):
        return tuple(side(n, 0, size, k)), -1
    below = side(n, 0, split, k) if split > 0 else [0]
    above = side(n, split, size, k) if split < size else [size]
    return tuple(below[:-1] + above), len(below) - 1


def histogram(
    scores: np.ndarray, labels: np.ndarray, *, bins: int, threshold: float, plain: bool = False
) -> Histogram:
    """The fine bins: `bins` equal widths on [0, 1] and the threshold as an edge; `plain`
    finds each score's bin and counts the bins by the rules' path (`bin_index_plain`, one
    count a weighted sum), the default by `bin_index` and one count for people and positives
    together when the labels are 0 or 1 (the same numbers, in half the time on a million)."""
    edges = np.unique(np.concatenate([np.linspace(0.0, 1.0, bins + 1), [threshold]]))
    size = len(edges) - 1
    split = int(np.searchsorted(edges, threshold, side="left"))  # first bin at/above it
    if plain:
        index = bin_index_plain(scores, bins=bins, threshold=threshold)
        n = np.bincount(index, minlength=size).astype(np.float64)
        pos = np.bincount(index, weights=labels.astype(np.float64), minlength=size)
        wide = np.asarray(scores, dtype=np.float64)
    else:
        s = np.asarray(scores)
        wide = s.astype(np.float64) if s.dtype != np.float64 else s
        index = _index(s, wide, bins, threshold)
        n, pos = _counts(index, labels, size)
    score = np.bincount(index, weights=wide, minlength=size)
    return Histogram(n=n, pos=pos, score=score, edges=tuple(range(size + 1)), split=split)


def _counts(index: np.ndarray, labels: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """People and positives a bin: one count of (bin, label) pairs when the labels are 0 or
    1 (the feature table's), two counts otherwise."""
    labels = np.asarray(labels)
    if len(labels) and labels.dtype.kind in "biu" and labels.min() >= 0 and labels.max() <= 1:
        pair = index.astype(np.int16 if size < 16000 else np.intp)
        pair *= 2
        pair += labels
        both = np.bincount(pair, minlength=2 * size).astype(np.float64)
        return both[0::2] + both[1::2], both[1::2]
    n = np.bincount(index, minlength=size).astype(np.float64)
    return n, np.bincount(index, weights=labels.astype(np.float64), minlength=size)


def merged(
    h: Histogram, k: int, side: Callable[..., list[int]] | None = None
) -> tuple[Histogram, int]:
    """`h` merged to bins of at least k people (see `merge_edges`), and the index of the
    threshold's edge among its edges (-1: threshold metrics withheld)."""
    at, cut = merge_edges(h.n, h.split, k, side)
    return h.coarsen(tuple(h.edges[i] for i in at)), cut


def to_bins(h: Histogram, k: int) -> Bins:
    """The released bins of a histogram: merged to k, empty bins left out."""
    wide, cut = merged(h, k)
    keep = wide.n > 0
    return Bins(
        n=wide.n[keep],
        pos=wide.pos[keep],
        score=wide.score[keep],
        cut=int(keep[:cut].sum()) if cut >= 0 else -1,
    )


def bin_index_plain(scores: np.ndarray, *, bins: int, threshold: float) -> np.ndarray:
    """Each score's bin: `bins` equal widths on [0, 1] and the threshold as an edge; a bin
    holds its lower edge, the last one 1 too."""
    edges = np.unique(np.concatenate([np.linspace(0.0, 1.0, bins + 1), [threshold]]))
    return np.clip(np.searchsorted(edges, scores, side="right") - 1, 0, len(edges) - 2)


def bin_index(scores: np.ndarray, *, bins: int, threshold: float) -> np.ndarray:
    """The same bins as `bin_index_plain`, in a fraction of the time on a million scores
    (`_fast_index`); scores of another type, shape or outside [0, 1] (never the runner's,
    which it checks) take the rules' path."""
    s = np.asarray(scores)
    return _index(s, s.astype(np.float64) if s.dtype == np.float32 else s, bins, threshold)


def _index(s: np.ndarray, wide: np.ndarray, bins: int, threshold: float) -> np.ndarray:
    if _fast(s, bins):
        return _fast_index(s, wide, bins, threshold)
    return bin_index_plain(s, bins=bins, threshold=threshold)


def _fast(s: np.ndarray, bins: int) -> bool:
    return (
        s.dtype in (np.float32, np.float64)
        and s.ndim == 1
        and len(s) > 0
        and bool(s.min() >= 0.0 and s.max() <= 1.0)  # NaN fails both
        and bins <= 120  # the indices fit in one byte
    )


def _fast_index(s: np.ndarray, wide: np.ndarray, bins: int, threshold: float) -> np.ndarray:
    """Each score's bin, as indices of one byte. Float32 scores (what models give), with
    `wide` the same scores as float64: their product by `bins` is exact in float64 (24 + 7
    bits), so its whole part counts the edges j / bins that a score reaches, and no float32
    score lies between j / bins and the rules' float64 edge for any bins up to 120 (a test
    tries every edge's neighbours); the threshold is reached exactly when its value rounded
    up to float32 is. Float64 scores: the product's whole part corrected by one against the
    edges on either side (where the product rounds across an edge)."""
    grid = np.linspace(0.0, 1.0, bins + 1)
    extra = threshold not in grid
    index = np.empty(len(s), dtype=np.int8)
    np.multiply(wide, bins, out=index, casting="unsafe")  # the whole part, at most bins
    if s.dtype == np.float32:
        cut = _up32(threshold)
    else:
        grid = np.append(grid, np.inf)  # inf: nothing past 1
        index -= s < np.take(grid, index)
        index += s >= np.take(grid, index + 1)
        cut = np.float64(threshold)
    if extra:
        index += s >= cut
    return np.minimum(index, np.int8(bins - 1 + extra), out=index)


def _up32(value: float) -> np.float32:
    """`value` rounded up to float32: a float32 x reaches `value` exactly when it reaches this."""
    low = np.float32(value)
    return np.nextafter(low, np.float32(np.inf)) if float(low) < value else low


def binned(
    scores: np.ndarray,
    labels: np.ndarray,
    *,
    bins: int,
    threshold: float,
    k: int,
    plain: bool = False,
    within: tuple[int, ...] | None = None,
) -> Bins:
    """Merged bins of at least k people each (see the module docstring). `within` merges
    only at these edges of the fine bins (the resolution a federated evaluation pooled at)."""
    h = histogram(scores, labels, bins=bins, threshold=threshold, plain=plain)
    return to_bins(h if within is None else h.coarsen(within), k)


def auroc(n: np.ndarray, pos: np.ndarray) -> float | None:
    neg = n - pos
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos == 0 or total_neg == 0:
        return None
    above = np.cumsum(pos[::-1])[::-1] - pos  # positives in higher bins
    return float(np.sum(neg * (above + 0.5 * pos)) / (total_pos * total_neg))


def auprc(n: np.ndarray, pos: np.ndarray) -> float | None:
    """Average precision, bins taken from the highest score down."""
    total_pos = pos.sum()
    if total_pos == 0:
        return None
    tp = np.cumsum(pos[::-1])
    seen = np.cumsum(n[::-1])
    precision = np.divide(tp, seen, out=np.zeros(len(n)), where=seen > 0)
    return float(np.sum(precision * pos[::-1]) / total_pos)


def brier(n: np.ndarray, pos: np.ndarray, mean: np.ndarray) -> float | None:
    total = n.sum()
    if total == 0:
        return None
    return float(np.sum(n * mean**2 - 2 * mean * pos + pos) / total)


def calibration(n: np.ndarray, pos: np.ndarray, mean: np.ndarray) -> dict[str, float | None]:
    """Logistic recalibration on the bins: logit(P(y)) = intercept + slope * logit(mean).

    Undefined (None) when Newton's method finds no maximum in 50 steps, as when the bins'
    scores separate the outcomes (the estimate then grows without bound)."""
    keep = n > 0
    n, pos, mean = n[keep], pos[keep], np.clip(mean[keep], 1e-6, 1 - 1e-6)
    if len(n) < 2 or pos.sum() in (0, n.sum()):
        return {"slope": None, "intercept": None}
    x = np.log(mean / (1 - mean))
    design = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(bootstrap.NEWTON_STEPS):
        p = 1 / (1 + np.exp(-(design @ beta)))
        gradient = design.T @ (pos - n * p)
        hessian = (design * (n * p * (1 - p))[:, None]).T @ design
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return {"slope": None, "intercept": None}
        beta = beta + step
        if np.max(np.abs(step)) < bootstrap.TOLERANCE:
            break
    else:  # no maximum within the steps: the outcome is separated by the scores, no slope
        return {"slope": None, "intercept": None}
    if not np.all(np.isfinite(beta)):
        return {"slope": None, "intercept": None}
    return {"intercept": float(beta[0]), "slope": float(beta[1])}


def at_threshold(b: Bins, n: np.ndarray, pos: np.ndarray) -> dict[str, float | None]:
    if b.cut < 0:
        return {}
    neg = n - pos
    tp, fn = pos[b.cut :].sum(), pos[: b.cut].sum()
    fp, tn = neg[b.cut :].sum(), neg[: b.cut].sum()

    def ratio(a: float, c: float) -> float | None:
        return float(a / (a + c)) if a + c > 0 else None

    return {
        "sensitivity": ratio(tp, fn),
        "specificity": ratio(tn, fp),
        "ppv": ratio(tp, fp),
        "npv": ratio(tn, fn),
    }


def _point(b: Bins, n: np.ndarray, pos: np.ndarray) -> dict[str, float | None]:
    mean = np.divide(b.score, b.n, out=np.zeros(len(b.n)), where=b.n > 0)
    return {
        "auroc": auroc(n, pos),
        "auprc": auprc(n, pos),
        "brier": brier(n, pos, mean),
        **calibration(n, pos, mean),
        **at_threshold(b, n, pos),
    }


def _round(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 3)


def draws_of(b: Bins, *, seed: int = SEED, draws: int = BOOTSTRAP) -> tuple[np.ndarray, np.ndarray]:
    """The bootstrap's (people, positives) a bin, one row a draw: seeded multinomial resamples
    of the bins' cells (positives and negatives of each bin)."""
    total = int(b.n.sum())
    if not total:
        return np.zeros((0, len(b.n))), np.zeros((0, len(b.n)))
    cells = np.concatenate([b.pos, b.n - b.pos])
    drawn = np.random.default_rng(seed).multinomial(total, cells / cells.sum(), size=draws)
    pos, neg = drawn[:, : len(b.n)].astype(float), drawn[:, len(b.n) :].astype(float)
    return pos + neg, pos


def samples_plain(b: Bins, n: np.ndarray, pos: np.ndarray) -> dict[str, list[float]]:
    """Each metric of every draw by the rules (`_point`, a draw at a time); undefined left out."""
    samples: dict[str, list[float]] = {name: [] for name in _point(b, b.n, b.pos)}
    for drawn_n, drawn_pos in zip(n, pos, strict=True):
        for name, value in _point(b, drawn_n, drawn_pos).items():
            if value is not None and math.isfinite(value):
                samples[name].append(value)
    return samples


def samples_fast(b: Bins, n: np.ndarray, pos: np.ndarray) -> dict[str, list[float]]:
    """The same as `samples_plain`, every draw at once (`bootstrap.samples`)."""
    every = bootstrap.samples(b.mean, b.cut, n, pos)
    return {name: values[np.isfinite(values)].tolist() for name, values in every.items()}


def evaluate(
    b: Bins, *, base: int, seed: int = SEED, draws: int = BOOTSTRAP, plain: bool = False
) -> dict:
    """Point metrics with 95% bootstrap intervals (seeded), and the released charts.

    `plain` computes the draws' metrics one draw at a time by the rules; the default
    computes them all at once (bootstrap.py), a test checks that both agree."""
    point = _point(b, b.n, b.pos)
    total = int(b.n.sum())
    n, pos = draws_of(b, seed=seed, draws=draws)
    samples = (samples_plain if plain else samples_fast)(b, n, pos)
    metrics = {}
    for name, value in point.items():
        values = samples[name]
        interval = (
            [_round(float(v)) for v in np.percentile(values, [2.5, 97.5])]  # one sort for both
            if value is not None and len(values) >= draws // 2
            else None
        )
        metrics[name] = {"value": _round(value), "ci95": interval}
    neg = b.n - b.pos
    tpr = np.cumsum(b.pos[::-1]) / max(b.pos.sum(), 1)
    fpr = np.cumsum(neg[::-1]) / max(neg.sum(), 1)
    mean = b.mean
    return {
        "metrics": metrics,
        "people": int(base * round(total / base)),
        "threshold_metrics": b.cut >= 0,
        "roc": [[0.0, 0.0], *([_round(f), _round(t)] for f, t in zip(fpr, tpr, strict=True))],
        "reliability": [
            {
                "predicted": _round(float(m)),
                "observed": _round(float(p / c)) if c else None,
                "people": int(base * round(c / base)),
            }
            for m, p, c in zip(mean, b.pos, b.n, strict=True)
        ],
    }
