"""Al-site figures: identifiability (accuracy vs dose, confusion) and Fig. 5 (conformation matching)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from zeostem.analysis.matching import OPERATIONS, shifted_patch, window_at  # noqa: E402


def alsite_figure(rows: pd.DataFrame, summary: pd.DataFrame, path: str) -> None:
    """Top-1 / top-3 accuracy vs dose per observer, and each observer's confusion matrix per dose."""
    doses = sorted(rows["dose"].unique())
    observers = sorted(rows["observer"].unique(), key=lambda o: o != "pipeline")
    sites = sorted(set(rows["true_tsite"]) | set(rows["predicted_tsite"]) - {""}, key=lambda t: int(t[1:]))
    index = {s: i for i, s in enumerate(sites)}
    fig, axes = plt.subplots(
        len(observers), 1 + len(doses), figsize=(4 + 2.8 * len(doses), 3.0 * len(observers)), squeeze=False
    )
    accuracy = axes[0, 0]
    for colour, observer in zip(("tab:blue", "tab:orange", "tab:green"), observers, strict=False):
        group = summary[summary["observer"] == observer].sort_values("dose")
        for metric, style in (("top1", "o-"), ("top3", "x--")):
            accuracy.plot(group["dose"], group[metric], style, color=colour, label=f"{observer} {metric}")
    accuracy.set_xscale("log")
    accuracy.set_xticks(doses, [str(d) for d in doses])
    accuracy.minorticks_off()
    accuracy.set_ylim(0, 1.05)
    accuracy.set_xlabel("dose (e/Å²)")
    accuracy.set_title("T-site accuracy")
    accuracy.legend(fontsize=7)
    for ax in axes[1:, 0]:
        ax.set_axis_off()
    for row, observer in zip(axes, observers, strict=True):
        chosen = rows[rows["observer"] == observer]
        for ax, dose in zip(row[1:], doses, strict=True):
            matrix = np.zeros((len(sites), len(sites)))
            for _, r in chosen[chosen["dose"] == dose].iterrows():
                if r["predicted_tsite"] in index:
                    matrix[index[r["true_tsite"]], index[r["predicted_tsite"]]] += 1
            ax.imshow(matrix, cmap="Blues", vmin=0)
            ax.set_xticks(range(len(sites)), sites, rotation=90, fontsize=6)
            ax.set_yticks(range(len(sites)), sites, fontsize=6)
            ax.set_title(f"{observer}, {dose} e/Å²", fontsize=9)
            ax.set_xlabel("predicted", fontsize=8)
            ax.set_ylabel("true", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def matching_figure(
    items: list[tuple[dict, np.ndarray]],
    references: dict[str, np.ndarray],
    window: tuple[int, int],
    path: str,
) -> None:
    """Fig. 5: per analysed image, the molecule's window, its best and runner-up registered candidates.

    ``items`` are (report, denoised image at the models' pixel size); ``references`` map conformation →
    clean reference. Each candidate patch is sampled at its registered origin and put back in the
    window's frame (the symmetry operations are their own inverses). The last column is the image's
    T-site probabilities.
    """
    fig, axes = plt.subplots(
        len(items), 4, figsize=(12, 2.9 * len(items)), squeeze=False,
        gridspec_kw={"width_ratios": [1, 1, 1, 1.1]},
    )  # fmt: skip
    for row, (report, denoised) in zip(axes, items, strict=True):
        for ax in row[:3]:
            ax.set_axis_off()
        row[0].set_title(report["image"], fontsize=9)
        if not report["molecules"]:
            row[0].text(0.5, 0.5, "no molecule detected", ha="center", transform=row[0].transAxes)
            row[3].set_axis_off()
            continue
        molecule = report["molecules"][0]  # highest detector score
        scale = report["model_pixel_size_A"] / report["pixel_size_A"]
        x0, y0, x1, y1 = (v / scale for v in molecule["box_xyxy"])
        cut = window_at(denoised, ((y0 + y1) / 2, (x0 + x1) / 2), window)
        row[0].imshow(cut, cmap="gray")
        row[0].set_title(f"{report['image']}: molecule window (score {molecule['score']:.2f})", fontsize=8)
        best = molecule["conformations"][0]
        runner_up = next((c for c in molecule["conformations"] if c["tsite"] != best["tsite"]), None)
        for ax, candidate, label in ((row[1], best, "best"), (row[2], runner_up, "best other T-site")):
            if candidate is None:
                continue
            reference = references[candidate["conformation"]]
            patch = shifted_patch(reference, tuple(candidate["origin_px"]), window)
            ax.imshow(OPERATIONS[candidate["operation"]](patch), cmap="gray")
            ax.set_title(
                f"{label}: {candidate['tsite']} ({candidate['operation']})\n"
                f"SSIM {candidate['ssim']:.2f}, p {candidate['probability']:.2f}",
                fontsize=8,
            )
        ranking = sorted(report["tsite_ranking"], key=lambda r: int(r["tsite"][1:]))
        row[3].bar([r["tsite"] for r in ranking], [r["probability"] for r in ranking], color="tab:blue")
        row[3].axhline(1 / max(len(ranking), 1), color="grey", ls=":", lw=1, label="uniform")
        row[3].set_ylim(0, 1)
        row[3].tick_params(axis="x", labelsize=6, rotation=90)
        row[3].set_title("Al T-site probability (image)", fontsize=8)
        row[3].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
