"""Experiment planner: curve fit, answer rules, molecules needed, and the `zeostem plan` command."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from zeostem.analysis.calibration import Calibration
from zeostem.app.manifest import write_manifest
from zeostem.cli import main
from zeostem.errors import InputError
from zeostem.evaluation.dose_planner import (
    AccuracyCurve,
    Confusion,
    DosePlanSettings,
    confusion_floor,
    fit_accuracy_curve,
    lowest_dose,
    measured_confusion,
    molecules_needed,
    per_dose,
    split_doses,
)
from zeostem.evaluation.plan_coverage import band_coverage
from zeostem.evaluation.truth import MISSED
from zeostem.paths import CALIBRATION, MANIFEST

TSITES = [f"T{i}" for i in range(1, 13)]
TRUTHS = ["T5", "T7", "T12"]


def synthetic_molecules(curve: AccuracyCurve, doses, n: int, seed: int = 0, detection: float = 1.0):
    """Per-molecule rows as the identifiability writes them: right with probability curve(dose)."""
    rng = np.random.default_rng(seed)
    rows = []
    for dose in doses:
        p = float(curve(dose))
        for k in range(n):
            truth = TRUTHS[k % len(TRUTHS)]
            detected = rng.random() < detection
            right = detected and rng.random() < p / detection
            predicted = (
                truth if right else (rng.choice([t for t in TSITES if t != truth]) if detected else "")
            )
            rows.append({"model": "matched", "observer": "ideal", "dose": dose, "true_class": truth,
                         "detected": detected, "predicted_class": predicted,
                         "top1": float(right)})  # fmt: skip
    return pd.DataFrame(rows)


def test_curve_fit_recovers_a_known_logistic_from_binomial_samples():
    truth = AccuracyCurve(ceiling=0.92, intercept=-14.0, slope=2.0)
    doses = np.array([200, 400, 800, 1600, 3200, 6400, 12800, 25600])
    rng = np.random.default_rng(1)
    n = np.full(len(doses), 400)
    fitted = fit_accuracy_curve(doses, rng.binomial(n, truth(doses)), n)
    grid = np.geomspace(200, 25600, 50)
    assert np.max(np.abs(fitted(grid) - truth(grid))) < 0.04
    assert fitted.ceiling == pytest.approx(0.92, abs=0.03)
    assert fitted.dose_for(0.6) == pytest.approx(truth.dose_for(0.6), rel=0.1)


@pytest.mark.slow
def test_lowest_dose_is_answered_inside_the_simulated_range_with_a_band_around_the_truth():
    truth = AccuracyCurve(ceiling=1.0, intercept=-14.0, slope=2.0)  # 0.9 reached at ≈ 3300 e/Å²
    covered = 0
    for seed in range(10):
        table = per_dose(synthetic_molecules(truth, [500, 1000, 2000, 4000, 8000], 300, seed=seed))
        answer = lowest_dose(table, "ideal", DosePlanSettings(target_accuracy=0.9, bootstrap=100))
        assert answer.verdict == "reached"
        assert answer.dose == pytest.approx(truth.dose_for(0.9), rel=0.15)
        covered += answer.dose_band[0] < truth.dose_for(0.9) < answer.dose_band[1]
    # a percentile bootstrap band (nominal 95 %) covers ≈ 90 % here; a band that missed would cover none
    assert covered >= 7


def test_a_target_above_the_ceiling_is_not_reachable():
    ceiling = AccuracyCurve(ceiling=0.8, intercept=-10.0, slope=2.0)  # saturates by ≈ 1000 e/Å²
    table = per_dose(synthetic_molecules(ceiling, [250, 500, 1000, 2000, 4000], 300))
    answer = lowest_dose(table, "ideal", DosePlanSettings(target_accuracy=0.9, max_dose=6000, bootstrap=100))
    assert answer.verdict == "not_reachable"
    assert answer.dose is None


def test_no_extrapolation_beyond_the_simulated_doses_and_too_few_doses_are_said_so():
    truth = AccuracyCurve(ceiling=1.0, intercept=-14.0, slope=2.0)
    table = per_dose(synthetic_molecules(truth, [250, 500, 1000], 300))
    beyond = lowest_dose(table, "ideal", DosePlanSettings(target_accuracy=0.9, max_dose=20000, bootstrap=50))
    assert beyond.verdict == "beyond_measured" and beyond.dose is None
    assert beyond.next_doses and min(beyond.next_doses) > 1000
    sparse = per_dose(synthetic_molecules(truth, [1000, 4000], 300))
    assert lowest_dose(sparse, "ideal", DosePlanSettings(bootstrap=10)).verdict == "too_sparse"


def counted(matrix, per_class: float, alarms_per_molecule: float = 0.0) -> Confusion:
    """A confusion counted from ``per_class`` molecules per class (rows of ``matrix``: named, then
    missed), with false alarms at ``alarms_per_molecule`` named evenly."""
    matrix = np.asarray(matrix, float)
    n = len(matrix)
    alarms = np.full(n, alarms_per_molecule * per_class)  # n classes × per_class molecules, spread evenly
    return Confusion([f"T{k + 1}" for k in range(n)], matrix * per_class, alarms)


KNOWN = 1e9  # molecules per class: a confusion known exactly


def test_molecules_needed_matches_the_binomial_closed_form():
    # two classes, perfect naming: a fraction's 90 % interval is 2 · 1.645 · sqrt(p(1-p)/N)
    width = 0.1
    closed_form = (1.645 / width) ** 2  # p = 1/2: N = (1.645 / w)² ≈ 271
    perfect = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert max(molecules_needed(counted(perfect, KNOWN), width, draws=2000)) == pytest.approx(
        closed_form, rel=0.1
    )
    # half the molecules missed (a user never sees them): twice as many must be imaged
    half = [[0.5, 0.0, 0.5], [0.0, 0.5, 0.5]]
    assert max(molecules_needed(counted(half, KNOWN), width, draws=2000)) == pytest.approx(
        2 * closed_form, rel=0.1
    )
    # indistinguishable classes can never be told apart
    same = counted([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]], KNOWN)
    assert molecules_needed(same, width, draws=200, most=10_000) == [None, None]


def test_false_alarms_are_counted_into_the_molecules_needed():
    """Perfect naming plus one false alarm per molecule, named evenly: the estimate stays unbiased but
    n₁ − n₂ gains the alarms' Poisson variance, Var = N (1 + a), so N = (1.645 / w)² (1 + a): twice as
    many molecules at a = 1."""
    width, perfect = 0.1, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    closed_form = (1.645 / width) ** 2 * (1 + 1.0)
    with_alarms = counted(perfect, KNOWN, alarms_per_molecule=1.0)
    assert max(molecules_needed(with_alarms, width, draws=2000)) == pytest.approx(closed_form, rel=0.1)


def test_a_confusion_measured_from_few_test_molecules_asks_for_more_molecules():
    """Two classes told apart 80 % of the time: known exactly, the binomial closed form through the
    confusion, N = (1.645 / w)² / (2 · 0.8 − 1)² ≈ 752 at w = 0.1; counted from 1000 molecules per class
    its own error adds to every estimate (≈ 1.4 × as many molecules; 10⁵ per class: about the same),
    and from 60 per class the error alone is wider than the interval asked for (no count suffices)."""
    width, matrix = 0.1, [[0.8, 0.2, 0.0], [0.2, 0.8, 0.0]]
    closed_form = (1.645 / width) ** 2 / (2 * 0.8 - 1) ** 2
    known = max(molecules_needed(counted(matrix, KNOWN), width, draws=2000))
    assert known == pytest.approx(closed_form, rel=0.1)
    plenty = max(molecules_needed(counted(matrix, 100_000), width, draws=2000))
    assert plenty == pytest.approx(known, rel=0.1)
    assert max(molecules_needed(counted(matrix, 1000), width, draws=2000)) > 1.25 * known
    few = counted(matrix, 60)
    assert molecules_needed(few, width, draws=400, most=100_000) == [None, None]
    assert (confusion_floor(few, draws=400, seed=0) > width).all()


def test_every_class_is_a_possible_truth_and_one_never_counted_is_not_reachable():
    """Three classes: two named perfectly from many molecules, the third never counted (no molecule of
    it on the fields with known truth): it is not seen, as in the Al distribution, and no count of
    molecules pins its fraction."""
    rows = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    third = Confusion(["T1", "T2", "T3"], rows * KNOWN, np.zeros(3))
    assert molecules_needed(third, 0.1, draws=400, most=100_000)[2] is None
    assert confusion_floor(third, draws=400)[2] == 1.0  # not seen: its interval is [0, 1]


def test_the_confusion_of_every_class_comes_from_the_calibration_and_splits_say_their_dose():
    calibration = synthetic_calibration()
    confusion = measured_confusion(calibration, 1500)
    assert confusion.classes == TSITES
    row = confusion.counts[TSITES.index("T5")]
    assert row.sum() == 400 and row[TSITES.index("T5")] == 320 and row[-1] == 40
    assert confusion.alarms.sum() == 20
    with pytest.raises(InputError, match="no confusion"):
        measured_confusion(calibration, 999)
    record = {"dose": 4500.0, "dprime_threshold": 1.0, "conformations": ["a", "b", "c"],
              "dprime": [[0, 0.5, 3.0], [0.6, 0, 3.0], [3.0, 3.0, 0]],
              "classes": [{"name": "O2: T1|T2", "tsites": ["T1", "T2"], "conformations": ["a", "b"]},
                          {"name": "T3", "tsites": ["T3"], "conformations": ["c"]}]}  # fmt: skip
    splits = split_doses(record)
    assert list(splits) == ["O2: T1|T2"]  # d′ grows as √dose: 0.5 → 1 at 4 × 4500 e/Å²
    assert splits["O2: T1|T2"]["split_dose_needed"] == pytest.approx(18_000)


def synthetic_calibration() -> Calibration:
    """A calibration whose fields named each class's molecules right 50 / 80 / 95 % of the time at
    500 / 1500 / 4500 e/Å² (of 400 each; the rest half missed, half named as the next class), with 20
    false alarms per dose."""
    entries = []
    for dose, right in ((500, 0.5), (1500, 0.8), (4500, 0.95)):
        confusion = {}
        for k, t in enumerate(TSITES):
            row = dict.fromkeys([*TSITES, MISSED], 0)
            row[t], row[MISSED] = round(400 * right), round(200 * (1 - right))
            row[TSITES[(k + 1) % len(TSITES)]] = 400 - row[t] - row[MISSED]
            confusion[t] = row
        alarms = dict.fromkeys(TSITES, 0)
        alarms.update({"T1": 10, "T7": 10})
        entries.append({"dose": dose, "classes": {t: [0, 0] for t in TSITES}, "confusion": confusion,
                        "false_alarms": alarms, "empty_sites": 4000, "molecules": {t: [] for t in TSITES},
                        "structures": {t: [] for t in TSITES}})  # fmt: skip
    classes = {"classes": [{"name": t, "tsites": [t], "conformations": [t]} for t in TSITES]}
    return Calibration(1.0, 0.0, 0.1, 1.0, classes=classes, detection_efficiency=entries)


def test_plan_command_writes_the_answer_and_fails_clearly_without_a_run(tmp_path, monkeypatch, capsys):
    truth = AccuracyCurve(ceiling=1.0, intercept=-14.0, slope=2.0)
    molecules = synthetic_molecules(truth, [500, 1500, 4500], 220)
    pipeline = synthetic_molecules(truth, [500, 1500, 4500], 220, seed=2, detection=0.8).assign(
        observer="pipeline"
    )
    monkeypatch.chdir(tmp_path)  # the run's layout: results/ here
    run, tmp_path = tmp_path, tmp_path / "results"
    (tmp_path / "metrics").mkdir(parents=True)
    pd.concat([molecules, pipeline]).to_csv(tmp_path / "metrics" / "alsite_molecules.csv", index=False)
    (tmp_path / "analysis").mkdir()
    calibration = dataclasses.asdict(synthetic_calibration())
    (tmp_path / "analysis" / "calibration.json").write_text(json.dumps(calibration))
    settings = {"target_accuracy": 0.9, "max_dose": 6000.0, "interval": 0.05, "min_molecules": 50, "seed": 0}
    write_manifest(MANIFEST, {}, {}, CALIBRATION, {}, settings, {})
    monkeypatch.chdir(run.parent)  # the plan needs nothing but the results folder
    rc = main(["plan", "--workflow-results", str(tmp_path), "--target-accuracy", "0.8", "--interval", "0.1"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "ideal observer (upper bound): lowest dose" in out
    table = pd.read_csv(tmp_path / "metrics" / "plan.csv")
    assert set(table["observer"]) == {"ideal", "pipeline"}
    # the molecules the Al distribution needs: the pipeline's, from the calibration's confusion
    assert table.loc[table["observer"] == "ideal", "molecules_needed"].isna().all()
    pipeline = table[table["observer"] == "pipeline"].sort_values("dose")
    per_class = pd.read_csv(tmp_path / "metrics" / "plan_classes.csv")
    assert len(per_class) == 3 * len(TSITES)
    # a count where the confusion's own error (400 molecules per class) leaves room for the interval,
    # and fewer molecules where the classes are named better
    reachable = per_class["interval_from_confusion"] < 0.1
    assert per_class["molecules_needed"].notna().eq(reachable).all() and reachable.any()
    needed = pipeline["molecules_needed"].astype(float).fillna(np.inf).to_numpy()
    assert needed[0] > needed[-1] and np.isfinite(needed[-1])
    assert "over all 12 classes" in out
    assert (tmp_path / "figures" / "plan.png").stat().st_size > 10_000
    assert main(["plan", "--workflow-results", str(tmp_path), "--target-accuracy", "1.5"]) == 2
    assert "analysis/plan/target_accuracy" in capsys.readouterr().err  # the schema names the bad value
    empty = tmp_path / "empty"
    assert main(["plan", "--workflow-results", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "holds no finished run" in err and "Fix:" in err
    assert not empty.exists()


def test_the_planners_top1_band_holds_the_truth_about_as_often_as_it_says():
    """Dose series simulated from a known curve (300 molecules at five doses), planned again: the
    bootstrap band at each dose holds the true top-1 in 85–100 % of 60 experiments at nominal 90 %
    (its Wilson interval reaching the nominal), and the 95 % band no less often; the dose band holds the
    true crossing about as often (53 of 60 measured at nominal 95 %: the percentile bootstrap runs a
    little short). A band that had lost its width would hold the truth far less often."""
    truth = AccuracyCurve(ceiling=1.0, intercept=-14.0, slope=2.0)
    table = per_dose(synthetic_molecules(truth, [500, 1000, 2000, 4000, 8000], 300))
    study = band_coverage(table, DosePlanSettings(bootstrap=100), experiments=60, workers=2)
    top1 = study[study["band"] == "top-1 at dose"]
    nominal = top1[top1["level"] == 0.9]
    assert (nominal["covered_high"] >= 0.9).all() and nominal["covered"].mean() >= 0.85
    assert (top1[top1["level"] == 0.95]["covered"].to_numpy() >= nominal["covered"].to_numpy()).all()
    crossing = study[study["band"] == "dose reaching the target"]  # ≈ 3300 e/Å², inside the doses
    assert len(crossing) == 1 and crossing["covered_high"].iloc[0] >= 0.9
