# Shared definitions: the workflow's plan (every config-derived list, from zeostem.plan), the
# config sections the rules read, and the input functions. The other rule files only declare rules.
import os
import re

from zeostem.layout import (
    analysis_model_files,
    analysis_models,
    analysis_settings,
    calibration_file,
    model_error_file,
    model_files,
    plan_files,
    reference_files,
)
from zeostem.plan import WorkflowPlan, plan_settings

PLAN = WorkflowPlan.from_config(config)
STRUCTURES = config["structures"]
SIMULATION = config["simulation"]
DATASETS = config["datasets"]
CLEARSTEM = config["clearstem"]
DETECTOR = config["detector"]
ANALYSIS = config["analysis"]

CONFORMATIONS = PLAN.conformations
GENERATED, IMPORTED = PLAN.generated, PLAN.imported
RELAXED = PLAN.relaxed
CANDIDATE_DIR = "results/structures/candidates" if RELAXED else "results/structures"
DOSE_JOBS = PLAN.dose_jobs
MOSAIC_FILES = PLAN.mosaic_files
SPLIT = PLAN.split
PAIRS = PLAN.denoise_pairs
SPLIT_FILES = [
    f"results/datasets/denoise/{split}/{name}"
    for split in ("train", "validation", "test")
    for name in ("noisy.tif", "clean.tif", "tiles.csv", "images.csv")
]
MODEL_SPECS = PLAN.model_specs
CLEARSTEM_TABLES = PLAN.clearstem_tables
NOISY_IMAGES = PLAN.noisy_images
IMAGE_JOBS = PLAN.image_jobs
IMAGES = PLAN.images
EVALUATION_JOBS = PLAN.evaluation_jobs
CALIBRATION_IMAGES = PLAN.calibration_images
TEST_IMAGES = PLAN.test_images
MISMATCH_VARIANTS = PLAN.mismatch_variants
MISMATCH_FITS = PLAN.mismatch_fits
MISMATCH_JOBS = PLAN.mismatch_jobs
MISMATCHED_TEST_IMAGES = PLAN.mismatched_test_images
REALISTIC_STRUCTURES = PLAN.realistic_structures
REALISTIC_JOBS = PLAN.realistic_jobs
REALISTIC_VALIDATION_IMAGES = PLAN.realistic_images("validation")
REALISTIC_TEST_IMAGES = PLAN.realistic_images("test")
ROBUSTNESS_CASES = PLAN.robustness_cases
ROBUSTNESS_JOBS = PLAN.robustness_jobs
ROBUSTNESS_IMAGES = PLAN.robustness_images
# multislice variants of a conformation, by study: results/{study}/{variant}/{conformation}/
SIMULATION_VARIANTS = {
    "mismatch": MISMATCH_VARIANTS,
    "robustness/simulated": PLAN.robustness_variants,
}
MODEL_ERROR_FILE = model_error_file("results")
MEASURED_MODEL_ERROR = ANALYSIS["model_error"] == "measured"
DENOISER_MODEL, DETECTOR_MODEL = analysis_models(config)
ANALYSIS_MODELS = analysis_model_files("results", config)
REFERENCE_FILES = reference_files("results", list(CONFORMATIONS))

DENOISER_TRAINING, DENOISER_INFERENCE = PLAN.denoiser_training, PLAN.denoiser_inference
DETECTOR_TRAINING, DETECTOR_INFERENCE = PLAN.detector_training, PLAN.detector_inference
NOTHING = "(?!x)x"  # a regex that matches nothing: for an empty list of ids


def one_of(ids):
    """Regex alternation matching exactly the given ids."""
    return "|".join(re.escape(i) for i in ids) or NOTHING


def conformation(wildcards):
    """The plan (molecule, tsite, proton_o, file) of the job's conformation."""
    return CONFORMATIONS[wildcards.conformation]


def detector_image(kind, c, p, d, r):
    """A noisy image (``kind`` = raw) or its ClearSTEM output (``kind`` = denoised)."""
    folder = "results/denoised" if kind == "denoised" else "results/simulation"
    return f"{folder}/{c}/{p}dose{d}-{r}.tif"
