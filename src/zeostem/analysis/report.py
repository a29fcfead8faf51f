"""Write one image's report folder: report.json (validated), denoised.tif, columns.csv, panel.png."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import jsonschema
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from zeostem.analysis.pipeline import columns_table  # noqa: E402
from zeostem.io.config import SCHEMA_DIR  # noqa: E402
from zeostem.io.images import write_image  # noqa: E402


def validate_report(report: dict) -> None:
    schema = json.loads((SCHEMA_DIR / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report)


def write_report(out_dir: str | Path, image_id: str, input_file: str, result: dict) -> dict:
    """Validate and write the folder (all files appear together, or none: built in a temporary folder)."""
    out_dir = Path(out_dir)
    arrays = result["_arrays"]
    report = {
        "image": image_id,
        "input_file": str(input_file),
        **{k: v for k, v in result.items() if k != "_arrays"},
    }
    validate_report(report)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        (tmp / "report.json").write_text(json.dumps(report, indent=1))
        pixel = result["model_pixel_size_A"]
        write_image(
            tmp / "denoised.tif", arrays["denoised"], {"pixel_size_xy_A": [pixel, pixel], "image": image_id}
        )
        scale = pixel / result["pixel_size_A"]
        columns_table(arrays["columns"], scale).to_csv(tmp / "columns.csv", index=False)
        panel(report, arrays, tmp / "panel.png")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return report


def panel(report: dict, arrays: dict, path: Path) -> None:
    """Input, denoised with detections and column classes, T-site probabilities."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5), gridspec_kw={"width_ratios": [1, 1, 0.7]})
    denoised = arrays["denoised"]
    low, high = np.percentile(denoised, [1, 99])
    axes[0].imshow(arrays["input"], cmap="gray")
    axes[0].set_title(f"input ({report['image']})")
    axes[1].imshow(denoised, cmap="gray", vmin=low, vmax=high)
    colours = {"T": "tab:orange", "O": "tab:red", "light": "tab:cyan"}
    cols = arrays["columns"]
    for name, colour in colours.items():
        sel = cols[cols["class"] == name]
        axes[1].scatter(sel["x_px"], sel["y_px"], s=3, c=colour, label=name)
    scale = report["model_pixel_size_A"] / report["pixel_size_A"]
    for m in report["molecules"]:
        x0, y0, x1, y1 = (v / scale for v in m["box_xyxy"])
        axes[1].add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", lw=1))
        axes[1].text(x0, y0 - 2, f"{m['tsites'][0]['tsite']} {m['score']:.2f}", color="lime", fontsize=7)
    axes[1].legend(fontsize=7, loc="lower right")
    axes[1].set_title("denoised, detections, column classes")
    ranking = report["tsite_ranking"][:8]
    axes[2].barh([r["tsite"] for r in ranking][::-1], [r["probability"] for r in ranking][::-1])
    axes[2].set_xlim(0, 1)
    axes[2].set_title("Al T-site probability (image)")
    for ax in axes[:2]:
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
