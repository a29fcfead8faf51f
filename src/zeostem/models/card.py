"""Model cards: what a trained model is, what it was trained on, how well it did, with which software."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib.metadata import version
from pathlib import Path

import pandas as pd


def file_hash(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_model_card(
    path: str | Path,
    name: str,
    config: dict,
    data_files: list[str],
    history: pd.DataFrame,
    metric: str = "val_psnr",
) -> None:
    """Write ``path`` (JSON) for the weights beside it; the best epoch has the highest ``metric``."""
    best = history.loc[history[metric].idxmax()]
    card = {
        "model": name,
        "weights": Path(path).with_suffix(".pt").name,
        "weights_sha256": file_hash(Path(path).with_suffix(".pt")),
        "config": config,
        "data": {Path(f).name: file_hash(f) for f in data_files},
        "best_epoch": int(best["epoch"]),
        "selected_by": metric,
        "metrics": {k: float(v) for k, v in best.items() if k.startswith("val_")},
        "validation_curve": history[["epoch", *(c for c in history.columns if c.startswith("val_"))]]
        .astype(float)
        .to_dict("records"),
        "epochs_trained": int(history["epoch"].max()),
        "training_seconds": float(history["seconds"].sum()),
        "versions": {p: version(p) for p in ("zeostem", "torch", "numpy", "abtem")}
        | {"python": platform.python_version()},
    }
    Path(path).write_text(json.dumps(card, indent=1))
