"""Fig. 3-like figures: metric vs dose with std bands (A–C), example panels (D–G), histograms (H)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def metrics_vs_dose(table: pd.DataFrame, path: str) -> None:
    """PSNR / VIF / SSIM (mean ± std over test images) against dose, one line per method."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, metric in zip(axes, ("psnr", "vif", "ssim"), strict=True):
        for method, rows in table.groupby("method", sort=False):
            stats = rows.groupby("dose")[metric].agg(["mean", "std"]).fillna(0.0)
            ax.plot(stats.index, stats["mean"], marker="o", label=method)
            ax.fill_between(
                stats.index, stats["mean"] - stats["std"], stats["mean"] + stats["std"], alpha=0.2
            )
        ax.set_xscale("log")
        ax.set_xlabel("dose (e/Å²)")
        ax.set_ylabel(metric.upper() + (" (dB)" if metric == "psnr" else ""))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def example_panels(examples: list[dict], path: str) -> None:
    """Rows = doses; columns = noisy, denoised, clean, denoised − clean (same grey scale per row)."""
    fig, axes = plt.subplots(len(examples), 4, figsize=(13, 2.6 * len(examples)), squeeze=False)
    for row, ex in zip(axes, examples, strict=True):
        low, high = np.percentile(ex["clean"], [1, 99])
        for ax, (title, image) in zip(
            row,
            [("noisy", ex["noisy"]), ("denoised", ex["denoised"]), ("clean", ex["clean"])],
            strict=False,
        ):
            ax.imshow(image, cmap="gray", vmin=low, vmax=high)
            ax.set_title(f"{title}, {ex['dose']} e/Å²", fontsize=9)
        diff = ex["denoised"] - ex["clean"]
        span = np.abs(diff).max()
        row[3].imshow(diff, cmap="RdBu_r", vmin=-span, vmax=span)
        row[3].set_title("denoised − clean", fontsize=9)
        for ax in row:
            ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def intensity_histograms(examples: list[dict], path: str) -> None:
    """Intensity histograms of noisy, denoised and clean images at each dose."""
    fig, axes = plt.subplots(1, len(examples), figsize=(3.5 * len(examples), 3), squeeze=False)
    for ax, ex in zip(axes[0], examples, strict=True):
        bins = np.linspace(*np.percentile(ex["noisy"], [0.5, 99.5]), 80)
        for name in ("noisy", "denoised", "clean"):
            ax.hist(ex[name].ravel(), bins=bins, histtype="step", density=True, label=name)
        ax.set_title(f"{ex['dose']} e/Å²", fontsize=9)
        ax.set_xlabel("iDPC intensity")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
