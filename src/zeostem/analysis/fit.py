"""How well the framework reference explains an image: its local contrast and each cell's misfit.

A thickness or tilt gradient changes the framework's contrast across a field; a contamination spot, a
defect or a region the references do not describe leaves a residual that no molecule explains. Both
are measured in the gradient domain against the image's own noise:

* the **local intensity scale** s(r): the framework model fitted in a Gaussian window half a cell wide
  (normalised convolution, so the edges of the valid region count right). The likelihood uses it in
  place of one scale per image, so a contrast gradient is not read as molecules; its spread over the
  field (5th to 95th percentile, relative to its median), less what the scale's own shot noise
  spreads it by (its standard error from the window, in quadrature), is reported and flagged above
  ``CONTRAST_FLAG`` (a clean 500 e/Å² field of the demo: 0.12 before the noise was allowed for, 0.09
  after; a 60 % wedge 0.47–0.51);
* each cell's **χ²**: the cell's mean squared residual relative to the image's median cell, 1 ± √(2/N)
  for shot noise (N pixels of the cell, one degree of freedom each in the curl-free gradient); a
  cell more than ``MISFIT_SIGMAS`` standard deviations above is one the references do not explain:
  its sites are "none of the candidates" and stay out of every answer;
* the **noise whiteness** (measured by ``zeostem.analysis.likelihood``): the noise variance in the
  molecules' band over its mean; raw counts give 1 (0.99–1.10 measured on simulated fields, 1.34–1.40
  on the demo's rotated experiment-like fields, whose resampling interpolates), a Gaussian filter of
  0.6 px 3.4–3.6. Outside ``WHITENESS_FLAG`` the image is flagged as not raw counts; the likelihood
  already uses the band's variance, which tempers it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

CONTRAST_FLAG = 0.1
MISFIT_SIGMAS = 6.0
WHITENESS_FLAG = (0.7, 2.0)


def raw_counts(noise_whiteness: float) -> bool:
    """Is the noise white enough in the gradient to be raw counts (see the module docstring)?"""
    low, high = WHITENESS_FLAG
    return low <= noise_whiteness <= high


MIN_CELL_FRACTION = 0.5  # a cell is judged when at least this much of it lies in the valid region


@dataclass(frozen=True)
class FrameworkFit:
    """The framework model's local scale and every cell's relative χ² on the image grid."""

    scale_map: np.ndarray  # image intensity per reference intensity, per pixel
    chi2_map: np.ndarray  # per pixel: its cell's relative χ² (nan where the cell is not judged)
    misfit_map: np.ndarray  # per pixel: its cell is one the references do not explain
    cells: int  # cells judged
    misfit_cells: int  # of them, those the references do not explain
    contrast_spread: float  # (95th − 5th percentile) / median of the local scale over the judged cells

    @property
    def scale(self) -> float:
        """The image's typical scale (the median of the local one over the judged cells)."""
        judged = self.scale_map[np.isfinite(self.chi2_map)]
        return float(np.median(judged if judged.size else self.scale_map))

    def explained(self, centres_px: np.ndarray) -> np.ndarray:
        """Per site (row, col): does the framework explain its cell (or was the cell not judged)?"""
        rc = np.asarray(centres_px, float).reshape(-1, 2)
        rc = np.clip(np.round(rc).astype(int), 0, np.array(self.misfit_map.shape) - 1)
        return ~self.misfit_map[rc[:, 0], rc[:, 1]]

    def record(self, noise_whiteness: float) -> dict:
        """What report.json says about the fit and the noise, with a note where the image is flagged."""
        notes = []
        if not raw_counts(noise_whiteness):
            notes.append(
                f"the noise is not white in the image's gradient (its variance in the molecules' band is "
                f"{noise_whiteness:.2g} × its mean): not raw counts (a filtered, smoothed or resampled "
                "export); the evidence and the dose estimate use the noise in the molecules' band"
            )
        if self.contrast_spread > CONTRAST_FLAG:
            notes.append(
                f"the framework's contrast varies by {100 * self.contrast_spread:.0f} % across the field "
                "(thickness or tilt gradient): every cell was fitted with its own scale"
            )
        if self.misfit_cells:
            notes.append(
                f"{self.misfit_cells} of {self.cells} cells are not explained by the framework reference "
                "(contamination, a defect, another structure): their sites are none of the candidates"
            )
        return {
            "contrast_spread": self.contrast_spread,
            "cells": self.cells,
            "misfit_cells": self.misfit_cells,
            "noise_whiteness": noise_whiteness,
            "flagged": bool(notes),
            "note": "; ".join(notes) or None,
        }


def framework_fit(
    data: np.ndarray,
    model: np.ndarray,
    valid: np.ndarray,
    cell_index: np.ndarray,
    cell_px: np.ndarray,
    scale: float | None = None,
) -> FrameworkFit:
    """Local scale of the framework ``model`` (2, H, W gradient) in ``data`` (or ``scale`` everywhere,
    when known) and the cells' misfit; ``cell_index`` (H, W, 2) is every pixel's framework cell."""
    weight = valid.astype(float)
    power = np.sum(model**2, axis=0) * weight
    if scale is None:
        sigma = np.asarray(cell_px, float) / 2
        numerator = gaussian_filter(np.sum(data * model, axis=0) * weight, sigma, mode="nearest")
        denominator = np.maximum(gaussian_filter(power, sigma, mode="nearest"), 1e-300)
        scale_map = numerator / denominator
        # the shot noise's standard error of the local scale: the window squared is a Gaussian of
        # σ/√2 over 4π σ_r σ_c
        squared = gaussian_filter(power, sigma / np.sqrt(2), mode="nearest") / (4 * np.pi * np.prod(sigma))
    else:
        scale_map = np.full(valid.shape, float(scale))
    energy = np.sum((data - scale_map * model) ** 2, axis=0)
    low = cell_index.reshape(-1, 2).min(axis=0)
    span = cell_index.reshape(-1, 2).max(axis=0) - low + 1
    ids = ((cell_index[..., 0] - low[0]) * span[1] + cell_index[..., 1] - low[1]).ravel()
    counts = np.bincount(ids, weights=weight.ravel(), minlength=int(np.prod(span)))
    sums = np.bincount(ids, weights=(energy * weight).ravel(), minlength=int(np.prod(span)))
    judged = counts >= MIN_CELL_FRACTION * np.prod(cell_px)
    mean = np.divide(sums, counts, out=np.full_like(sums, np.nan), where=judged)
    relative = mean / np.nanmedian(mean) if judged.any() else mean
    limit = 1 + MISFIT_SIGMAS * np.sqrt(2 / np.maximum(counts, 1))
    misfit = judged & (relative > limit)
    chi2_map = np.where(judged, relative, np.nan)[ids].reshape(valid.shape)
    spread = 0.0
    if judged.any() and scale is None:
        inside = np.isfinite(chi2_map) & valid
        p5, p50, p95 = np.percentile(scale_map[inside], [5, 50, 95])
        noise = np.sqrt(np.sum(energy * weight) / max(weight.sum(), 1) / 2)  # per component
        noise_spread = 2 * 1.645 * noise * np.median(np.sqrt(squared[inside]) / denominator[inside])
        measured = (p95 - p5) / abs(p50) if p50 else float("inf")
        spread = float(np.sqrt(max(measured**2 - (noise_spread / abs(p50)) ** 2, 0.0))) if p50 else measured
    misfit_map = misfit[ids].reshape(valid.shape)
    return FrameworkFit(scale_map, chi2_map, misfit_map, int(judged.sum()), int(misfit.sum()), spread)
