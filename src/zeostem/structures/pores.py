"""Pores of a framework: centres of the largest empty spheres (channel intersections, channels)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from scipy import ndimage

from zeostem.structures.geometry import image_tree

GRID_SPACING_A = 0.4
INTERSECTION_FRACTION = 0.9  # pores at least this fraction of the largest radius are "intersections"


@dataclass(frozen=True)
class Pores:
    """Local maxima of the distance-to-nearest-atom field: centres (Å) and radii to atom centres (Å)."""

    centers: np.ndarray
    radii: np.ndarray

    @property
    def intersections(self) -> np.ndarray:
        """Centres of the largest cavities (in MFI: the straight/sinusoidal channel intersections)."""
        return self.centers[self.radii >= INTERSECTION_FRACTION * self.radii.max()]


def find_pores(framework: Atoms, min_radius_A: float = 3.0) -> Pores:
    """Find pore centres of a periodic framework from its distance field on a grid."""
    lengths = framework.cell.lengths()
    shape = np.maximum(np.ceil(lengths / GRID_SPACING_A).astype(int), 4)
    axes = [np.arange(n) / n for n in shape]
    frac = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    points = frac @ np.asarray(framework.cell)
    distance, _ = image_tree(framework).query(points)
    field = distance.reshape(shape)
    is_peak = (field == ndimage.maximum_filter(field, size=5, mode="wrap")) & (field >= min_radius_A)
    peaks = np.flatnonzero(is_peak.ravel())
    return Pores(centers=points[peaks], radii=field.ravel()[peaks])
