"""The per-image report panel: input, denoised with the detections, T-site posterior and Al distribution."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from zeostem.models.detector import FRCNN_MIN_SCORE  # noqa: E402


def panel(report: dict, analysis, boxes: np.ndarray, path: Path) -> None:
    """``boxes``: the lattice detections (xyxy on the reference grid), labelled by their top T-site."""
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.5), gridspec_kw={"width_ratios": [1, 1, 0.6, 0.6]})
    denoised = analysis.denoised
    low, high = np.percentile(denoised, [1, 99])
    axes[0].imshow(analysis.lattice.frame.image, cmap="gray")
    lat = report["lattice"]
    axes[0].set_title(
        f"{report['image']} on the reference grid\nrotation {lat['rotation_deg']:.2f}°, "
        f"pixel {lat['pixel_size_x_A']:.4f} × {lat['pixel_size_y_A']:.4f} Å, shear {lat['shear_deg']:.2f}°",
        fontsize=8,
    )
    axes[1].imshow(denoised, cmap="gray", vmin=low, vmax=high)
    cols = analysis.columns
    for name, colour in {"T": "tab:orange", "O": "tab:red", "light": "tab:cyan"}.items():
        sel = cols[cols["class"] == name]
        axes[1].scatter(sel["x_px"], sel["y_px"], s=2, c=colour, label=name)
    for (x0, y0, x1, y1), molecule in zip(boxes, report["molecules"], strict=True):
        axes[1].add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", lw=1))
        axes[1].text(x0, y0 - 2, molecule["classes"][0]["class"], color="lime", fontsize=7)
    for b in analysis.frcnn_boxes[analysis.frcnn_scores >= FRCNN_MIN_SCORE]:
        axes[1].add_patch(
            plt.Rectangle(b[:2], b[2] - b[0], b[3] - b[1], fill=False, color="magenta", lw=0.8, ls="--")
        )
    axes[1].legend(fontsize=7, loc="lower right")
    axes[1].set_title(
        f"denoised: {len(report['molecules'])} molecules of {report['sites_analysed']} sites (green), "
        "Faster R-CNN (magenta)",
        fontsize=8,
    )
    order = [c["class"] for c in report["classes"]]
    probability = {r["class"]: r["probability"] for r in report["class_ranking"]}
    axes[2].bar(order, [probability.get(c, 0.0) for c in order])
    axes[2].set_ylim(0, 1)
    evidence = report["molecule_evidence"]
    axes[2].set_title(
        "Al site class (all molecules at one kind of site)"
        if evidence["molecules_present"]
        else f"no call: {evidence['detections']} detections, "
        f"{evidence['false_alarms_expected'] or 0:.1f} expected from false alarms alone",
        fontsize=8,
    )
    dist = report["al_distribution"]
    if dist:
        dist = [d for d in dist if d["seen"]]  # a class not seen at this dose has no fraction to draw
        f = np.array([d["fraction"] for d in dist])
        err = np.array([[d["fraction"] - d["low"] for d in dist], [d["high"] - d["fraction"] for d in dist]])
        axes[3].bar([d["class"] for d in dist], f, yerr=np.clip(err, 0, None), capsize=2, color="tab:green")
    axes[3].set_ylim(0, 1)
    axes[3].set_title("Al distribution (90 % interval)\nA|B: split not identified", fontsize=8)
    for ax in axes[2:]:
        ax.tick_params(axis="x", labelsize=6, rotation=90)
    for ax in axes[:2]:
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
