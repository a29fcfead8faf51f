"""What a real micrograph does that a simulated field does not, applied to a periodic field's segments.

The scan visits specimen positions ``f = A u + origin (+ jitter)`` for image pixel ``u`` (row, col):
``A`` holds the lattice rotation, the calibration error (the true pixel is ``1 + calibration``
times the one the file states), non-square pixels (``aspect``: y / x − 1) and a linear drift along
the slow scan axis (``shear``: x moves by ``shear`` pixels per line). Each scan line is shifted along
the fast axis by a random ``scan_jitter_px`` (rms). The four segments are read at those positions
(band-limited cubic interpolation of the periodic field), scaled by unequal gains (rms
``gain_imbalance``), counted with Poisson noise at the dose per true pixel area, and integrated to
iDPC with the file's (nominal) pixel size, at the detector's rotation relative to the rotated scan
(as the microscope's software does); a slow background (``background`` = its peak-to-peak over
the clean image's rms) is added last. Defocus, astigmatism and thickness change the multislice
itself and are simulation settings, not nuisances here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from zeostem.io.segments import idpc
from zeostem.simulation.idpc import shot_noise, tile

AMPLITUDES = ("scan_jitter_px", "background", "gain_imbalance")  # strengths ≥ 0
UPSAMPLE = 4  # Fourier upsampling of the field before the scan reads it between samples


@dataclass(frozen=True)
class Nuisances:
    rotation_deg: float = 0.0
    calibration: float = 0.0
    aspect: float = 0.0
    shear: float = 0.0
    scan_jitter_px: float = 0.0
    background: float = 0.0
    gain_imbalance: float = 0.0

    @classmethod
    def drawn(cls, ranges: dict[str, float], rng: np.random.Generator) -> Nuisances:
        """Each named nuisance uniform in ±range (the amplitudes — jitter, background, gain
        imbalance — in [0, range]); the rest off."""
        low = {k: 0.0 if k in AMPLITUDES else -v for k, v in ranges.items()}
        return cls(**{k: float(rng.uniform(low[k], v)) if v else 0.0 for k, v in ranges.items()})

    def pixel_A(self, nominal_A: float) -> tuple[float, float]:
        """The true (y, x) pixel size in Å of an image whose file says ``nominal_A``."""
        x = nominal_A * (1.0 + self.calibration)
        return x * (1.0 + self.aspect), x

    def scan_map(self, nominal_A: float, field_pixel_A: tuple[float, float]) -> np.ndarray:
        """``A``: image pixel offsets (row, col) → field pixel offsets."""
        py, px = self.pixel_A(nominal_A)
        a = np.radians(self.rotation_deg)
        rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])  # on (y, x) in Å
        step = np.array([[py, 0.0], [self.shear * py, px]])  # one row / one column of the scan, in Å
        return np.diag(1.0 / np.asarray(field_pixel_A, float)) @ rotation @ step

    def record(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class NuisanceImage:
    noisy: np.ndarray
    clean: np.ndarray  # the same scan without shot noise
    labels: dict  # the field's molecules where the scan saw them (input pixels)
    metadata: dict  # the nuisances, the gains drawn and the file's (nominal) pixel size


def sample_segments(
    segments: np.ndarray, scan_map: np.ndarray, shape: tuple[int, int], line_shifts_px: np.ndarray
) -> np.ndarray:
    """The periodic segments at the scan's positions (each line shifted along the fast axis): Fourier
    upsampled ``UPSAMPLE``× first, so the cubic spline between samples adds no blur of its own."""
    fine = tile(segments, (1, 1), tuple(UPSAMPLE * n for n in segments.shape[-2:]))
    rows, cols = np.indices(shape, float)
    cols = cols + line_shifts_px[:, None]
    coords = UPSAMPLE * (scan_map @ np.stack([rows.ravel(), cols.ravel()]))
    return np.stack(
        [ndimage.map_coordinates(s, coords, order=3, mode="grid-wrap").reshape(shape) for s in fine]
    )


def slow_background(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A random quadratic surface over the image with peak-to-peak 1."""
    y, x = np.meshgrid(*(np.linspace(-1, 1, n) for n in shape), indexing="ij")
    surface = sum(c * t for c, t in zip(rng.normal(size=5), (y, x, y * y, x * x, x * y), strict=True))
    return (surface - surface.min()) / np.ptp(surface)


