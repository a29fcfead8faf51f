"""Batch analysis benchmark: N micrographs in one `zeostem analyze` call vs N separate calls.

    python benchmarks/batch.py [--results results] [--config config.yaml] [-n 3] IMAGE...

Needs a finished run (models, references, calibration). Both ways run as fresh processes, side by
side, on the same images; the ratio is what loading the models and references once saves.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ZEOSTEM = Path(sys.executable).parent / "zeostem"


def analyze(images: list[str], results: str, config: str, out: str) -> float:
    start = time.perf_counter()
    command = [ZEOSTEM, "analyze", *images, "--workflow-results", results, "--config", config, "--out", out]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("images", nargs="+")
    parser.add_argument("--results", default="results")
    parser.add_argument("--config", default="config.yaml")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        together = analyze(args.images, args.results, args.config, f"{tmp}/together")
        apart = sum(analyze([image], args.results, args.config, f"{tmp}/apart") for image in args.images)
    n = len(args.images)
    print(f"{n} images: one call {together:.1f} s ({together / n:.1f} s per image)")
    print(f"{n} separate calls {apart:.1f} s ({apart / n:.1f} s per image)")
    print(f"one call takes {together / apart:.2f}× the time of separate calls")


if __name__ == "__main__":
    main()
