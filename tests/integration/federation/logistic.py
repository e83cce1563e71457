"""One site's logistic regression, to compare the federated fit with."""

from __future__ import annotations

import numpy as np


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One site's logistic regression by plain Newton-Raphson: coefficients and their
    standard errors (x with its column of ones)."""
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-x @ beta))
        information = x.T @ (x * (p * (1 - p))[:, None])
        step = np.linalg.solve(information, x.T @ (y - p))
        beta += step
        if np.max(np.abs(step)) < 1e-13:
            break
    p = 1 / (1 + np.exp(-x @ beta))
    covariance = np.linalg.inv(x.T @ (x * (p * (1 - p))[:, None]))
    return beta, np.sqrt(np.diag(covariance))
