"""How identifiable is the Al site? Calibration of the analysis and its evaluation on images with known truth.

Two observers score every molecule of simulated images:
* ``pipeline`` — what users get: lattice fit, resampling, registration, noise level and occupancy all
  estimated from the image, calibrated temperature;
* ``ideal`` — the same per-cell likelihood with the registration, intensity scale and noise level
  known and the molecule's site given (temperature 1): the Bayes-optimal observer of one cell under
  the simulation's own model, i.e. the upper bound.
A molecule the pipeline does not detect counts as a miss; a tie at the top gets 1/k credit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from zeostem.analysis.classes import Classes, derive_classes
from zeostem.analysis.likelihood import MOLECULE_RADIUS_A, SiteScores, hypotheses, sites_at
from zeostem.analysis.pipeline import Analyzer, Calibration, analyze_lattice
from zeostem.analysis.posterior import (
    at_grid_edge,
    calibrate_temperature,
    class_posteriors,
    shared_class_posterior,
    topk_credit,
)
from zeostem.analysis.references import spectral_gradient
from zeostem.analysis.registration import Registration
from zeostem.errors import InputError
from zeostem.io.images import read_image
from zeostem.metrics.detection import coco_metrics
from zeostem.parallel import forked_map

SURE = 0.95  # a call made with at least this probability is one a user would publish
MATCH_A = MOLECULE_RADIUS_A  # a site within this distance of a true molecule's centre is that molecule's


@dataclass(frozen=True)
class TruthImage:
    """A simulated image of one conformation: ``field`` is ``full`` (every cell) or ``mosaic``; ``model``
    is ``matched`` (simulated as the references were) or ``mismatched`` (other settings)."""

    conformation: str
    tsite: str
    dose: int
    noisy: str
    clean: str
    labels: str
    field: str
    model: str = "matched"


def true_molecules(
    labels_path: str, shape: tuple[int, int], cell_px: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Centres (row, col) and xyxy boxes of the molecules whose cell-sized window lies inside the image."""
    with open(labels_path) as f:
        return molecules_inside(json.load(f), shape, cell_px)


