"""COCO detection labels from the simulation's molecule boxes (one category: ``molecule``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zeostem.io.images import read_image

MIN_BOX_PX = 4.0  # boxes cut by the image border to less than this are dropped


def coco_from_labels(images: list[dict]) -> dict:
    """``images``: dicts with ``file``, ``height``, ``width``, ``labels`` (a labels.json) and extra keys.

    Returns a COCO dict (images, annotations, categories) with unique, 1-based image and box ids.
    """
    coco = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "molecule"}]}
    seen = set()
    for image_id, entry in enumerate(images, start=1):
        if entry["file"] in seen:
            raise ValueError(f"image {entry['file']} listed twice")
        seen.add(entry["file"])
        extra = {k: v for k, v in entry.items() if k not in ("file", "labels", "height", "width")}
        coco["images"].append(
            {
                "id": image_id,
                "file_name": entry["file"],
                "height": entry["height"],
                "width": entry["width"],
                **extra,
            }
        )
        for box in entry["labels"]["molecules"]:
            x0, y0, x1, y1 = box["bbox_xyxy"]
            if x1 - x0 < MIN_BOX_PX or y1 - y0 < MIN_BOX_PX:
                continue
            coco["annotations"].append(
                {
                    "id": len(coco["annotations"]) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "area": (x1 - x0) * (y1 - y0),
                    "iscrowd": 0,
                }
            )
    return coco


def boxes_of(coco: dict, image_id: int) -> np.ndarray:
    """The (N, 4) xyxy boxes of one image."""
    boxes = [a["bbox"] for a in coco["annotations"] if a["image_id"] == image_id]
    return np.array([[x, y, x + w, y + h] for x, y, w, h in boxes], dtype=np.float32).reshape(-1, 4)


def load_coco_images(path: str | Path) -> list[tuple[dict, np.ndarray, np.ndarray]]:
    """Every image of a COCO file written by the workflow: (its COCO entry, the image, its xyxy boxes)."""
    with open(path) as f:
        coco = json.load(f)
    return [
        (entry, read_image(entry["file_name"])[0], boxes_of(coco, entry["id"])) for entry in coco["images"]
    ]
