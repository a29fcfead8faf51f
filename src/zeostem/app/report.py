"""One image's report: report.json (validated), denoised.tif, columns.csv and panel.png, written together."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np

from zeostem.analysis.posterior import (
    al_distribution,
    as_reported,
    class_log_likelihoods,
    class_posteriors,
    image_class_posterior,
    molecule_posteriors,
    ranking,
    shared_correlation,
    tsite_probabilities,
)
from zeostem.analysis.references import FLIPS
from zeostem.app.panel import panel
from zeostem.app.trained import ImageAnalysis, TrainedRun
from zeostem.io.atomic import atomic_folder
from zeostem.io.config import SCHEMA_DIR
from zeostem.io.images import write_image
from zeostem.io.micrographs import Micrograph
from zeostem.metrics.detection import iou_matrix
from zeostem.models.detector import FRCNN_MIN_SCORE

AGREEMENT_IOU = 0.5


def validate_report(report: dict) -> None:
    schema = json.loads((SCHEMA_DIR / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report)


def lattice_boxes(analysis: ImageAnalysis) -> np.ndarray:
    """xyxy boxes (reference grid) of the detected molecules: the best candidate's box at its site."""
    return analysis.lattice.scores.boxes_xyxy()[analysis.lattice.molecules]


def to_input_box(box: np.ndarray, analysis: ImageAnalysis) -> list[float]:
    """A reference-grid xyxy box → the bounding xyxy box of its corners in the input's pixels."""
    x0, y0, x1, y1 = box
    corners = np.array([[y0, x0], [y0, x1], [y1, x0], [y1, x1]])
    rc = analysis.lattice.frame.to_input(corners)
    return [float(rc[:, 1].min()), float(rc[:, 0].min()), float(rc[:, 1].max()), float(rc[:, 0].max())]


