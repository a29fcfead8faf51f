"""ClearSTEM evaluation: raw input, tuned Gaussian filter, BM3D (when installed) and our models.

Each method is a function ``(noisy image, dose) → denoised image`` at the input sampling. Results
are tidy rows: one per test image × method × dose, with PSNR, SSIM and VIF against the clean image.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import ndimage
from tqdm import tqdm

from zeostem.datasets.denoise import ImagePair, load_pair
from zeostem.metrics.image_quality import image_quality, psnr

Method = Callable[[np.ndarray, int], np.ndarray]


def gaussian_filter(image: np.ndarray, sigma: float) -> np.ndarray:
    return image if sigma == 0 else ndimage.gaussian_filter(image, sigma, mode="wrap")


def tune_gaussian(pairs: list[ImagePair], sigmas: list[float]) -> dict[int, float]:
    """Best σ (px) per dose by mean PSNR on validation pairs (σ = 0 allowed: no filtering)."""
    best = {}
    for dose in sorted({p.dose for p in pairs}):
        images = [load_pair(p) for p in pairs if p.dose == dose]
        scores = [np.mean([psnr(c, gaussian_filter(n, s)) for n, c in images]) for s in sigmas]
        best[dose] = float(sigmas[int(np.argmax(scores))])
    return best


def noise_levels(pairs: list[ImagePair]) -> dict[int, float]:
    """Standard deviation of (noisy − clean) per dose on validation pairs (BM3D's σ)."""
    levels: dict[int, list[float]] = {}
    for p in pairs:
        noisy, clean = load_pair(p)
        levels.setdefault(p.dose, []).append(float(np.std(noisy - clean)))
    return {dose: float(np.mean(v)) for dose, v in levels.items()}


def bm3d_method(levels: dict[int, float]) -> Method | None:
    """BM3D with σ from the validation noise level, or None when the optional ``bm3d`` is not installed."""
    try:
        import bm3d
    except ImportError:
        return None
    return lambda image, dose: np.asarray(bm3d.bm3d(image, sigma_psd=levels[dose]), dtype=np.float32)


def evaluate(pairs: list[ImagePair], methods: dict[str, Method]) -> pd.DataFrame:
    """Metrics of every method on every test pair."""
    rows = []
    for pair in tqdm(pairs, desc="evaluate"):
        noisy, clean = load_pair(pair)
        for name, method in methods.items():
            rows.append(
                {
                    "conformation": pair.conformation,
                    "dose": pair.dose,
                    "replica": pair.replica,
                    "method": name,
                    **image_quality(clean, method(noisy, pair.dose)),
                }
            )
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std per method and dose; methods in the order they were evaluated, doses ascending."""
    order = {method: i for i, method in enumerate(dict.fromkeys(table["method"]))}
    return (
        table.groupby(["method", "dose"])[["psnr", "ssim", "vif"]]
        .agg(["mean", "std"])
        .pipe(lambda t: t.set_axis([f"{m}_{s}" for m, s in t.columns], axis=1))
        .reset_index()
        .sort_values(["method", "dose"], key=lambda c: c.map(order) if c.name == "method" else c)
        .reset_index(drop=True)
    )


def markdown_table(summary: pd.DataFrame) -> str:
    """The summary as a Markdown table (rows: method; columns: dose; cells: PSNR / SSIM / VIF, mean ± std)."""
    doses = sorted(summary["dose"].unique())
    lines = ["| method | " + " | ".join(f"{d} e/Å²" for d in doses) + " |", "|---" * (len(doses) + 1) + "|"]
    for method, rows in summary.groupby("method", sort=False):
        cells = []
        for dose in doses:
            r = rows[rows["dose"] == dose].iloc[0]
            cells.append(
                f"{r['psnr_mean']:.2f} ± {r['psnr_std']:.2f} dB / {r['ssim_mean']:.3f} / {r['vif_mean']:.3f}"
            )
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\nCells: PSNR (mean ± std) / SSIM / VIF against the clean simulation.\n"
