"""Robustness figure: per nuisance case, T-site top-1 and molecule recall of the pipeline and the ideal
observer, with their intervals, against the nuisance-free pipeline and chance."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

STYLE = {"pipeline": ("tab:blue", "o", -0.15), "ideal": ("tab:gray", "s", 0.15)}


def robustness_figure(table: pd.DataFrame, path: str) -> None:
    cases = list(dict.fromkeys(table["case"]))
    x = np.arange(len(cases))
    fig, axes = plt.subplots(2, 1, figsize=(max(8, 0.55 * len(cases)), 6.5), sharex=True)
    for ax, metric, label in ((axes[0], "top1", "T-site top-1 per molecule"), (axes[1], "recall", "recall")):
        for observer, (colour, marker, dx) in STYLE.items():
            rows = table[table["observer"] == observer].set_index("case").loc[cases]
            err = np.abs(rows[[f"{metric}_low", f"{metric}_high"]].to_numpy().T - rows[metric].to_numpy())
            ax.errorbar(x + dx, rows[metric], yerr=err, fmt=marker, color=colour, ms=4, capsize=2,
                        label=observer)  # fmt: skip
        clean = table[(table["case"] == "none") & (table["observer"] == "pipeline")][metric]
        if len(clean):
            ax.axhline(float(clean.iloc[0]), color="tab:blue", ls="--", lw=0.8, label="pipeline, no nuisance")
        if metric == "top1":
            ax.axhline(float(table["chance"].iloc[0]), color="k", ls=":", lw=0.8, label="chance")
        ax.set_ylabel(label)
        ax.set_ylim(0, 1.02)
    labels = [
        f"{n} {s}".strip() for n, s in table.drop_duplicates("case")[["nuisance", "strength"]].to_numpy()
    ]
    axes[1].set_xticks(x, labels, rotation=60, ha="right", fontsize=7)
    axes[0].legend(fontsize=7, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
