"""Lattice fit: the affine map from a micrograph's pixels to the reference frame, from its spectrum.

The framework's strongest projected reflections are taken from the molecule-free reference (on MFI
the brightest peak is a harmonic, not a basis vector, so the whole indexed pattern is matched, not
the first peaks found). A grid search over rotation (any angle, both handednesses) and scale around
the nominal pixel size puts the pattern onto the image's whitened spectrum; each reflection's peak
is then located to a small fraction of a Fourier bin (direct DFT around it) and the 2 × 2 map is
the weighted least-squares fit of all of them: rotation, both pixel sizes and shear, with a residual.
The spectrum of a real image is centro-symmetric and that of a framework with mirror or glide lines
mirror-symmetric too, so the map is determined up to those flips; the registration resolves them
where the framework itself does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy import ndimage

from zeostem.analysis.fourier import dft_at, frequency_grid, whitened

SCALE_RANGE = 0.10  # the file's pixel size is trusted to ±10 %
MIN_PEAKS = 4  # reflections that must be found for the fit to count as a lattice
PEAK_SNR = 6.0  # whitened amplitude of a found reflection (background ≈ 1)
MAX_MISFIT_BINS = 1.0  # rms misfit of the found reflections from one lattice, in Fourier bins


class LatticeError(ValueError):
    """No lattice of the framework's projected cell in the image; the message says what was found."""


