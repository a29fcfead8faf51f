"""Images of a field of view (a tiling of simulated cells): clean iDPC and Poisson dose series."""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np

from zeostem.io.images import read_image, write_image
from zeostem.io.segments import idpc
from zeostem.simulation.idpc import shot_noise, source_blur, tile
from zeostem.simulation.multislice import CellSignals
from zeostem.simulation.settings import SimulationSettings


@dataclass(frozen=True)
class FieldOfView:
    """``cells`` = (rows, columns) of unit cells on a grid of ``shape`` pixels of ``pixel_size`` (py, px) Å.

    The pixel count is the nearest integer to cells × cell length / sampling, so the field of view
    holds exactly whole cells and stays periodic; x and y pixel sizes differ by < 0.5 %.
    """

    cells: tuple[int, int]
    shape: tuple[int, int]
    pixel_size: tuple[float, float]

    @classmethod
    def of(cls, cell_extent: tuple[float, float], cells_xy: tuple[int, int], sampling: float) -> FieldOfView:
        cells = (int(cells_xy[1]), int(cells_xy[0]))
        shape = tuple(int(round(n * length / sampling)) for n, length in zip(cells, cell_extent, strict=True))
        pixel = tuple(n * length / m for n, length, m in zip(cells, cell_extent, shape, strict=True))
        return cls(cells=cells, shape=shape, pixel_size=pixel)

    @classmethod
    def from_metadata(cls, metadata: dict, shape: tuple[int, int]) -> FieldOfView:
        """The field of view of an image written with :meth:`metadata`."""
        px, py = metadata["pixel_size_xy_A"]
        nx, ny = metadata["field_of_view_cells_xy"]
        return cls(cells=(ny, nx), shape=tuple(shape), pixel_size=(py, px))

    def metadata(self) -> dict:
        return {
            "pixel_size_xy_A": [self.pixel_size[1], self.pixel_size[0]],
            "field_of_view_cells_xy": [self.cells[1], self.cells[0]],
        }


@dataclass(frozen=True)
class SimulatedSegments:
    """A simulation's segments file: the four segment signals (seg, y, x), its metadata, field of view
    and the detector rotation (degrees) its iDPC is integrated at."""

    segments: np.ndarray
    meta: dict
    fov: FieldOfView
    rotation_deg: float

    @classmethod
    def read(cls, path) -> SimulatedSegments:
        segments, meta = read_image(path)
        fov = FieldOfView.from_metadata(meta, segments.shape[1:])
        return cls(segments, meta, fov, meta["simulation"]["detector_rotation_deg"])


def clean_field_of_view(
    cell: CellSignals, settings: SimulationSettings
) -> tuple[FieldOfView, np.ndarray, np.ndarray]:
    """Source-blurred segment signals of the whole field of view, and its clean iDPC image."""
    fov = FieldOfView.of(cell.extent, settings.field_of_view_cells, settings.output_sampling_A)
    blurred = source_blur(cell.segments, cell.pixel_size, settings.source_fwhm_A)
    segments = tile(blurred, fov.cells, fov.shape)
    clean = idpc(segments, fov.pixel_size, np.radians(settings.detector_rotation_deg))
    return fov, segments, clean


def noise_seed(seed: int, image: str, dose: int, replica: int) -> np.random.SeedSequence:
    """The explicit seed of one noisy image: config seed, image id, dose and replica."""
    return np.random.SeedSequence([seed, zlib.crc32(image.encode()), int(dose), int(replica)])


def noise_record(seed: int, image: str, dose: int, replica: int) -> dict:
    """What a noisy image's metadata says of its draw (the arguments of :func:`noise_seed`)."""
    return {"dose_e_per_A2": dose, "replica": replica, "noise_seed": [seed, image, dose, replica]}


def noisy_idpc(
    segments: np.ndarray,
    pixel_size: tuple[float, float],
    dose: float,
    rotation_deg: float,
    seed: np.random.SeedSequence,
) -> np.ndarray:
    """iDPC of Poisson-noisy segment counts at ``dose`` e/Å² (one probe position per pixel)."""
    noisy = shot_noise(segments, dose, pixel_size, np.random.default_rng(seed))
    return idpc(noisy, pixel_size, np.radians(rotation_deg))


def write_noise_replicas(
    segments_path: str, outputs: list[str], jobs: list[tuple[int, int]], seed: int, name: str, signal: str
) -> None:
    """One noisy iDPC image per (dose, replica) of ``jobs`` from a simulation's segments file, each
    seeded by ``seed``, ``name``, dose and replica (:func:`noise_seed`) and saying so in its metadata."""
    sim = SimulatedSegments.read(segments_path)
    for (dose, replica), path in zip(jobs, outputs, strict=True):
        draw = (seed, name, dose, replica)
        image = noisy_idpc(sim.segments, sim.fov.pixel_size, dose, sim.rotation_deg, noise_seed(*draw))
        write_image(path, image, {**sim.meta, **noise_record(*draw), "signal": signal})


def settings_metadata(settings: SimulationSettings) -> dict:
    return {"simulation": asdict(settings)}
