"""Scaling benchmark: cost of one simulation job vs frozen phonons and cells along the beam (measured
small), and what config.paper.yaml's simulations cost, extrapolated from those ratios.

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
from zeostem.jobs import Jobs
from zeostem.simulation.multislice import simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import build_candidate, load_framework, load_molecule

REPO = Path(__file__).resolve().parents[1]
POINTS = [(1, 0), (2, 0), (1, 4), (2, 4), (1, 8)]  # (cells along the beam, frozen-phonon configurations)


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
        elapsed = seconds(atoms.repeat(repeats), framework.beam_axis,
                          replace(settings, frozen_phonons=configs), args.threads)  # fmt: skip
        measured.append((cells, configs, elapsed))
        print(f"{settings.method}, {cells} cell(s) along the beam, {configs} phonon configs: {elapsed:.1f} s")
    t = {(c, f): elapsed for c, f, elapsed in measured}
    per_config = t[(1, 8)] / 8  # frozen phonons: measured linear in the configurations (ratio below)
    cell_ratio = t[(2, 4)] / t[(1, 4)]  # a second cell along the beam, with phonons
    static_ratio = t[(2, 0)] / t[(1, 0)]
    print(
        f"ratios: 4 → 8 configurations ×{t[(1, 8)] / t[(1, 4)]:.2f}; 1 → 2 cells ×{static_ratio:.2f} "
        f"static, ×{cell_ratio:.2f} with 4 configurations"
    )

    def cost(cells: int, configs: int) -> float:
        """Configurations scale linearly (measured 4 → 8); each doubling of the cells along the beam
        multiplies by the measured 1 → 2 ratio (static or with phonons)."""
        base = t[(1, 0)] if configs == 0 else per_config * configs
        ratio = static_ratio if configs == 0 else cell_ratio
        return float(base * ratio ** np.log2(cells))

    paper = load_config(REPO / "config.paper.yaml")
    plan = Jobs.from_config(paper)
    cells = paper["structures"]["cells_along_beam"]
    configs = paper["simulation"]["frozen_phonons"]
    per_job = cost(cells, configs)
    jobs = 2 * len(plan.conformations)  # every conformation and its molecule-free twin
    variants = plan.mismatch_variants
    variant_cost = sum(
        cost(cells * v["cells_along_beam"], v["simulation"]["frozen_phonons"])
        for name, v in variants.items()
        for _ in (plan.split["test"] if name == "evaluation" else plan.split["validation"])
    )
    total = jobs * per_job + variant_cost
    print(
        f"config.paper.yaml: {len(plan.conformations)} conformations → {jobs} simulation jobs of "
        f"{per_job:.0f} s ({cells} cells, {configs} configs) + mismatch variants {variant_cost:.0f} s "
        "(the potential-sampling variant's 4× grid not counted)"
    )
    print(
        f"  on {args.threads} cores: {total / 3600:.1f} h; on a 32-core node (16 jobs of 2 threads at "
        f"once, if it scales): {total / 16 / 3600:.2f} h; on a GPU: not measured (no GPU lent)"
    )


if __name__ == "__main__":
    main()
