"""Experiment planner: curve fit, answer rules, molecules needed, and the `zeostem plan` command."""

import json

import numpy as np
import pandas as pd
import pytest

from zeostem.app.manifest import write_manifest
from zeostem.cli import main
from zeostem.evaluation.dose_planner import (
    MISSED,
    AccuracyCurve,
    DosePlanSettings,
    confusion,
    confusion_floor,
    fit_accuracy_curve,
    lowest_dose,
    molecules_needed,
    per_dose,
)
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


def test_molecules_needed_matches_the_binomial_closed_form():
    # two sites, perfect classification: a fraction's 90 % interval is 2 · 1.645 · sqrt(p(1-p)/N)
    width = 0.1
    closed_form = (1.645 / width) ** 2  # p = 1/2: N = (1.645 / w)² ≈ 271
    perfect = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert molecules_needed(perfect, width, draws=2000) == pytest.approx(closed_form, rel=0.1)
    # half the molecules missed: twice as many must be imaged
    half = np.array([[0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])
    assert molecules_needed(half, width, draws=2000) == pytest.approx(2 * closed_form, rel=0.1)
    # indistinguishable sites can never be told apart
    assert (
        molecules_needed(np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]]), width, draws=200, most=10_000) is None
    )


def test_a_confusion_measured_from_few_test_molecules_asks_for_more_molecules():
    """Two sites told apart 80 % of the time: known exactly, the binomial closed form through the
    confusion, N = (1.645 / w)² / (2 · 0.8 − 1)² ≈ 752 at w = 0.1; measured from 1000 test molecules per
    site its own error adds to every estimate (≈ 1.4 × as many molecules; 10⁵ per site: about the same),
    and from 60 per site the error alone is wider than the interval asked for (no count suffices)."""
    width, matrix = 0.1, np.array([[0.8, 0.2, 0.0], [0.2, 0.8, 0.0]])
    closed_form = (1.645 / width) ** 2 / (2 * 0.8 - 1) ** 2
    known = molecules_needed(matrix, width, draws=2000)
    assert known == pytest.approx(closed_form, rel=0.1)
    plenty = molecules_needed(matrix, width, draws=2000, measured=np.array([100_000, 100_000]))
    assert plenty == pytest.approx(known, rel=0.1)
    thousand = molecules_needed(matrix, width, draws=2000, measured=np.array([1000, 1000]))
    assert thousand > 1.25 * known
    few = np.array([60, 60])
    assert molecules_needed(matrix, width, draws=400, measured=few, most=100_000) is None
    assert confusion_floor(matrix, few, draws=400, seed=0) > width


def test_confusion_counts_misses_and_rows_sum_to_one():
    rows = pd.DataFrame({"true_class": ["T5", "T5", "T5", "T7"], "predicted_class": ["T5", "T6", "", "T7"]})
    truths, matrix, measured = confusion(rows, TSITES)
    assert measured.tolist() == [3, 1]
    columns = [*TSITES, MISSED]
    assert truths == ["T5", "T7"]
    assert matrix[0, columns.index("T5")] == pytest.approx(1 / 3)
    assert matrix[0, columns.index(MISSED)] == pytest.approx(1 / 3)
    assert np.allclose(matrix.sum(axis=1), 1)


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
    classes = {"classes": [{"name": t, "tsites": [t], "conformations": [t]} for t in TSITES]}
    calibration = {"temperature": 1.0, "occupancy_threshold": 0.0, "occupancy_prior": 0.1,
                   "dose_constant": 1.0, "model_error": 0.0, "model_error_source": "none",
                   "classes": classes}  # fmt: skip
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
    # a count where the confusion's own error (≈ 73 test molecules per class) leaves room for the interval
    reachable = table["interval_from_confusion"] < 0.1
    assert table["molecules_needed"].notna().eq(reachable).all() and reachable.any()
    # fewer molecules are needed where the T-site is read better
    ideal = table[table["observer"] == "ideal"].sort_values("dose")
    needed = ideal["molecules_needed"].astype(float).fillna(np.inf).to_numpy()
    assert needed[0] > needed[-1]
    assert "test molecules per class" in out
    assert (tmp_path / "figures" / "plan.png").stat().st_size > 10_000
    assert main(["plan", "--workflow-results", str(tmp_path), "--target-accuracy", "1.5"]) == 2
    assert "analysis/plan/target_accuracy" in capsys.readouterr().err  # the schema names the bad value
    empty = tmp_path / "empty"
    assert main(["plan", "--workflow-results", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "holds no finished run" in err and "Fix:" in err
    assert not empty.exists()
