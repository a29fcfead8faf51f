"""The Al distribution's coverage on stacks of fields with known classes."""

import numpy as np
import pytest

from zeostem.analysis.calibration import Calibration
from zeostem.analysis.classes import Classes
from zeostem.analysis.efficiency import Efficiency
from zeostem.analysis.posterior import as_reported
from zeostem.evaluation.coverage import SETTINGS, al_coverage, coverage_stacks, stack_study, with_stated_dose

NAMES = ["T1", "T5", "T9"]


def field(tsite: str, called: str, molecules: int, dose: int = 1500) -> dict:
    """A field of ``molecules`` molecules of ``tsite``, each detected and called ``called`` beyond doubt."""
    log_lik = np.where(np.array(NAMES) == called, 30.0, -30.0) * np.ones((molecules, 1))
    return {"model": "realistic", "dose": dose, "conformation": f"pyridine_{tsite}", "true_tsite": tsite,
            "classes": [tsite], "molecules": molecules, "al_log_likelihood": log_lik,
            "efficiency": None}  # fmt: skip


def test_stacks_are_single_fields_and_pairs_of_different_tsites_at_one_dose():
    fields = [
        field("T1", "T1", 5),
        field("T1", "T1", 5),
        field("T5", "T5", 5),
        field("T5", "T5", 5, dose=500),
    ]
    kinds = [kind for kind, _ in coverage_stacks(fields)]
    assert kinds.count("one field") == 4 and kinds.count("two fields") == 2  # T1 × T5 at 1500 only


def test_coverage_counts_a_recovered_field_as_held_and_a_confidently_wrong_one_as_missed():
    """A T1 field read right, a T5 field read as T9 throughout: alone, T1's share (1) is held and T5's
    is not, T9's interval (absent in both) misses 0 in the T5 field; together (truth ½ / ½), T1's share
    is held and T5's is not."""
    table = al_coverage([field("T1", "T1", 12), field("T5", "T9", 12)], NAMES, [[n] for n in NAMES])
    one, two = (table.set_index("stack").loc[k] for k in ("one field", "two fields"))
    assert one["stacks"] == 2 and one["present_covered"] == 0.5 and one["absent_covered"] == 0.75
    assert one["present_low"] < 0.5 < one["present_high"]
    assert two["stacks"] == 1 and two["present_covered"] == 0.5 and np.isnan(two["present_low"])
    assert two["present_abs_error"] == pytest.approx(0.5 * (abs(0.5 - 0.5) + 0.5), abs=0.06)


def test_a_field_that_reports_no_molecule_is_counted_as_unanswered_not_covered():
    empty = {**field("T1", "T1", 0), "molecules": 10}
    row = al_coverage([empty], NAMES, [[n] for n in NAMES]).iloc[0]
    assert (row["stacks"], row["unanswered"]) == (0, 1) and np.isnan(row["present_covered"])


def exact_field(tsite: str, molecules: int, false_alarms: int, rng, found: float = 1.0) -> dict:
    """A field whose detections' log-likelihoods (class vs false alarm) are exact: each class's molecule
    adds its signal to white noise (d′ ≈ 2.1 between classes), a false alarm is noise alone; a share
    ``found`` of the molecules is detected."""
    signals = 1.5 * np.eye(len(NAMES), 6)
    k = NAMES.index(tsite)
    detected = int(round(found * molecules))
    data = np.r_[np.tile(signals[k], (detected, 1)), np.zeros((false_alarms, 6))]
    data += rng.normal(size=data.shape)
    log_lik = data @ signals.T - 0.5 * np.sum(signals**2, axis=1)
    true_rows = [*range(detected), *[-1] * (molecules - detected)]
    return {"model": "realistic", "dose": 1500, "conformation": f"c{k}", "true_tsite": tsite,
            "classes": [tsite], "molecules": molecules, "class_log_likelihood": log_lik,
            "al_log_likelihood": log_lik, "true_rows": true_rows,
            "false_alarm_rows": list(range(detected, detected + false_alarms)),
            "efficiency": None}  # fmt: skip


