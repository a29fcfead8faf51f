"""Fields with nothing to find: the test conformations' framework without its molecule, fresh shot noise.

What a user gets from such an image, per dose: the sites taken for a molecule against the calibration's
stated false-alarm rate per empty site (the threshold's promise: a share of the sites, not none), how
many fields get any, and whether the report names a class for the image, and how sure it is (what must
not happen: there is no Al site to name).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeostem.analysis.analyzer import Analyzer
from zeostem.analysis.posterior import image_class_posterior
from zeostem.evaluation.identifiability import SURE, lattice_or_none
from zeostem.evaluation.stats import clustered_interval
from zeostem.io.images import read_image
from zeostem.parallel import forked_map

COLUMNS = [
    "dose", "fields", "sites", "false_molecules", "per_site", "per_site_low", "per_site_high",
    "stated_rate", "fields_with_false_molecules", "fields_with_molecules_reported", "calls", "sure_calls",
    "mean_call_probability",
]  # fmt: skip


def molecule_free_record(image: dict, analyzer: Analyzer) -> dict | None:
    """One molecule-free field (``image``: its ``noisy`` file, ``dose``, ``conformation``): the sites that
    could be taken for a molecule (in cells the framework explains), those taken, the molecules the
    report gives (none where the image holds no evidence of any) and its class call (its probability;
    0 without one). None where no lattice is found."""
    noisy, meta = read_image(image["noisy"])
    found = lattice_or_none(noisy, meta["pixel_size_A"], analyzer, image["noisy"])
    if found is None:
        return None
    dose = found.al_dose(None)[0]
    call = image_class_posterior(found.scores, found.molecules, analyzer.classes, analyzer.calibration, dose)
    return {
        "dose": image["dose"],
        "conformation": image["conformation"],
        "sites": int(found.scores.explained.sum()),
        "false_molecules": int(len(found.detected)),
        "molecules_reported": int(len(found.molecules)),
        "call_probability": max(call.values(), default=0.0),
    }


def molecule_free_table(records: list[dict], stated_rate: float | None) -> pd.DataFrame:
    """Per dose: fields, sites, false molecules and their share of the sites (95 % interval clustered by
    field) beside the stated rate, fields with any, fields whose report gives molecules (its detections
    more than false alarms alone would give, ``molecule_evidence``), fields the report names a class for (any
    probability, and ≥ ``SURE``) and the mean probability of the class named (0 without a call)."""
    rows = []
    for dose in sorted({r["dose"] for r in records}):
        group = [r for r in records if r["dose"] == dose]
        taken = np.concatenate([np.arange(r["sites"]) < r["false_molecules"] for r in group]).astype(float)
        fields = np.concatenate([[k] * r["sites"] for k, r in enumerate(group)])
        low, high = clustered_interval(taken, fields)
        calls = np.array([r["call_probability"] for r in group])
        rows.append({
            "dose": dose, "fields": len(group), "sites": len(taken), "false_molecules": int(taken.sum()),
            "per_site": taken.mean(), "per_site_low": low, "per_site_high": high, "stated_rate": stated_rate,
            "fields_with_false_molecules": sum(r["false_molecules"] > 0 for r in group),
            "fields_with_molecules_reported": sum(r["molecules_reported"] > 0 for r in group),
            "calls": int((calls > 0).sum()), "sure_calls": int((calls >= SURE).sum()),
            "mean_call_probability": float(calls.mean()),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def evaluate_molecule_free(analyzer: Analyzer, images: list[dict], workers: int = 1) -> pd.DataFrame:
    """:func:`molecule_free_table` of ``images`` analysed on ``workers`` processes."""
    records = forked_map(
        lambda image: molecule_free_record(image, analyzer), images, workers, "molecule-free"
    )
    return molecule_free_table([r for r in records if r is not None], analyzer.calibration.false_alarm_rate)
