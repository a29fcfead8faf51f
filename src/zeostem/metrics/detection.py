"""Detection metrics with pycocotools: COCO AP (IoU .50:.95), AP50 and AR@100 for one class."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from zeostem.datasets.coco import coco_from_labels


def coco_metrics(
    truth: list[np.ndarray], predictions: list[tuple[np.ndarray, np.ndarray]]
) -> dict[str, float]:
    """``truth``: xyxy boxes per image; ``predictions``: (boxes xyxy, scores) per image."""
    dataset = coco_from_labels(
        [
            {
                "file": str(i),
                "height": 1,
                "width": 1,
                "labels": {"molecules": [{"bbox_xyxy": list(b)} for b in boxes]},
            }
            for i, boxes in enumerate(np.asarray(t, dtype=float).reshape(-1, 4) for t in truth)
        ]
    )
    detections = []
    for i, (boxes, scores) in enumerate(predictions):
        for box, score in zip(np.asarray(boxes).reshape(-1, 4), scores, strict=True):
            detections.append(
                {"image_id": i + 1, "category_id": 1, "score": float(score),
                 "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]}
            )  # fmt: skip
    if not dataset["annotations"]:
        raise ValueError("no ground-truth boxes to evaluate against")
    gt = COCO()
    gt.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        if not detections:
            return {"ap": 0.0, "ap50": 0.0, "ar100": 0.0}
        evaluation = COCOeval(gt, gt.loadRes(detections), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    stats = evaluation.stats
    return {"ap": float(max(stats[0], 0)), "ap50": float(max(stats[1], 0)), "ar100": float(max(stats[8], 0))}


def detection_table(faster_rcnn: list[dict], occupancy: pd.DataFrame) -> pd.DataFrame:
    """One table of both molecule detectors per dose: the paper's Faster R-CNN (``method`` =
    ``faster_rcnn``, one row per input) and the lattice's occupancy detections (``lattice``, on the
    raw image; its false alarms per empty site too), on the images simulated as the references were."""
    lattice = occupancy[occupancy["model"] == "matched"].drop(columns="model").assign(input="raw")
    table = pd.concat([pd.DataFrame(faster_rcnn).assign(method="faster_rcnn"), lattice], ignore_index=True)
    first = ["method", "input", "dose", "images", "ap", "ap50", "ar100"]
    return table[first + [c for c in table.columns if c not in first]]
