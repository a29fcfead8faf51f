"""Detection metrics with pycocotools: COCO AP (IoU .50:.95), AP50 and AR@100 for one class."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from zeostem.datasets.coco import coco_from_labels


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) intersection over union of xyxy boxes."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=-1)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=-1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


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


PAPER_CROP_PX = 128  # the paper trained and scored its detector on crops of this size around a molecule


def molecule_crops(
    image: np.ndarray, boxes: np.ndarray, size: int = PAPER_CROP_PX
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The paper's protocol: a ``size``² crop around each molecule (centred on it where the image
    allows, else moved inside the image; none where the image is smaller), with its truth — every box
    at least half inside the crop, clipped to it (the rule the detector's training crops follow). The
    demo's cells are smaller than the crop, so a crop holds its molecule and parts of its neighbours'."""
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    area = lambda b: np.prod(b[:, 2:] - b[:, :2], axis=1)  # noqa: E731
    height, width = image.shape
    if height < size or width < size:
        return []
    crops = []
    for x0, y0, x1, y1 in boxes:
        left = int(np.clip(round((x0 + x1 - size) / 2), 0, width - size))
        top = int(np.clip(round((y0 + y1 - size) / 2), 0, height - size))
        shifted = boxes - [left, top, left, top]
        clipped = np.clip(shifted, 0, size)
        crops.append(
            (image[top : top + size, left : left + size], clipped[area(clipped) >= 0.5 * area(shifted)])
        )
    return crops


def fixed_box_detections(
    truth: list[np.ndarray], shapes: list[tuple[int, int]], count: int = 100
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The trivial baseline a trained detector must beat: ``count`` boxes (COCO scores at most 100 per
    image) of the truth's median width and height on an even grid over each image, all with one score —
    a detector that learned the molecules' size and nothing about where they are. ``shapes``: (height,
    width) per image."""
    boxes = np.concatenate([np.asarray(t, dtype=float).reshape(-1, 4) for t in truth])
    width, height = np.median(boxes[:, 2] - boxes[:, 0]), np.median(boxes[:, 3] - boxes[:, 1])
    found = []
    for rows, cols in shapes:
        nx = max(1, round(np.sqrt(count * cols / rows)))
        x0, y0 = np.meshgrid(
            np.linspace(0, max(cols - width, 0), nx), np.linspace(0, max(rows - height, 0), count // nx)
        )
        x, y = x0.ravel(), y0.ravel()
        found.append((np.c_[x, y, x + width, y + height], np.ones(len(x))))
    return found


def detection_table(faster_rcnn: list[dict], fixed_box: list[dict], occupancy: pd.DataFrame) -> pd.DataFrame:
    """One table of the molecule detectors per dose: the paper's Faster R-CNN (``method`` =
    ``faster_rcnn``, one row per input), the fixed-box baseline it must beat (``fixed_box``, input
    ``none``: it never looks at the image), the lattice's occupancy detections (``lattice``, on the
    raw image; its false alarms per empty site and recall at a fixed false-alarm rate too) and the
    ideal detector's bound (``ideal``: geometry and noise known, every candidate marginalised;
    ``ideal_pose_known``: the true candidate alone), on the images simulated as the references were.
    ``protocol``: ``full field`` (every detector), or ``paper crops`` (the Faster R-CNN and the fixed
    boxes on :func:`molecule_crops`, where the paper reports its AP); ``faster_rcnn`` and ``fixed_box``
    rows name theirs."""
    lattice = occupancy[occupancy["model"] == "matched"].drop(columns="model").assign(input="raw")
    rows = [
        pd.DataFrame(faster_rcnn).assign(method="faster_rcnn"),
        pd.DataFrame(fixed_box).assign(method="fixed_box", input="none"),
        lattice.assign(protocol="full field"),
    ]
    table = pd.concat(rows, ignore_index=True)
    first = ["method", "input", "protocol", "dose", "images", "ap", "ap50", "ar100"]
    return table[first + [c for c in table.columns if c not in first]]
