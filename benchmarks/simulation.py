"""Simulation benchmark: which method and how many frozen phonons, and the dose series.

Prints, measured side by side in this run (same machine, same load), on one MFI cell:
* time and clean-iDPC NRMSE vs multislice of PRISM at interpolation 1, 2 and (2, 1), and the
  fastest setting whose error is ≤ 1 % of the image's range and ≤ 10 % of the molecule's own signal
  (the image with vs without it) — the rule the config's default follows;
* the image change from 4 → 8 frozen-phonon configurations (and static → 4), next to the molecule's
  own signal;
* one multislice + dose series vs re-simulating per dose.

    python benchmarks/simulation.py [--quick] [--threads N] [--no-phonons]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from zeostem.simulation.images import clean_field_of_view, noise_seed, noisy_idpc
from zeostem.simulation.mosaic import without_molecule
from zeostem.simulation.multislice import potential_gpts, simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import build_candidate, load_framework, load_molecule

REPO = Path(__file__).resolve().parents[1]
DOSES = (500, 1500, 4500)
INTERPOLATIONS = (1, 2, (2, 1))
MAX_NRMSE = 0.01  # of the image's range
MAX_OF_MOLECULE = 0.1  # of the molecule's own signal: T-sites differ by less than the molecule


def timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="coarse grids (seconds instead of minutes)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-phonons", action="store_true", help="skip the 4 vs 8 configurations check")
    args = parser.parse_args()

    framework = load_framework(REPO / "resources/frameworks/MFI.yaml")
    molecule = load_molecule("pyridine", REPO / "resources/molecules/pyridine.xyz")
    atoms = build_candidate(framework, molecule, "T1", "O2")
    settings = SimulationSettings(field_of_view_cells=(5, 5))
    if args.quick:
        settings = replace(settings, potential_sampling_A=0.2, scan_step_A=0.5, slice_thickness_A=2.0)
    simulate_cell(atoms, framework.beam_axis, replace(settings, scan_step_A=2.0), args.threads)  # warm-up

    cell, t_multislice = timed(simulate_cell, atoms, framework.beam_axis, settings, args.threads)
    clean = clean_field_of_view(cell, settings)[2]
    prism = {}
    for interpolation in INTERPOLATIONS:
        variant = replace(settings, method="prism", prism_interpolation=interpolation)
        result, seconds = timed(simulate_cell, atoms, framework.beam_axis, variant, args.threads)
        prism[interpolation] = (seconds, nrmse(clean_field_of_view(result, settings)[2], clean))
    empty = simulate_cell(
        without_molecule(atoms), framework.beam_axis, replace(settings, method="prism"), args.threads
    )
    molecule = nrmse(clean, clean_field_of_view(empty, settings)[2])
    within = [(t, i) for i, (t, e) in prism.items() if e <= min(MAX_NRMSE, MAX_OF_MOLECULE * molecule)]
    fastest = min(within, key=lambda ti: ti[0])[1] if within else None

    (fov, segments, _), t_tile = timed(clean_field_of_view, cell, settings)
    t_noise = []
    for dose in DOSES:
        _, t = timed(noisy_idpc, segments, fov.pixel_size, dose, -45.0, noise_seed(0, "bench", dose, 0))
        t_noise.append(t)
    t_resimulate = 0.0
    for _ in DOSES:  # the naive way: one multislice per dose image
        _, t = timed(simulate_cell, atoms, framework.beam_axis, settings, args.threads)
        t_resimulate += t + t_tile + t_noise[0]
    t_series = t_multislice + t_tile + sum(t_noise)

    gx, gy = potential_gpts((20.09, 13.142), settings.potential_sampling_A)
    positions = int(np.prod(cell.segments.shape[1:]))
    slices = int(np.ceil(19.738 / settings.slice_thickness_A))
    print(
        f"settings: potential {gx}x{gy} gpts, {positions} probe positions, {slices} slices, "
        f"{args.threads} threads"
    )
    print(f"multislice: {t_multislice:.2f} s")
    for interpolation, (seconds, error) in prism.items():
        print(
            f"PRISM interpolation {interpolation}: {seconds:.2f} s, time ratio to multislice "
            f"{seconds / t_multislice:.3f}, clean iDPC NRMSE (of the range) {error:.2e} "
            f"= {error / molecule:.0%} of the molecule's signal"
        )
    print(f"the molecule's own signal (image with vs without it): NRMSE {molecule:.2e}")
    print(
        f"fastest within NRMSE <= {MAX_NRMSE:.0%} and <= {MAX_OF_MOLECULE:.0%} of the molecule: "
        + (f"PRISM interpolation {fastest}" if fastest else "multislice")
    )
    if not args.no_phonons:
        phonons(atoms, framework.beam_axis, settings, clean, molecule, args.threads)
    print(
        f"dose series of {len(DOSES)} doses: one multislice + noise {t_series:.2f} s, re-simulating per dose "
        f"{t_resimulate:.2f} s, ratio {t_resimulate / t_series:.2f}x"
    )
    per = t_multislice / positions / slices
    print(
        f"time per probe position per slice: {per * 1e6:.1f} µs "
        f"({per / (gx * gy) * 1e9:.1f} ns per grid point)"
    )


def nrmse(image: np.ndarray, reference: np.ndarray) -> float:
    """Root-mean-square difference as a fraction of the reference's range."""
    return float(np.sqrt(np.mean((image - reference) ** 2)) / (reference.max() - reference.min()))


def phonons(
    atoms, beam_axis: int, settings: SimulationSettings, static: np.ndarray, molecule: float, threads: int
) -> None:
    """The clean image's change from 4 → 8 frozen-phonon configurations, next to the molecule's signal."""
    fast = replace(settings, method="prism")
    images = {}
    for n in (4, 8):
        result, seconds = timed(simulate_cell, atoms, beam_axis, replace(fast, frozen_phonons=n), threads)
        images[n] = clean_field_of_view(result, fast)[2]
        print(f"PRISM with {n} frozen-phonon configurations: {seconds:.2f} s")
    change = nrmse(images[4], images[8])
    print(
        f"clean iDPC NRMSE: 4 vs 8 configurations {change:.2e} ({change / molecule:.0%} of the molecule's "
        f"signal), static vs 8 {nrmse(static, images[8]):.2e}"
    )


if __name__ == "__main__":
    main()
