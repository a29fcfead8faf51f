"""Al-site figures: identifiability (accuracy, reliability, confusion), Fig. 5, the Al distribution."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from zeostem.analysis.classes import class_order  # noqa: E402
from zeostem.analysis.references import References
from zeostem.analysis.registration import Placement, Registration, model_image  # noqa: E402


def alsite_figure(molecules: pd.DataFrame, summary: pd.DataFrame, classes: int, path: str) -> None:
    """Top-1 vs dose (95 % Wilson intervals), reliability of the pipeline's confidences, confusions."""
    mismatched = molecules[molecules["model"] == "mismatched"]
    realistic = molecules[molecules["model"] == "realistic"]
    molecules = molecules[molecules["model"] == "matched"]
    doses = sorted(molecules["dose"].unique())
    fig, axes = plt.subplots(2, 1 + len(doses), figsize=(4.5 + 3 * len(doses), 6.4), squeeze=False)
    ax = axes[0, 0]
    styles = {
        ("matched", "pipeline", "molecule"): ("tab:blue", "o-"),
        ("matched", "ideal", "molecule"): ("tab:orange", "s-"),
        ("matched", "ideal_detecting", "molecule"): ("tab:brown", "D-"),
        ("matched", "pipeline", "image"): ("tab:blue", "x--"),
        ("matched", "ideal", "image"): ("tab:orange", "x--"),
        ("matched", "paper", "molecule"): ("tab:green", "^-"),
        ("matched", "paper_matching", "molecule"): ("tab:olive", "v--"),
        ("mismatched", "pipeline", "molecule"): ("tab:cyan", "o:"),
        ("realistic", "pipeline", "molecule"): ("tab:red", "o-."),
        ("realistic", "pipeline", "image"): ("tab:red", "x:"),
    }
    for (model, observer, level), (colour, style) in styles.items():
        chosen = (summary["model"] == model) & (summary["observer"] == observer) & (summary["level"] == level)
        group = summary[chosen].sort_values("dose")
        if len(group):
            err = np.clip([group["top1"] - group["top1_low"], group["top1_high"] - group["top1"]], 0, None)
            label = f"{observer}, per {level}" + ("" if model == "matched" else f", {model}")
            ax.errorbar(group["dose"], group["top1"], yerr=err, fmt=style, color=colour, capsize=3,
                        label=label)  # fmt: skip
    sites = sorted(set(molecules["true_class"]), key=class_order)
    ax.axhline(1 / classes, color="grey", ls=":", lw=1, label=f"chance (1/{classes} classes)")
    ax.set_xscale("log")
    ax.set_xticks(doses, [str(d) for d in doses])
    ax.minorticks_off()
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("dose (e/Å²)")
    ax.set_title("top-1 (identifiable class)", fontsize=9)
    ax.legend(fontsize=6)
    reliability = axes[1, 0]
    reliability.plot([0, 1], [0, 1], ":", color="grey")
    sets = ((molecules, "tab:blue", "matched"), (mismatched, "tab:cyan", "mismatched"),
            (realistic, "tab:red", "realistic"))  # fmt: skip
    for rows, colour, label in sets:
        detected = rows[(rows["observer"] == "pipeline") & rows["detected"]]
        edges = np.linspace(0, 1, 11)
        which = np.clip(np.digitize(detected["confidence"], edges) - 1, 0, 9)
        centres = [(edges[b] + edges[b + 1]) / 2 for b in range(10) if np.any(which == b)]
        accuracy = [detected["top1"].to_numpy()[which == b].mean() for b in range(10) if np.any(which == b)]
        reliability.plot(centres, accuracy, "o-", color=colour, label=label)
    reliability.legend(fontsize=6)
    reliability.set_xlabel("confidence (top class)")
    reliability.set_ylabel("accuracy")
    reliability.set_title("pipeline reliability (per molecule)", fontsize=9)
    predicted = sorted(set(molecules["predicted_class"]) - {""}, key=class_order)
    for row, observer in enumerate(("pipeline", "ideal")):
        chosen = molecules[(molecules["observer"] == observer) & molecules["detected"]]
        for ax, dose in zip(axes[row, 1:], doses, strict=True):
            at = chosen[chosen["dose"] == dose]
            matrix = pd.crosstab(at["true_class"], at["predicted_class"]).reindex(
                index=sites, columns=predicted, fill_value=0
            )
            ax.imshow(matrix.to_numpy(), cmap="Blues", vmin=0, aspect="auto")
            ax.set_xticks(range(len(predicted)), predicted, rotation=90, fontsize=6)
            ax.set_yticks(range(len(sites)), sites, fontsize=6)
            ax.set_title(f"{observer}, {dose} e/Å² (molecules)", fontsize=8)
            ax.set_xlabel("predicted", fontsize=7)
            ax.set_ylabel("true", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def matching_figure(items: list[tuple[dict, np.ndarray]], references: References, placements: list[Placement],
                    path: str) -> None:  # fmt: skip
    """Fig. 5: per image, the most certain molecule's cell, its best and best-other-T-site candidates.

    ``items`` are (report, denoised image on the reference grid). Each candidate is drawn as the
    registered image would show it: the report's registration and the molecule's placement.
    """
    fig, axes = plt.subplots(len(items), 4, figsize=(12, 2.9 * len(items)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1, 1.1]})  # fmt: skip
    cell = references.cell_px
    placement = {p.operation: p for p in placements}
    for row, (report, denoised) in zip(axes, items, strict=True):
        for ax in row[:3]:
            ax.set_axis_off()
        if not report["molecules"]:
            row[0].text(
                0.5, 0.5, f"{report['image']}: no molecule found", ha="center", transform=row[0].transAxes
            )
            row[3].set_axis_off()
            continue
        molecule = max(report["molecules"], key=lambda m: m["classes"][0]["probability"])
        r, c = molecule["centre_reference_px"]
        rows = slice(max(0, int(r - cell[0] / 2)), int(r + cell[0] / 2))
        cols = slice(max(0, int(c - cell[1] / 2)), int(c + cell[1] / 2))
        row[0].imshow(denoised[rows, cols], cmap="gray")
        row[0].set_title(f"{report['image']}: molecule (denoised)", fontsize=8)
        reg = report["registration"]
        registration = Registration(reg["operation"], np.array(reg["origin_px"]), reg["correlation"])
        best = molecule["conformations"][0]
        same = next(c["tsites"] for c in report["classes"] if best["tsite"] in c["tsites"])
        other = next((k for k in molecule["conformations"] if k["tsite"] not in same), None)
        for ax, candidate, label in ((row[1], best, "best"), (row[2], other, "best other class")):
            if candidate is None:
                continue
            model = model_image(references.spectra[candidate["conformation"]], registration,
                                placement[molecule["placement"]], denoised.shape)  # fmt: skip
            ax.imshow(model[rows, cols], cmap="gray")
            ax.set_title(f"{label}: {candidate['tsite']}, p {candidate['probability']:.2f}", fontsize=8)
        probability = {x["class"]: x["probability"] for x in report["class_ranking"]}
        order = [c["class"] for c in report["classes"]]
        row[3].bar(order, [probability.get(c, 0.0) for c in order], color="tab:blue")
        row[3].set_ylim(0, 1)
        row[3].tick_params(axis="x", labelsize=6, rotation=90)
        row[3].set_title(
            f"Al site class ({len(report['molecules'])} molecules, one kind of site)", fontsize=8
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def al_distribution_figure(table: pd.DataFrame, path: str) -> None:
    """Fraction of molecules per identifiable class with 90 % intervals, pooled and per image, and the
    share of detections that are false alarms."""
    if not len(table):
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, "no molecule detected in any image", ha="center", va="center")
        ax.set_axis_off()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return
    sets = list(dict.fromkeys(table["images"]))
    sites = sorted(set(table["class"]), key=class_order)
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(sites) * len(sets)), 3.6))
    width = 0.8 / len(sets)
    for i, name in enumerate(sets):
        part = table[table["images"] == name].set_index("class").reindex(sites)
        x = np.arange(len(sites)) + (i - (len(sets) - 1) / 2) * width
        err = np.clip([part["fraction"] - part["low"], part["high"] - part["fraction"]], 0, None)
        ax.bar(
            x,
            part["fraction"],
            width,
            yerr=err,
            capsize=2,
            label=f"{name} ({int(part['molecules'].max())} mol.)",
        )
    ax.set_xticks(range(len(sites)), sites, fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of molecules\n(false alarms: of detections)")
    ax.set_title("Al distribution over identifiable classes (A|B: split not identified; 90 % interval)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
