"""A trained model from its weights and model card: how every script, the CLI and the analysis load one."""

from __future__ import annotations

import json
from pathlib import Path

from zeostem.errors import InputError


def read_card(path: str | Path) -> dict:
    """A model card, with a clear error when it is missing or not JSON."""
    path = Path(path)
    fix = "re-run the workflow's training rule, or point --workflow-results at a finished run"
    if not path.is_file():
        raise InputError("the model card is missing", path=path, fix=fix)
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise InputError(f"the model card is not valid JSON ({exc})", path=path, fix=fix) from exc


def load_trained(weights: str | Path, card: str | Path, kind: str, device: str = "auto"):
    """A trained denoiser (``kind`` = denoiser) or detector, built as its card says, on ``device``."""
    from zeostem.models.detector_training import load_detector
    from zeostem.models.settings import DetectorConfig, DivaesrConfig
    from zeostem.models.training import load_model

    if not Path(weights).is_file():
        raise InputError("trained weights missing", path=weights, fix="run the workflow first")
    try:
        config = read_card(card)["config"]
        settings = (
            DivaesrConfig(**config["model"]) if kind == "denoiser" else DetectorConfig(**config["detector"])
        )
    except (KeyError, TypeError) as exc:
        raise InputError(
            f"the model card is from another version of zeostem ({type(exc).__name__}: {exc})",
            path=card,
            fix="re-run the workflow's training rule with this version",
        ) from exc
    if kind == "denoiser":
        return load_model(weights, settings, device)
    return load_detector(weights, settings, device)
