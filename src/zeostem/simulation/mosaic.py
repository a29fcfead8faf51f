"""Fields of view in which only some cells hold a molecule (variety for training the detector).

Two periodic simulations of the *same* cell are combined: the conformation, and the same structure
with the molecule removed (Al and acid H kept). Their segment signals differ only near the molecule,
so the seams between them are placed where the two agree: the field of view is cut into cell-sized
windows centred on each molecule's box, which puts every seam half a cell away from any molecule.
The residual seam error is measured against a multislice of the whole mosaic in the tests and in
``benchmarks/simulation.py``.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from zeostem.simulation.images import FieldOfView


def without_molecule(atoms: Atoms) -> Atoms:
    """The conformation's framework (with its Al and acid H): the molecule's atoms removed."""
    return atoms[atoms.arrays["site"] != "molecule"]


def occupancy(cells: tuple[int, int], fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Random (rows, cols) mask of cells that hold a molecule; at least one holds one, one does not."""
    n = cells[0] * cells[1]
    k = int(np.clip(round(fraction * n), 1, max(n - 1, 1)))
    mask = np.zeros(n, bool)
    mask[rng.choice(n, size=k, replace=False)] = True
    return mask.reshape(cells)


def region_of_pixels(fov: FieldOfView, labels: dict) -> tuple[np.ndarray, np.ndarray]:
    """For every pixel, the (row, col) of the cell-sized window centred on a molecule that holds it."""
    centre_x, centre_y = labels["molecule_center_px"]  # of the molecule in cell (0, 0)
    cell_x, cell_y = labels["cell_px"]
    rows, cols = np.indices(fov.shape)
    region_row = np.floor((rows - centre_y) / cell_y + 0.5).astype(int) % fov.cells[0]
    region_col = np.floor((cols - centre_x) / cell_x + 0.5).astype(int) % fov.cells[1]
    return region_row, region_col


def compose(with_molecule: np.ndarray, empty: np.ndarray, regions: tuple, occupied: np.ndarray) -> np.ndarray:
    """Take each pixel from ``with_molecule`` where its window is occupied, else from ``empty``."""
    keep = occupied[regions[0], regions[1]]
    return np.where(keep, with_molecule, empty)


def mosaic(
    with_molecule: np.ndarray, empty: np.ndarray, fov: FieldOfView, labels: dict, occupied: np.ndarray
) -> tuple[np.ndarray, dict]:
    """Segment signals and labels of a field of view whose ``occupied`` cells hold the molecule."""
    segments = compose(with_molecule, empty, region_of_pixels(fov, labels), occupied)
    return segments, mosaic_labels(labels, occupied)


def mosaic_labels(labels: dict, occupied: np.ndarray) -> dict:
    """Labels of the mosaic: molecule boxes and atoms only in occupied cells."""
    atoms = [a for a in labels["atoms"] if a["site"] != "molecule" or occupied[a["cell"][1], a["cell"][0]]]
    boxes = [m for m in labels["molecules"] if occupied[m["cell"][1], m["cell"][0]]]
    return {**labels, "atoms": atoms, "molecules": boxes, "occupied_cells": occupied.astype(int).tolist()}
