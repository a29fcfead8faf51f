"""One registration per image: the framework's symmetry operation and origin, and the map refined on it.

The image (on the reference frame's pixel grid) is registered against the molecule-free framework
from the phases of its lattice reflections, on |k|-whitened data (iDPC shot noise has a 1/k² power
spectrum; whitened, every reflection counts by its signal-to-noise ratio): the symmetry operation
and the sub-pixel origin modulo the cell. The symmetries of the framework's projection (flips with a
shift that map it onto itself) are the placements where else a molecule of the same kind can sit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, optimize

from zeostem.analysis.fourier import (
    dft_at,
    gradient_of_spectrum,
    spectral_gradient,
    tiled,
    transform_spectrum,
    whitened,
)
from zeostem.analysis.lattice import Reflections
from zeostem.analysis.references import FLIPS, References

SYMMETRY_NCC = 0.98  # a flip + shift that maps the framework onto itself this well is a symmetry


@dataclass(frozen=True)
class Registration:
    """``image(u) ≈ scale · framework(F (u − origin)) + b`` with ``F`` = FLIPS[operation]."""

    operation: str
    origin_px: np.ndarray  # (row, col)
    correlation: float


@dataclass(frozen=True)
class Placement:
    """A symmetry of the framework's projection, ``E(F r + shift) = E(r)``: where else a molecule can sit."""

    operation: str
    shift: np.ndarray


def lattice_phases(image: np.ndarray, weight: np.ndarray, frequencies: np.ndarray) -> np.ndarray:
    """Fourier coefficients of a weighted image at the reflections, per unit weight."""
    return dft_at(image * weight, frequencies) / weight.sum()


def best_shift(products: np.ndarray, frequencies: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, float]:
    """The shift t (within one cell) maximising Re Σ_j products_j · exp(2πi g_j · t), and the maximum."""
    rows, cols = (np.arange(0.0, c, 0.5) for c in cell)
    strongest = np.argsort(-np.abs(products))[:40]  # enough to find the peak on a half-pixel grid
    g, p = frequencies[strongest], products[strongest]
    # on the grid the phase factorises, exp(2πi g·t) = exp(2πi g_0 t_0) exp(2πi g_1 t_1): one matrix product
    grid = (
        (np.exp(2j * np.pi * np.outer(rows, g[:, 0])) * p) @ np.exp(2j * np.pi * np.outer(cols, g[:, 1])).T
    ).real
    i, j = np.unravel_index(int(np.argmax(grid)), grid.shape)

    def score(t: np.ndarray) -> np.ndarray:
        return (np.exp(2j * np.pi * np.atleast_2d(t) @ frequencies.T) @ products).real

    start = np.array([rows[i], cols[j]])
    best = optimize.minimize(lambda t: -score(t)[0], start, method="Nelder-Mead", options={"xatol": 1e-3})
    return np.mod(best.x, cell), float(-best.fun)


def flipped_coefficients(refs: References, reflections: Reflections, flip: tuple[int, int]) -> np.ndarray:
    """Coefficients of the framework ``E(F r)`` at the reflections: ``c(F g)``."""
    g = reflections.frequencies * np.array(flip)
    return lattice_phases(refs.empty, np.ones(refs.shape), g)


def register(
    image: np.ndarray, weight: np.ndarray, refs: References, reflections: Reflections
) -> Registration:
    """Symmetry operation and sub-pixel origin of the framework in ``image`` (same pixel grid)."""
    g = reflections.frequencies
    # whitened (|k|-filtered) data against |g| × the model: the matched filter for iDPC noise
    data = lattice_phases(whitened(image), weight, g)
    norm = np.hypot(g[:, 0], g[:, 1])
    best = None
    for name, flip in FLIPS.items():
        model = flipped_coefficients(refs, reflections, flip) * norm
        origin, value = best_shift(np.conj(model) * data, g, refs.cell_px)
        ncc = value / np.sqrt(np.sum(np.abs(model) ** 2) * np.sum(np.abs(data) ** 2))
        if best is None or ncc > best.correlation:
            best = Registration(name, origin, float(ncc))
    return best


