"""From per-molecule log-likelihoods to probabilities: temperature, T-site posteriors, the Al distribution.

Every function takes ``llr`` arrays of shape (molecules, candidates) (log-likelihood ratio of each
candidate conformation vs no molecule; −inf where a candidate cannot sit at that molecule's site)
and the candidates' T-sites. Conformations of one T-site (several acid O) share its prior.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import logsumexp, softmax

# the likelihood is exact under the simulation's model: calibration only ever softens it (model
# mismatch makes it overconfident), so the grid starts at 1
TEMPERATURES = np.logspace(0, 3, 121)


def tsite_log_likelihoods(
    llr: np.ndarray, tsites: list[str], temperature: float
) -> tuple[list[str], np.ndarray]:
    """Per molecule, log p(data | T-site): the mean likelihood of that T-site's conformations."""
    sites = sorted(set(tsites), key=_site_order)
    columns = []
    for site in sites:
        members = [k for k, t in enumerate(tsites) if t == site]
        columns.append(logsumexp(llr[:, members] / temperature, axis=1) - np.log(len(members)))
    return sites, np.stack(columns, axis=1) if columns else np.zeros((len(llr), 0))


def molecule_posteriors(llr: np.ndarray, temperature: float) -> np.ndarray:
    """Per molecule, the posterior over candidate conformations (uniform prior)."""
    return softmax(llr / temperature, axis=1)


def shared_site_posterior(
    llr: np.ndarray, tsites: list[str], temperature: float, occupancy: float | None = None
) -> dict[str, float]:
    """T-site posterior under 'every molecule of this image sits at the same kind of site'.

    Without ``occupancy`` every row is a molecule. With it (the prior probability that a site holds
    a molecule) every row is a site whose occupancy is marginalised, ``log(1 − q + q · L(t))``: no
    threshold decides which sites count, faint molecules add what evidence they carry.
    """
    sites, ll = tsite_log_likelihoods(llr, tsites, temperature)
    if not len(ll):
        return {}
    if occupancy is not None:
        ll = np.logaddexp(np.log1p(-occupancy), np.log(occupancy) + ll)
    return dict(zip(sites, softmax(ll.sum(axis=0)).tolist(), strict=True))


def calibrate_temperature(llr: np.ndarray, truth: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood of the true candidates (log-spaced grid)."""
    nll = [
        -np.mean(np.log(molecule_posteriors(llr, t)[np.arange(len(truth)), truth] + 1e-300))
        for t in TEMPERATURES
    ]
    return float(TEMPERATURES[int(np.argmin(nll))])


def at_grid_edge(temperature: float) -> bool:
    """True when the temperature sits at the top of its grid: the likelihoods carried no usable confidence."""
    return bool(np.isclose(temperature, TEMPERATURES[-1]))


def mixture_proportions(
    log_lik: np.ndarray, weights: np.ndarray | None = None, iterations: int = 500, tol: float = 1e-9
) -> np.ndarray:
    """Maximum-likelihood mixture weights π over T-sites from per-molecule log p(data | T-site) (EM).

    ``weights`` (fits, molecules) counts each molecule per fit (a bootstrap draw is its multiplicities):
    all fits run side by side, each stopping when its own π moves less than ``tol``; returns (fits, sites).
    Without it, one fit of every molecule once: returns (sites,).
    """
    n, m = log_lik.shape
    counts = np.ones((1, n)) if weights is None else np.asarray(weights, float)
    finite = np.where(np.isfinite(log_lik), log_lik, -1e300)
    shifted = np.exp(finite - finite.max(axis=1, keepdims=True))
    pi = np.full((len(counts), m), 1.0 / m)
    running = np.arange(len(counts))
    for _ in range(iterations):
        weighted = shifted[None] * pi[running, None, :]
        # a molecule left out of a draw may fit only sites that draw has emptied: 0 / 0, counted 0 times
        total = weighted.sum(axis=2, keepdims=True)
        responsibility = np.divide(weighted, total, out=np.zeros_like(weighted), where=total > 0)
        new = np.einsum("fn,fnm->fm", counts[running], responsibility) / counts[running].sum(1, keepdims=True)
        moved = np.max(np.abs(new - pi[running]), axis=1)
        pi[running] = new
        running = running[moved >= tol]
        if not len(running):
            break
    return pi[0] if weights is None else pi


def al_distribution(
    log_lik: np.ndarray, sites: list[str], level: float = 0.9, bootstrap: int = 200, seed: int = 0
) -> list[dict]:
    """Fraction of molecules at each T-site's Al, with a bootstrap interval over molecules."""
    if not len(log_lik):
        return []
    n = len(log_lik)
    estimate = mixture_proportions(log_lik)
    rng = np.random.default_rng(seed)
    multiplicities = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(bootstrap)])
    draws = mixture_proportions(log_lik, multiplicities)
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return [
        {"tsite": s, "fraction": float(f), "low": float(lo), "high": float(hi)}
        for s, f, lo, hi in zip(sites, estimate, low, high, strict=True)
    ]


def ranking(probabilities: dict[str, float]) -> list[dict]:
    """``[{tsite, probability}]``, most probable first."""
    return [
        {"tsite": t, "probability": float(p)} for t, p in sorted(probabilities.items(), key=lambda kv: -kv[1])
    ]


def topk_credit(probabilities: dict[str, float], truth: str, k: int) -> float:
    """1 if ``truth`` is among the k most probable; a tie at the boundary shares the credit."""
    p = probabilities.get(truth)
    if p is None:
        return 0.0
    above = sum(q > p for q in probabilities.values())
    equal = sum(q == p for q in probabilities.values())
    return float(np.clip((k - above) / equal, 0.0, 1.0))


def _site_order(site: str) -> tuple:
    digits = "".join(ch for ch in site if ch.isdigit())
    return (site.rstrip("0123456789"), int(digits) if digits else 0, site)


def al_distribution_table(reports: list[dict]) -> pd.DataFrame:
    """The Al distribution of every report (its own ``al_distribution``) and pooled over all of them
    (a fit of all their molecules' T-site log-likelihoods): columns images, molecules, tsite,
    fraction, low, high."""
    sites = sorted(
        {s for r in reports for m in r["molecules"] for s in m["tsite_log_likelihood"]}, key=_site_order
    )
    pooled = np.array(
        [[m["tsite_log_likelihood"].get(s, -np.inf) for s in sites] for r in reports for m in r["molecules"]]
    ).reshape(-1, len(sites))
    rows = [{"images": "all images", "molecules": len(pooled), **e} for e in al_distribution(pooled, sites)]
    for r in reports:
        rows += [{"images": r["image"], "molecules": len(r["molecules"]), **e} for e in r["al_distribution"]]
    return pd.DataFrame(rows, columns=["images", "molecules", "tsite", "fraction", "low", "high"])
