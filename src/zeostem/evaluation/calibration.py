"""Fitting the analysis's calibration (``zeostem.analysis.calibration``) on validation images with known
truth: dose constant, identifiable classes, temperature, occupancy threshold and false-alarm fits."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from zeostem.analysis.analyzer import Analyzer
from zeostem.analysis.calibration import Calibration
from zeostem.analysis.classes import Classes, derive_classes
from zeostem.analysis.posterior import (
    at_grid_edge,
    calibrate_temperature,
    class_log_likelihoods,
    detection_scores,
)
from zeostem.evaluation.identifiability import lattice_or_none
from zeostem.evaluation.truth import MATCH_A, TruthImage, nearest_site, true_molecules
from zeostem.io.images import read_image
from zeostem.parallel import forked_map


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


MIN_PER_KIND = 5  # a dose's false-alarm fit needs this many molecules and false alarms among its detections


def false_alarm_fit(scores: np.ndarray, molecule: np.ndarray) -> dict | None:
    """Logistic regression of "a molecule" on a detection's score (log likelihood ratio of any molecule
    against an empty site), its prior log odds among these detections taken out: the log Bayes factor
    of a molecule against a false alarm, intercept + slope × score, the slope at least 0. None with
    fewer than ``MIN_PER_KIND`` of either."""
    molecule = np.asarray(molecule, bool)
    if min(molecule.sum(), (~molecule).sum()) < MIN_PER_KIND:
        return None

    def loss(p):  # negative log-likelihood, a weak ridge keeping separable data finite
        z = p[0] + p[1] * scores
        return np.sum(np.logaddexp(0, z) - molecule * z) + 1e-3 * p[1] ** 2

    a, b = minimize(loss, [0.0, 1.0], method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-9}).x
    prior = np.log(molecule.mean() / (1 - molecule.mean()))
    if b < 0:  # a higher score is not less of a molecule: where the data say so, the score says nothing
        a, b = prior, 0.0  # (the demo's 500 e/Å² detections fitted −0.57: molecules and alarms alike)
    return {"intercept": float(a - prior), "slope": float(b), "detections": int(len(molecule)),
            "false_alarms": int((~molecule).sum())}  # fmt: skip


def false_alarm_fits(
    records: list[dict], classes: Classes, temperature: float, threshold: float
) -> list[dict]:
    """Per validation dose, :func:`false_alarm_fit` of the sites detected at ``threshold``."""
    fits = []
    for dose in sorted({r["dose"] for r in records}):
        scores, molecule = [], []
        for r in (r for r in records if r["dose"] == dose):
            sites = r["scores"]
            detected = (sites.log_bayes_factor(temperature) > threshold) & sites.explained
            class_ll = class_log_likelihoods(sites.answering_llr[detected], classes, temperature)
            scores.append(detection_scores(class_ll, classes))
            molecule.append(r["occupied"][detected])
        fit = false_alarm_fit(np.concatenate(scores), np.concatenate(molecule))
        if fit is not None:
            fits.append({"dose": dose, **fit})
    return fits


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
    analyzer = Analyzer(references, Calibration.uncalibrated(model_error, model_error_source))
    llr_rows, truth, bayes, occupied, constants, detection_records = [], [], [], [], [], []
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
        detection_records.append(
            {"dose": item.dose, "scores": record["scores"], "occupied": record["occupied"]}
        )
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
    fits = false_alarm_fits(detection_records, classes, temperature, threshold)
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
        "false_alarm_fits": fits,
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
