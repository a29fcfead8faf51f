"""Scaling benchmark: cost of one simulation job vs frozen phonons and cells along the beam (measured
small, fitted), and what config.paper.yaml's simulations cost, extrapolated.

The field of view costs nothing in the simulation (one periodic cell is simulated and tiled exactly);
it scales the analysis, measured by benchmarks/analysis.py. Training cost is in the model cards.

    python benchmarks/scaling.py [--threads N]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from zeostem.io.config import load_config
from zeostem.plan import WorkflowPlan
from zeostem.simulation.multislice import simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import build_candidate, load_framework, load_molecule

REPO = Path(__file__).resolve().parents[1]
POINTS = [(1, 0), (2, 0), (1, 2), (2, 2)]  # (cells along the beam, frozen-phonon configurations)


def seconds(atoms, beam_axis: int, settings: SimulationSettings, threads: int) -> float:
    start = time.perf_counter()
    simulate_cell(atoms, beam_axis, settings, threads)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    framework = load_framework(REPO / "resources/frameworks/MFI.yaml")
    molecule = load_molecule("pyridine", REPO / "resources/molecules/pyridine.xyz")
    atoms = build_candidate(framework, molecule, "T1", "O2")
    settings = SimulationSettings.from_config(load_config(REPO / "config.yaml")["simulation"])
    simulate_cell(atoms, framework.beam_axis, replace(settings, scan_step_A=2.0), args.threads)  # warm-up
    measured = []
    for cells, configs in POINTS:
        repeats = [1, 1, 1]
        repeats[framework.beam_axis] = cells
        t = seconds(atoms.repeat(repeats), framework.beam_axis, replace(settings, frozen_phonons=configs),
                    args.threads)  # fmt: skip
        measured.append((cells, configs, t))
        print(f"{settings.method}, {cells} cell(s) along the beam, {configs} phonon configs: {t:.1f} s")
    # cost = overhead + per-slice-set × cells × max(configs, 1): least squares on the measurements
    design = np.array([[1.0, c * max(f, 1)] for c, f, _ in measured])
    times = np.array([t for _, _, t in measured])
    (overhead, unit), *_ = np.linalg.lstsq(design, times, rcond=None)
    print(f"fit: {overhead:.1f} s + {unit:.1f} s × cells × configurations")
    for (c, f, t), predicted in zip(measured, design @ [overhead, unit], strict=True):
        print(f"  {c} cell(s), {f} configs: measured {t:.1f} s, fit {predicted:.1f} s")

    paper = load_config(REPO / "config.paper.yaml")
    plan = WorkflowPlan.from_config(paper)
    cells = paper["structures"]["cells_along_beam"]
    configs = max(paper["simulation"]["frozen_phonons"], 1)
    per_job = overhead + unit * cells * configs
    jobs = 2 * len(plan.conformations)  # every conformation and its molecule-free twin
    variants = plan.mismatch_variants
    variant_cost = sum(
        overhead + unit * cells * v["cells_along_beam"] * max(v["simulation"]["frozen_phonons"], 1)
        for name, v in variants.items()
        for _ in (plan.split["test"] if name == "evaluation" else plan.split["validation"])
    )
    total = jobs * per_job + variant_cost
    print(
        f"config.paper.yaml: {len(plan.conformations)} conformations → {jobs} simulation jobs of "
        f"{per_job:.0f} s ({cells} cells, {configs} configs) + mismatch variants {variant_cost:.0f} s"
    )
    print(
        f"  on {args.threads} cores: {total / 3600:.1f} h; on a 32-core node (16 jobs of 2 threads at "
        f"once, if it scales): {total / 16 / 3600:.2f} h; on a GPU: not measured (no GPU lent)"
    )


if __name__ == "__main__":
    main()
