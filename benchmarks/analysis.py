"""Lattice-first analysis benchmark: seconds per step for one large micrograph (no model loading).

    python benchmarks/analysis.py [--results results] [--config config.yaml] [--size 1024] [--dose 1500]

Needs a finished run's simulation (the references and one test conformation's segments). The image
is that conformation at ``--dose`` on a ``size × size`` field, rotated by 23° and 2 % off in pixel
size, so every step (lattice fit, resampling, registration, refinement) does real work.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage

from zeostem.analysis.analyzer import (
    Analyzer,
    molecules_at_their_contrast,
    registration_weight,
    resampled_and_registered,
)
from zeostem.analysis.calibration import Calibration
from zeostem.analysis.lattice import fit_lattice
from zeostem.analysis.likelihood import CONTRAST_ROUNDS, hypotheses
from zeostem.analysis.references import References
from zeostem.analysis.registration import refine_map
from zeostem.io.config import load_config
from zeostem.jobs import Jobs
from zeostem.paths import located
from zeostem.simulation.images import SimulatedSegments, noise_seed, noisy_idpc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", default="results")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--dose", type=int, default=1500)
    args = parser.parse_args()
    layout = Jobs.from_config(load_config(args.config)).reference_files
    files = {kind: [str(located(p, args.results)) for p in paths] for kind, paths in layout.items()}
    start = time.perf_counter()
    analyzer = Analyzer(
        References.load(files["clean"], files["labels"], files["empty"]), Calibration.uncalibrated()
    )
    print(f"references and derived tables: {time.perf_counter() - start:.2f} s (once per run)")
    sim = SimulatedSegments.read(files["clean"][0].replace("clean.tif", "segments.tif"))
    seed = noise_seed(0, "benchmark", args.dose, 0)
    noisy = noisy_idpc(sim.segments, sim.fov.pixel_size, args.dose, sim.rotation_deg, seed)
    a = np.radians(23.0)
    matrix = 1.02 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    rows, cols = np.indices((args.size, args.size), float)
    coords = matrix @ np.stack([rows.ravel(), cols.ravel()])
    image = ndimage.map_coordinates(noisy, coords, order=3, mode="grid-wrap").reshape(args.size, args.size)
    refs, pixel = analyzer.references, 0.25 * 1.02
    steps = {}

    def timed(name, call):
        t = time.perf_counter()
        out = call()
        steps[name] = time.perf_counter() - t
        return out

    fit = timed("lattice fit", lambda: fit_lattice(image, pixel, analyzer.fit_reflections, refs.pixel_size_A))
    frame, registration = timed("resample + register", lambda: resampled_and_registered(image, fit, analyzer))
    refined = timed(
        "refine map", lambda: refine_map(frame.image, registration_weight(frame), refs, registration)
    )
    fit = type(fit)(refined @ fit.matrix, fit.reference_pixel_A, fit.residual, fit.reflections_found)
    frame, registration = timed(
        "resample + register again", lambda: resampled_and_registered(image, fit, analyzer)
    )
    found = timed(
        "per-cell likelihoods",
        lambda: hypotheses(frame.image, frame.valid, refs, registration, analyzer.placements),
    )

    _, (sites, _, _) = timed(
        f"sites, contrast ({CONTRAST_ROUNDS} rounds)",
        lambda: molecules_at_their_contrast(found, refs, 1.0, analyzer.calibration.occupancy_threshold),
    )
    total = sum(steps.values())
    print(
        f"{args.size} × {args.size} px at {args.dose} e/Å², {len(refs.candidates)} candidates × "
        f"{len(analyzer.placements)} placements, {len(found.llr)} hypotheses, {len(sites.llr)} sites"
    )
    for name, seconds in steps.items():
        print(f"  {name:28s} {seconds:7.2f} s  ({seconds / total:5.1%})")
    print(f"  {'total':28s} {total:7.2f} s per image (models not loaded: ClearSTEM / Faster R-CNN not timed)")


if __name__ == "__main__":
    main()
