"""Segment signals on periodic grids: source blur, Fourier tiling, shot noise (iDPC itself:
:mod:`zeostem.io.segments`)."""

from __future__ import annotations

import numpy as np

from zeostem.io.segments import frequencies

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def source_blur(signals: np.ndarray, pixel_size: tuple[float, float], fwhm_A: float) -> np.ndarray:
    """Convolve periodic signals (last two axes) with a Gaussian source of ``fwhm_A`` (in Fourier space)."""
    if fwhm_A <= 0:
        return np.array(signals, dtype=np.float64)
    ky, kx = frequencies(signals.shape[-2:], pixel_size)
    sigma = fwhm_A * FWHM_TO_SIGMA
    kernel = np.exp(-2.0 * np.pi**2 * sigma**2 * (kx**2 + ky**2))
    return np.fft.ifft2(np.fft.fft2(signals) * kernel).real


def tile(signals: np.ndarray, cells: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """Tile periodic one-cell signals ``cells = (ny_cells, nx_cells)`` times onto a grid of ``shape``.

    Band-limited (Fourier) interpolation: the cell's spectrum is placed on every ``cells``-th
    frequency of the larger grid, which is exact for signals sampled above their band limit.
    """
    ny, nx = signals.shape[-2:]
    spectrum = np.fft.fft2(signals) / (ny * nx)
    out = np.zeros(signals.shape[:-2] + tuple(shape), dtype=complex)
    fy = np.fft.fftfreq(ny, 1.0 / ny).astype(int)
    fx = np.fft.fftfreq(nx, 1.0 / nx).astype(int)
    rows = (fy * cells[0]) % shape[0]
    cols = (fx * cells[1]) % shape[1]
    if len(set(rows)) != ny or len(set(cols)) != nx:
        raise ValueError(f"output grid {shape} too coarse for {cells} cells of {ny}×{nx} samples")
    out[..., rows[:, None], cols[None, :]] = spectrum
    return np.fft.ifft2(out * (shape[0] * shape[1])).real


def shot_noise(
    segments: np.ndarray, dose: float, pixel_size: tuple[float, float], rng: np.random.Generator
) -> np.ndarray:
    """Poisson counts of each segment at ``dose`` e/Å², probe step = pixel, normalised back to fractions.

    Expected counts = dose × pixel area × segment fraction; returning counts / (dose × area) keeps
    the clean and noisy images on the same scale.
    """
    electrons = dose * pixel_size[0] * pixel_size[1]
    counts = rng.poisson(np.clip(segments, 0.0, None) * electrons)
    return counts / electrons
