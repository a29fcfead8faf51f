"""How identifiable is the Al site? Calibration of the probabilities and the T-site confusion per dose.

Two observers on simulated images with known truth:
* ``pipeline`` — what users get: denoise → detect → match the denoised windows (calibrated);
* ``ideal`` — the reference observer: the noisy image itself at the true molecule boxes, registered
  like the pipeline's windows and scored with the exact likelihood of iDPC shot noise (whitened:
  image gradients, see :func:`zeostem.analysis.matching.whitened_log_likelihood`) at the image's
  true noise level (temperature 1). It knows where the molecules are, not how they are oriented.
Both rank T-sites per image by the log-likelihoods summed over its molecules.
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
    spectral_gradient,
    whitened_log_likelihood,
    window_at,
)
from zeostem.analysis.pipeline import Workflow, analyze, cell_window_shape
from zeostem.io.images import read_image


@dataclass(frozen=True)
class TruthImage:
    conformation: str
    tsite: str
    dose: int
    noisy: str
    clean: str
    labels: str


def true_centres(labels_path: str, limit: int) -> list[tuple[float, float]]:
    """(row, col) centres of the first ``limit`` whole molecules of a simulated image."""
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


def ideal_log_likelihoods(
    noisy: np.ndarray,
    clean: np.ndarray,
    centres: list[tuple[float, float]],
    references: list[Reference],
    size: tuple[int, int],
) -> dict[str, float]:
    """Whitened log-likelihoods of every candidate, summed over the molecule windows at ``centres``."""
    gradient = spectral_gradient(noisy)
    variance = float(np.mean(np.sum((gradient - spectral_gradient(clean)) ** 2, axis=0)))
    by_name = {r.conformation: r for r in references}
    totals = dict.fromkeys(by_name, 0.0)
    for centre in centres:
        gradient_window = np.stack([window_at(g, centre, size) for g in gradient])
        for m in match_window(window_at(noisy, centre, size), references, variance):
            totals[m.conformation] += whitened_log_likelihood(
                gradient_window, by_name[m.conformation], m, variance
            )
    return totals


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


def evaluate_alsite(workflow: Workflow, images: list[TruthImage], limit: int) -> pd.DataFrame:
    """One row per image × observer: true T-site, the ranking, its probabilities."""
    size = cell_window_shape(workflow.cell_px)
    names = [r.conformation for r in workflow.references]
    tsite_of = {r.conformation: r.tsite for r in workflow.references}
    rows = []
    for item in images:
        noisy, meta = read_image(item.noisy)
        result = analyze(noisy, meta["pixel_size_A"], workflow)
        ranking = result["tsite_ranking"]
        rows.append({"observer": "pipeline", **_row(item, ranking, len(result["molecules"]))})
        clean, _ = read_image(item.clean)
        centres = true_centres(item.labels, limit)
        totals = ideal_log_likelihoods(noisy, clean, centres, workflow.references, size)
        p = probabilities(np.array([totals[n] for n in names]), 1.0)
        per_site: dict[str, float] = {}
        for n, q in zip(names, p, strict=True):
            per_site[tsite_of[n]] = per_site.get(tsite_of[n], 0.0) + float(q)
        ideal = [{"tsite": t, "probability": q} for t, q in sorted(per_site.items(), key=lambda kv: -kv[1])]
        rows.append({"observer": "ideal", **_row(item, ideal, limit)})
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
