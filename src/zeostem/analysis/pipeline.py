"""One image → Al-site report: resample, denoise, detect, element clustering, match, probabilities.

``Workflow.load(results)`` gathers what a finished run provides: the denoiser and detector with
their model cards, the clean references of every candidate conformation and the calibration
(temperature of the probabilities, dose constant of the noise model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from skimage.transform import rescale

from zeostem.analysis.columns import find_columns
from zeostem.analysis.matching import Reference, match_window, probabilities, window_at
from zeostem.errors import InputError
from zeostem.io.images import read_image
from zeostem.models.card import file_hash
from zeostem.models.detector import DetectorConfig, detect
from zeostem.models.detector_training import load_detector
from zeostem.models.divaesr import DivaesrConfig
from zeostem.models.inference import block_mean, denoise_image
from zeostem.models.training import load_model


@dataclass
class Workflow:
    """Trained models, references and calibration of a finished workflow run."""

    denoiser: object
    detector: object
    references: list[Reference]
    pixel_size_A: float
    cell_px: tuple[float, float]  # (x, y) of one unit cell in reference pixels
    temperature: float
    dose_constant: float  # noise variance × dose (e/Å²) of the denoiser's input
    models: dict
    settings: dict

    @classmethod
    def load(
        cls,
        results: str | Path,
        denoiser: str,
        detector: str,
        conformations: list[str],
        calibration: str | Path | None,
        settings: dict,
    ) -> Workflow:
        results = Path(results)
        missing = [
            p
            for p in (results / "models" / f"{denoiser}.pt", results / "models" / f"{detector}.pt")
            if not p.is_file()
        ]
        if missing:
            raise InputError(
                f"trained models missing: {[str(m) for m in missing]}",
                path=results,
                fix="run the workflow first, or point --workflow-results at a finished run",
            )
        cards = {
            name: json.loads((results / "models" / f"{name}.json").read_text())
            for name in (denoiser, detector)
        }
        den = load_model(
            results / "models" / f"{denoiser}.pt", DivaesrConfig(**cards[denoiser]["config"]["model"]), "auto"
        )
        det = load_detector(
            results / "models" / f"{detector}.pt",
            DetectorConfig(**cards[detector]["config"]["detector"]),
            "auto",
        )
        references, pixel, cell = load_references(results, conformations)
        calib = (
            json.loads(Path(calibration).read_text())
            if calibration
            else {"temperature": 1.0, "dose_constant": 0.0}
        )
        models = {
            name: {"weights": f"models/{name}.pt", "sha256": file_hash(results / "models" / f"{name}.pt")}
            for name in (denoiser, detector)
        }
        return cls(
            den, det, references, pixel, cell, calib["temperature"], calib["dose_constant"], models, settings
        )

    @classmethod
    def from_config(
        cls, results: str | Path, config: dict, conformations: list[str], calibration: str | Path | None
    ) -> Workflow:
        """The models a validated ``config`` names (first ClearSTEM model, first detector input)."""
        c, d, a = config["clearstem"], config["detector"], config["analysis"]
        settings = {
            "inference_tile": c["inference_tile"],
            "inference_overlap": c["inference_overlap"],
            "detector_tile": d["tile"],
            "detector_overlap": d["overlap"],
            "max_molecules": a["max_molecules"],
        }
        detector = f"detector_{d['inputs'][0]}"
        return cls.load(results, c["models"][0], detector, conformations, calibration, settings)

    def denoise(self, image: np.ndarray) -> np.ndarray:
        """ClearSTEM output at the input's sampling (an image already at the models' pixel size)."""
        s, den = self.settings, self.denoiser
        return block_mean(
            denoise_image(den, image, s["inference_tile"], s["inference_overlap"]), den.config.scale
        )


def load_references(
    results: str | Path, conformations: list[str]
) -> tuple[list[Reference], float, tuple[float, float]]:
    """Clean references of the candidates, their pixel size (Å) and one unit cell (x, y) in pixels."""
    references, pixel, cell = [], None, None
    for conformation in conformations:
        folder = Path(results) / "simulation" / conformation
        image, meta = read_image(folder / "clean.tif")
        labels = json.loads((folder / "labels.json").read_text())
        references.append(Reference(conformation, meta["structure"]["tsite"], image))
        pixel, cell = meta["pixel_size_A"], tuple(labels["cell_px"])
    return references, pixel, cell


def cell_window_shape(cell_px: tuple[float, float]) -> tuple[int, int]:
    """(rows, cols) of a one-unit-cell window, the size molecules are matched at."""
    return int(round(cell_px[1])), int(round(cell_px[0]))


def to_model_sampling(image: np.ndarray, pixel_size_A: float, target_A: float) -> np.ndarray:
    """Resample to the models' pixel size (cubic); unchanged within 0.5 %."""
    factor = pixel_size_A / target_A
    if abs(factor - 1.0) < 0.005:
        return image.astype(np.float32)
    return rescale(
        image.astype(np.float64), factor, order=3, mode="reflect", anti_aliasing=factor < 1
    ).astype(np.float32)


