"""The registration's origin search, side by side: `zeostem.analysis.registration.best_shift` (the
half-pixel grid of one cell as one matrix product — the phase factorises along the two axes — then
Nelder–Mead) against its grid alone evaluated point by point (a complex exponential per grid point
and reflection, as before 2026-12-03).

    python benchmarks/registration_grid.py [--reflections 200] [--repeats 5]

The demo's cell (80.4 × 52.6 px at 0.25 Å/px) and random reflection products (the grid uses the 40
strongest, as `best_shift` does); the refined shift must lie within half a pixel of the grid's best.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from zeostem.analysis.registration import best_shift


def point_by_point(products: np.ndarray, frequencies: np.ndarray, rows: np.ndarray, cols: np.ndarray):
    points = np.stack(np.meshgrid(rows, cols, indexing="ij"), -1).reshape(-1, 2)
    score = (np.exp(2j * np.pi * points @ frequencies.T) @ products).real
    return np.unravel_index(int(np.argmax(score)), (len(rows), len(cols)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reflections", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cell = np.array([80.4, 52.6])
    h = rng.integers(-8, 9, (args.reflections, 2))
    frequencies = h / cell
    products = rng.normal(size=args.reflections) + 1j * rng.normal(size=args.reflections)
    rows, cols = (np.arange(0.0, c, 0.5) for c in cell)
    strongest = np.argsort(-np.abs(products))[:40]
    start = time.perf_counter()
    for _ in range(args.repeats):
        grid_best = point_by_point(products[strongest], frequencies[strongest], rows, cols)
    old = (time.perf_counter() - start) / args.repeats
    start = time.perf_counter()
    for _ in range(args.repeats):
        shift, _ = best_shift(products, frequencies, cell)
    new = (time.perf_counter() - start) / args.repeats
    apart = np.abs(shift - np.array([rows[grid_best[0]], cols[grid_best[1]]]))
    apart = np.minimum(apart, cell - apart)
    print(
        f"grid point by point:             {old * 1e3:8.2f} ms, best at {rows[grid_best[0]]}, "
        f"{cols[grid_best[1]]} px"
    )
    print(
        f"best_shift (grid + Nelder-Mead): {new * 1e3:8.2f} ms, shift {shift.round(3)} px "
        f"({apart.max():.2f} px apart)"
    )
    print(f"best_shift / grid point by point: {new / old:.4f}")


if __name__ == "__main__":
    main()