def exact_pool(found: dict[str, float] | None = None, seed: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    found = found or {}
    return [exact_field(t, 10, 1, rng, found.get(t, 1.0)) for t in NAMES for _ in range(20)]


def measured_efficiency(pool: list[dict]) -> Efficiency:
    """What the calibration measures on fields of its own: per class, its molecules reported and
    there, and the reported ones' rows."""

    def found(f: dict) -> np.ndarray:
        return f["al_log_likelihood"][[r for r in f["true_rows"] if r >= 0]]

    rows = [[found(f) for f in pool if f["true_tsite"] == t] for t in NAMES]
    reported = [sum(len(r) for r in per) for per in rows]
    there = [sum(f["molecules"] for f in pool if f["true_tsite"] == t) for t in NAMES]
    return Efficiency(np.ones(1), np.array([reported], float), np.array([there], float),
                      (tuple(np.concatenate(per) for per in rows),), np.zeros(1))  # fmt: skip


def pooled_coverage(study) -> float:
    return (study["present_covered"] * study["intervals"]).sum() / study["intervals"].sum()


def test_a_stack_study_of_exact_likelihoods_covers_at_the_nominal_rate():
    """Stacks of 150 molecules drawn by each setting's fractions from a pool whose evidence is exact,
    with false alarms at the pool's rate: the nominal 90 % intervals hold the fractions within the
    target 0.85–0.95 (4 settings × 60 stacks; measured 0.88, a Bayesian interval's usual shortfall at
    small counts), and the absent class's interval holds 0 with its point estimate below 0.05."""
    study = stack_study(exact_pool(), NAMES, [[n] for n in NAMES], stacks=60, molecules=150)
    study = study.set_index("setting")
    assert set(study.index) == set(SETTINGS) and (study["unanswered"] == 0).all()
    assert 0.85 <= pooled_coverage(study) <= 0.95, study["present_covered"].to_dict()
    absent = study.loc["one site absent"]
    assert absent["absent_covered"] >= 0.9 and absent["absent_below_005"] >= 0.8


def test_a_stack_study_catches_over_confidence_and_a_class_the_detector_misses():
    """The same pool with every log-likelihood tripled (a likelihood three times too sure, as shared
    model error makes it) covers well below 0.9; so does one whose detector finds only a third of one
    class's molecules (the distribution is of the molecules found)."""
    pool = exact_pool()
    sure = [{**f, "al_log_likelihood": 3 * f["al_log_likelihood"]} for f in pool]
    names = [[n] for n in NAMES]
    assert pooled_coverage(stack_study(sure, NAMES, names, stacks=60, molecules=150)) < 0.8
    missing = exact_pool({"T9": 0.3})
    assert pooled_coverage(stack_study(missing, NAMES, names, stacks=60, molecules=150)) < 0.8


def test_the_detection_efficiency_restores_the_coverage_of_a_class_the_detector_misses():
    """The pool whose detector finds a third of T9's molecules, with each class's efficiency measured
    on 200 molecules of fields of its own (as the calibration measures it): the intervals are of all
    molecules again and cover within the target."""
    measured = measured_efficiency(exact_pool({"T9": 0.3}, seed=4))
    pool = [{**f, "efficiency": measured} for f in exact_pool({"T9": 0.3})]
    study = stack_study(pool, NAMES, [[n] for n in NAMES], stacks=60, molecules=150)
    assert 0.85 <= pooled_coverage(study) <= 0.95, study["present_covered"].to_dict()


def calibration_entry(efficiency: Efficiency, dose: int) -> dict:
    """``efficiency`` as calibration.json's ``detection_efficiency`` holds it at ``dose`` (one structure
    per class, no false alarm)."""
    rows, reported, there = efficiency.molecules[0], efficiency.reported[0], efficiency.there[0]
    return {"dose": dose, "classes": {c: [r, n] for c, r, n in zip(NAMES, reported, there, strict=True)},
            "molecules": {c: m.tolist() for c, m in zip(NAMES, rows, strict=True)},
            "structures": {c: [[len(m), n]] for c, m, n in zip(NAMES, rows, there, strict=True)},
            "false_alarms": dict.fromkeys(NAMES, 0)}  # fmt: skip


def test_a_thick_crystal_read_at_a_higher_dose_covers_again_with_its_dose_stated():
    """Fields whose detector finds a fifth of T9's molecules, read (as a thick crystal is) at a higher
    dose, where the calibration found every T9 molecule and where its false-alarm fit takes a detection
    for a false alarm more readily (by 2 nats): with that dose's efficiency and fit, the intervals of
    all four settings hold the truth 1.0 of the time (60 stacks each: wide, the molecules read as false
    alarms); with the dose stated, the dose imaged's efficiency and fit — the fit the efficiency was
    measured through — hold it 0.91 of the time (target 0.85–0.95). The imaged dose's efficiency with
    the read dose's fit (the evidence left as read) covers 1.0 too."""
    records = {"classes": [{"name": t, "tsites": [t], "conformations": [t]} for t in NAMES]}
    classes = Classes(NAMES, [[k] for k in range(3)], [[t] for t in NAMES], np.full(3, -np.log(3)))
    entries = [calibration_entry(measured_efficiency(exact_pool(found, seed=4)), dose)
               for found, dose in (({"T9": 0.2}, 1500), ({}, 4500))]  # fmt: skip
    fits = [{"dose": 1500, "intercept": 0.0, "slope": 1.0}, {"dose": 4500, "intercept": -2.0, "slope": 1.0}]
    calibration = Calibration(
        1.0, 0.0, 0.1, 1.0, classes=records, detection_efficiency=entries, false_alarm_fits=fits
    )
    read_high = []
    for f in exact_pool({"T9": 0.2}):
        al_ll, efficiency, _ = as_reported(f["class_log_likelihood"], classes, calibration, 5400)
        read_high.append({**f, "al_log_likelihood": al_ll, "efficiency": efficiency})
    fields = read_high + with_stated_dose(read_high, classes, calibration)
    study = stack_study(fields, NAMES, [[n] for n in NAMES], stacks=60, molecules=150).set_index("model")
    read, stated = study.loc["realistic"], study.loc["realistic, dose stated"]
    assert pooled_coverage(read) > 0.95 and 0.85 <= pooled_coverage(stated) <= 0.95


def test_a_pair_takes_the_efficiency_of_its_detections_not_of_its_first_field():
    """A pair of fields at one dose: the first (a thick crystal's, read as a higher dose) reports no
    molecule and looked up an efficiency where every class is seen, the second reports 12 at an
    efficiency where no class is seen. Pooled as a user's reports are, the pair sees no class, so its
    distribution says nothing (taking the first field's, it saw every class and answered); parts of one
    calibration dose pool into one."""
    seen = measured_efficiency(exact_pool(seed=5))
    unseen = Efficiency(
        seen.weights, seen.reported, seen.there,
        (tuple(rows[:1] for rows in seen.molecules[0]),), seen.false_alarm_share,
    )  # fmt: skip
    assert seen.seen.all() and not unseen.seen.any()
    thick = {**field("T1", "T1", 0), "molecules": 10, "efficiency": seen}
    thin = {**field("T5", "T5", 12), "efficiency": unseen}
    row = al_coverage([thick, thin], NAMES, [[n] for n in NAMES]).set_index("stack").loc["two fields"]
    assert row["stacks"] == 1 and np.isnan(row["present_covered"])  # answered, no class seen
    pooled = Efficiency.pooled([(seen, 3), (measured_efficiency(exact_pool(seed=5)), 2)])
    assert len(pooled.molecules) == 1 and pooled.weights.tolist() == [1.0]


def test_a_stack_that_sees_one_class_checks_no_interval():
    """Where the calibration sees one class only, a stack's fractions are of that class alone: 1,
    whatever the stack holds, so its interval holds a T1 field's truth trivially — no measurement of
    coverage (the demo's 500 e/Å² read 1.0 that way)."""
    seen = measured_efficiency(exact_pool(seed=5))
    only_t1 = Efficiency(
        seen.weights, seen.reported, seen.there,
        (tuple(rows if k == 0 else rows[:1] for k, rows in enumerate(seen.molecules[0])),),
        seen.false_alarm_share,
    )  # fmt: skip
    assert only_t1.seen.tolist() == [True, False, False]
    row = al_coverage([{**field("T1", "T1", 12), "efficiency": only_t1}], NAMES, [[n] for n in NAMES]).iloc[0]
    assert row["stacks"] == 1 and np.isnan(row["present_covered"])
