"""Fourier helpers of the analysis: frequency grids, exact spectral gradients and moves of periodic
images, |k|-whitening (iDPC shot noise turns white) and Moisan's periodic component."""

from __future__ import annotations

import numpy as np


def frequency_grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(ky, kx) in cycles per pixel of an FFT grid."""
    return np.fft.fftfreq(shape[0])[:, None], np.fft.fftfreq(shape[1])[None, :]


def transform_spectrum(spectrum: np.ndarray, flip: tuple[int, int], shift: np.ndarray) -> np.ndarray:
    """Spectrum of ``V(r) = image(F r + shift)`` from the image's spectrum (exact, periodic)."""
    ny, nx = spectrum.shape
    rows = (flip[0] * np.arange(ny)) % ny
    cols = (flip[1] * np.arange(nx)) % nx
    ky, kx = frequency_grid(spectrum.shape)
    phase = np.exp(2j * np.pi * (flip[0] * ky * shift[0] + flip[1] * kx * shift[1]))
    return spectrum[rows[:, None], cols[None, :]] * phase  # S(F q) · exp(2πi (F q) · shift)


def spectral_gradient(image: np.ndarray) -> np.ndarray:
    """(d/drow, d/dcol) of a periodic image in intensity per pixel, exact for band-limited images."""
    return gradient_of_spectrum(np.fft.fft2(image))


def gradient_of_spectrum(spectrum: np.ndarray) -> np.ndarray:
    """The spectral gradient of the periodic image whose spectrum is given."""
    ky, kx = frequency_grid(spectrum.shape)
    return np.stack([np.fft.ifft2(2j * np.pi * k * spectrum).real for k in (ky, kx)])


def whitened(image: np.ndarray) -> np.ndarray:
    """The micrograph filtered by |k|: iDPC shot noise (power ∝ 1/k²) turns white; lattice peaks stay."""
    ky, kx = frequency_grid(image.shape)
    return np.fft.ifft2(np.fft.fft2(periodic_component(image)) * np.hypot(ky, kx)).real


def tiled(periodic: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A periodic image (last two axes) repeated to cover ``shape`` pixels from its origin."""
    reps = [-(-n // m) for n, m in zip(shape, periodic.shape[-2:], strict=True)]
    full = np.tile(periodic, [1] * (periodic.ndim - 2) + reps)
    return full[..., : shape[0], : shape[1]]


def periodic_component(image: np.ndarray) -> np.ndarray:
    """Moisan's periodic component: the image without the jump between its opposite borders.

    Spectral derivatives of a non-periodic micrograph ring along its borders; of this component they
    do not. A periodic image is returned unchanged (up to rounding).
    """
    u = np.asarray(image, np.float64)
    v = np.zeros_like(u)
    v[0, :] += u[-1, :] - u[0, :]
    v[-1, :] += u[0, :] - u[-1, :]
    v[:, 0] += u[:, -1] - u[:, 0]
    v[:, -1] += u[:, 0] - u[:, -1]
    ky, kx = frequency_grid(u.shape)
    denominator = 2 * np.cos(2 * np.pi * ky) + 2 * np.cos(2 * np.pi * kx) - 4
    denominator[0, 0] = 1.0
    smooth = np.fft.fft2(v) / denominator
    smooth[0, 0] = 0.0
    return u - np.fft.ifft2(smooth).real


def dft_at(image: np.ndarray, frequencies: np.ndarray) -> np.ndarray:
    """Fourier transform of ``image`` at arbitrary frequencies (n, 2) in cycles per pixel."""
    rows, cols = np.arange(image.shape[0]), np.arange(image.shape[1])
    ey = np.exp(-2j * np.pi * frequencies[:, :1] * rows[None, :])
    ex = np.exp(-2j * np.pi * frequencies[:, 1:] * cols[None, :])
    return np.sum((ey @ image) * ex, axis=1)
