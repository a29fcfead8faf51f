"""Threads per training job: trainings one at a time on all the cores vs side by side with one thread
each.

    python benchmarks/train_threads.py [--model detector|denoiser] [--cores 2] [--steps 30]

Each job is a fresh process that trains the demo's Faster R-CNN (config.yaml's detector settings) or
its DIVAESR (the clearstem settings) for ``--steps`` steps of one epoch on synthetic images, as the
rules ``train_detector`` (once per detector input) and ``train_denoiser`` do. Both schedules run in
one call; the ratio decides the rules' ``threads``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

DETECTOR = """
import sys, tempfile
import numpy as np, torch
from zeostem.io.config import load_config
from zeostem.models.detector_training import train_detector
from zeostem.models.settings import DetectorConfig, DetectorTrainConfig
torch.set_num_threads(int(sys.argv[1]))
steps, seed = int(sys.argv[2]), int(sys.argv[3])
section = load_config("config.yaml")["detector"]
rng = np.random.default_rng(seed)
data = []
for _ in range(4 * steps):
    centres = rng.uniform(20, 380, (16, 2))
    y, x = np.mgrid[:400, :400]
    image = rng.normal(0, 1, (400, 400)) + sum(
        3 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 50) for cx, cy in centres
    )
    data.append((image.astype(np.float32), np.c_[centres - 12, centres + 12]))
train = DetectorTrainConfig.from_config(section, epochs=1, batch_size=4)
with tempfile.TemporaryDirectory() as out:
    train_detector(DetectorConfig.from_config(section), train, data, data[:1], f"{out}/det.pt", "cpu")
"""

DENOISER = """
import sys, tempfile
import numpy as np, torch
from zeostem.io.config import load_config
from zeostem.models.settings import DivaesrConfig, TrainConfig
from zeostem.models.training import train_denoiser
torch.set_num_threads(int(sys.argv[1]))
steps, seed = int(sys.argv[2]), int(sys.argv[3])
section = load_config("config.yaml")["clearstem"]
train = TrainConfig.from_config(section, epochs=1, sr_weight=section["sr_weight"])
rng = np.random.default_rng(seed)
size = load_config("config.yaml")["datasets"]["tile_size"]
clean = rng.normal(0, 1, (steps * train.batch_size, size, size)).astype(np.float32)
noisy = (clean + rng.normal(0, 1, clean.shape)).astype(np.float32)
with tempfile.TemporaryDirectory() as out:
    train_denoiser(DivaesrConfig.from_config(section), train, (noisy, clean), (noisy[:4], clean[:4]),
                   f"{out}/den", "cpu")
"""


def schedule(code: str, jobs: int, steps: int, threads: int, at_once: int) -> float:
    """Wall seconds for ``jobs`` trainings of ``steps`` steps, ``at_once`` at a time, ``threads`` each."""

    def job(seed: int) -> None:
        command = [sys.executable, "-c", code, str(threads), str(steps), str(seed)]
        subprocess.run(command, cwd=REPO, check=True, capture_output=True)

    began = time.perf_counter()
    with ThreadPoolExecutor(at_once) as pool:
        list(pool.map(job, range(jobs)))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["detector", "denoiser"], default="detector")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    jobs = args.cores
    code = DETECTOR if args.model == "detector" else DENOISER
    together = schedule(code, jobs, args.steps, args.cores, 1)
    apart = schedule(code, jobs, args.steps, 1, args.cores)
    print(
        f"{jobs} {args.model} trainings of {args.steps} steps: one at a time with {args.cores} threads "
        f"{together:.1f} s, {args.cores} at a time with 1 thread {apart:.1f} s ({apart / together:.2f}×)"
    )


if __name__ == "__main__":
    main()