def refine_map(
    image: np.ndarray, weight: np.ndarray, refs: References, registration: Registration, iterations: int = 6
) -> np.ndarray:
    """Residual affine map of a resampled image against the whole framework template (Gauss–Newton).

    ``image(o) ≈ a · E(F (J (o − c) + c − t)) + b`` with ``J = I + δ`` around the image centre ``c``,
    fitted on |k|-whitened images (white iDPC noise) over every reflection of the framework at once —
    far more precise at low dose than the few peaks the lattice fit can see. Returns ``J``: the
    refined map is ``J`` times the one the image was resampled with.
    """
    flip = np.array(FLIPS[registration.operation], float)
    template = whitened(refs.empty)
    template_gradient = spectral_gradient(template)
    data = whitened(image)
    rows, cols = np.nonzero(weight > 0)
    if len(rows) > 250_000:
        pick = np.random.default_rng(0).choice(len(rows), 250_000, replace=False)
        rows, cols = rows[pick], cols[pick]
    o = np.c_[rows, cols].astype(float)
    centre = (np.array(image.shape, float) - 1) / 2
    w = np.sqrt(weight[rows, cols])
    values = data[rows, cols] * w
    delta, t = np.zeros((2, 2)), np.asarray(registration.origin_px, float)
    for _ in range(iterations):
        z = flip * ((o - centre) @ (np.eye(2) + delta).T + centre - t)
        sample = [
            ndimage.map_coordinates(f, z.T, order=3, mode="grid-wrap") for f in (template, *template_gradient)
        ]
        design = np.c_[sample[0], np.ones(len(o))] * w[:, None]
        (a, b) = np.linalg.lstsq(design, values, rcond=None)[0]
        grad = np.c_[sample[1], sample[2]] * flip  # ∂E/∂(J (o − c) + c − t)
        oc = o - centre
        jac = np.c_[
            [a * grad[:, i] * oc[:, j] for i in range(2) for j in range(2)]
            + [-a * grad[:, 0], -a * grad[:, 1]]
        ].T
        jac = jac * w[:, None]
        residual = values - design @ np.array([a, b])
        step = np.linalg.lstsq(jac, residual, rcond=None)[0]
        delta = delta + step[:4].reshape(2, 2)
        t = t + step[4:]
        if np.max(np.abs(step)) < 1e-4:
            break
    return np.eye(2) + delta


def symmetry_placements(refs: References, reflections: Reflections) -> list[Placement]:
    """The flips (with their shifts) that map the molecule-free framework's projection onto itself."""
    g = reflections.frequencies
    own = lattice_phases(refs.empty, np.ones(refs.shape), g)
    placements = []
    for name, flip in FLIPS.items():
        model = flipped_coefficients(refs, reflections, flip)
        # E(F (r − t)) = E(r)  ⇔  E(F r + s) = E(r) with s = −F t
        t, value = best_shift(np.conj(model) * own, g, refs.cell_px)
        if value / np.sum(np.abs(own) ** 2) >= SYMMETRY_NCC:
            placements.append(Placement(name, -np.array(flip) * t))
    return placements


def model_image(
    spectrum: np.ndarray,
    registration: Registration,
    placement: Placement | None,
    shape: tuple[int, int],
    gradient: bool = False,
) -> np.ndarray:
    """A reference (the framework, or a candidate at ``placement``) as the registered image would show it.

    ``spectrum`` is the reference's FFT; ``gradient`` gives its (d/drow, d/dcol) instead.
    """
    f0 = np.array(FLIPS[registration.operation])
    t = np.asarray(registration.origin_px, float)
    if placement is None:
        flip, shift = f0, -f0 * t
    else:
        flip = np.array(FLIPS[placement.operation]) * f0
        shift = placement.shift - flip * t
    moved = transform_spectrum(spectrum, tuple(flip), shift)
    return tiled(gradient_of_spectrum(moved) if gradient else np.fft.ifft2(moved).real, shape)
