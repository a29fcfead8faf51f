"""A finished run's models, references and calibration, and the full analysis of one micrograph."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zeostem.analysis.analyzer import Analyzer, LatticeAnalysis, analyze_lattice
from zeostem.analysis.calibration import Calibration
from zeostem.analysis.columns import registered_columns
from zeostem.analysis.references import References
from zeostem.app.manifest import read_manifest
from zeostem.models.card import file_hash
from zeostem.models.detector import detect
from zeostem.models.inference import denoise_at_input_sampling
from zeostem.models.loading import load_trained


@dataclass
class TrainedRun:
    """What a report needs from a finished run."""

    analyzer: Analyzer
    denoiser: object
    detector: object
    models: dict  # name → {weights, sha256}
    settings: dict  # inference tiles of the denoiser and the detector

    @classmethod
    def load(cls, references: dict, models: dict, calibration: str | Path, settings: dict) -> TrainedRun:
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

    @classmethod
    def from_results(cls, results: str | Path) -> TrainedRun:
        """The run whose results folder is ``results``, as its manifest names it.

        Parameters
        ----------
        results
            A finished run's results folder (it may have been moved or copied whole).

        Returns
        -------
        TrainedRun
            Its denoiser, detector, references, calibration and inference settings.

        Raises
        ------
        InputError
            No manifest, or a file that is not the one the manifest names.
        """
        manifest = read_manifest(results)
        return cls.load(
            manifest["references"], manifest["models"], manifest["calibration"], manifest["analysis_settings"]
        )

    def denoise(self, image: np.ndarray) -> np.ndarray:
        """ClearSTEM output at the input's sampling (an image on the models' pixel grid)."""
        s, den = self.settings, self.denoiser
        return denoise_at_input_sampling(den, image, s["inference_tile"], s["inference_overlap"])


@dataclass
class ImageAnalysis:
    """The lattice analysis plus what the neural networks add, all on the reference grid."""

    lattice: LatticeAnalysis
    denoised: np.ndarray
    frcnn_boxes: np.ndarray  # (n, 4) xyxy on the reference grid
    frcnn_scores: np.ndarray
    columns: object  # pandas DataFrame of atom columns


def analyze(
    image: np.ndarray, pixel_size_A: float, trained: TrainedRun, name: str | None = None
) -> ImageAnalysis:
    """The full analysis of one micrograph with a trained run.

    Parameters
    ----------
    image, pixel_size_A, name
        As :func:`zeostem.analysis.analyzer.analyze_lattice`.
    trained
        The run's models, references and calibration (:meth:`TrainedRun.from_results`).

    Returns
    -------
    ImageAnalysis
        The lattice analysis, plus the ClearSTEM output, the Faster R-CNN boxes and the atom columns,
        all on the reference grid.
    """
    lattice = analyze_lattice(image, pixel_size_A, trained.analyzer, name)
    resampled = lattice.frame.image
    denoised = trained.denoise(resampled.astype(np.float32))
    s = trained.settings
    boxes, scores = detect(trained.detector, denoised, s["detector_tile"], s["detector_overlap"])
    boxes = np.asarray(boxes).reshape(-1, 4)
    inside = boxes_on_image(boxes, lattice.frame.valid)
    columns = registered_columns(denoised, trained.analyzer.references, lattice.registration)
    return ImageAnalysis(lattice, denoised, boxes[inside], np.asarray(scores)[inside], columns)


def boxes_on_image(boxes: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(n,) which xyxy boxes on the reference grid have their centre where the grid holds the input
    image (``valid``): the resampled grid pads a rotated or smaller image, and a box found in the
    padding is no molecule of the image."""
    column = np.floor((boxes[:, 0] + boxes[:, 2]) / 2).astype(int)
    row = np.floor((boxes[:, 1] + boxes[:, 3]) / 2).astype(int)
    on_grid = (row >= 0) & (row < valid.shape[0]) & (column >= 0) & (column < valid.shape[1])
    inside = np.zeros(len(boxes), bool)
    inside[on_grid] = valid[row[on_grid], column[on_grid]]
    return inside
