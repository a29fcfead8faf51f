"""Identifiability figure: top-1 accuracy vs dose (pipeline, ideal observer) and T-site confusion matrices."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def alsite_figure(rows: pd.DataFrame, summary: pd.DataFrame, path: str) -> None:
    doses = sorted(rows["dose"].unique())
    sites = sorted(set(rows["true_tsite"]) | set(rows["predicted_tsite"]) - {""}, key=lambda t: int(t[1:]))
    fig, axes = plt.subplots(1, 1 + len(doses), figsize=(4 + 3.2 * len(doses), 3.4))
    for observer, group in summary.groupby("observer"):
        axes[0].plot(group["dose"], group["top1"], marker="o", label=f"{observer} top-1")
        axes[0].plot(group["dose"], group["top3"], marker="x", ls="--", label=f"{observer} top-3")
    axes[0].set_xscale("log")
    axes[0].set_ylim(0, 1.05)
    axes[0].set_xlabel("dose (e/Å²)")
    axes[0].set_title("T-site accuracy")
    axes[0].legend(fontsize=7)
    index = {s: i for i, s in enumerate(sites)}
    pipeline = rows[rows["observer"] == "pipeline"]
    for ax, dose in zip(axes[1:], doses, strict=True):
        matrix = np.zeros((len(sites), len(sites)))
        for _, r in pipeline[pipeline["dose"] == dose].iterrows():
            if r["predicted_tsite"] in index:
                matrix[index[r["true_tsite"]], index[r["predicted_tsite"]]] += 1
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(sites)), sites, rotation=90, fontsize=6)
        ax.set_yticks(range(len(sites)), sites, fontsize=6)
        ax.set_title(f"pipeline, {dose} e/Å²", fontsize=9)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
