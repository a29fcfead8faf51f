# Shared definitions: the workflow's jobs (every config-derived list, zeostem.jobs.Jobs) and the input
# functions. Every results/ path comes from zeostem.paths.
# The other rule files only declare rules.
import re

from zeostem import paths
from zeostem.jobs import Jobs, truth_inputs
from zeostem.paths import field, fill

JOBS = Jobs.from_config(config)
NOTHING = "(?!x)x"  # a regex that matches nothing: for an empty list of ids


def one_of(ids):
    """Regex alternation matching exactly the given ids."""
    return "|".join(re.escape(i) for i in ids) or NOTHING


def conformation(wildcards):
    """The spec (molecule, tsite, proton_o, file) of the job's conformation."""
    return JOBS.conformations[wildcards.conformation]


def detector_image(kind, c, p, d, r):
    """A noisy image (``kind`` = raw) or its ClearSTEM output (``kind`` = denoised)."""
    folder = paths.DENOISED if kind == "denoised" else paths.SIMULATION
    return field(folder, "noisy", conformation=c, prefix=p, dose=d, replica=r)
