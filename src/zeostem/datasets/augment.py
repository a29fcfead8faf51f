"""Paired augmentation of (noisy, clean) tiles, deterministic by seed.

Only transforms that keep the pair physically consistent are used: the dihedral group of the
square (flips, 90° rotations: the shot noise is isotropic, pixels are square to < 0.5 %), random
crops, the same affine brightness / contrast change on both images, and the same Fourier rescaling
and Gaussian blur on both (a different pixel size or source size of the same specimen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class Augmentation:
    dihedral: bool = True
    brightness: float = 0.1  # ± offset, in units of the clean image's standard deviation
    contrast: float = 0.1  # ± relative gain
    scale: tuple[float, float] = (1.0, 1.0)  # zoom range (1, 1) = off
    blur_sigma_px: tuple[float, float] = (0.0, 0.0)  # Gaussian blur range (0, 0) = off

    @classmethod
    def from_config(cls, section: dict) -> Augmentation:
        """From the config's ``datasets.augmentation`` section."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in section.items()})


def random_crop(pair: np.ndarray, size: int, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int]]:
    """A ``size``×``size`` crop at a random position of a (2, H, W) pair."""
    _, height, width = pair.shape
    y = int(rng.integers(0, height - size + 1))
    x = int(rng.integers(0, width - size + 1))
    return pair[:, y : y + size, x : x + size], (y, x)


def augment_pair(pair: np.ndarray, size: int, aug: Augmentation, rng: np.random.Generator) -> np.ndarray:
    """One augmented ``(2, size, size)`` tile (noisy, clean) from a full (2, H, W) pair."""
    zoom = rng.uniform(*aug.scale)
    grab = int(np.ceil(size / zoom)) + 2 if zoom != 1.0 else size
    tile, _ = random_crop(pair, min(grab, pair.shape[1], pair.shape[2]), rng)
    if zoom != 1.0:
        tile = np.stack([ndimage.zoom(t, zoom, order=3) for t in tile])
        tile = tile[:, :size, :size]
    sigma = rng.uniform(*aug.blur_sigma_px)
    if sigma > 0:
        tile = np.stack([ndimage.gaussian_filter(t, sigma, mode="reflect") for t in tile])
    if aug.dihedral:
        tile = np.rot90(tile, k=int(rng.integers(4)), axes=(1, 2))
        if rng.random() < 0.5:
            tile = tile[:, :, ::-1]
    scale = 1.0 + rng.uniform(-aug.contrast, aug.contrast)
    offset = rng.uniform(-aug.brightness, aug.brightness) * tile[1].std()
    return np.ascontiguousarray(tile * scale + offset, dtype=np.float32)
