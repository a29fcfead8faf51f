"""Denoising dataset: (noisy iDPC at dose D, clean iDPC) pairs, split by conformation, cut into tiles.

Every split gets ``tiles.tif`` (N, 2, T, T) float32 (channel 0 noisy, 1 clean at ``scale`` × the
input sampling) with ``tiles.csv`` saying where each tile came from, and ``images.csv`` listing the
whole image pairs (paths into the simulation folders, ``zeostem.paths.SIMULATION``) for evaluation
on full fields of view.
Training tiles are augmented; validation and test tiles are plain crops. All draws are seeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from zeostem.datasets.augment import Augmentation, augment_pair, random_crop
from zeostem.io.images import read_image, write_image
from zeostem.simulation.idpc import tile


@dataclass(frozen=True)
class ImagePair:
    conformation: str
    dose: int
    replica: int
    noisy: str
    clean: str


def upsample(image: np.ndarray, scale: int) -> np.ndarray:
    """Exact band-limited upsampling of a periodic field of view (the target of ×2 super-resolution)."""
    if scale == 1:
        return image
    return tile(image, (1, 1), (image.shape[0] * scale, image.shape[1] * scale))


def load_pair(pair: ImagePair, scale: int = 1) -> tuple[np.ndarray, np.ndarray]:
    noisy, _ = read_image(pair.noisy)
    clean, _ = read_image(pair.clean)
    return noisy.astype(np.float32), upsample(clean.astype(np.float64), scale).astype(np.float32)


def make_tiles(
    pairs: list[ImagePair],
    tiles_per_image: int,
    size: int,
    scale: int,
    augmentation: Augmentation | None,
    seed: int,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Tiles (N, 2, size·scale…) from image pairs; ``augmentation=None`` gives plain crops."""
    rng = np.random.default_rng(seed)
    tiles, rows = [], []
    for pair in tqdm(pairs, desc="tiles"):
        noisy, clean = load_pair(pair, scale)
        if scale != 1:  # keep the pair on one grid for cropping: noisy repeated to the target grid
            noisy = np.kron(noisy, np.ones((scale, scale), np.float32))
        stack = np.stack([noisy, clean])
        for k in range(tiles_per_image):
            if augmentation is None:
                crop, (y, x) = random_crop(stack, size * scale, rng)
            else:
                crop, (y, x) = augment_pair(stack, size * scale, augmentation, rng), (-1, -1)
            if scale != 1:
                crop = np.stack([crop[0, ::scale, ::scale], crop[1]])  # back to the input grid
            tiles.append(crop)
            rows.append({**pair.__dict__, "tile": k, "y": y, "x": x})
    if not tiles:
        raise ValueError("no image pairs: the split is empty")
    return tiles, pd.DataFrame(rows)


def write_split(
    folder: str | Path,
    tiles: list[np.ndarray],
    index: pd.DataFrame,
    pairs: list[ImagePair],
    pixel_size_A: float,
) -> None:
    """``noisy.tif`` and ``clean.tif`` tile stacks, ``tiles.csv`` and ``images.csv``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    noisy = np.stack([t[0] for t in tiles])
    clean = np.stack([t[1] for t in tiles])
    scale = clean.shape[-1] // noisy.shape[-1]
    write_image(
        folder / "noisy.tif", noisy, {"pixel_size_xy_A": [pixel_size_A] * 2, "signal": "noisy iDPC tiles"}
    )
    target = {"pixel_size_xy_A": [pixel_size_A / scale] * 2, "signal": "clean iDPC tiles (target)"}
    write_image(folder / "clean.tif", clean, target)
    index.to_csv(folder / "tiles.csv", index=False)
    pd.DataFrame([p.__dict__ for p in pairs]).to_csv(folder / "images.csv", index=False)


def build_denoise_dataset(
    pairs: list[ImagePair],
    out_dir: str | Path,
    split: dict[str, list[str]],
    tile_size: int,
    tiles_per_image: int,
    scale: int,
    augmentation: Augmentation,
    seed: int,
    pixel_size_A: float,
) -> None:
    """Write the train (augmented), validation and test (plain crops) splits under ``out_dir``."""
    for k, name in enumerate(("train", "validation", "test")):
        members = [p for p in pairs if p.conformation in split[name]]
        aug = augmentation if name == "train" else None
        n_tiles = tiles_per_image if name == "train" else 2
        tiles, index = make_tiles(members, n_tiles, tile_size, scale, aug, seed + k)
        write_split(Path(out_dir) / name, tiles, index, members, pixel_size_A)
