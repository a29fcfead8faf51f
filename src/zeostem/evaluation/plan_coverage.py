"""Do the planner's bands hold the truth? Simulated dose series with a known accuracy curve.

The planner (``zeostem.evaluation.dose_planner``) fits a logistic in log dose to the measured per-molecule
top-1 and gives it a percentile-bootstrap band, and the dose at which the curve reaches the target a band
of its own. Here the truth is each observer's fitted curve: every simulated experiment draws as many
molecules per dose as were measured, right with the curve's probability, and plans again; the study
counts how often the band at each dose (at the nominal levels of :data:`LEVELS`) holds the true top-1,
and, where the true curve reaches the target inside the simulated doses, how often the dose band holds
the dose where it does. The truth is a curve of the fitted family, so what this measures is the
bootstrap's coverage with three doses and the molecules measured, not the curve family's fit.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from zeostem.evaluation.dose_planner import (
    AccuracyCurve,
    DosePlanSettings,
    fit_accuracy_curve,
    lowest_dose,
    per_dose,
)
from zeostem.evaluation.stats import wilson
from zeostem.parallel import forked_map

LEVELS = (0.90, 0.95)
COLUMNS = ["observer", "band", "level", "dose", "experiments", "covered", "covered_low", "covered_high"]


def simulated_table(curve: AccuracyCurve, rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A per-dose table like ``rows`` (one observer's) with hits drawn from ``curve``."""
    hits = rng.binomial(rows["molecules"].to_numpy(), curve(rows["dose"].to_numpy(float)))
    return rows.assign(hits=hits.astype(float), top1=hits / rows["molecules"].to_numpy())


def band_coverage(table: pd.DataFrame, settings: DosePlanSettings, experiments: int, workers: int = 1):
    """Per observer of ``table`` (the planner's per-dose table, :func:`per_dose`) and nominal level: the
    share of ``experiments`` simulated dose series whose top-1 band at each dose holds the truth, and
    (where the truth crosses the target inside the simulated doses) whose dose band holds the crossing,
    each with its 95 % Wilson interval."""
    out = []
    for observer in sorted(table["observer"].unique()):
        rows = table[table["observer"] == observer].sort_values("dose")
        doses = rows["dose"].to_numpy(float)
        truth = fit_accuracy_curve(doses, rows["hits"].to_numpy(), rows["molecules"].to_numpy())
        crossing = truth.dose_for(settings.target_accuracy)
        tasks = [(truth, rows, settings, seed) for seed in range(experiments)]
        results = forked_map(_experiment, tasks, workers, f"plan band {observer}")
        for level in LEVELS:
            held = np.array([r[level] for r in results])
            for k, dose in enumerate(doses):
                out.append(_row(observer, "top-1 at dose", level, int(dose), held[:, k]))
        if doses.min() <= crossing <= doses.max():  # the planner's dose band is its nominal 95 %
            bands = [r["dose band"] for r in results]
            held = [low <= crossing <= high for low, high in bands]
            out.append(_row(observer, "dose reaching the target", 0.95, None, held))
    return pd.DataFrame(out, columns=COLUMNS)


def _experiment(task: tuple) -> dict:
    """One simulated dose series planned again: per level, which bands hold the truth; its dose band."""
    truth, rows, settings, seed = task
    simulated = simulated_table(truth, rows, np.random.default_rng([settings.seed, seed]))
    answer = lowest_dose(simulated, rows["observer"].iloc[0], replace(settings, seed=seed))
    doses = rows["dose"].to_numpy(float)
    held: dict = {"dose band": answer.dose_band}
    for level in LEVELS:
        low, high = answer.band(doses, level)
        held[level] = (low <= truth(doses)) & (truth(doses) <= high)
    return held


def _row(observer: str, band: str, level: float, dose, held) -> dict:
    held = np.asarray(held, bool)
    low, high = wilson(held.sum(), len(held))
    return {"observer": observer, "band": band, "level": level, "dose": dose, "experiments": len(held),
            "covered": float(held.mean()), "covered_low": low, "covered_high": high}  # fmt: skip


def plan_coverage(molecules: pd.DataFrame, settings: DosePlanSettings, experiments: int, workers: int = 1):
    """:func:`band_coverage` of the planner's per-dose table of the identifiability's molecule rows."""
    return band_coverage(per_dose(molecules), settings, experiments, workers)
