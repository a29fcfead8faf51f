"""A finished run's models, references and calibration, and the full analysis of one micrograph."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zeostem.analysis.columns import find_columns
from zeostem.analysis.pipeline import Analyzer, Calibration, LatticeAnalysis, analyze_lattice
from zeostem.analysis.references import References
from zeostem.models.card import file_hash
from zeostem.models.detector import detect
from zeostem.models.inference import block_mean, denoise_image
from zeostem.models.loading import load_trained


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