def scanned_labels(labels: dict, scan_map: np.ndarray, field_shape: tuple[int, int], shape) -> dict:
    """The field's molecules (and their periodic images) in the scanned image's pixels: box corners
    mapped through ``scan_map⁻¹``. A molecule whose unit cell (centred on it) is not wholly in the
    image is ``truncated`` (the analysis takes whole cells only); one whose box is outside is dropped."""
    inverse = np.linalg.inv(scan_map)
    size = np.asarray(shape, float)
    image_corners = np.array([[0, 0], [0, size[1]], [size[0], 0], size]) @ scan_map.T  # field px
    reach = int(np.ceil(np.abs(image_corners).max() / min(field_shape))) + 1  # periodic copies seen
    half_cell = np.asarray(labels["cell_px"], float)[::-1] / 2  # (rows, cols)
    square = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], float)
    molecules = []
    for m in labels["molecules"]:
        x0, y0, x1, y1 = m["bbox_xyxy"]
        corners = np.array([[y0, x0], [y0, x1], [y1, x0], [y1, x1]], float)
        cell = (corners[0] + corners[3]) / 2 + square * half_cell
        for dy in range(-reach, reach + 1):
            for dx in range(-reach, reach + 1):
                shift = np.array([dy, dx]) * np.asarray(field_shape, float)
                low, high = _extent((corners + shift) @ inverse.T)
                if np.any(high < 0) or np.any(low > size - 1):
                    continue
                cell_low, cell_high = _extent((cell + shift) @ inverse.T)
                whole = bool(np.all(cell_low >= 0) and np.all(cell_high <= size - 1))
                low, high = np.clip(low, 0, size - 1), np.clip(high, 0, size - 1)
                box = [float(low[1]), float(low[0]), float(high[1]), float(high[0])]
                molecules.append({"bbox_xyxy": box, "truncated": m["truncated"] or not whole})
    return {**labels, "molecules": molecules, "image_shape": list(shape)}


def _extent(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return points.min(axis=0), points.max(axis=0)


def nuisance_image(
    segments: np.ndarray,
    field_pixel_A: tuple[float, float],
    labels: dict,
    nuisances: Nuisances,
    dose: float,
    detector_rotation_deg: float,
    rng: np.random.Generator,
    shape: tuple[int, int] | None = None,
) -> NuisanceImage:
    """The field as a microscope with these nuisances would record it, at ``dose`` e/Å², on ``shape``
    pixels (default: the field's); the file's pixel size is the field's (mean) sampling, so a
    calibration error is the analysis's to find."""
    nominal = float(np.mean(field_pixel_A))
    field_shape = segments.shape[-2:]
    shape = field_shape if shape is None else tuple(shape)
    scan_map = nuisances.scan_map(nominal, field_pixel_A)
    shifts = (
        rng.normal(0.0, nuisances.scan_jitter_px, shape[0])
        if nuisances.scan_jitter_px
        else np.zeros(shape[0])
    )
    gains = 1.0 + nuisances.gain_imbalance * rng.normal(size=len(segments))
    scanned = sample_segments(segments, scan_map, shape, shifts) * gains[:, None, None]
    # the detector turns with the scan relative to the specimen: the microscope integrates the DPC
    # field at the detector's rotation relative to the scan axes (the curl-free one, measured)
    rotation = np.radians(detector_rotation_deg + nuisances.rotation_deg)
    clean = idpc(scanned, (nominal, nominal), rotation)
    noisy = idpc(shot_noise(scanned, dose, nuisances.pixel_A(nominal), rng), (nominal, nominal), rotation)
    background = nuisances.background * np.std(clean) * slow_background(shape, rng)
    metadata = {
        "nuisances": nuisances.record(),
        "segment_gains": gains.tolist(),
        "idpc_rotation_deg": float(np.degrees(rotation)),
        "pixel_size_xy_A": [nominal, nominal],
        "true_pixel_size_xy_A": list(nuisances.pixel_A(nominal))[::-1],
    }
    return NuisanceImage(
        noisy + background, clean + background, scanned_labels(labels, scan_map, field_shape, shape), metadata
    )
