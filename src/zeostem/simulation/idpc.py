"""Segment signals → iDPC on periodic grids: source blur, Fourier tiling, shot noise, DPC integration.

Arrays are images indexed ``[row, col] = [y, x]``; segment stacks are ``(4, ny, nx)``. Segment ``i``
of the four-quadrant detector covers azimuths ``rotation + [i, i+1] · 90°`` (abTEM's order), so its
centre points along ``rotation + (i + ½) · 90°``. The DPC vector is the segment signals weighted by
those directions — for rotation −45° this is DPCx = D0 − D2, DPCy = D1 − D3, the paper's
DPCx = −(D2 − D4), DPCy = −(D1 − D3) up to the naming of the quadrants — and iDPC is its Fourier
integral, which is proportional to the projected potential (atoms bright).
"""

from __future__ import annotations

import numpy as np

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def frequencies(shape: tuple[int, int], pixel_size: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Spatial frequencies (1/Å) ``(ky, kx)`` of an FFT grid with pixel size ``(py, px)`` Å."""
    ky = np.fft.fftfreq(shape[0], pixel_size[0])[:, None]
    kx = np.fft.fftfreq(shape[1], pixel_size[1])[None, :]
    return ky, kx


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


def dpc_vector(segments: np.ndarray, rotation_rad: float) -> tuple[np.ndarray, np.ndarray]:
    """DPC components ``(x, y)`` from the four segment signals."""
    n = segments.shape[0]
    angles = rotation_rad + (np.arange(n) + 0.5) * 2.0 * np.pi / n
    dpc_x = np.tensordot(np.cos(angles), segments, axes=1)
    dpc_y = np.tensordot(np.sin(angles), segments, axes=1)
    return dpc_x, dpc_y


def integrate_dpc(dpc_x: np.ndarray, dpc_y: np.ndarray, pixel_size: tuple[float, float]) -> np.ndarray:
    """Fourier integration of a DPC vector field (periodic boundary); zero mean."""
    ky, kx = frequencies(dpc_x.shape[-2:], pixel_size)
    k2 = kx**2 + ky**2
    k2[0, 0] = 1.0
    spectrum = (kx * np.fft.fft2(dpc_x) + ky * np.fft.fft2(dpc_y)) / (2j * np.pi * k2)
    spectrum[..., 0, 0] = 0.0
    return np.fft.ifft2(spectrum).real


def idpc(segments: np.ndarray, pixel_size: tuple[float, float], rotation_rad: float) -> np.ndarray:
    """iDPC image from a (4, ny, nx) stack of segment signals (fractions or counts)."""
    return integrate_dpc(*dpc_vector(segments, rotation_rad), pixel_size)


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
