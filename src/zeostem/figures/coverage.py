"""Coverage figure: per class-fraction setting, the share of nominal 90 % intervals that hold the truth
against dose, with its interval, beside the target band."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

TARGET = (0.85, 0.95)


def coverage_figure(study: pd.DataFrame, path: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.axhspan(*TARGET, color="0.9", label="target 0.85–0.95")
    ax.axhline(0.9, color="k", lw=0.6, ls=":")
    settings = list(dict.fromkeys(study["setting"]))
    models = list(dict.fromkeys(study["model"]))  # each its own line style (the dose estimated, stated)
    for (m, model), (k, setting) in itertools.product(enumerate(models), enumerate(settings)):
        rows = study[(study["model"] == model) & (study["setting"] == setting)].sort_values("dose")
        lines = len(settings) * len(models)
        shift = 1 + 0.03 * (m * len(settings) + k - (lines - 1) / 2)  # side by side on the log axis
        err = np.abs(rows[["present_low", "present_high"]].to_numpy().T - rows["present_covered"].to_numpy())
        low, high = int(rows["stacks"].min()), int(rows["stacks"].max())
        label = f"{model}: {setting} ({low if low == high else f'{low}–{high}'} stacks per dose)"
        style = "o" + ("-", "--", ":")[m % 3]
        ax.errorbar(rows["dose"] * shift, rows["present_covered"], yerr=err, fmt=style, ms=4, capsize=2,
                    color=f"C{k}", mfc="none" if m else f"C{k}", label=label)  # fmt: skip
    for dose, rows in study.groupby("dose"):  # a dose where fewer than two classes are seen has no interval
        if not rows["intervals"].fillna(0).any():
            ax.text(dose, 0.5, "< 2 classes\nseen: no\ninterval", ha="center", va="center", fontsize=7)
    ax.set_xscale("log")
    doses = sorted(study["dose"].unique())
    ax.set_xticks(doses, [f"{d:g}" for d in doses])
    ax.set_xlim(doses[0] / 1.4, doses[-1] * 1.4)
    ax.minorticks_off()
    ax.set_xlabel("dose (e/Å²)")
    ax.set_ylabel("intervals holding the true fraction")
    ax.set_ylim(0, 1.02)
    ax.set_title("Al distribution: coverage of nominal 90 % intervals", fontsize=9)
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
