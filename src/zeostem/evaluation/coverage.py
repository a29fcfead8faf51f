"""Do the Al distribution's intervals hold the truth? Stacks of evaluation fields whose classes are known.

Two studies. In every evaluation (:func:`al_coverage`, ``al_coverage.csv``):
Every full evaluation field holds molecules of one conformation, so its true class fractions are known:
all of its molecules in its class. A stack is one field, or two fields of different T-sites at one dose
(the truth then the two classes' shares of their true molecules). Each stack's Al distribution is
computed from the pipeline's detections as a report computes it (false alarms and misses included:
the fractions are of the true molecules, whatever the detector found), and every class's nominal
interval is checked against the truth: the classes present (is the share recovered?) and those absent
(does the interval hold 0?).

The coverage study (:func:`stack_study`, workflow target ``coverage``, ``coverage.csv``): many stacks
at chosen class fractions (:data:`SETTINGS`), each of molecules drawn by those fractions from a pool
of realistic test fields (their own noise replicas) and of the false alarms among them, as the
pipeline saw them (misses included): what share of the nominal 90 % intervals hold the fractions —
with the dose estimated, and stated (:func:`with_stated_dose`).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from tqdm import tqdm

from zeostem.analysis.calibration import Calibration
from zeostem.analysis.classes import Classes
from zeostem.analysis.efficiency import Efficiency, efficiency_dose
from zeostem.analysis.posterior import FALSE_ALARMS, al_distribution, as_reported
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


# class fractions of a study's stacks over the classes of the test pool (in the classes' order); the
# classes outside the pool are absent from every stack
SETTINGS = {
    "uniform": lambda n: np.full(n, 1 / n),
    "one dominant": lambda n: np.r_[0.8, np.full(n - 1, 0.2 / (n - 1))],
    "two sites 70/30": lambda n: np.r_[0.7, 0.3, np.zeros(n - 2)],
    "one site absent": lambda n: np.r_[np.full(n - 1, 1 / (n - 1)), 0.0],
}
STUDY_COLUMNS = [
    "model", "dose", "setting", "stacks", "unanswered", "intervals", "present_covered", "present_low",
    "present_high", "absent_covered", "absent_below_005", "present_abs_error",
]  # fmt: skip


def stack_study(
    fields: list[dict],
    names: list[str],
    tsites: list[list[str]],
    stacks: int,
    molecules: int,
    seed: int = 0,
) -> pd.DataFrame:
    """Per model, dose and setting of :data:`SETTINGS`: ``stacks`` stacks of ``molecules`` true
    molecules, each one's class drawn by the setting's fractions and the molecule drawn from the pool's
    true molecules of that class (what the pipeline made of it: its detection's evidence, or a miss),
    with false alarms drawn from the pool's at the pool's rate per true molecule (Poisson). The truth is
    the setting's fractions. Reported: stacks that answer and that report no molecule, the share of
    the present classes' nominal 90 % intervals that hold their fraction (95 % interval clustered by
    stack), the share of the absent classes' intervals that hold 0 and of their point estimates below
    0.05, and the mean |fraction − truth|. ``fields``: per field as :func:`al_coverage` takes them, with
    ``true_rows`` (per true molecule, its row of ``al_log_likelihood``; −1: missed) and
    ``false_alarm_rows``; a pool needs two classes."""
    rng = np.random.default_rng(seed)
    rows = []
    for model, dose in sorted({(f["model"], f["dose"]) for f in fields}):
        pool = [f for f in fields if (f["model"], f["dose"]) == (model, dose)]
        by_class: dict[str, list] = {}
        for f in pool:
            by_class.setdefault(f["classes"][0], []).extend(_evidence(f, r) for r in f["true_rows"])
        false_alarms = [_evidence(f, r) for f in pool for r in f["false_alarm_rows"]]
        rate = len(false_alarms) / sum(len(v) for v in by_class.values())
        classes = sorted(by_class, key=names.index)
        if len(classes) < 2:
            continue
        efficiency = stack_efficiency(pool)  # a stack's molecules come from all of the pool's fields
        for setting, fractions in SETTINGS.items():
            truth = np.zeros(len(names))
            truth[[names.index(c) for c in classes]] = fractions(len(classes))
            outcomes = []
            drawn_counts = rng.multinomial(molecules, truth, size=stacks)
            for counts in tqdm(drawn_counts, desc=f"stacks {model} {dose:g} e/Å² {setting}"):
                drawn = [_draw(by_class[names[k]], n, rng) for k, n in enumerate(counts) if n]
                drawn.append(_draw(false_alarms, rng.poisson(rate * molecules), rng))
                log_lik = np.array([e for part in drawn for e in part if e is not None])
                log_lik = log_lik.reshape(-1, len(names))
                outcomes.append(interval_outcome(log_lik, truth, names, tsites, efficiency))
            rows.append({"model": model, "dose": dose, "setting": setting, **_study_row(outcomes)})
    return pd.DataFrame(rows, columns=STUDY_COLUMNS)


DOSE_STATED = ", dose stated"  # the model of fields analysed as by a user who states the dose imaged


def with_stated_dose(fields: list[dict], classes: Classes, calibration: Calibration) -> list[dict]:
    """``fields`` as a user who states the dose they were imaged at has them analysed (``zeostem analyze
    --dose``): the same detections (their ``class_log_likelihood``), each field's evidence against false
    alarms and efficiency the ``calibration``'s at its own dose (``as_reported`` at ``efficiency_dose``),
    under the model ``<model>, dose stated``."""
    stated = []
    for f in fields:
        dose = efficiency_dose(f["dose"], None)[0]
        al_ll, efficiency, _ = as_reported(f["class_log_likelihood"], classes, calibration, dose)
        stated.append({**f, "model": f["model"] + DOSE_STATED, "al_log_likelihood": al_ll,
                       "efficiency": efficiency})  # fmt: skip
    return stated


def _evidence(field: dict, row: int) -> np.ndarray | None:
    return None if row < 0 else field["al_log_likelihood"][row]


def _draw(items: list, n: int, rng: np.random.Generator) -> list:
    """``n`` of ``items``, without replacement while they last."""
    if not n or not items:
        return []
    return [items[i] for i in rng.choice(len(items), size=n, replace=n > len(items))]


def _study_row(outcomes: list[dict | None]) -> dict:
    answered = [o for o in outcomes if o is not None]
    row = {"stacks": len(answered), "unanswered": len(outcomes) - len(answered)}
    if not answered:
        return row
    present = np.concatenate([o["present"] for o in answered]).astype(float)
    clusters = np.concatenate([[k] * len(o["present"]) for k, o in enumerate(answered)])
    low, high = clustered_interval(present, clusters)
    absent = np.concatenate([o["absent"] for o in answered])
    absent_point = np.concatenate([o["absent_point"] for o in answered])
    return {**row, "intervals": len(present), "present_covered": _mean(present), "present_low": low,
            "present_high": high, "absent_covered": _mean(absent),
            "absent_below_005": _mean(absent_point < 0.05),
            "present_abs_error": _mean(np.concatenate([o["error"] for o in answered]))}  # fmt: skip


def _mean(values: np.ndarray) -> float:
    """The mean, NaN where there is nothing to average (no class of the kind was checked)."""
    return float(np.mean(values)) if len(values) else np.nan


def stack_outcome(fields: list[dict], names: list[str], tsites: list[list[str]]) -> dict | None:
    """Which of one stack's intervals hold the truth (None when it reports no molecule: nothing
    detected, or no more than false alarms alone give): the fields' shares of their true molecules."""
    log_lik = np.concatenate([f["al_log_likelihood"] for f in fields]).reshape(-1, len(names))
    truth = np.zeros(len(names))
    for f in fields:
        truth[[names.index(c) for c in f["classes"]]] += f["molecules"] / len(f["classes"])
    return interval_outcome(log_lik, truth / truth.sum(), names, tsites, stack_efficiency(fields))


