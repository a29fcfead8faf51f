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


def rotations_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation matrices (…×3×3) that turn unit vectors ``a`` onto unit vectors ``b`` (…×3, broadcast)."""
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    v = np.cross(a, b)
    c = np.sum(a * b, axis=-1)[..., None, None]
    zero = np.zeros(v.shape[:-1])
    vx = np.stack(
        [np.stack([zero, -v[..., 2], v[..., 1]], -1),
         np.stack([v[..., 2], zero, -v[..., 0]], -1),
         np.stack([-v[..., 1], v[..., 0], zero], -1)],
        -2,
    )  # fmt: skip
    eye = np.eye(3)
    parallel = np.linalg.norm(v, axis=-1) < 1e-12
    out = eye + vx + vx @ vx / np.where(parallel[..., None, None], 1.0, 1.0 + c)
    if np.any(parallel):  # a onto ±a: the identity, or a half turn about an axis perpendicular to a
        helper = np.where(np.abs(a[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
        perp = unit(np.cross(a, helper))
        flip = 2.0 * perp[..., :, None] * perp[..., None, :] - eye
        out = np.where(parallel[..., None, None], np.where(c > 0, eye, flip), out)
    return out


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


def directions_in_cone(axes: np.ndarray, half_angle: float, uniform: np.ndarray) -> np.ndarray:
    """Unit vectors within ``half_angle`` (rad) of unit ``axes`` (N×3, or one axis for all), drawn
    uniformly over the cone's solid angle from ``uniform`` (N×2 draws in [0, 1))."""
    low = np.cos(half_angle)
    cos_theta = low + (1.0 - low) * uniform[:, 0]
    phi = 2 * np.pi * uniform[:, 1]
    sin_theta = np.sqrt(1.0 - cos_theta**2)
    local = np.stack([sin_theta * np.cos(phi), sin_theta * np.sin(phi), cos_theta], -1)
    return np.einsum(
        "nij,nj->ni", rotations_between(np.array([0.0, 0.0, 1.0]), np.broadcast_to(axes, local.shape)), local
    )