def molecules_inside(
    labels: dict, shape: tuple[int, int], cell_px: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`true_molecules` of a labels dict."""
    centres, boxes = [], []
    for m in labels["molecules"]:
        x0, y0, x1, y1 = m["bbox_xyxy"]
        c = np.array([(y0 + y1) / 2, (x0 + x1) / 2])
        if (
            not m["truncated"]
            and np.all(c - cell_px / 2 >= 0)
            and np.all(c + cell_px / 2 <= np.array(shape) - 1)
        ):
            centres.append(c)
            boxes.append(m["bbox_xyxy"])
    return np.array(centres).reshape(-1, 2), np.array(boxes, float).reshape(-1, 4)


def nearest_site(centres: np.ndarray, sites: np.ndarray, tolerance_px: float) -> np.ndarray:
    """Index of the site at each centre (−1 where none lies within ``tolerance_px``)."""
    if not len(sites):
        return np.full(len(centres), -1)
    d = np.linalg.norm(centres[:, None, :] - sites[None, :, :], axis=-1)
    best = d.argmin(axis=1)
    return np.where(d[np.arange(len(centres)), best] <= tolerance_px, best, -1)


def ideal_scores(noisy: np.ndarray, clean: np.ndarray, centres: np.ndarray, analyzer: Analyzer) -> SiteScores:
    """Likelihoods at the true molecule centres, with the registration (the simulation's origin),
    the scale (1) and the noise level (from the clean image) known."""
    refs = analyzer.references
    variance = float(np.mean(spectral_gradient(noisy - clean) ** 2))
    known = Registration("identity", np.zeros(2), 1.0)
    found = hypotheses(noisy, np.ones(noisy.shape, bool), refs, known, analyzer.placements, variance, 1.0)
    return sites_at(found, centres, refs)


def evaluate_image(
    item: TruthImage, analyzer: Analyzer, ideal_observer: bool = True
) -> tuple[list[dict], list[dict], dict]:
    """Molecule rows (both observers, or the pipeline's only), image rows (full fields) and the
    occupancy detections of one image."""
    refs, calibration = analyzer.references, analyzer.calibration
    noisy, meta = read_image(item.noisy)
    clean, _ = read_image(item.clean)
    tolerance = MATCH_A / np.mean(refs.pixel_size_A)
    centres, boxes = true_molecules(item.labels, noisy.shape, refs.cell_px)
    found = lattice_or_none(noisy, meta["pixel_size_A"], analyzer, item.noisy)
    if found is None:  # no lattice found: every molecule of the image is a miss
        site_centres, pipeline_llr, detected, bayes = (
            np.zeros((0, 2)),
            np.zeros((0, len(refs.tsites))),
            [],
            np.zeros(0),
        )
    else:
        site_centres = found.frame.to_input(found.scores.centres_px)
        pipeline_llr = found.scores.answering_llr
        detected, bayes = found.detected.tolist(), found.log_bayes_factor
    at = nearest_site(centres, site_centres, tolerance)
    observers = {"pipeline": (pipeline_llr, at, set(detected), calibration.temperature)}
    if ideal_observer:
        ideal = ideal_scores(noisy.astype(np.float64), clean.astype(np.float64), centres, analyzer)
        observers["ideal"] = (ideal.llr, np.arange(len(centres)), set(range(len(ideal.llr))), 1.0)
    molecules, images = [], []
    classes = analyzer.classes
    truth = classes.of_tsite(item.tsite)
    base = {
        "model": item.model,
        "conformation": item.conformation,
        "dose": item.dose,
        "true_tsite": item.tsite,
        "true_class": " / ".join(sorted(truth)),
        "field": item.field,
    }
    for observer, (llr, index, detected, temperature) in observers.items():
        for n in index:
            scored = n >= 0 and n in detected and np.isfinite(llr[n]).any()  # a hypothesis there at all
            posterior = _class_posterior(llr[n], classes, temperature) if scored else {}
            molecules.append({"observer": observer, **base, **_scored(posterior, truth)})
        if item.field == "full" and len(centres):
            # the pipeline weighs every site by its occupancy and discounts the references' shared
            # error; the ideal observer knows the molecules and that its references are exact
            pipeline = observer == "pipeline" and found is not None
            occupancy = calibration.occupancy_prior if observer == "pipeline" else None
            correlation = found.scores.correlation if pipeline else 0.0
            called = len(llr) and len(detected)  # no molecule found, no call
            shared = (
                shared_class_posterior(llr, classes, temperature, occupancy, correlation) if called else {}
            )
            images.append(
                {"observer": observer, **base, "molecules": len(detected), **_scored(shared, truth)}
            )
    occupancy = {
        "model": item.model,
        "dose": item.dose,
        "truth": boxes,
        "boxes": np.zeros((0, 4)) if found is None else found.scores.boxes_xyxy(site_centres),
        "scores": bayes,
        "empty_alarms": int(np.sum(np.delete(bayes > calibration.occupancy_threshold, at[at >= 0]))),
        "empty_sites": int(len(bayes) - np.sum(at >= 0)),
    }
    return molecules, images, occupancy


def lattice_or_none(image: np.ndarray, pixel_size_A: float, analyzer: Analyzer, name: str):
    """The analysis, or None (with a log line) where the image's lattice cannot be found."""
    try:
        return analyze_lattice(image, pixel_size_A, analyzer, name)
    except InputError as exc:
        print(f"no analysis: {exc}")
        return None


def _class_posterior(llr_row: np.ndarray, classes: Classes, temperature: float) -> dict[str, float]:
    p = class_posteriors(llr_row[None], classes, temperature)[0]
    return dict(zip(classes.names, p.tolist(), strict=True))


def _scored(posterior: dict[str, float], truth: set[str]) -> dict:
    if not posterior:
        return {
            "detected": False,
            "predicted_class": "",
            "confidence": 0.0,
            "p_true": 0.0,
            "top1": 0.0,
            "top3": 0.0,
        }
    top = max(posterior, key=posterior.get)
    return {
        "detected": True,
        "predicted_class": top,
        "confidence": posterior[top],
        "p_true": sum(posterior.get(t, 0.0) for t in truth),
        "top1": topk_credit(posterior, truth, 1),
        "top3": topk_credit(posterior, truth, 3),
    }


def evaluate(
    analyzer: Analyzer, images: list[TruthImage], workers: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-molecule and per-image rows of both observers, and occupancy metrics per dose."""
    molecules, image_rows, occupancy = [], [], []
    results = forked_map(lambda item: evaluate_image(item, analyzer), images, workers, "identifiability")
    for m, i, o in results:
        molecules += m
        image_rows += i
        occupancy.append(o)
    return pd.DataFrame(molecules), pd.DataFrame(image_rows), occupancy_metrics(occupancy)


def occupancy_metrics(records: list[dict]) -> pd.DataFrame:
    """COCO AP / AP50 / AR@100 of the lattice's occupancy detections and false alarms per empty site."""
    rows = []
    for model, dose in sorted({(r["model"], r["dose"]) for r in records}):
        group = [r for r in records if r["dose"] == dose and r["model"] == model]
        metrics = coco_metrics([r["truth"] for r in group], [(r["boxes"], r["scores"]) for r in group])
        empty = sum(r["empty_sites"] for r in group)
        alarms = sum(r["empty_alarms"] for r in group)
        rows.append(
            {"method": "lattice", "model": model, "dose": dose, "images": len(group), **metrics,
             "empty_sites": empty, "false_alarms_per_empty_site": alarms / max(empty, 1)}
        )  # fmt: skip
    return pd.DataFrame(rows)


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


def summarise(molecules: pd.DataFrame, images: pd.DataFrame) -> pd.DataFrame:
    """Top-1 / top-3 with 95 % intervals clustered by conformation (:func:`clustered_interval`) per
    observer, level and dose; ECE of the detected molecules; how many calls were made with
    probability ≥ ``SURE`` and how many of them were right (a promise a paper would quote).

    ``top1`` counts an undetected molecule as a miss; ``top1_detected`` is the matcher's accuracy on
    the molecules that were detected.
    """
    out = []
    for level, rows in (("molecule", molecules), ("image", images)):
        for (model, observer, dose), group in rows.groupby(["model", "observer", "dose"]):
            n = len(group)
            top1, top3 = group["top1"].sum(), group["top3"].sum()
            detected = group[group["detected"]]
            hits, m = detected["top1"].sum(), len(detected)
            top1_ci = clustered_interval(group["top1"], group["conformation"])
            top3_ci = clustered_interval(group["top3"], group["conformation"])
            detected_ci = clustered_interval(detected["top1"], detected["conformation"])
            sure = detected[detected["confidence"] >= SURE]
            ece = expected_calibration_error(detected["confidence"].to_numpy(), detected["top1"].to_numpy())
            out.append(
                {"model": model, "observer": observer, "level": level, "dose": dose, "n": n,
                 "detected": int(len(detected)),
                 "clusters": int(group["conformation"].nunique()),
                 "top1": top1 / n, "top1_low": top1_ci[0], "top1_high": top1_ci[1],
                 "top3": top3 / n, "top3_low": top3_ci[0], "top3_high": top3_ci[1],
                 "top1_detected": hits / m if m else float("nan"),
                 "top1_detected_low": detected_ci[0], "top1_detected_high": detected_ci[1],
                 "mean_confidence": float(detected["confidence"].mean()) if len(detected) else float("nan"),
                 "ece": ece, "sure_calls": len(sure), "sure_right": float(sure["top1"].sum())}
            )  # fmt: skip
    return pd.DataFrame(out)


def f1_threshold(scores: np.ndarray, occupied: np.ndarray) -> float:
    """The occupancy threshold with the best F1 of molecules vs empty sites.

    Empty sites outnumber molecules many times over, so this keeps false molecules (each votes for a
    T-site at random) rare, without the cost in missed molecules of a fixed false-alarm rate.
    """
    order = np.argsort(-scores)
    true_pos = np.cumsum(occupied[order])
    false_pos = np.cumsum(~occupied[order])
    f1 = 2 * true_pos / (2 * true_pos + false_pos + (occupied.sum() - true_pos))
    best = int(np.argmax(f1))
    below = scores[order[best + 1]] if best + 1 < len(order) else scores[order[best]] - 1.0
    return float((scores[order[best]] + below) / 2)


def calibrate(
    references,
    images: list[TruthImage],
    class_dose: float,
    class_dprime: float,
    model_error: float = 0.0,
    model_error_source: str = "none",
    workers: int = 1,
) -> dict:
    """Dose constant, identifiable classes (d′ < ``class_dprime`` per molecule at ``class_dose``),
    temperature and occupancy threshold from validation images (true molecules known), with the
    likelihood's model-error variance ``model_error`` (reference units) in place. The temperature is
    fitted on the ``realistic`` images where there are any (structures no reference was made from),
    the dose constant on the ``matched`` ones (simulated as the references were: their scale is 1)."""
    analyzer = Analyzer(references, Calibration(1.0, 0.0, 0.5, 0.0, None, model_error, model_error_source))
    llr_rows, truth, bayes, occupied, constants = [], [], [], [], []
    # the temperature measures the references' error on structures they were not made from (where
    # there are any); the dose constant needs images simulated as the references were (scale 1)
    realistic = any(item.model == "realistic" for item in images)
    matched = any(item.model == "matched" for item in images)
    records = forked_map(lambda item: _validation_record(item, analyzer), images, workers, "calibration")
    for item, record in zip(images, records, strict=True):
        if record is None:
            continue
        if item.model == "realistic" or not realistic:
            llr_rows += record["llr_rows"]
            truth += record["truth"]
        bayes.append(record["scores"])
        occupied.append(record["occupied"])
        if item.model == "matched" or not matched:
            constants.append(record["dose_constant"])
    dose_constant = float(np.median(constants))
    record = derive_classes(references, analyzer.placements, dose_constant, class_dose, class_dprime)
    classes = Classes.from_record(record, references)
    truth_mask = np.array([[c in classes.of_tsite(t) for c in classes.names] for t in truth])
    temperature = calibrate_temperature(np.array(llr_rows).reshape(len(truth), -1), truth_mask, classes)
    scores = np.concatenate([s.log_bayes_factor(temperature) for s in bayes])
    labels = np.concatenate(occupied)
    threshold = f1_threshold(scores, labels)
    warning = None
    if at_grid_edge(temperature):
        warning = (
            f"the calibrated temperature {temperature:g} sits at the top of its grid: on the validation "
            "images the likelihoods carried no usable confidence, so the probabilities are not calibrated"
        )
    return {
        "temperature": temperature,
        "occupancy_threshold": threshold,
        "occupancy_prior": float(labels.mean()),
        "dose_constant": dose_constant,
        "warning": warning,
        "model_error": model_error,
        "model_error_source": model_error_source,
        "classes": record,
        "molecules": len(truth),
        "sites": int(len(labels)),
        "occupancy_f1": _f1_at(scores, labels, threshold),
    }


def _validation_record(item: TruthImage, analyzer: Analyzer) -> dict | None:
    """One validation image's part of the calibration (None when it has no lattice): every candidate's
    LLR at every true molecule's site where a hypothesis sits, with the true T-site; the sites'
    scores and which hold a molecule; and the image's dose constant."""
    references = analyzer.references
    noisy, meta = read_image(item.noisy)
    found = lattice_or_none(noisy, meta["pixel_size_A"], analyzer, item.noisy)
    if found is None:
        return None
    centres, _ = true_molecules(item.labels, noisy.shape, references.cell_px)
    tolerance = MATCH_A / np.mean(references.pixel_size_A)
    at = nearest_site(centres, found.frame.to_input(found.scores.centres_px), tolerance)
    at = at[at >= 0]
    mine = [k for k, t in enumerate(references.tsites) if t == item.tsite]
    competing = [n for n in at if np.isfinite(found.scores.llr[n, mine]).any()]  # the truth competes there
    occupied = np.zeros(len(found.scores.llr), bool)
    occupied[at] = True
    return {
        "llr_rows": [found.scores.llr[n] for n in competing],
        "truth": [item.tsite] * len(competing),
        "scores": found.scores,
        "occupied": occupied,
        "dose_constant": found.scores.noise_variance * item.dose / found.scores.scale**2,
    }


def _f1_at(scores: np.ndarray, occupied: np.ndarray, threshold: float) -> float:
    taken = scores > threshold
    tp = int(np.sum(taken & occupied))
    return 2 * tp / max(2 * tp + int(np.sum(taken & ~occupied)) + int(np.sum(~taken & occupied)), 1)
