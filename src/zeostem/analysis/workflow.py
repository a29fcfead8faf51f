"""A finished run's models, references and calibration, and the full analysis of one micrograph."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zeostem.analysis.columns import find_columns
from zeostem.analysis.pipeline import Analyzer, Calibration, LatticeAnalysis, analyze_lattice
from zeostem.analysis.references import References
from zeostem.errors import InputError
from zeostem.models.card import file_hash
from zeostem.models.detector import DetectorConfig, detect
from zeostem.models.detector_training import load_detector
from zeostem.models.divaesr import DivaesrConfig
from zeostem.models.inference import block_mean, denoise_image
from zeostem.models.training import load_model


def read_card(path: str | Path) -> dict:
    path = Path(path)
    fix = "re-run the workflow's training rule, or point --workflow-results at a finished run"
    if not path.is_file():
        raise InputError("the model card is missing", path=path, fix=fix)
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise InputError(f"the model card is not valid JSON ({exc})", path=path, fix=fix) from exc


def load_trained(weights: str | Path, card: str | Path, kind: str):
    """A trained denoiser (``kind`` = denoiser) or detector from its weights and model card."""
    if not Path(weights).is_file():
        raise InputError("trained weights missing", path=weights, fix="run the workflow first")
    config = read_card(card)["config"]
    if kind == "denoiser":
        return load_model(weights, DivaesrConfig(**config["model"]), "auto")
    return load_detector(weights, DetectorConfig(**config["detector"]), "auto")


@dataclass
class Workflow:
    """What a report needs from a finished run."""

    analyzer: Analyzer
    denoiser: object
    detector: object
    models: dict  # name → {weights, sha256}
    settings: dict  # inference tiles of the denoiser and the detector

    @classmethod
    def load(cls, references: dict, models: dict, calibration: str | Path, settings: dict) -> Workflow:
        """``references``: lists ``clean``, ``labels``, ``empty``; ``models``: name → weights, card, kind."""
        refs = References.load(references["clean"], references["labels"], references["empty"])
        loaded = {name: load_trained(m["weights"], m["card"], m["kind"]) for name, m in models.items()}
        by_kind = {m["kind"]: loaded[name] for name, m in models.items()}
        hashes = {
            name: {"weights": Path(m["weights"]).name, "sha256": file_hash(m["weights"])}
            for name, m in models.items()
        }
        analyzer = Analyzer(refs, Calibration.load(calibration))
        return cls(analyzer, by_kind["denoiser"], by_kind["detector"], hashes, settings)

    def denoise(self, image: np.ndarray) -> np.ndarray:
        """ClearSTEM output at the input's sampling (an image on the models' pixel grid)."""
        s, den = self.settings, self.denoiser
        return block_mean(
            denoise_image(den, image, s["inference_tile"], s["inference_overlap"]), den.config.scale
        )


@dataclass
class ImageAnalysis:
    """The lattice analysis plus what the neural networks add, all on the reference grid."""

    lattice: LatticeAnalysis
    denoised: np.ndarray
    frcnn_boxes: np.ndarray  # (n, 4) xyxy on the reference grid
    frcnn_scores: np.ndarray
    columns: object  # pandas DataFrame of atom columns


def analyze(
    image: np.ndarray, pixel_size_A: float, workflow: Workflow, name: str | None = None
) -> ImageAnalysis:
    lattice = analyze_lattice(image, pixel_size_A, workflow.analyzer, name)
    resampled = lattice.frame.image
    denoised = workflow.denoise(resampled.astype(np.float32))
    s = workflow.settings
    boxes, scores = detect(workflow.detector, denoised, s["detector_tile"], s["detector_overlap"])
    columns = find_columns(denoised, float(np.mean(workflow.analyzer.references.pixel_size_A)))
    return ImageAnalysis(lattice, denoised, np.asarray(boxes).reshape(-1, 4), np.asarray(scores), columns)
