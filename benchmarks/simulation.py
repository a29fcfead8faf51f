"""Simulation benchmark: PRISM vs multislice, one multislice + dose series vs re-simulating per dose.

Prints ratios measured side by side in this run (same machine, same load):
    python benchmarks/simulation.py [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from zeostem.simulation.images import clean_field_of_view, noise_seed, noisy_idpc
from zeostem.simulation.multislice import potential_gpts, simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import build_candidate, load_framework, load_molecule

REPO = Path(__file__).resolve().parents[1]
DOSES = (500, 1500, 4500)


def timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="coarse grids (seconds instead of minutes)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    framework = load_framework(REPO / "resources/frameworks/MFI.yaml")
    molecule = load_molecule("pyridine", REPO / "resources/molecules/pyridine.xyz")
    atoms = build_candidate(framework, molecule, "T1", "O2")
    settings = SimulationSettings(field_of_view_cells=(5, 5))
    if args.quick:
        settings = replace(settings, potential_sampling_A=0.2, scan_step_A=0.5, slice_thickness_A=2.0)
    simulate_cell(atoms, framework.beam_axis, replace(settings, scan_step_A=2.0), args.threads)  # warm-up

    cell, t_multislice = timed(simulate_cell, atoms, framework.beam_axis, settings, args.threads)
    prism, t_prism = timed(
        simulate_cell, atoms, framework.beam_axis, replace(settings, method="prism"), args.threads
    )
    _, _, clean = clean_field_of_view(cell, settings)
    _, _, clean_prism = clean_field_of_view(prism, settings)
    nrmse = np.sqrt(np.mean((clean - clean_prism) ** 2)) / (clean.max() - clean.min())

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
    print(
        f"multislice: {t_multislice:.2f} s   PRISM: {t_prism:.2f} s   "
        f"PRISM/multislice time ratio: {t_prism / t_multislice:.3f}"
    )
    print(f"PRISM vs multislice clean iDPC NRMSE (of the range): {nrmse:.2e}")
    print(
        f"dose series of {len(DOSES)} doses: one multislice + noise {t_series:.2f} s, re-simulating per dose "
        f"{t_resimulate:.2f} s, ratio {t_resimulate / t_series:.2f}x"
    )
    per = t_multislice / positions / slices
    print(
        f"time per probe position per slice: {per * 1e6:.1f} µs "
        f"({per / (gx * gy) * 1e9:.1f} ns per grid point)"
    )


if __name__ == "__main__":
    main()
