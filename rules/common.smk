# Shared definitions: the conformations of this config and wildcard constraints built from them.
import os
import re

from zeostem.datasets.split import split_by_conformation
from zeostem.io.config import read_sheet
from zeostem.layout import (
    analysis_models,
    analysis_settings,
    calibration_file,
    candidate_tsites,
    model_files,
    plan_files,
    plan_settings,
    reference_files,
)
from zeostem.structures.plan import plan_conformations

CONFORMATIONS = {plan.conformation: plan for plan in plan_conformations(config)}
GENERATED = [c for c, plan in CONFORMATIONS.items() if not plan.imported]
IMPORTED = [c for c, plan in CONFORMATIONS.items() if plan.imported]
DENOISER_MODEL, DETECTOR_MODEL = analysis_models(config)
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


def truth_images(conformations, full_fields):
    """Simulated images with known truth (``TruthImage`` fields): ``full_fields(c)`` → [(dose, path)], and mosaics."""
    return [
        dict(
            conformation=c,
            tsite=CONFORMATIONS[c].tsite,
            dose=d,
            noisy=path,
            clean=clean,
            labels=labels,
            field=field,
        )
        for c in conformations
        for field, d, path, clean, labels in [
            (
                "full",
                d,
                path,
                f"results/simulation/{c}/clean.tif",
                f"results/simulation/{c}/labels.json",
            )
            for d, path in full_fields(c)
        ]
        + [
            (
                "mosaic",
                d,
                f"results/simulation/{c}/mosaic{k}-dose{d}-{r}.tif",
                f"results/simulation/{c}/mosaic{k}-clean.tif",
                f"results/simulation/{c}/mosaic{k}-labels.json",
            )
            for k in range(SIMULATION["mosaics"])
            for d, r in DOSE_JOBS
        ]
    ]
