"""Conformation matching: register a unit-cell window onto every candidate's clean reference and score it.

For each candidate conformation (its clean iDPC field of view simulated under the same conditions)
and each symmetry operation of the projected lattice (identity, the two mirrors, the 2-fold
rotation), the window is registered by normalised cross-correlation over the whole periodic
reference (integer shift), refined to sub-pixel by upsampled phase correlation, and scored with
SSIM and with a Gaussian log-likelihood of the residual after an affine intensity fit. The best
operation per candidate counts. Probabilities over candidates are a softmax of the log-likelihoods
divided by a temperature calibrated on validation images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, optimize
from skimage.registration import phase_cross_correlation

from zeostem.metrics.image_quality import ssim

OPERATIONS = {
    "identity": lambda w: w,
    "mirror_x": lambda w: w[:, ::-1],
    "mirror_y": lambda w: w[::-1, :],
    "rotate_180": lambda w: w[::-1, ::-1],
}


class Reference:
    """A candidate's clean reference field of view (periodic), what it is, and its cached spectra."""

    def __init__(self, conformation: str, tsite: str, image: np.ndarray):
        self.conformation, self.tsite = conformation, tsite
        self.image = np.asarray(image, np.float64)
        centred = self.image - self.image.mean()
        self.spectrum = np.fft.fft2(centred)
        self.energy_spectrum = np.fft.fft2(centred**2)


@dataclass(frozen=True)
class Match:
    conformation: str
    tsite: str
    operation: str
    origin_px: tuple[float, float]  # (row, col) in the reference where the window registers
    ssim: float
    log_likelihood: float


def coarse_register(window: np.ndarray, reference: Reference) -> tuple[float, tuple[int, int]]:
    """Best normalised cross-correlation of ``window`` over all periodic shifts: (score, (row, col))."""
    h, w = window.shape
    padded = np.zeros(reference.image.shape)
    padded[:h, :w] = (window - window.mean()) / (window.std() + 1e-12)
    mask = np.zeros_like(padded)
    mask[:h, :w] = 1.0
    corr = np.fft.ifft2(reference.spectrum * np.conj(np.fft.fft2(padded))).real
    energy = np.fft.ifft2(reference.energy_spectrum * np.conj(np.fft.fft2(mask))).real
    score = corr / np.sqrt(np.clip(energy, 1e-12, None))
    r0, c0 = np.unravel_index(np.argmax(score), score.shape)
    return float(score[r0, c0]), (int(r0), int(c0))


def refine(
    window: np.ndarray, reference: Reference, start: tuple[int, int]
) -> tuple[np.ndarray, tuple[float, float]]:
    """Sub-pixel origin and the reference patch sampled there.

    Phase correlation gives a first estimate (≈0.1 px, edge effects of a non-periodic window); the
    origin is then polished by minimising the residual of an affine intensity fit (Nelder–Mead).
    The integer ``start`` is already within half a pixel, so a phase-correlation shift beyond one
    pixel is a false peak (a noisy or lattice-periodic window) and is ignored.
    """
    h, w = window.shape
    patch = np.roll(reference.image, (-start[0], -start[1]), axis=(0, 1))[:h, :w]
    sub, _, _ = phase_cross_correlation(patch, window, upsample_factor=20, normalization="phase")
    if np.any(np.abs(sub) > 1.0):
        sub = np.zeros(2)
    first = np.array([start[0] - sub[0], start[1] - sub[1]], dtype=float)

    def residual(origin: np.ndarray) -> float:
        return -log_likelihood(window, shifted_patch(reference.image, tuple(origin), window.shape), 1.0)

    best = optimize.minimize(residual, first, method="Nelder-Mead", options={"xatol": 0.02, "maxiter": 40})
    origin = tuple(best.x) if np.all(np.abs(best.x - first) < 1.0) else tuple(first)
    return shifted_patch(reference.image, origin, window.shape), origin


def shifted_patch(reference: np.ndarray, origin: tuple[float, float], shape: tuple[int, int]) -> np.ndarray:
    """The periodic reference sampled on a window grid starting at sub-pixel ``origin`` (row, col)."""
    rows, cols = np.indices(shape, dtype=float)
    return ndimage.map_coordinates(reference, [rows + origin[0], cols + origin[1]], order=3, mode="grid-wrap")


def log_likelihood(window: np.ndarray, patch: np.ndarray, noise_variance: float) -> float:
    """Gaussian log-likelihood of ``window`` given ``a · patch + b`` (least-squares a, b)."""
    design = np.c_[patch.ravel(), np.ones(patch.size)]
    coef, *_ = np.linalg.lstsq(design, window.ravel(), rcond=None)
    residual = window.ravel() - design @ coef
    return float(-0.5 * np.sum(residual**2) / noise_variance)


def match_window(window: np.ndarray, references: list[Reference], noise_variance: float) -> list[Match]:
    """Match of ``window`` to every reference (best symmetry operation by correlation), best first."""
    matches = []
    for ref in references:
        transformed = {name: np.ascontiguousarray(op(window)) for name, op in OPERATIONS.items()}
        scored = {name: coarse_register(w, ref) for name, w in transformed.items()}
        name = max(scored, key=lambda k: scored[k][0])
        patch, origin = refine(transformed[name], ref, scored[name][1])
        ll = log_likelihood(transformed[name], patch, noise_variance)
        matches.append(Match(ref.conformation, ref.tsite, name, origin, ssim(patch, transformed[name]), ll))
    return sorted(matches, key=lambda m: -m.log_likelihood)


def probabilities(log_likelihoods: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of log-likelihoods / temperature (numerically stable); sums to 1."""
    z = np.asarray(log_likelihoods, float) / temperature
    z = np.exp(z - z.max())
    return z / z.sum()


def calibrate_temperature(log_likelihoods: list[np.ndarray], truth: list[int]) -> float:
    """Temperature minimising the negative log-likelihood of the true candidates (grid search, log scale)."""
    grid = np.logspace(-3, 6, 181)
    nll = [
        -np.mean(
            [np.log(probabilities(ll, t)[k] + 1e-300) for ll, k in zip(log_likelihoods, truth, strict=True)]
        )
        for t in grid
    ]
    return float(grid[int(np.argmin(nll))])


def window_at(image: np.ndarray, center: tuple[float, float], size: tuple[int, int]) -> np.ndarray:
    """A ``size`` (rows, cols) window centred on ``center`` (row, col); reflected at the borders."""
    h, w = size
    r0, c0 = int(round(center[0] - h / 2)), int(round(center[1] - w / 2))
    pad = max(h, w)
    padded = np.pad(image, pad, mode="reflect")
    return padded[r0 + pad : r0 + pad + h, c0 + pad : c0 + pad + w]
