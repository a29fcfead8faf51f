"""Where a run keeps what the analysis needs, and which models and settings a report uses.

One function per decision, used by the rules (``rules/common.smk``) and the CLI alike.
"""

from __future__ import annotations

from pathlib import Path


def reference_files(results: str | Path, conformations: list[str]) -> dict[str, list[str]]:
    """Clean field of view, labels and molecule-free twin of every candidate conformation."""
    folder = Path(results) / "simulation"
    return {
        name: [str(folder / c / file) for c in conformations]
        for name, file in (("clean", "clean.tif"), ("labels", "labels.json"), ("empty", "empty-clean.tif"))
    }


def model_files(results: str | Path, name: str) -> dict[str, str]:
    """Weights and model card of a trained model."""
    folder = Path(results) / "models"
    return {"weights": str(folder / f"{name}.pt"), "card": str(folder / f"{name}.json")}


def calibration_file(results: str | Path) -> str:
    return str(Path(results) / "analysis" / "calibration.json")


def model_error_file(results: str | Path) -> str:
    """The model-error variance measured from the simulation variants (``mismatch`` rule)."""
    return str(Path(results) / "analysis" / "model_error.json")


def plan_files(results: str | Path) -> dict[str, str]:
    """The experiment planner's input (per-molecule identifiability) and its table, answer and figure."""
    r = Path(results)
    return {
        "molecules": str(r / "metrics" / "alsite_molecules.csv"),
        "table": str(r / "metrics" / "plan.csv"),
        "text": str(r / "metrics" / "plan.txt"),
        "figure": str(r / "figures" / "plan.png"),
    }


def analysis_model_files(results: str | Path, config: dict) -> dict[str, dict]:
    """The report's denoiser and detector: name → weights, model card and kind."""
    denoiser, detector = analysis_models(config)
    return {
        denoiser: {**model_files(results, denoiser), "kind": "denoiser"},
        detector: {**model_files(results, detector), "kind": "detector"},
    }


def analysis_models(config: dict) -> tuple[str, str]:
    """The denoiser and detector a report uses: the first configured ClearSTEM model and detector input."""
    return config["clearstem"]["models"][0], f"detector_{config['detector']['inputs'][0]}"


def analysis_settings(config: dict) -> dict:
    """Inference tiles of the denoiser and the detector, from a validated config."""
    c, d = config["clearstem"], config["detector"]
    return {
        "inference_tile": c["inference_tile"],
        "inference_overlap": c["inference_overlap"],
        "detector_tile": d["tile"],
        "detector_overlap": d["overlap"],
    }
