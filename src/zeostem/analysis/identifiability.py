"""How identifiable is the Al site? Calibration of the probabilities and the T-site confusion per dose.

Two observers on simulated images with known truth:
* ``pipeline`` — what users get: denoise → detect → match the denoised windows (calibrated);
* ``ideal`` — the upper bound: the exact likelihood of the noisy image under each candidate, with
  registration, orientation, intensity scale and noise level known (temperature 1).
Both rank T-sites per image; the pipeline sums the log-likelihoods over its molecules.

Shot noise in iDPC is not white: the DPC signals carry white noise and the Fourier integration
divides it by |k|, so its power spectrum goes as 1/k². In the gradient of the image it is white
again (within the curl-free fields), which makes a Gaussian likelihood of the gradients exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zeostem.analysis.matching import (
    Reference,
    calibrate_temperature,
    match_window,
    probabilities,
    window_at,
)
from zeostem.analysis.pipeline import Workflow, analyze, cell_window_shape, tsite_ranking
from zeostem.io.images import read_image


@dataclass(frozen=True)
class TruthImage:
    conformation: str
    tsite: str
    dose: int
    noisy: str
    clean: str
    labels: str


def true_centres(labels_path: str, limit: int | None) -> list[tuple[float, float]]:
    """(row, col) centres of the first ``limit`` (None: all) whole molecules of a simulated image."""
    with open(labels_path) as f:
        labels = json.load(f)
    boxes = [m["bbox_xyxy"] for m in labels["molecules"] if not m["truncated"]][:limit]
    return [((y0 + y1) / 2, (x0 + x1) / 2) for x0, y0, x1, y1 in boxes]


def true_windows(image: np.ndarray, labels_path: str, size: tuple[int, int], limit: int) -> list[np.ndarray]:
    return [window_at(image, centre, size) for centre in true_centres(labels_path, limit)]


def summed_log_likelihoods(
    windows: list[np.ndarray], workflow: Workflow, variance: float
) -> dict[str, float]:
    totals: dict[str, float] = {}
    for window in windows:
        for m in match_window(window, workflow.references, variance):
            totals[m.conformation] = totals.get(m.conformation, 0.0) + m.log_likelihood
    return totals


def spectral_gradient(image: np.ndarray) -> np.ndarray:
    """(d/drow, d/dcol) of a periodic image in intensity per pixel, exact for band-limited images."""
    spectrum = np.fft.fft2(image)
    ky = np.fft.fftfreq(image.shape[0])[:, None]
    kx = np.fft.fftfreq(image.shape[1])[None, :]
    return np.stack([np.fft.ifft2(2j * np.pi * k * spectrum).real for k in (ky, kx)])


def ideal_log_likelihoods(
    noisy: np.ndarray, clean: np.ndarray, references: list[Reference]
) -> dict[str, float]:
    """Exact log-likelihood of every candidate for a simulated image on the references' grid.

    White Gaussian likelihood of the image gradient; its noise variance is measured against the
    true clean image. The Bayes-optimal score under the simulation's own model.
    """
    gradient = spectral_gradient(noisy)
    variance = float(np.mean(np.sum((gradient - spectral_gradient(clean)) ** 2, axis=0)))
    return {
        r.conformation: float(-0.5 * np.sum((gradient - spectral_gradient(r.image)) ** 2) / variance)
        for r in references
    }


def calibrate(workflow: Workflow, images: list[TruthImage], limit: int) -> dict:
    """Temperature of the pipeline's probabilities and the noise model's dose constant (validation images)."""
    size = cell_window_shape(workflow.cell_px)
    names = [r.conformation for r in workflow.references]
    lls, truth, constants = [], [], []
    for item in images:
        noisy, _ = read_image(item.noisy)
        clean, _ = read_image(item.clean)
        constants.append(float(np.var(noisy - clean)) * item.dose)
        denoised = workflow.denoise(noisy)
        windows = true_windows(denoised, item.labels, size, limit)
        totals = summed_log_likelihoods(windows, workflow, float(np.var(noisy - denoised)))
        lls.append(np.array([totals[n] for n in names]))
        truth.append(names.index(item.conformation))
    return {"temperature": calibrate_temperature(lls, truth), "dose_constant": float(np.mean(constants))}


def evaluate_alsite(workflow: Workflow, images: list[TruthImage]) -> pd.DataFrame:
    """One row per image × observer: true T-site, the ranking, its probabilities."""
    names = [r.conformation for r in workflow.references]
    tsite_of = {r.conformation: r.tsite for r in workflow.references}
    rows = []
    for item in images:
        noisy, meta = read_image(item.noisy)
        result = analyze(noisy, meta["pixel_size_A"], workflow)
        ranking = result["tsite_ranking"]
        rows.append({"observer": "pipeline", **_row(item, ranking, len(result["molecules"]))})
        clean, _ = read_image(item.clean)
        totals = ideal_log_likelihoods(noisy, clean, workflow.references)
        p = probabilities(np.array([totals[n] for n in names]), 1.0)
        ideal = tsite_ranking([tsite_of[n] for n in names], p)
        rows.append({"observer": "ideal", **_row(item, ideal, len(true_centres(item.labels, None)))})
    return pd.DataFrame(rows)


def _row(item: TruthImage, ranking: list[dict], molecules: int) -> dict:
    order = [r["tsite"] for r in ranking]
    rank = order.index(item.tsite) + 1 if item.tsite in order else len(order) + 1
    return {
        "conformation": item.conformation,
        "dose": item.dose,
        "true_tsite": item.tsite,
        "predicted_tsite": order[0] if order else "",
        "confidence": ranking[0]["probability"] if ranking else 0.0,
        "rank_of_truth": rank,
        "molecules": molecules,
    }


def summarise_alsite(rows: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Top-1 / top-3 accuracy and expected calibration error per observer and dose."""
    out = []
    for (observer, dose), group in rows.groupby(["observer", "dose"]):
        correct = (group["rank_of_truth"] == 1).to_numpy()
        conf = group["confidence"].to_numpy()
        edges = np.linspace(0, 1, bins + 1)
        which = np.clip(np.digitize(conf, edges) - 1, 0, bins - 1)
        ece = sum(
            abs(correct[which == b].mean() - conf[which == b].mean()) * np.mean(which == b)
            for b in range(bins)
            if np.any(which == b)
        )
        out.append(
            {"observer": observer, "dose": dose, "images": len(group), "top1": correct.mean(),
             "top3": float((group["rank_of_truth"] <= 3).mean()), "ece": float(ece)}
        )  # fmt: skip
    return pd.DataFrame(out)