def noise_variance(noisy: np.ndarray, denoised: np.ndarray) -> float:
    return float(np.var(noisy - denoised))


def analyze(image: np.ndarray, pixel_size_A: float, workflow: Workflow) -> dict:
    """Everything of the report for one image (arrays included under ``_arrays``)."""
    s = workflow.settings
    x = to_model_sampling(image, pixel_size_A, workflow.pixel_size_A)
    denoised = workflow.denoise(x)
    boxes, scores = detect(workflow.detector, denoised, s["detector_tile"], s["detector_overlap"])
    variance = noise_variance(x, denoised)
    dose = workflow.dose_constant / variance if workflow.dose_constant > 0 else None
    columns = find_columns(denoised, workflow.pixel_size_A)
    size = cell_window_shape(workflow.cell_px)
    scale = workflow.pixel_size_A / pixel_size_A  # model px → input px
    molecules, totals = [], {}
    order = np.argsort(-scores)[: s["max_molecules"]]
    for i in order:
        x0, y0, x1, y1 = boxes[i]
        window = window_at(denoised, ((y0 + y1) / 2, (x0 + x1) / 2), size)
        matches = match_window(window, workflow.references, variance)
        ll = np.array([m.log_likelihood for m in matches])
        p = probabilities(ll, workflow.temperature)
        for m, lli in zip(matches, ll, strict=True):
            totals[m.conformation] = totals.get(m.conformation, 0.0) + lli
        molecules.append(
            {
                "box_xyxy": [float(v * scale) for v in boxes[i]],
                "score": float(scores[i]),
                "conformations": [
                    {
                        "conformation": m.conformation,
                        "tsite": m.tsite,
                        "probability": float(pi),
                        "ssim": m.ssim,
                        "log_likelihood": m.log_likelihood,
                        "operation": m.operation,
                        "origin_px": [float(v) for v in m.origin_px],
                    }
                    for m, pi in zip(matches, p, strict=True)
                ],  # fmt: skip
                "tsites": tsite_ranking([m.tsite for m in matches], p),
            }
        )
    image_ranking = []
    if totals:
        names = list(totals)
        p = probabilities(np.array([totals[n] for n in names]), workflow.temperature)
        tsite = {r.conformation: r.tsite for r in workflow.references}
        image_ranking = tsite_ranking([tsite[n] for n in names], p)
    return {
        "pixel_size_A": pixel_size_A,
        "model_pixel_size_A": workflow.pixel_size_A,
        "noise_variance": variance,
        "dose_estimate_e_per_A2": dose,
        "models": workflow.models,
        "molecules": molecules,
        "tsite_ranking": image_ranking,
        "_arrays": {"input": x, "denoised": denoised, "columns": columns},
    }


def tsite_ranking(tsites: list[str], p: np.ndarray) -> list[dict]:
    """Probabilities of conformations (their T-sites ``tsites``) summed per T-site, most probable first."""
    per_site: dict[str, float] = {}
    for tsite, pi in zip(tsites, p, strict=True):
        per_site[tsite] = per_site.get(tsite, 0.0) + float(pi)
    return [{"tsite": t, "probability": q} for t, q in sorted(per_site.items(), key=lambda kv: -kv[1])]


def columns_table(columns: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Columns with positions in the input image's pixels too."""
    out = columns.copy()
    out["x_input_px"], out["y_input_px"] = out["x_px"] * scale, out["y_px"] * scale
    return out
