"""What simulated images with known truth hold: their files, conformation and T-site, and the molecules
inside them."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from zeostem.analysis.likelihood import SITE_RADIUS_A

MATCH_A = SITE_RADIUS_A  # a site within this distance of a true molecule's centre is that molecule's


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
