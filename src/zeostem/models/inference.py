"""Denoise whole images of any size with overlapping tiles and blended seams.

The image's own mean and standard deviation normalise every tile (so a tile sees what the whole
image would), tiles overlap by ``overlap`` pixels and are blended with a separable ramp window.
"""

from __future__ import annotations

import numpy as np
import torch

from zeostem.models.divaesr import DIVAESR, image_stats


def _window(size: int, overlap: int) -> np.ndarray:
    ramp = np.ones(size)
    if overlap > 0:
        edge = (np.arange(overlap) + 0.5) / overlap
        ramp[:overlap], ramp[-overlap:] = edge, edge[::-1]
    return ramp


def _starts(length: int, tile: int, step: int) -> list[int]:
    starts = list(range(0, max(length - tile, 0) + 1, step))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


@torch.no_grad()
def denoise_image(model: DIVAESR, image: np.ndarray, tile: int = 128, overlap: int = 32) -> np.ndarray:
    """Denoised ``image`` (H, W) at ``model.config.scale`` × its sampling, deterministic."""
    multiple = 2**model.config.vae_levels
    if tile % multiple or tile <= 2 * overlap:
        raise ValueError(f"tile must be a multiple of {multiple} and larger than twice the overlap")
    device = next(model.parameters()).device
    scale = model.config.scale
    height, width = image.shape
    pad_h, pad_w = max(tile - height, 0), max(tile - width, 0)
    padded = np.pad(image.astype(np.float32), ((0, pad_h), (0, pad_w)), mode="reflect")
    x = torch.from_numpy(padded)[None, None].to(device)
    stats = image_stats(torch.from_numpy(image.astype(np.float32))[None, None].to(device))
    out = np.zeros((padded.shape[0] * scale, padded.shape[1] * scale))
    weight = np.zeros_like(out)
    window = np.outer(_window(tile * scale, overlap * scale), _window(tile * scale, overlap * scale))
    step = tile - overlap
    for y in _starts(padded.shape[0], tile, step):
        for x0 in _starts(padded.shape[1], tile, step):
            patch = model.denoise(x[..., y : y + tile, x0 : x0 + tile], stats)[0, 0].cpu().numpy()
            region = (slice(y * scale, (y + tile) * scale), slice(x0 * scale, (x0 + tile) * scale))
            out[region] += patch * window
            weight[region] += window
    return (out / weight)[: height * scale, : width * scale].astype(np.float32)


def block_mean(image: np.ndarray, scale: int) -> np.ndarray:
    """Average ``scale``×``scale`` blocks: a ×2 output compared at the input's sampling."""
    if scale == 1:
        return image
    height, width = image.shape[0] // scale, image.shape[1] // scale
    return image[: height * scale, : width * scale].reshape(height, scale, width, scale).mean(axis=(1, 3))


def denoise_at_input_sampling(model: DIVAESR, image: np.ndarray, tile: int, overlap: int) -> np.ndarray:
    """ClearSTEM output on the input's pixel grid: the model's (``scale`` × finer) output block-averaged."""
    return block_mean(denoise_image(model, image, tile, overlap), model.config.scale)