def report_fields(analysis: ImageAnalysis, trained: TrainedRun, micrograph: Micrograph) -> dict:
    """Everything report.json says about the image (without its id and file)."""
    lat = analysis.lattice
    analyzer = trained.analyzer
    refs, calibration = analyzer.references, analyzer.calibration
    temperature = calibration.temperature
    classes = analyzer.classes
    llr = lat.scores.llr[lat.molecules]
    posteriors = molecule_posteriors(llr, classes, temperature)
    per_class = class_posteriors(llr, classes, temperature)
    class_ll = class_log_likelihoods(llr, classes, temperature)
    looked_up_at, dose_note = lat.al_dose(micrograph.dose_e_per_A2)
    al_ll, efficiency, false_alarm_fit = as_reported(class_ll, classes, calibration, looked_up_at)
    boxes = lattice_boxes(analysis)
    image_posterior = image_class_posterior(lat.scores, lat.molecules, classes, calibration, looked_up_at)
    molecules = []
    for i, n in enumerate(lat.molecules):
        order = np.argsort(-posteriors[i])
        best = int(order[0])
        centre = lat.frame.to_input(lat.scores.centres_px[n][None])[0]
        molecules.append(
            {
                "centre_px": [float(centre[1]), float(centre[0])],
                "centre_reference_px": [float(v) for v in lat.scores.centres_px[n]],
                "box_xyxy": to_input_box(boxes[i], analysis),
                "log_bayes_factor": float(lat.log_bayes_factor[n]),
                "placement": analyzer.placements[int(lat.scores.placement[n, best])].operation,
                "conformations": [
                    {
                        "conformation": refs.conformations[k],
                        "tsite": refs.tsites[k],
                        "probability": float(posteriors[i, k]),
                        "log_likelihood_ratio": float(llr[i, k]),
                    }
                    for k in order
                    if np.isfinite(llr[i, k])
                ],  # fmt: skip
                "classes": ranking(dict(zip(classes.names, per_class[i].tolist(), strict=True))),
                "class_log_likelihood": {
                    c: float(v) for c, v in zip(classes.names, class_ll[i], strict=True)
                },
                "al_log_likelihood": {c: float(v) for c, v in zip(classes.names, al_ll[i], strict=True)},
            }
        )
    frcnn = analysis.frcnn_scores >= FRCNN_MIN_SCORE
    frcnn_boxes = analysis.frcnn_boxes[frcnn]
    overlap = iou_matrix(boxes, frcnn_boxes) >= AGREEMENT_IOU
    physical = lat.fit.physical()
    return {
        "pixel_size_A": float(micrograph.pixel_size_A),
        "input": micrograph.record(),
        "model_pixel_size_A": float(np.mean(refs.pixel_size_A)),
        "lattice": {**physical, "matrix": lat.fit.matrix.tolist()},
        "registration": {
            "operation": lat.registration.operation,
            "origin_px": [float(v) for v in lat.registration.origin_px],
            "correlation": lat.registration.correlation,
            "contrast_inverted": lat.contrast_inverted,
            "flip": list(FLIPS[lat.registration.operation]),
        },
        "noise": {
            "gradient_variance": lat.scores.noise_variance,
            "intensity_scale": lat.scores.scale,
            "dose_estimate_e_per_A2": lat.dose_estimate,
            "dose_stated_e_per_A2": micrograph.dose_e_per_A2,
            "efficiency_dose_e_per_A2": looked_up_at,
            "dose_note": "; ".join(filter(None, [lat.dose_note, dose_note])) or None,
        },
        "calibration": {
            "temperature": temperature,
            "occupancy_threshold": lat.occupancy_threshold,
            "false_alarm_rate": calibration.false_alarm_rate,
            "occupancy_prior": calibration.occupancy_prior,
            "warning": calibration.warning,
            "model_error_variance": calibration.model_error,
            "model_error_source": calibration.model_error_source,
            "false_alarm_fit": false_alarm_fit,
            "detection_efficiency": None
            if efficiency is None
            else {c: e.tolist() for c, e in zip(classes.names, efficiency.counts, strict=True)},
        },
        "sites_analysed": int(len(lat.log_bayes_factor)),
        "molecule_evidence": lat.molecule_evidence,
        "molecules": molecules,
        "classes": [
            {"class": c, "tsites": t, "split_identified": classes.split_identified(c)}
            for c, t in zip(classes.names, classes.tsites, strict=True)
        ],
        "shared_error_correlation": shared_correlation(lat.scores, calibration, looked_up_at),
        "goodness_of_fit": lat.goodness_of_fit,
        "class_ranking": ranking(image_posterior),
        "tsite_probability": tsite_probabilities(image_posterior, classes),
        "al_distribution": al_distribution(al_ll, classes.names, classes.tsites, efficiency=efficiency),
        "faster_rcnn": {
            "boxes": [
                {"box_xyxy": to_input_box(b, analysis), "score": float(s)}
                for b, s in zip(frcnn_boxes, analysis.frcnn_scores[frcnn], strict=True)
            ],
            "lattice_detections_confirmed": int(overlap.any(axis=1).sum()),
            "boxes_on_lattice_detections": int(overlap.any(axis=0).sum()),
        },
        "models": trained.models,
    }


def write_report(
    out_dir: str | Path,
    image_id: str,
    input_file: str,
    analysis: ImageAnalysis,
    trained: TrainedRun,
    micrograph: Micrograph,
) -> dict:
    """Write one image's report folder.

    Parameters
    ----------
    out_dir
        The report folder; it appears whole or not at all (built in a temporary folder).
    image_id, input_file
        The image's id and the file it was read from.
    analysis, trained, micrograph
        What :func:`zeostem.app.trained.analyze` found, with the run and the input it used.

    Returns
    -------
    dict
        ``report.json``, validated against its schema; beside it ``panel.png``, ``denoised.tif`` and
        ``columns.csv``.
    """
    out_dir = Path(out_dir)
    report = {
        "image": image_id,
        "input_file": str(input_file),
        **report_fields(analysis, trained, micrograph),
    }
    validate_report(report)
    with atomic_folder(out_dir) as tmp:
        (tmp / "report.json").write_text(json.dumps(report, indent=1))
        pixel = report["model_pixel_size_A"]
        write_image(
            tmp / "denoised.tif", analysis.denoised, {"pixel_size_xy_A": [pixel, pixel], "image": image_id}
        )
        columns = analysis.columns.copy()
        rc = analysis.lattice.frame.to_input(columns[["y_px", "x_px"]].to_numpy(float))
        columns["x_input_px"], columns["y_input_px"] = rc[:, 1], rc[:, 0]
        columns.to_csv(tmp / "columns.csv", index=False)
        panel(report, analysis, lattice_boxes(analysis), tmp / "panel.png")
    return report
