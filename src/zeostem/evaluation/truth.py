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
    """A simulated image of one conformation: ``field`` is ``full`` (every cell), ``mosaic`` or
    ``molecule-free`` (its framework without the molecule); ``model`` is ``matched`` (simulated as
    the references were) or ``mismatched`` (other settings); ``structure`` names the structure simulated
    where it is not the conformation's own (a realistic structure of it; empty: the conformation's)."""

    conformation: str
    tsite: str
    dose: int
    noisy: str
    clean: str
    labels: str
    field: str
    model: str = "matched"
    structure: str = ""


MISSED = "missed"  # what a true molecule no reported site lies on is named


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
    inside = [m for m in labels["molecules"] if _inside(m, shape, cell_px)]
    centres = [_centre(m) for m in inside]
    return np.array(centres).reshape(-1, 2), np.array([m["bbox_xyxy"] for m in inside], float).reshape(-1, 4)


def edge_molecules(labels_path: str, shape: tuple[int, int], cell_px: np.ndarray) -> np.ndarray:
    """Centres of the molecules :func:`true_molecules` leaves out (their window crosses the image's
    edge): sites on them are neither a detection's hit nor its false alarm (an ignore region, as
    COCO's crowd boxes)."""
    with open(labels_path) as f:
        edge = [_centre(m) for m in json.load(f)["molecules"] if not _inside(m, shape, cell_px)]
    return np.array(edge).reshape(-1, 2)


def near(sites: np.ndarray, centres: np.ndarray, tolerance_px: float) -> np.ndarray:
    """Which ``sites`` lie within ``tolerance_px`` of any of ``centres``."""
    if not len(centres) or not len(sites):
        return np.zeros(len(sites), bool)
    return np.linalg.norm(np.asarray(sites)[:, None] - centres[None], axis=-1).min(axis=1) <= tolerance_px


def _centre(molecule: dict) -> np.ndarray:
    x0, y0, x1, y1 = molecule["bbox_xyxy"]
    return np.array([(y0 + y1) / 2, (x0 + x1) / 2])


def _inside(molecule: dict, shape: tuple[int, int], cell_px: np.ndarray) -> bool:
    c = _centre(molecule)
    return bool(
        not molecule["truncated"]
        and np.all(c - cell_px / 2 >= 0)
        and np.all(c + cell_px / 2 <= np.array(shape) - 1)
    )


def nearest_site(centres: np.ndarray, sites: np.ndarray, tolerance_px: float) -> np.ndarray:
    """Index of the site at each centre (−1 where none lies within ``tolerance_px``)."""
    if not len(sites):
        return np.full(len(centres), -1)
    d = np.linalg.norm(centres[:, None, :] - sites[None, :, :], axis=-1)
    best = d.argmin(axis=1)
    return np.where(d[np.arange(len(centres)), best] <= tolerance_px, best, -1)
