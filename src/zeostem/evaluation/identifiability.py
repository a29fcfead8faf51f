"""How identifiable is the Al site? Calibration of the analysis and its evaluation on images with known truth.

Three observers score every molecule of simulated images:
* ``pipeline`` — what users get: lattice fit, resampling, registration, noise level and occupancy all
  estimated from the image, calibrated temperature;
* ``ideal`` — the same per-cell likelihood with the registration, intensity scale and noise level
  known and the molecule's site given (temperature 1): the Bayes-optimal observer of one cell under
  the simulation's own model, i.e. the upper bound;
* ``ideal_detecting`` — the ideal observer that must find the molecules itself, at the pipeline's
  share of false alarms (:func:`ideal_detecting`): the bound of the pipeline's task.
With the run's trained models, a fourth: ``paper`` — the paper's path, ClearSTEM → Faster R-CNN boxes →
SSIM against every candidate (``zeostem.evaluation.paper_path``), which gives no probability; and its
SSIM step alone, on every molecule's own box (``paper_matching``).
A molecule an observer does not detect counts as a miss; a tie at the top gets 1/k credit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeostem.analysis.analyzer import Analyzer, analyze_lattice
from zeostem.analysis.classes import Classes
from zeostem.analysis.fourier import spectral_gradient
from zeostem.analysis.likelihood import KNOWN, Hypotheses, SiteScores, hypotheses, molecule_sites, sites_at
from zeostem.analysis.posterior import (
    as_reported,
    class_log_likelihoods,
    class_posteriors,
    image_class_posterior,
    shared_class_posterior,
    topk_credit,
)
from zeostem.errors import InputError
from zeostem.evaluation.coverage import al_coverage
from zeostem.evaluation.paper_path import PaperPath, paper_calls, paper_row
from zeostem.evaluation.stats import calibration_test, cluster_robust_interval, clustered_interval
from zeostem.evaluation.truth import MATCH_A, TruthImage, edge_molecules, near, nearest_site, true_molecules
from zeostem.io.images import read_image
from zeostem.metrics.detection import coco_metrics
from zeostem.parallel import forked_map

SURE = 0.95  # a call made with at least this probability is one a user would publish
FALSE_ALARM_RATE = 0.05  # detectors compared by their recall where this share of empty sites alarm


def ideal_hypotheses(noisy: np.ndarray, clean: np.ndarray, analyzer: Analyzer) -> Hypotheses:
    """Every hypothesis of the image with the registration (the simulation's origin), the scale (1) and
    the noise level (from the clean image) known."""
    variance = float(np.mean(spectral_gradient(noisy - clean) ** 2))
    valid = np.ones(noisy.shape, bool)
    return hypotheses(noisy, valid, analyzer.references, KNOWN, analyzer.placements, variance, 1.0)


def ideal_scores(noisy: np.ndarray, clean: np.ndarray, centres: np.ndarray, analyzer: Analyzer) -> SiteScores:
    """Likelihoods at the true molecule centres, geometry and noise known (:func:`ideal_hypotheses`)."""
    return sites_at(ideal_hypotheses(noisy, clean, analyzer), centres, analyzer.references)


def occupancy_record(
    method: str, item: TruthImage, truth: tuple, sites: tuple, threshold: float, tolerance_px: float
) -> dict:
    """One detector's sites of one image against the true molecules: ``truth`` = (centres, boxes, edge
    molecules' centres), ``sites`` = (centres, boxes, scores); its alarms at ``threshold`` on sites with
    no molecule. Sites on edge molecules are left out (``zeostem.evaluation.truth.edge_molecules``)."""
    centres, boxes, edge = truth
    counted = ~near(sites[0], edge, tolerance_px)
    site_centres, site_boxes, scores = (x[counted] for x in sites)
    at = nearest_site(centres, site_centres, tolerance_px)
    empty = np.delete(scores, at[at >= 0])
    return {
        "method": method,
        "model": item.model,
        "dose": item.dose,
        "truth": boxes,
        "boxes": site_boxes,
        "scores": scores,
        "truth_scores": np.where(at >= 0, scores[np.maximum(at, 0)] if len(scores) else -np.inf, -np.inf),
        "empty_scores": empty,
        "empty_alarms": int(np.sum(empty > threshold)),
        "empty_sites": len(empty),
    }


def evaluate_image(
    item: TruthImage, analyzer: Analyzer, ideal_observer: bool = True, paper: PaperPath | None = None
) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """Molecule rows (the pipeline's and the ideal observer's, the latter with the ideal detector's
    ``site_score``, or the pipeline's only; the paper's path's with ``paper``), image rows (full fields), the
    occupancy records of one image (the lattice's, and the ideal detector's with the ideal observer)
    and, for a full field, what its Al distribution is computed from (``zeostem.evaluation.coverage``:
    the reported molecules' evidence, which of them is each true molecule's and which are false alarms)."""
    refs, calibration = analyzer.references, analyzer.calibration
    noisy, meta = read_image(item.noisy)
    clean, _ = read_image(item.clean)
    tolerance = MATCH_A / np.mean(refs.pixel_size_A)
    centres, boxes = true_molecules(item.labels, noisy.shape, refs.cell_px)
    edge = edge_molecules(item.labels, noisy.shape, refs.cell_px)
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
        detected, bayes = found.molecules.tolist(), found.log_bayes_factor
    at = nearest_site(centres, site_centres, tolerance)
    observers = {"pipeline": (pipeline_llr, at, set(detected), calibration.temperature)}
    threshold = calibration.occupancy_threshold if found is None else found.occupancy_threshold
    site_boxes = np.zeros((0, 4)) if found is None else found.scores.boxes_xyxy(site_centres)
    # the lattice detects only in cells the framework explains (elsewhere a site is none of the candidates)
    explained = np.ones(0, bool) if found is None else found.scores.explained
    lattice = (site_centres[explained], site_boxes[explained], bayes[explained])
    detections = [occupancy_record("lattice", item, (centres, boxes, edge), lattice, threshold, tolerance)]
    site_scores = np.zeros(len(centres))  # the ideal detector's score at each true molecule's site
    if ideal_observer:
        found_ideal = ideal_hypotheses(noisy.astype(np.float64), clean.astype(np.float64), analyzer)
        ideal = sites_at(found_ideal, centres, refs)
        observers["ideal"] = (ideal.llr, np.arange(len(centres)), set(range(len(ideal.llr))), 1.0)
        ideal_records = ideal_detectors(found_ideal, item, (centres, boxes, edge), analyzer, tolerance)
        site_scores = ideal_records[0]["truth_scores"]
        detections += ideal_records
    molecules, images, fields = [], [], []
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
            site = {"site_score": float(site_scores[n])} if observer == "ideal" else {}
            molecules.append({"observer": observer, **base, **_scored(posterior, truth), **site})
        if item.field == "full" and len(centres):
            # the pipeline's call is its report's; the ideal observer knows the molecules and that its
            # references are exact
            if observer != "pipeline":
                shared = shared_class_posterior(llr, classes, temperature)
            elif found is not None:
                dose = found.al_dose(None)[0]
                shared = image_class_posterior(found.scores, found.molecules, classes, calibration, dose)
            else:
                shared = {}
            images.append(
                {"observer": observer, **base, "molecules": len(detected), **_scored(shared, truth)}
            )
    if paper is not None:  # the whole path, and its SSIM step alone on the molecules' own boxes
        denoised, frcnn_boxes, frcnn_scores = paper.boxes(noisy)
        for observer, (found_boxes, scores) in {
            "paper": (frcnn_boxes, frcnn_scores),
            "paper_matching": (boxes, np.ones(len(boxes))),
        }.items():
            for call in paper_calls(denoised, found_boxes, scores, boxes, refs, classes):
                molecules.append({"observer": observer, **base, **paper_row(call, truth)})
    if item.field == "full" and found is not None:
        answering = found.scores.answering_llr[found.molecules]
        class_ll = class_log_likelihoods(answering, classes, calibration.temperature)
        al_ll, efficiency, _ = as_reported(class_ll, classes, calibration, found.al_dose(None)[0])
        reported = found.molecules.tolist()
        true_rows = [reported.index(n) if n in reported else -1 for n in at]
        on_edge = near(site_centres[found.molecules], edge, tolerance)
        false_alarm_rows = [k for k in range(len(reported)) if k not in true_rows and not on_edge[k]]
        fields.append({**base, "classes": sorted(truth), "molecules": len(centres),
                       "class_log_likelihood": class_ll, "al_log_likelihood": al_ll,
                       "true_rows": true_rows, "false_alarm_rows": false_alarm_rows,
                       "efficiency": efficiency})  # fmt: skip
    return molecules, images, detections, fields


def ideal_detectors(
    found: Hypotheses, item: TruthImage, truth: tuple, analyzer: Analyzer, tolerance_px: float
) -> list[dict]:
    """The ideal detector's sites of one image (geometry and noise known): ``ideal`` scores each site by
    molecule vs empty, every candidate and placement marginalised; ``ideal_pose_known`` by the true
    candidate alone (where the image's conformation is a reference's)."""
    refs, threshold = analyzer.references, analyzer.calibration.occupancy_threshold_at(item.dose)
    sites = molecule_sites(found, refs)
    records = [
        occupancy_record(
            "ideal", item, truth, (sites.centres_px, sites.boxes_xyxy(), sites.log_bayes_factor()), threshold,
            tolerance_px,
        )
    ]  # fmt: skip
    names = [c.conformation for c in refs.candidates]
    if item.conformation in names:
        k = names.index(item.conformation)
        scores = (sites.centres_px, sites.boxes_xyxy(candidate=k), sites.llr[:, k])
        records.append(occupancy_record("ideal_pose_known", item, truth, scores, threshold, tolerance_px))
    return records


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
    analyzer: Analyzer, images: list[TruthImage], workers: int = 1, paper: PaperPath | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-molecule and per-image rows of the observers, occupancy metrics per dose, and the Al
    distribution's coverage on stacks of the full fields."""
    molecules, image_rows, occupancy, fields = [], [], [], []
    results = forked_map(
        lambda item: evaluate_image(item, analyzer, paper=paper), images, workers, "identifiability"
    )
    for m, i, o, f in results:
        molecules += m
        image_rows += i
        occupancy += o
        fields += f
    coverage = al_coverage(fields, analyzer.classes.names, analyzer.classes.tsites)
    molecules = pd.DataFrame(molecules)
    if "site_score" in molecules:
        molecules = pd.concat([molecules, ideal_detecting(molecules, occupancy)], ignore_index=True)
    return molecules, pd.DataFrame(image_rows), occupancy_metrics(occupancy), coverage


IDEAL_DETECTING = "ideal_detecting"


def ideal_detecting(molecules: pd.DataFrame, records: list[dict]) -> pd.DataFrame:
    """The ideal observer that is not told where the molecules are (``IDEAL_DETECTING``): per model and
    dose, it names the molecules the ideal detector finds — whose ``site_score`` exceeds the threshold
    at which as large a share of the empty sites alarm as the lattice detector's do at its calibrated
    threshold — as the ideal observer does, and misses the rest. The pipeline faces the same task: the
    bound its per-molecule top-1 can reach at the false alarms it makes (the ``ideal`` observer, told
    where every molecule is, names even those no detector can tell from an empty site)."""
    parts = []
    ideal = molecules[molecules["observer"] == "ideal"]
    for (model, dose), group in ideal.groupby(["model", "dose"]):
        mine = [r for r in records if (r["model"], r["dose"]) == (model, dose)]
        lattice = [r for r in mine if r["method"] == "lattice"]
        rate = sum(r["empty_alarms"] for r in lattice) / max(sum(r["empty_sites"] for r in lattice), 1)
        empty = np.concatenate([r["empty_scores"] for r in mine if r["method"] == "ideal"])
        threshold = np.quantile(empty, 1 - rate) if len(empty) else -np.inf
        found = group["site_score"] > threshold
        missed = group[~found].assign(**_scored({}, set()))
        parts.append(pd.concat([group[found], missed]).assign(observer=IDEAL_DETECTING))
    return pd.concat(parts) if parts else ideal.iloc[:0]


def occupancy_metrics(records: list[dict]) -> pd.DataFrame:
    """Per detector (the lattice's occupancy, the ideal detector's), model and dose: COCO AP / AP50 /
    AR@100, false alarms per empty site at the calibrated threshold, and the recall where
    ``FALSE_ALARM_RATE`` of the empty sites alarm (a molecule with no site counts as missed)."""
    rows = []
    for method, model, dose in sorted({(r["method"], r["model"], r["dose"]) for r in records}):
        group = [r for r in records if (r["method"], r["model"], r["dose"]) == (method, model, dose)]
        metrics = coco_metrics([r["truth"] for r in group], [(r["boxes"], r["scores"]) for r in group])
        empty = sum(r["empty_sites"] for r in group)
        alarms = sum(r["empty_alarms"] for r in group)
        rows.append(
            {"method": method, "model": model, "dose": dose, "images": len(group), **metrics,
             "empty_sites": empty, "false_alarms_per_empty_site": alarms / max(empty, 1),
             "recall_at_fixed_false_alarms": recall_at_false_alarms(group, FALSE_ALARM_RATE)}
        )  # fmt: skip
    return pd.DataFrame(rows)


def recall_at_false_alarms(records: list[dict], rate: float) -> float:
    """Share of the true molecules scored above the threshold that ``rate`` of the empty sites exceed."""
    empty = np.concatenate([r["empty_scores"] for r in records])
    truth = np.concatenate([r["truth_scores"] for r in records])
    if not len(truth):
        return float("nan")
    threshold = np.quantile(empty, 1 - rate) if len(empty) else -np.inf
    return float(np.mean(truth > threshold))


def summarise(molecules: pd.DataFrame, images: pd.DataFrame) -> pd.DataFrame:
    """Top-1 / top-3 with 95 % intervals clustered by conformation (:func:`clustered_interval`) per
    observer, level and dose; ECE of the detected molecules beside a calibrated tool's at the same
    confidences and its p-value, calls of one conformation erring together (:func:`calibration_test`); the
    confidence gap, accuracy − mean confidence of the calls (above 0: under-confident), with its 95 %
    interval clustered by conformation (calls of one structure err together); how many calls were made with
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
            rated = detected[detected["confidence"].notna()]  # the paper's path gives no probability
            ece, ece_chance, ece_p = calibration_test(
                rated["confidence"], rated["top1"], rated["conformation"]
            )
            gap = rated["top1"] - rated["confidence"]  # above 0: under-confident
            gap_low, gap_high = cluster_robust_interval(gap, rated["conformation"])
            out.append(
                {"model": model, "observer": observer, "level": level, "dose": dose, "n": n,
                 "detected": int(len(detected)),
                 "clusters": int(group["conformation"].nunique()),
                 "top1": top1 / n, "top1_low": top1_ci[0], "top1_high": top1_ci[1],
                 "top3": top3 / n, "top3_low": top3_ci[0], "top3_high": top3_ci[1],
                 "top1_detected": hits / m if m else float("nan"),
                 "top1_detected_low": detected_ci[0], "top1_detected_high": detected_ci[1],
                 "mean_confidence": float(detected["confidence"].mean()) if len(detected) else float("nan"),
                 "ece": ece, "ece_chance": ece_chance, "ece_p": ece_p,
                 "confidence_gap": float(gap.mean()) if len(gap) else float("nan"),
                 "confidence_gap_low": gap_low, "confidence_gap_high": gap_high,
                 "sure_calls": len(sure), "sure_right": float(sure["top1"].sum())}
            )  # fmt: skip
    return pd.DataFrame(out)
