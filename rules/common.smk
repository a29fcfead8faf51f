# Shared definitions: the conformations of this config and wildcard constraints built from them.
import os
import re

from zeostem.datasets.split import split_by_conformation
from zeostem.io.config import read_sheet
from zeostem.structures.plan import plan_conformations

CONFORMATIONS = {plan.conformation: plan for plan in plan_conformations(config)}
GENERATED = [c for c, plan in CONFORMATIONS.items() if not plan.imported]
IMPORTED = [c for c, plan in CONFORMATIONS.items() if plan.imported]
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


def truth_images(conformations):
    """(conformation, tsite, dose, noisy, clean, labels): one image per dose of each of ``conformations``."""
    return [
        (
            c,
            CONFORMATIONS[c].tsite,
            d,
            f"results/simulation/{c}/dose{d}-{r}.tif",
            f"results/simulation/{c}/clean.tif",
            f"results/simulation/{c}/labels.json",
        )
        for c in conformations
        for d, r in DOSE_JOBS
        if r == 0
    ]
