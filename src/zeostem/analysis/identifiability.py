"""How identifiable is the Al site? Calibration of the probabilities and the T-site confusion per dose.

Two observers on simulated images with known truth:
* ``pipeline`` — what users get: denoise → detect → match the denoised windows (calibrated);
* ``ideal`` — the upper bound: the noisy image at the true molecule boxes, matched directly against
  the noise-free references with the true noise level (temperature 1).
Both rank T-sites per image by the log-likelihoods summed over its molecules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zeostem.analysis.matching import calibrate_temperature, match_window, probabilities, window_at
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


def true_windows(image: np.ndarray, labels_path: str, size: tuple[int, int], limit: int) -> list[np.ndarray]:
    with open(labels_path) as f:
        labels = json.load(f)
    boxes = [m["bbox_xyxy"] for m in labels["molecules"] if not m["truncated"]][:limit]
    return [window_at(image, ((y0 + y1) / 2, (x0 + x1) / 2), size) for x0, y0, x1, y1 in boxes]


def summed_log_likelihoods(
    windows: list[np.ndarray], workflow: Workflow, variance: float
) -> dict[str, float]:
    totals: dict[str, float] = {}
    for window in windows:
        for m in match_window(window, workflow.references, variance):
            totals[m.conformation] = totals.get(m.conformation, 0.0) + m.log_likelihood
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
        variance = workflow.dose_constant / item.dose
        totals = summed_log_likelihoods(true_windows(noisy, item.labels, size, limit), workflow, variance)
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
