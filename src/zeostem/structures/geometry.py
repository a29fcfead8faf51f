"""Small periodic-geometry helpers shared by the structure modules."""

from __future__ import annotations

import itertools

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree


def periodic_images(atoms: Atoms, center: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions (and atom indices) of all periodic images of ``atoms`` within ``radius`` of ``center``."""
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3))) @ np.asarray(atoms.cell)
    positions = (atoms.positions[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    indices = np.tile(np.arange(len(atoms)), len(shifts))
    keep = np.linalg.norm(positions - center, axis=1) <= radius
    return positions[keep], indices[keep]


def image_tree(atoms: Atoms) -> cKDTree:
    """A KD-tree over the atoms and their 26 neighbouring images (for distances from points in the cell)."""
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3))) @ np.asarray(atoms.cell)
    return cKDTree((atoms.positions[None, :, :] + shifts[:, None, :]).reshape(-1, 3))


def minimum_image(delta: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Shortest periodic images of difference vectors ``delta`` (N×3, Å) in ``cell`` (rows = vectors)."""
    frac = np.linalg.solve(cell.T, np.atleast_2d(delta).T).T
    return (frac - np.round(frac)) @ cell


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation matrix that turns unit vector ``a`` onto unit vector ``b``."""
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if np.linalg.norm(v) < 1e-12:
        if c > 0:
            return np.eye(3)
        perp = unit(np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0]))
        return 2.0 * np.outer(perp, perp) - np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def axis_angle_matrices(axes: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Batch of rotation matrices (N×3×3) about unit ``axes`` (N×3) by ``angles`` (N)."""
    x, y, z = axes.T
    c, s = np.cos(angles), np.sin(angles)
    t = 1.0 - c
    return np.stack(
        [
            np.stack([t * x * x + c, t * x * y - s * z, t * x * z + s * y], -1),
            np.stack([t * x * y + s * z, t * y * y + c, t * y * z - s * x], -1),
            np.stack([t * x * z - s * y, t * y * z + s * x, t * z * z + c], -1),
        ],
        -2,
    )


def directions_in_cone(axis: np.ndarray, half_angle: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors drawn uniformly within ``half_angle`` (rad) of unit ``axis``."""
    cos_theta = rng.uniform(np.cos(half_angle), 1.0, n)
    phi = rng.uniform(0.0, 2 * np.pi, n)
    sin_theta = np.sqrt(1.0 - cos_theta**2)
    local = np.stack([sin_theta * np.cos(phi), sin_theta * np.sin(phi), cos_theta], -1)
    return local @ rotation_between(np.array([0.0, 0.0, 1.0]), axis).T
