"""Intervals and calibration error of the known-truth studies: Wilson, clustered (bootstrap over images or
conformations), expected calibration error and what a calibrated tool would score at the same sample size."""

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
    values = np.asarray(values, float)
    if len(values) == 0:
        return (float("nan"), float("nan"))
    low, high = wilson(values.sum(), len(values), z)
    robust_low, robust_high = cluster_robust_interval(values, clusters, z)
    if np.isfinite(robust_low):
        low, high = min(low, max(robust_low, 0.0)), max(high, min(robust_high, 1.0))
    return float(low), float(high)


def cluster_robust_interval(values: np.ndarray, clusters: np.ndarray, z: float = 1.96) -> tuple[float, float]:
    """95 % interval of a mean of any values whose samples share clusters: the cluster-robust
    (ratio-estimator) normal interval; NaN with fewer than two clusters."""
    values, clusters = np.asarray(values, float), np.asarray(clusters)
    ids, index = np.unique(clusters, return_inverse=True)
    if len(ids) < 2:
        return (float("nan"), float("nan"))
    mean = values.mean()
    totals = np.bincount(index, weights=values - mean)
    half = z * np.sqrt(len(ids) / (len(ids) - 1) * np.sum(totals**2)) / len(values)
    return float(mean - half), float(mean + half)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """|accuracy − confidence| per confidence bin, weighted by the bin's share of the calls."""
    outcomes = np.asarray(correct, float)[None]
    return float(_binned_calibration_error(np.asarray(confidence, float), outcomes, bins)[0])


def _binned_calibration_error(confidence: np.ndarray, outcomes: np.ndarray, bins: int = 10) -> np.ndarray:
    """ECE of each row of ``outcomes`` (draws, calls) for the calls' ``confidence``."""
    which = np.clip(np.digitize(confidence, np.linspace(0, 1, bins + 1)) - 1, 0, bins - 1)
    members = np.eye(bins)[which]  # (calls, bins)
    counts = members.sum(axis=0)
    used = counts > 0
    mean_confidence = confidence @ members[:, used] / counts[used]
    accuracy = outcomes @ members[:, used] / counts[used]
    return np.abs(accuracy - mean_confidence) @ counts[used] / len(confidence)


def calibration_test(
    confidence: np.ndarray,
    correct: np.ndarray,
    clusters: np.ndarray | None = None,
    draws: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """ECE of the calls, the ECE a calibrated tool would score on calls of the same confidences and
    ``clusters`` (the mean over ``draws``), and the share of those draws whose ECE reaches the calls' (a
    p-value of "the confidences are calibrated").

    On a few hundred calls binned in tenths a perfectly calibrated tool scores an ECE of ≈ 0.05–0.1
    (each bin a small sample), so an ECE means something only beside this chance level. Calls of one
    cluster (one structure, one conformation) err together, and a calibrated tool's ECE spreads wider
    on them than on independent calls. Each draw makes every call right with probability its
    confidence plus its cluster's lean, the leans normal with the variance the calls' clusters show
    between them beyond their shot noise (:func:`between_cluster_variance`; 0 without ``clusters``:
    every call its own). 200 calls of 12 structures, each right 0.2 more or less often than its
    confidence, were told from calibrated in 22 % of 300 samples by a test at 5 % that took the calls
    as independent, in 8.7 % by this one.
    """
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    if not len(confidence):
        return float("nan"), float("nan"), float("nan")
    observed = expected_calibration_error(confidence, correct)
    index = np.arange(len(confidence)) if clusters is None else np.unique(clusters, return_inverse=True)[1]
    spread = np.sqrt(between_cluster_variance(correct - confidence, index, confidence * (1 - confidence)))
    rng = np.random.default_rng(seed)
    lean = rng.normal(0.0, spread, (draws, index.max() + 1))[:, index]
    outcomes = rng.random((draws, len(confidence))) < np.clip(confidence + lean, 0, 1)
    chance = _binned_calibration_error(confidence, outcomes)
    return observed, float(chance.mean()), float(np.mean(chance >= observed - 1e-12))


def between_cluster_variance(values: np.ndarray, index: np.ndarray, within: np.ndarray) -> float:
    """The variance of the clusters' means of ``values`` beyond what each value's own variance
    ``within`` gives them (one-way moment estimate with that variance known, at least 0); 0 with
    fewer than two clusters or every value its own. A call's variance is known (confidence × (1 −
    confidence)); where it is not, ``zeostem.analysis.efficiency.shared_share`` estimates it and gives
    the between share as an intraclass correlation."""
    sizes = np.bincount(index).astype(float)
    n = len(values)
    if len(sizes) < 2 or sizes.max() == 1:
        return 0.0
    means = np.bincount(index, values) / sizes
    between = sizes @ (means - values.mean()) ** 2
    return max(0.0, (between - (len(sizes) - 1) * float(np.mean(within))) / (n - sizes @ sizes / n))
