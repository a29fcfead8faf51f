"""Model mismatch figure: how far each simulation variant moves the T-site margins, and from which dose
on that outweighs shot noise."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def mismatch_figure(table: pd.DataFrame, doses: list[int], path: str) -> None:
    """Left: per variant, the closest rival's margin shift relative to the margin itself (points: one
    per conformation; 1 = the variant's noise-free image is as likely to name the rival). Right: the
    dose above which that shift outweighs the shot noise, against the simulated doses."""
    variants = list(dict.fromkeys(table["variant"]))
    fig, (shift, dominates) = plt.subplots(1, 2, figsize=(10, 3.8))
    x = np.arange(len(variants))
    for i, v in enumerate(variants):
        rows = table[table["variant"] == v]
        at = np.full(len(rows), i)
        shift.plot(at, rows["closest_rival_relative_shift"], "o", color="tab:blue", alpha=0.7)
        dominates.plot(at, rows["dose_mismatch_dominates"], "o", color="tab:red", alpha=0.7)
        shift.annotate(f"NCC {rows['ncc'].mean():.4f}", (i, rows["closest_rival_relative_shift"].max()),
                       fontsize=6, ha="center", va="bottom")  # fmt: skip
    shift.axhline(1, color="k", ls=":", lw=1, label="shift = margin")
    shift.set_yscale("log")
    shift.set_ylabel("|margin shift| / margin (closest rival)")
    shift.set_title("what a variant does to the T-site signal", fontsize=9)
    shift.legend(fontsize=7)
    for dose in doses:
        dominates.axhline(dose, color="grey", ls=":", lw=1)
    dominates.set_yscale("log")
    dominates.set_ylabel("dose where mismatch outweighs noise (e/Å²)")
    dominates.set_title("simulated doses dotted", fontsize=9)
    for ax in (shift, dominates):
        ax.set_xticks(x, variants, rotation=30, ha="right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