def stack_efficiency(fields: list[dict]) -> Efficiency | None:
    """The efficiency of a stack of ``fields``' detections, each field's as its report looked it up,
    pooled by their detections as ``zeostem.analysis.posterior.al_distribution_table`` pools reports'
    (a thick crystal's field reads as a higher dose than a thin one's at the same dose)."""
    return Efficiency.of_detections([(f["efficiency"], len(f["al_log_likelihood"])) for f in fields])


def interval_outcome(
    log_lik: np.ndarray,
    truth: np.ndarray,
    names: list[str],
    tsites: list[list[str]],
    efficiency: Efficiency | None,
) -> dict | None:
    """Which of the Al distribution's intervals of detections ``log_lik`` (with the classes' detection
    ``efficiency``, as a report has it) hold the true fractions ``truth`` (per class) among the classes
    it sees: ``present`` / ``absent`` classes' outcomes, the absent ones' point estimates and the
    present ones' |fraction − truth| (none where fewer than two classes are seen: the one seen holds
    all the fractions, trivially); None without detections."""
    if not len(log_lik):
        return None
    distribution = al_distribution(log_lik, names, tsites, efficiency=efficiency)
    rows = [r for r in distribution if r["class"] != FALSE_ALARMS and r["seen"]]
    if len(rows) < 2:  # the fractions are of the classes seen: one class holds them all, nothing to check
        rows = []
    truth = truth[[names.index(r["class"]) for r in rows]]
    truth = truth / truth.sum() if truth.sum() else truth  # the fractions are of the classes seen
    low, high, point = (np.array([r[k] for r in rows], float) for k in ("low", "high", "fraction"))
    held = (low <= truth + 1e-12) & (truth <= high + 1e-12)
    present = truth > 0
    return {"present": held[present], "absent": held[~present], "absent_point": point[~present],
            "error": np.abs(point - truth)[present]}  # fmt: skip


def al_coverage(fields: list[dict], names: list[str], tsites: list[list[str]]) -> pd.DataFrame:
    """Per model, dose and kind of stack: how many stacks answer (and how many report no molecule),
    the share of the present classes' intervals that hold their share (95 % interval clustered by
    conformation for single fields; none for pairs, which share fields), the share of the absent
    classes' intervals that hold 0, and the mean |fraction − truth| of the present classes. ``fields``:
    per full field, ``model``, ``dose``, ``conformation``, ``true_tsite``, ``classes`` (its true class),
    ``molecules`` (true ones in it), the reported molecules' ``al_log_likelihood`` (molecules,
    classes; ``against_false_alarms``) and the calibration's detection ``efficiency`` at its dose."""
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
            "present_covered": _mean(present), "present_low": low, "present_high": high,
            "absent_covered": _mean(np.concatenate([o["absent"] for o, _ in group])),
            "present_abs_error": _mean(np.concatenate([o["error"] for o, _ in group])),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)
