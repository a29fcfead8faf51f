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
