"""Fig. 4B-like figure: AP, AP50 and AR@100 against dose, Faster R-CNN on denoised vs raw input, the
fixed-box baseline it must beat, the lattice's occupancy detections and the ideal detector's bound;
the Faster R-CNN and the fixed boxes also on the paper's 128² crops around a molecule (dashed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def detection_vs_dose(table: pd.DataFrame, histories: dict[str, pd.DataFrame], path: str) -> None:
    """AP / AP50 / AR@100 vs dose of every detector on the test images; the Faster R-CNN's validation
    AP50 per training epoch (``histories``: input → the training history), where a run stands."""
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    metrics = [("ap", "AP"), ("ap50", "AP50"), ("ar100", "AR@100")]
    for ax, (metric, title) in zip(axes[:3], metrics, strict=True):
        for (method, kind, protocol), rows in table.groupby(["method", "input", "protocol"]):
            label = {
                "faster_rcnn": f"Faster R-CNN on {kind} images",
                "fixed_box": "fixed boxes (baseline: size only)",
                "ideal": "ideal detector (geometry known)",
                "ideal_pose_known": "ideal detector, pose known",
            }.get(method, f"{method} on {kind} images")
            crops = protocol == "paper crops"
            style = ":" if method == "fixed_box" else "--" if crops else "-"
            label += ", the paper's 128² crops" if crops else ""
            ax.plot(rows["dose"], rows[metric], style, marker="^" if crops else "o", label=label)
        ax.set_xscale("log")
        ax.set_xlabel("dose (e/Å²)")
        ax.set_title(title)
        ax.set_ylim(0, 1)
    axes[0].legend(fontsize=8)
    curve = axes[3]
    for kind, history in histories.items():
        curve.plot(history["epoch"], history["val_ap50"], marker=".", label=f"Faster R-CNN on {kind} images")
    curve.set_xlabel("epoch")
    curve.set_title("validation AP50 while training")
    curve.set_ylim(0, 1)
    curve.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