@dataclass(frozen=True)
class Reflections:
    """Indexed reflections of the reference: frequencies (cycles per reference px, (row, col)) and weights."""

    frequencies: np.ndarray  # (n, 2)
    coefficients: np.ndarray  # (n,) complex Fourier coefficients per pixel of the reference

    @classmethod
    def of(cls, reference: np.ndarray, cells: tuple[int, int], count: int | None = None, floor: float = 0.0):
        """The ``count`` strongest (one of each Friedel pair), or all above ``floor`` × the strongest."""
        spectrum = np.fft.fft2(reference - reference.mean()) / reference.size
        ny, nx = reference.shape
        ls = np.arange(-(ny // (2 * cells[0])), ny // (2 * cells[0]) + 1)
        hs = np.arange(-(nx // (2 * cells[1])), nx // (2 * cells[1]) + 1)
        row, col = (a.ravel() for a in np.meshgrid(ls, hs, indexing="ij"))  # reflection indices (l, h)
        keep = (row > 0) | ((row == 0) & (col > 0))  # half-plane: the other half is the complex conjugate
        row, col = row[keep], col[keep]
        coefficients = spectrum[(row * cells[0]) % ny, (col * cells[1]) % nx]
        frequencies = np.c_[row * cells[0] / ny, col * cells[1] / nx]
        inside = np.abs(frequencies).max(axis=1) < 0.45  # below the Nyquist frequency
        order = np.argsort(-np.abs(coefficients) * inside)
        amplitude = np.abs(coefficients[order])
        n = count if count is not None else int(np.sum(amplitude > floor * amplitude[0]))
        order = order[: min(n, int(inside.sum()))]
        return cls(frequencies[order], coefficients[order])


@dataclass(frozen=True)
class LatticeFit:
    """``matrix`` maps image pixel offsets (row, col) to reference pixel offsets: ``r = matrix @ u``."""

    matrix: np.ndarray
    reference_pixel_A: tuple[float, float]
    residual: float  # rms misfit of the found reflections from the fitted lattice (Fourier bins)
    reflections_found: int

    def physical(self) -> dict:
        """Rotation of the image's x axis from a, pixel sizes along the image's axes, shear, handedness."""
        a = np.diag(self.reference_pixel_A) @ self.matrix  # image px → Å in the reference (row, col)
        x_axis = a[::-1, 1]  # the image's column direction in (x = a, y = c) Å
        y_axis = a[::-1, 0]
        angle = np.degrees(
            np.arccos(np.dot(x_axis, y_axis) / (np.linalg.norm(x_axis) * np.linalg.norm(y_axis)))
        )
        return {
            "rotation_deg": float(np.degrees(np.arctan2(x_axis[1], x_axis[0])) % 360.0),
            "pixel_size_x_A": float(np.linalg.norm(x_axis)),
            "pixel_size_y_A": float(np.linalg.norm(y_axis)),
            "shear_deg": float(angle - 90.0),
            "mirrored": bool(np.linalg.det(a) < 0),
            "peak_misfit_bins": self.residual,
            "reflections_found": self.reflections_found,
        }


def whitened_amplitude(image: np.ndarray) -> tuple[np.ndarray, int]:
    """|FFT| of the Hann-windowed image, zero-padded ×2, over its radial geometric mean: (array, size)."""
    size = sfft.next_fast_len(2 * max(image.shape))
    window = np.outer(np.hanning(image.shape[0]), np.hanning(image.shape[1]))
    amplitude = np.abs(sfft.fft2((image - image.mean()) * window, s=(size, size), workers=-1))
    ky, kx = frequency_grid((size, size))
    radius = np.rint(np.hypot(ky, kx) * size).astype(int).ravel()
    log_amplitude = np.log(amplitude.ravel() + 1e-30)
    geometric_mean = np.exp(np.bincount(radius, log_amplitude) / np.maximum(np.bincount(radius), 1))
    return amplitude / geometric_mean[radius].reshape(amplitude.shape), size


def candidate_maps(nominal: np.ndarray, step_deg: float = 0.5, step_scale: float = 0.005) -> np.ndarray:
    """(n, 2, 2) maps image px → reference px: all rotations, both handednesses, scales around ``nominal``."""
    angles = np.radians(np.arange(0.0, 180.0, step_deg))  # the spectrum is centro-symmetric
    scales = 1.0 + np.arange(-SCALE_RANGE, SCALE_RANGE + 1e-9, step_scale)
    c, s = np.cos(angles), np.sin(angles)
    rotations = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (row, col) rotation
    maps = []
    for hand in (np.diag([1.0, 1.0]), np.diag([1.0, -1.0])):
        for scale in scales:
            maps.append(scale * rotations @ hand @ nominal)
    return np.concatenate(maps)


def coarse_map(amplitude: np.ndarray, size: int, reflections: Reflections, nominal: np.ndarray) -> np.ndarray:
    """The candidate map whose predicted reflections carry the most whitened amplitude."""
    maps = candidate_maps(nominal)
    weights = np.sqrt(np.abs(reflections.coefficients))
    best, best_score = None, -np.inf
    for chunk in np.array_split(maps, max(1, len(maps) // 2000)):
        k = np.einsum("mji,nj->mni", chunk, reflections.frequencies) * size  # M^T g in padded bins
        values = ndimage.map_coordinates(
            amplitude, [k[..., 0].ravel() % size, k[..., 1].ravel() % size], order=1, mode="grid-wrap"
        ).reshape(k.shape[:2])
        scores = np.log1p(values) @ weights
        i = int(np.argmax(scores))
        if scores[i] > best_score:
            best, best_score = chunk[i], scores[i]
    return best


def locate_peaks(
    image: np.ndarray, amplitude: np.ndarray, size: int, predicted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Found peak frequency (cycles/px) near each predicted one and its whitened amplitude."""
    found, strength = np.zeros_like(predicted), np.zeros(len(predicted))
    radius = 3
    offsets = np.arange(-radius, radius + 1)
    windowed = (image - image.mean()) * np.outer(np.hanning(image.shape[0]), np.hanning(image.shape[1]))
    for j, k in enumerate(predicted):
        centre = np.rint(k * size).astype(int)
        rows = (centre[0] + offsets) % size
        cols = (centre[1] + offsets) % size
        patch = amplitude[np.ix_(rows, cols)]
        r, c = np.unravel_index(np.argmax(patch), patch.shape)
        strength[j] = patch[r, c]
        found[j] = (centre + offsets[[r, c]]) / size
    # sub-bin: quadratic fits of |DFT| on a shrinking 3 × 3 stencil around each peak
    for step in (0.5 / size, 0.15 / size):
        grid = np.array([(dy, dx) for dy in (-step, 0, step) for dx in (-step, 0, step)])
        points = (found[:, None, :] + grid[None]).reshape(-1, 2)
        values = np.abs(dft_at(windowed, points)).reshape(len(found), 3, 3)
        for j, v in enumerate(np.log(values + 1e-30)):
            dy = (v[0, 1] - v[2, 1]) / (2 * (v[0, 1] - 2 * v[1, 1] + v[2, 1]) + 1e-30)
            dx = (v[1, 0] - v[1, 2]) / (2 * (v[1, 0] - 2 * v[1, 1] + v[1, 2]) + 1e-30)
            found[j] += np.clip([dy, dx], -1.0, 1.0) * step
    return found, strength


def polish(image: np.ndarray, g: np.ndarray, matrix: np.ndarray, iterations: int = 8) -> np.ndarray:
    """Gauss–Newton fit of the map to the image itself: a lattice sum of the reflections ``g`` at ``g @ M``.

    For a given map the reflections' amplitudes and phases are a linear least-squares fit (variable
    projection), so overlapping peaks of a small field of view do not bias one another as they do in
    a windowed spectrum.
    """
    rows, cols = np.indices(image.shape, dtype=float)
    # centred coordinates: a change of the map then moves no phase at the centre, which the linear
    # amplitudes would absorb (Gauss–Newton with the amplitudes held fixed converges in a few steps)
    u = np.c_[rows.ravel(), cols.ravel()] - (np.array(image.shape) - 1) / 2
    taper = np.sqrt(np.outer(np.hanning(image.shape[0]), np.hanning(image.shape[1]))).ravel()
    values = image.ravel().astype(np.float64)
    if len(values) > 40_000:  # a random subset of pixels is plenty for 4 parameters
        pick = np.random.default_rng(0).choice(len(values), 40_000, replace=False)
        u, values, taper = u[pick], values[pick], taper[pick]
    keep = taper > 0
    u, values, taper = u[keep], values[keep] * taper[keep], taper[keep]
    for _ in range(iterations):
        phase = 2 * np.pi * u @ (g @ matrix).T  # (pixels, reflections)
        cos, sin = np.cos(phase), np.sin(phase)
        design = np.c_[np.ones(len(u)), cos, sin] * taper[:, None]
        coef = _least_squares(design, values)
        alpha, beta = coef[1 : 1 + len(g)], coef[1 + len(g) :]
        slope = (-alpha * sin + beta * cos) * (2 * np.pi * taper[:, None])  # ∂f/∂phase_j
        # ∂f/∂M_ab = Σ_j slope_j g_ja u_b
        jac = np.stack([(slope @ g[:, a]) * u[:, b] for a in range(2) for b in range(2)], axis=1)
        residual = values - design @ coef
        step = _least_squares(jac, residual).reshape(2, 2)
        matrix = matrix + step
        if np.max(np.abs(step)) < 1e-7:
            break
    return matrix


def _least_squares(design: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Normal equations (well conditioned here: distinct plane waves over many pixels)."""
    return np.linalg.solve(design.T @ design, design.T @ values)


def fit_lattice(
    image: np.ndarray, pixel_size_A: float, reflections: Reflections, reference_pixel_A
) -> LatticeFit:
    """Affine map image → reference frame; :class:`LatticeError` when the framework's lattice is not there."""
    image = np.asarray(image, np.float64)
    nominal = np.diag([pixel_size_A / reference_pixel_A[0], pixel_size_A / reference_pixel_A[1]])
    amplitude, size = whitened_amplitude(image)
    matrix = coarse_map(amplitude, size, reflections, nominal)
    g = reflections.frequencies
    for _ in range(2):
        found, strength = locate_peaks(image, amplitude, size, g @ matrix)
        good = strength > PEAK_SNR
        if good.sum() < MIN_PEAKS or np.linalg.matrix_rank(g[good]) < 2:
            raise LatticeError(
                f"only {int(good.sum())} of the framework's {len(g)} strongest reflections were found "
                f"(rotation searched over 360°, pixel size within ±{SCALE_RANGE:.0%} of {pixel_size_A:.4g} Å)"
            )
        w = np.sqrt(np.log(strength[good]))[:, None]
        matrix = np.linalg.lstsq(w * g[good], w * found[good], rcond=None)[0]  # found ≈ g @ M
    misfit = np.linalg.norm((found[good] - g[good] @ matrix) * image.shape, axis=1)  # in Fourier bins
    residual = float(np.sqrt(np.mean(misfit**2)))
    if residual > MAX_MISFIT_BINS:
        raise LatticeError(
            f"the {int(good.sum())} peaks found do not sit on one lattice of the framework's cell "
            f"(rms misfit {residual:.2f} Fourier bins > {MAX_MISFIT_BINS})"
        )
    matrix = polish(whitened(image), g[good], matrix)
    return LatticeFit(matrix, tuple(reference_pixel_A), residual, int(good.sum()))


@dataclass(frozen=True)
class Resampled:
    """An image on the reference frame's pixel grid: ``input px = inverse(matrix) @ (px + offset)``."""

    image: np.ndarray
    valid: np.ndarray  # pixels that come from inside the input
    matrix: np.ndarray
    offset: np.ndarray

    def to_input(self, points: np.ndarray) -> np.ndarray:
        """(n, 2) (row, col) points of this grid → the input image's pixels."""
        return (np.asarray(points, float) + self.offset) @ np.linalg.inv(self.matrix).T


def resample(image: np.ndarray, fit: LatticeFit, tolerance_px: float = 0.05) -> Resampled:
    """The image on the reference frame's pixel grid (cubic spline), with the mask of pixels inside it.

    Only the map's linear part is applied: the origin stays (the registration finds it). When the map
    moves no pixel of the image by more than ``tolerance_px``, the image is used as it is.
    """
    h, w = image.shape
    corners = np.array([[0, 0], [0, w - 1], [h - 1, 0], [h - 1, w - 1]], float)
    mapped = corners @ fit.matrix.T
    if np.max(np.abs(mapped - corners)) <= tolerance_px:
        return Resampled(np.asarray(image, np.float64), np.ones(image.shape, bool), np.eye(2), np.zeros(2))
    low = np.floor(mapped.min(axis=0))
    shape = tuple((np.ceil(mapped.max(axis=0)) - low + 1).astype(int))
    inverse = np.linalg.inv(fit.matrix)
    out = ndimage.affine_transform(
        np.asarray(image, np.float64),
        inverse,
        offset=inverse @ low,
        output_shape=shape,
        order=3,
        mode="nearest",
    )
    rows, cols = np.indices(shape, dtype=float)
    source = inverse @ np.stack([rows.ravel() + low[0], cols.ravel() + low[1]])
    inside = ((source[0] >= 0) & (source[0] <= h - 1) & (source[1] >= 0) & (source[1] <= w - 1)).reshape(
        shape
    )
    out[~inside] = out[inside].mean()
    return Resampled(out, inside, fit.matrix, low)
