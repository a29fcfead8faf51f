"""Intervals and calibration error of the known-truth studies: Wilson, clustered (bootstrap over images or
conformations), expected calibration error."""

from __future__ import annotations

import numpy as np


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def clustered_interval(values: np.ndarray, clusters: np.ndarray, z: float = 1.96) -> tuple[float, float]:
    """95 % interval of a mean whose samples share clusters (molecules of one structure, fields of one
    conformation): the wider of the Wilson interval and the cluster-robust (ratio-estimator) normal
    interval, so outcomes that move together are not counted as independent evidence."""
    values, clusters = np.asarray(values, float), np.asarray(clusters)
    n = len(values)
    if n == 0:
        return (float("nan"), float("nan"))
    low, high = wilson(values.sum(), n, z)
    ids, index = np.unique(clusters, return_inverse=True)
    if len(ids) > 1:
        p = values.mean()
        totals = np.bincount(index, weights=values - p)
        half = z * np.sqrt(len(ids) / (len(ids) - 1) * np.sum(totals**2)) / n
        low, high = min(low, max(p - half, 0.0)), max(high, min(p + half, 1.0))
    return float(low), float(high)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges) - 1, 0, bins - 1)
    return float(
        sum(abs(correct[which == b].mean() - confidence[which == b].mean()) * np.mean(which == b)
            for b in range(bins) if np.any(which == b))
    )  # fmt: skip
