"""Threads per simulation job: N jobs one at a time with all the cores each vs one job per core.

    python benchmarks/job_threads.py [--cores 2] [--jobs 4]

Each job is a fresh process that builds one conformation and simulates its cell with the demo's
settings (config.yaml), as a Snakemake job does: imports and abTEM's set-up are paid per job. The
two schedules run side by side on the same conformations; the ratio is why the simulation rules
claim one thread.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]  # the jobs read resources/ and config.yaml from here

JOB = """
import sys
from pathlib import Path
from zeostem.io.config import load_config
from zeostem.simulation.multislice import simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import build_candidate, load_framework, load_molecule
framework = load_framework(Path("resources/frameworks/MFI.yaml"))
molecule = load_molecule("pyridine", Path("resources/molecules/pyridine.xyz"))
atoms = build_candidate(framework, molecule, sys.argv[1], sys.argv[2])
settings = SimulationSettings.from_config(load_config("config.yaml")["simulation"])
simulate_cell(atoms, framework.beam_axis, settings, int(sys.argv[3]))
"""
SITES = [("T1", "O2"), ("T5", "O1"), ("T7", "O16"), ("T12", "O25"), ("T2", "O2"), ("T3", "O8")]


def schedule(jobs: list[tuple[str, str]], threads: int, at_once: int) -> float:
    """Wall seconds for ``jobs`` run ``at_once`` at a time with ``threads`` dask threads each."""

    def run(site: tuple[str, str]) -> None:
        command = [sys.executable, "-c", JOB, *site, str(threads)]
        subprocess.run(command, check=True, capture_output=True, cwd=REPO)

    start = time.perf_counter()
    with ThreadPoolExecutor(at_once) as pool:
        list(pool.map(run, jobs))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=4, choices=range(1, len(SITES) + 1))
    args = parser.parse_args()
    jobs = SITES[: args.jobs]
    together = schedule(jobs, args.cores, 1)
    apart = schedule(jobs, 1, args.cores)
    print(f"{len(jobs)} jobs, one at a time with {args.cores} threads: {together:.1f} s")
    print(f"{len(jobs)} jobs, {args.cores} at a time with 1 thread: {apart:.1f} s")
    print(f"one thread per job takes {apart / together:.2f}× the time")


if __name__ == "__main__":
    main()
