"""Every file the workflow writes under ``results/``, spelled once.

Patterns use Snakemake's ``{wildcard}`` syntax; the rules use them as they are, and the job lists
(:mod:`zeostem.jobs`), the scripts and the CLI fill them with :func:`fill`. A finished run's folder
may be moved: :func:`located` finds a file of the layout under another results folder.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = "results"

# structures: what the simulations read, and generated candidates before relaxation
STRUCTURE = f"{ROOT}/structures/{{conformation}}.extxyz"
CANDIDATE = f"{ROOT}/structures/candidates/{{conformation}}.extxyz"
REALISTIC_STRUCTURE = f"{ROOT}/realistic/structures/{{conformation}}.extxyz"

# folders of a simulated field of view: every conformation, the studies' variants of it (study:
# ``mismatch``, ``robustness/simulated``, ``optics``), realistic structures, extra noise replicas,
# ClearSTEM outputs
SIMULATION = f"{ROOT}/simulation/{{conformation}}"
VARIANT = f"{ROOT}/{{study}}/{{variant}}/{{conformation}}"
OPTICS = "optics"  # the study whose variants are the realistic test structures under other optics
REALISTIC = f"{ROOT}/realistic/{{conformation}}"
COVERAGE_FIELDS = f"{ROOT}/coverage/{{conformation}}"  # the coverage study's noise replicas
EVALUATION = f"{ROOT}/evaluation/{{conformation}}"
DENOISED = f"{ROOT}/denoised/{{conformation}}"
# the files such a folder holds (prefix: "" for the full field, "mosaic{k}-" for a mosaic)
FIELD_FILES = {
    "segments": "segments.tif",
    "clean": "clean.tif",
    "labels": "labels.json",
    "empty_segments": "empty-segments.tif",
    "empty_clean": "empty-clean.tif",
    "noisy": "{prefix}dose{dose}-{replica}.tif",
    "prefix_labels": "{prefix}labels.json",
    "mosaic_clean": "mosaic{mosaic}-clean.tif",
}
# scanned robustness cases: one image, its clean twin and labels per (case, conformation, replica)
SCANNED = f"{ROOT}/robustness/scanned/{{case}}/{{conformation}}-{{replica}}"
SCANNED_SUFFIXES = {"noisy": ".tif", "clean": "-clean.tif", "labels": "-labels.json"}

# datasets
DENOISE_DATASET = f"{ROOT}/datasets/denoise"
DENOISE_SPLIT = f"{DENOISE_DATASET}/split.json"
DENOISE_SPLIT_FILE = (
    f"{DENOISE_DATASET}/{{split}}/{{name}}"  # name: noisy.tif, clean.tif, tiles.csv, images.csv
)
DETECTION_COCO = f"{ROOT}/datasets/detection_{{input}}/coco_{{split}}.json"

# models: denoisers by name, detectors as ``detector_{input}``
MODEL_WEIGHTS = f"{ROOT}/models/{{model}}.pt"
MODEL_CARD = f"{ROOT}/models/{{model}}.json"
MODEL_HISTORY = f"{ROOT}/models/{{model}}.history.csv"
DETECTOR_MODEL = "detector_{input}"

# analysis
CALIBRATION = f"{ROOT}/analysis/calibration.json"
MODEL_ERROR = f"{ROOT}/analysis/model_error.json"  # measured from the simulation variants
MANIFEST = f"{ROOT}/analysis/manifest.json"  # what a report uses: zeostem analyze --workflow-results
EXPERIMENT = f"{ROOT}/experiments/{{conformation}}-dose{{dose}}.tif"
REPORTS = f"{ROOT}/reports"
REPORT = f"{REPORTS}/{{image}}"
REPORT_FILES = {
    "report": "report.json",
    "panel": "panel.png",
    "denoised": "denoised.tif",
    "columns": "columns.csv",
}

# tables
METRICS = f"{ROOT}/metrics"
CLEARSTEM_TABLE = f"{METRICS}/{{table}}.csv"  # table: clearstem, clearstem_ablation, clearstem_lambda
CLEARSTEM_SUMMARY = f"{METRICS}/{{table}}_summary.csv"
CLEARSTEM_MARKDOWN = f"{METRICS}/{{table}}_table.md"
DETECTION = f"{METRICS}/detection.csv"
ALSITE = f"{METRICS}/alsite.csv"
ALSITE_IMAGES = f"{METRICS}/alsite_images.csv"
ALSITE_MOLECULES = f"{METRICS}/alsite_molecules.csv"  # also the dose planner's input
OCCUPANCY = f"{METRICS}/occupancy.csv"
AL_DISTRIBUTION = f"{METRICS}/al_distribution.csv"
AL_COVERAGE = f"{METRICS}/al_coverage.csv"  # the Al distribution's intervals against known truth
MOLECULE_FREE = f"{METRICS}/molecule_free.csv"  # false molecules and calls on fields with none
MISMATCH = f"{METRICS}/mismatch.csv"
ROBUSTNESS = f"{METRICS}/robustness.csv"
COVERAGE = f"{METRICS}/coverage.csv"  # the coverage study: many stacks at chosen class fractions
# the pipeline's top-1 and calibration (ECE) on the coverage study's images: 8 × the test set's calls
COVERAGE_CALIBRATION = f"{METRICS}/coverage_calibration.csv"
DOSE_PLAN = f"{METRICS}/plan.csv"
DOSE_PLAN_TEXT = f"{METRICS}/plan.txt"
PLAN_COVERAGE = f"{METRICS}/plan_coverage.csv"  # the planner's bands against simulated dose series
DOSE_PLAN_CLASSES = f"{METRICS}/plan_classes.csv"  # per dose and class: molecules the Al distribution needs

# figures
FIGURE = f"{ROOT}/figures/{{name}}.png"
BENCHMARK = f"{ROOT}/benchmarks/{{stage}}/{{job}}.tsv"

_WILDCARD = re.compile(r"\{(\w+)\}")


def fill(pattern: str, **values) -> str:
    """The pattern with the given wildcards filled; the others stay for Snakemake."""
    return _WILDCARD.sub(lambda m: str(values[m[1]]) if m[1] in values else m[0], pattern)


def field(folder: str, file: str, **values) -> str:
    """A file of a field-of-view folder (``FIELD_FILES`` key), wildcards filled where given."""
    return fill(f"{folder}/{FIELD_FILES[file]}", **values)


def report_file(file: str, **values) -> str:
    """A file of a report folder (``REPORT_FILES`` key)."""
    return fill(f"{REPORT}/{REPORT_FILES[file]}", **values)


def model_files(model: str) -> dict[str, str]:
    """Weights and model card of a trained model."""
    return {"weights": fill(MODEL_WEIGHTS, model=model), "card": fill(MODEL_CARD, model=model)}


def figure(name: str) -> str:
    return fill(FIGURE, name=name)


def benchmark(stage: str, job: str) -> str:
    return fill(BENCHMARK, stage=stage, job=job)


def located(path: str, results: str | Path) -> Path:
    """A layout path (``results/...``) under another results folder."""
    return Path(results) / Path(path).relative_to(ROOT)


def results_folder(manifest: str | Path) -> Path:
    """The results folder that holds the manifest ``manifest`` (the inverse of :func:`located`)."""
    depth = len(Path(MANIFEST).relative_to(ROOT).parts)
    return Path(manifest).parents[depth - 1]
