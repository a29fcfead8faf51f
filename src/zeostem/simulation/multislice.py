"""abTEM iDPC-STEM of one periodic cell viewed along the beam axis: the four segment signals.

One cell is simulated exactly periodically (the scan covers one period, ``endpoint=False``); the
field of view is then a tiling of it (see :func:`zeostem.simulation.idpc.tile`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from zeostem.errors import InputError
from zeostem.simulation.settings import SimulationSettings


@dataclass(frozen=True)
class CellSignals:
    """Segment signals of one cell: ``segments`` (4, ny, nx) as fractions of the probe intensity."""

    segments: np.ndarray
    extent: tuple[float, float]  # (Ly, Lx) in Å: image rows run along y, columns along x
    seconds: float

    @property
    def pixel_size(self) -> tuple[float, float]:
        return self.extent[0] / self.segments.shape[1], self.extent[1] / self.segments.shape[2]


def view_axes(beam_axis: int) -> tuple[int, int]:
    """Crystal axes shown along image x (columns) and y (rows) when looking down ``beam_axis``.

    x = axis (k+2) mod 3, y = axis (k+1) mod 3 and z = −axis k is a proper rotation
    (for the beam along b: x = a, y = c).
    """
    return (beam_axis + 2) % 3, (beam_axis + 1) % 3


def beam_view(atoms: Atoms, beam_axis: int) -> Atoms:
    """Rotate a periodic orthorhombic structure so the beam runs along +z (abTEM's convention)."""
    angles = atoms.cell.cellpar()[3:]
    if np.any(np.abs(angles - 90.0) > 0.5):
        raise InputError(
            f"cell angles {angles.round(2).tolist()} are not orthogonal; the simulation needs an "
            "orthorhombic cell with the beam along a cell axis",
            fix="import the conformation in its orthorhombic setting",
        )
    ax_x, ax_y = view_axes(beam_axis)
    lengths = atoms.cell.lengths()
    frac = np.mod(atoms.get_scaled_positions(), 1.0)
    positions = np.c_[
        frac[:, ax_x] * lengths[ax_x],
        frac[:, ax_y] * lengths[ax_y],
        (1.0 - frac[:, beam_axis]) * lengths[beam_axis],
    ]
    view = Atoms(
        atoms.symbols,
        positions=positions,
        cell=np.diag([lengths[ax_x], lengths[ax_y], lengths[beam_axis]]),
        pbc=True,
    )
    view.wrap()
    return view


def smooth_size(n: float) -> int:
    """Smallest 2·3·5-smooth integer ≥ n (FFT-friendly grid sizes)."""
    m = int(np.ceil(n))
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


def potential_gpts(extent_xy: tuple[float, float], sampling: float) -> tuple[int, int]:
    """Potential grid: at least ``extent / sampling`` points (1 % coarser allowed), 2·3·5-smooth."""
    return tuple(smooth_size(0.99 * length / sampling) for length in extent_xy)


def resolve_device(device: str) -> str:
    """``auto`` → ``gpu`` when cupy sees a CUDA device, else ``cpu``."""
    if device != "auto":
        return device
    try:
        import cupy

        return "gpu" if cupy.cuda.runtime.getDeviceCount() > 0 else "cpu"
    except Exception:  # cupy missing, or no driver
        return "cpu"


def compute_on_cluster(measurement, address: str) -> None:
    """Compute an abTEM measurement on the workers of the dask.distributed scheduler at ``address``.

    Used when dask's ``scheduler-address`` is set (``DASK_SCHEDULER_ADDRESS`` in the environment):
    cluster plumbing, not a simulation setting, so changing it re-runs nothing.

    The client is made the default one so abTEM mirrors its configuration (device, single-threaded
    FFTW) onto the workers; results are then identical to the threaded scheduler's.
    """
    from distributed import Client

    try:
        client = Client(address)  # waits distributed.comm.timeouts.connect (30 s)
    except OSError as error:
        raise InputError(
            f"cannot reach the dask scheduler at {address!r} ({error})",
            fix="start the scheduler and its workers first (README: abTEM on several nodes), or unset "
            "DASK_SCHEDULER_ADDRESS to simulate with threads inside the job",
        ) from None
    with client:
        workers = len(client.scheduler_info()["workers"])
        print(f"abTEM scan on the dask scheduler at {address} ({workers} workers)", flush=True)
        measurement.compute(scheduler=client, progress_bar=False)


def simulate_cell(
    atoms: Atoms, beam_axis: int, settings: SimulationSettings, threads: int = 1
) -> CellSignals:
    """Multislice (or PRISM) scan of one periodic cell with a four-quadrant segmented detector."""
    import abtem
    import dask

    device = resolve_device(settings.device)
    # Parallel over probe batches with dask threads; FFTW itself single-threaded: multi-threaded FFTW
    # plans used from several dask threads at once gave wrong, run-to-run different results (measured).
    # FFTW_ESTIMATE: abTEM's default FFTW_MEASURE times candidate algorithms, so the plan (and the last
    # bits of every image) depended on the machine's load: a resumed run differed from an uninterrupted
    # one by 1 ulp (measured); estimated plans depend on the array sizes only.
    abtem.config.set({"device": device, "fftw.threads": 1, "fftw.planning_effort": "FFTW_ESTIMATE"})
    view = beam_view(atoms, beam_axis)
    extent_xy = (float(view.cell[0, 0]), float(view.cell[1, 1]))
    specimen = view
    if settings.frozen_phonons > 0:
        specimen = abtem.FrozenPhonons(
            view,
            num_configs=settings.frozen_phonons,
            sigmas=settings.phonon_sigmas(set(view.get_chemical_symbols())),
            seed=settings.seed,
        )
    potential = abtem.Potential(
        specimen,
        gpts=potential_gpts(extent_xy, settings.potential_sampling_A),
        slice_thickness=settings.slice_thickness_A,
        parametrization=settings.parametrization,
        projection="infinite",
        periodic=True,
        device=device,
    )
    scan = abtem.GridScan(
        start=(0.0, 0.0),
        end=extent_xy,
        gpts=tuple(int(np.ceil(length / settings.scan_step_A)) for length in extent_xy),
        endpoint=False,
    )
    detector = abtem.SegmentedDetector(
        nbins_radial=1,
        nbins_azimuthal=4,
        inner=settings.detector_inner_mrad,
        outer=settings.detector_outer_mrad,
        rotation=np.radians(settings.detector_rotation_deg),
    )
    aberrations = {"C10": -settings.defocus_A, **settings.aberrations}
    if settings.method == "prism":
        s_matrix = abtem.SMatrix(
            potential=potential,
            energy=settings.energy_keV * 1e3,
            semiangle_cutoff=settings.semiangle_mrad,
            interpolation=settings.prism_interpolation,
            device=device,
        )
        measurement = s_matrix.scan(
            scan=scan, detectors=detector, ctf=abtem.CTF(aberration_coefficients=aberrations)
        )
    else:
        probe = abtem.Probe(
            energy=settings.energy_keV * 1e3,
            semiangle_cutoff=settings.semiangle_mrad,
            aberrations=aberrations,
            device=device,
        )
        probe.grid.match(potential)
        measurement = probe.scan(potential, scan=scan, detectors=detector)
    start = time.perf_counter()
    address = dask.config.get("scheduler-address", None)  # e.g. from $DASK_SCHEDULER_ADDRESS
    if address:
        compute_on_cluster(measurement, address)
    else:
        with dask.config.set(scheduler="threads", num_workers=threads):
            measurement.compute(progress_bar=True)
    array = np.asarray(measurement.to_cpu().array, dtype=np.float64)
    array = array.reshape((-1,) + array.shape[-4:]).mean(axis=0)  # frozen-phonon mean, if any
    segments = array[:, :, 0, :].transpose(2, 1, 0)  # abTEM [x, y, radial, azimuthal] → [seg, y, x]
    return CellSignals(
        segments=segments, extent=(extent_xy[1], extent_xy[0]), seconds=time.perf_counter() - start
    )
