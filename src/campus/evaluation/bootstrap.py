"""The bootstrap's metrics for every draw at once: the fast path of `metrics.evaluate`.

It computes what `metrics._point` computes for one draw (the rules), for a matrix of draws
(one row a draw, one column a bin) with array operations instead of a Python loop a draw:
AUROC and AUPRC by cumulative sums along the bins, the Brier score and the threshold
metrics by sums, and the calibration's logistic recalibration by Newton's method run on
every draw together (a stack of 2x2 systems solved together, each draw stopping when
its own step is under the same tolerance as the plain path's). An undefined metric is NaN
where the plain path says None. `tests/unit/evaluation/test_metrics.py` runs both on the
same draws and compares every sample and every interval.
"""

from __future__ import annotations

import numpy as np

NEWTON_STEPS = 50
TOLERANCE = 1e-10


def _ratio(a: np.ndarray, c: np.ndarray) -> np.ndarray:
    total = a + c
    return np.divide(a, total, out=np.full(len(a), np.nan), where=total > 0)


def _solve(hessian: np.ndarray, gradient: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newton's steps of a stack of 2x2 systems, and which are singular (as `np.linalg.solve`
    finds them one at a time in the plain path: a near-singular one still has a step)."""
    try:
        return np.linalg.solve(hessian, gradient[..., None])[..., 0], np.zeros(len(hessian), bool)
    except np.linalg.LinAlgError:
        steps, singular = np.zeros_like(gradient), np.zeros(len(hessian), dtype=bool)
        for i, (h, g) in enumerate(zip(hessian, gradient, strict=True)):
            try:
                steps[i] = np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                singular[i] = True
        return steps, singular


def auroc(n: np.ndarray, pos: np.ndarray) -> np.ndarray:
    neg = n - pos
    total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
    above = np.cumsum(pos[:, ::-1], axis=1)[:, ::-1] - pos
    pairs = total_pos * total_neg
    wins = np.sum(neg * (above + 0.5 * pos), axis=1)
    return np.divide(wins, pairs, out=np.full(len(n), np.nan), where=pairs > 0)


def auprc(n: np.ndarray, pos: np.ndarray) -> np.ndarray:
    total_pos = pos.sum(axis=1)
    tp = np.cumsum(pos[:, ::-1], axis=1)
    seen = np.cumsum(n[:, ::-1], axis=1)
    precision = np.divide(tp, seen, out=np.zeros(tp.shape), where=seen > 0)
    found = np.sum(precision * pos[:, ::-1], axis=1)
    return np.divide(found, total_pos, out=np.full(len(n), np.nan), where=total_pos > 0)


def brier(n: np.ndarray, pos: np.ndarray, mean: np.ndarray) -> np.ndarray:
    total = n.sum(axis=1)
    error = np.sum(n * mean**2 - 2 * mean * pos + pos, axis=1)
    return np.divide(error, total, out=np.full(len(n), np.nan), where=total > 0)


def calibration(n: np.ndarray, pos: np.ndarray, mean: np.ndarray) -> dict[str, np.ndarray]:
    """Intercept and slope of logit(P(y)) = intercept + slope * logit(mean), every draw."""
    draws = len(n)
    x = np.log(np.clip(mean, 1e-6, 1 - 1e-6) / (1 - np.clip(mean, 1e-6, 1 - 1e-6)))
    x = np.broadcast_to(x, n.shape)
    # An empty bin weighs nothing in the sums below, as the plain path leaves it out.
    defined = ((n > 0).sum(axis=1) >= 2) & (pos.sum(axis=1) > 0) & (pos.sum(axis=1) < n.sum(1))
    beta = np.zeros((draws, 2))
    active = defined.copy()
    failed = np.zeros(draws, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(NEWTON_STEPS):
            if not active.any():
                break
            rows = np.flatnonzero(active)
            xr, nr, pr = x[rows], n[rows], pos[rows]
            p = 1 / (1 + np.exp(-(beta[rows, :1] + beta[rows, 1:] * xr)))
            residual = pr - nr * p
            g0, g1 = residual.sum(axis=1), (xr * residual).sum(axis=1)
            w = nr * p * (1 - p)
            h00, h01, h11 = w.sum(axis=1), (w * xr).sum(axis=1), (w * xr * xr).sum(axis=1)
            hessian = np.stack([np.stack([h00, h01], -1), np.stack([h01, h11], -1)], -2)
            step, singular = _solve(hessian, np.stack([g0, g1], -1))
            failed[rows[singular]] = True
            beta[rows[~singular]] += step[~singular]
            converged = np.max(np.abs(step), axis=1) < TOLERANCE
            active[rows[singular | converged]] = False
    # Still moving after the last step: no maximum (separated outcomes), undefined as in plain.
    good = defined & ~failed & ~active & np.isfinite(beta).all(axis=1)
    return {
        "intercept": np.where(good, beta[:, 0], np.nan),
        "slope": np.where(good, beta[:, 1], np.nan),
    }


def at_threshold(cut: int, n: np.ndarray, pos: np.ndarray) -> dict[str, np.ndarray]:
    if cut < 0:
        return {}
    neg = n - pos
    tp, fn = pos[:, cut:].sum(axis=1), pos[:, :cut].sum(axis=1)
    fp, tn = neg[:, cut:].sum(axis=1), neg[:, :cut].sum(axis=1)
    return {
        "sensitivity": _ratio(tp, fn),
        "specificity": _ratio(tn, fp),
        "ppv": _ratio(tp, fp),
        "npv": _ratio(tn, fn),
    }


def samples(mean: np.ndarray, cut: int, n: np.ndarray, pos: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric of `metrics._point` for every draw (rows of n and pos); NaN if undefined."""
    return {
        "auroc": auroc(n, pos),
        "auprc": auprc(n, pos),
        "brier": brier(n, pos, mean),
        **calibration(n, pos, mean),
        **at_threshold(cut, n, pos),
    }
