"""Do the Al distribution's intervals hold the truth? Stacks of evaluation fields whose classes are known.

Every full evaluation field holds molecules of one conformation, so its true class fractions are known:
all of its molecules in its class. A stack is one field, or two fields of different T-sites at one dose
(the truth then the two classes' shares of their true molecules). Each stack's Al distribution is
computed from the pipeline's detections as a report computes it (false alarms and misses included:
the fractions are of the true molecules, whatever the detector found), and every class's nominal
interval is checked against the truth: the classes present (is the share recovered?) and those absent
(does the interval hold 0?).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from zeostem.analysis.posterior import FALSE_ALARMS, al_distribution
from zeostem.evaluation.stats import clustered_interval

COLUMNS = [
    "model", "dose", "stack", "stacks", "unanswered", "present_covered", "present_low", "present_high",
    "absent_covered", "present_abs_error",
]  # fmt: skip


def coverage_stacks(fields: list[dict]) -> list[tuple[str, list[dict]]]:
    """(kind, fields) of every stack: each field alone (``one field``), and every pair of fields of one
    model and dose whose T-sites differ (``two fields``)."""
    stacks = [("one field", [f]) for f in fields]
    for a, b in itertools.combinations(fields, 2):
        if (a["model"], a["dose"]) == (b["model"], b["dose"]) and a["true_tsite"] != b["true_tsite"]:
            stacks.append(("two fields", [a, b]))
    return stacks


def stack_outcome(fields: list[dict], names: list[str], tsites: list[list[str]]) -> dict | None:
    """Which of one stack's intervals hold the truth (None when it reports no molecule: nothing
    detected, or no more than false alarms alone give)."""
    log_lik = np.concatenate([f["al_log_likelihood"] for f in fields]).reshape(-1, len(names))
    if not len(log_lik):
        return None
    truth = np.zeros(len(names))
    for f in fields:
        truth[[names.index(c) for c in f["classes"]]] += f["molecules"] / len(f["classes"])
    truth /= truth.sum()
    rows = [r for r in al_distribution(log_lik, names, tsites) if r["class"] != FALSE_ALARMS]
    low, high, point = (np.array([r[k] for r in rows]) for k in ("low", "high", "fraction"))
    held = (low <= truth + 1e-12) & (truth <= high + 1e-12)
    present = truth > 0
    return {"present": held[present], "absent": held[~present], "error": np.abs(point - truth)[present]}


def al_coverage(fields: list[dict], names: list[str], tsites: list[list[str]]) -> pd.DataFrame:
    """Per model, dose and kind of stack: how many stacks answer (and how many report no molecule),
    the share of the present classes' intervals that hold their share (95 % interval clustered by
    conformation for single fields; none for pairs, which share fields), the share of the absent
    classes' intervals that hold 0, and the mean |fraction − truth| of the present classes. ``fields``:
    per full field, ``model``, ``dose``, ``conformation``, ``true_tsite``, ``classes`` (its true class),
    ``molecules`` (true ones in it) and the reported molecules' ``al_log_likelihood`` (molecules,
    classes; ``against_false_alarms``)."""
    outcomes: dict[tuple, list] = {}
    unanswered: dict[tuple, int] = {}
    for kind, stack in coverage_stacks(fields):
        outcome = stack_outcome(stack, names, tsites)
        key = (stack[0]["model"], stack[0]["dose"], kind)
        if outcome is None:
            unanswered[key] = unanswered.get(key, 0) + 1
        else:
            outcomes.setdefault(key, []).append((outcome, stack[0]["conformation"]))
    rows = []
    for model, dose, kind in sorted({*outcomes, *unanswered}):
        group = outcomes.get((model, dose, kind), [])
        if not group:  # no stack of this kind answers: nothing to cover
            rows.append({"model": model, "dose": dose, "stack": kind, "stacks": 0,
                         "unanswered": unanswered[(model, dose, kind)]})  # fmt: skip
            continue
        present = np.concatenate([o["present"] for o, _ in group]).astype(float)
        clusters = np.concatenate([[c] * len(o["present"]) for o, c in group])
        low, high = clustered_interval(present, clusters) if kind == "one field" else (np.nan, np.nan)
        rows.append({
            "model": model, "dose": dose, "stack": kind, "stacks": len(group),
            "unanswered": unanswered.get((model, dose, kind), 0),
            "present_covered": present.mean(), "present_low": low, "present_high": high,
            "absent_covered": np.concatenate([o["absent"] for o, _ in group]).mean(),
            "present_abs_error": np.concatenate([o["error"] for o, _ in group]).mean(),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)
