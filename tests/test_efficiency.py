"""The credited efficiency holds what a structure the calibration did not measure credits; the evidence
a structure shares in every cell is measured between structures and discounted."""

from types import SimpleNamespace

import numpy as np
from scipy import stats

from zeostem.analysis.calibration import Calibration
from zeostem.analysis.classes import Classes
from zeostem.analysis.efficiency import (
    Efficiency,
    effective_counts,
    efficiency_dose,
    shared_share,
    structure_spread,
)
from zeostem.analysis.posterior import image_class_posterior


def measured_structures(rho: float, structures: int, rng: np.random.Generator) -> tuple[list, np.ndarray]:
    """Ten classes, each measured on ``structures`` structures of 32 molecules (the demo's efficiency
    fields), every structure's efficiency drawn around its class's (intra-class correlation ``rho``);
    with each class's efficiency on one more structure, not measured."""
    means = rng.uniform(0.2, 0.8, 10)
    concentration = 1 / rho - 1
    parts, unmeasured = [], []
    for mean in means:
        efficiency = rng.beta(mean * concentration, (1 - mean) * concentration, structures + 1)
        credited = rng.binomial(32, efficiency[:structures])
        parts.append(np.c_[credited, np.full(structures, 32)].astype(float))
        unmeasured.append(efficiency[-1])
    return parts, np.array(unmeasured)


def held(counts: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Whether the central 90 % of each class's Beta (as the Al distribution draws it) holds the truth."""
    low, high = stats.beta.ppf([[0.05], [0.95]], counts[:, 0] + 0.5, counts[:, 1] - counts[:, 0] + 0.5)
    return (low <= truth) & (truth <= high)


def test_the_credited_efficiency_holds_a_structure_not_measured_where_the_molecules_count_would_not():
    """Efficiencies that differ from structure to structure (ρ = 0.05, about the demo's at 4500 e/Å²):
    the spread is recovered from two structures per class, and the Beta of the counts it leaves holds
    an unmeasured structure's efficiency 85 % of the time (nominal 90 %; ρ itself is uncertain), where
    the molecules counted as independent hold it half the time; without a structure effect the counts
    are left almost as they are."""
    rng = np.random.default_rng(3)
    estimates, spread_held, counted_held = [], [], []
    for _ in range(200):
        parts, unmeasured = measured_structures(0.05, 2, rng)
        estimates.append(structure_spread(parts))
        spread_held.append(held(effective_counts(parts), unmeasured))
        counted_held.append(held(np.array([p.sum(axis=0) for p in parts]), unmeasured))
    assert 0.04 < np.mean(estimates) < 0.07
    assert np.mean(spread_held) > 0.8 and np.mean(counted_held) < 0.6
    binomial = [np.c_[c, np.full(2, 32)] for c in rng.binomial(32, rng.uniform(0.2, 0.8, (10, 1)), (10, 2))]
    assert structure_spread(binomial) < 0.05


def test_a_class_whose_structures_differ_is_credited_as_fewer_molecules():
    """At one calibration dose, a class whose two structures' molecules are found 15 of 16 and 1 of 16
    times (reported molecules plainly of their class) is credited like the same counts in one structure
    but counts as fewer molecules, and the pooled efficiency keeps its structures."""
    own = np.array([[8.0, -8.0], [-8.0, 8.0]])  # each class's molecules: log-likelihood rows
    rows = (np.repeat(own[:1], 16, axis=0), np.repeat(own[1:], 16, axis=0))
    split = (np.array([[15, 16], [1, 16]]), np.array([[8, 16], [8, 16]]))
    apart = Efficiency(
        np.ones(1), np.array([[16.0, 16.0]]), np.array([[32.0, 32.0]]), (rows,), np.zeros(1), (split,)
    )
    together = Efficiency(
        apart.weights, apart.reported, apart.there, apart.molecules, apart.false_alarm_share
    )
    weights = np.array([0.0, 0.5, 0.5])
    spread, counted = apart.credited(weights, 32), together.credited(weights, 32)
    assert np.allclose(counted, [[16, 32], [16, 32]])
    assert np.allclose(spread[:, 0] / spread[:, 1], 0.5) and (spread[:, 1] < 16).all()
    assert not apart.same_as(together)
    pooled = Efficiency.pooled([(apart, 1.0), (together, 1.0)])
    assert np.allclose(pooled.credited(weights, 32), (spread + counted) / 2)


def test_the_efficiency_is_looked_up_at_the_dose_stated_else_at_the_one_the_molecules_read():
    """A stated dose keys the efficiency; an estimate 3.6 × above it (a two-cell crystal's) is named
    with the thickness it implies, whatever the molecules' contrast. Without a stated dose, molecules
    at half the references' contrast (a two-cell crystal's) read the 5400 e/Å² estimate as ≈ ½² × 5400
    = 1350 e/Å², and it is said; molecules at 0.85 × (within the references' spread) leave the
    estimate, without a note."""
    dose, note = efficiency_dose(1500.0, 5400.0)
    assert dose == 1500.0 and "3.6 × the stated dose" in note and "≈ 1.9 cells" in note
    assert efficiency_dose(1500.0, 5400.0, 0.5)[0] == 1500.0
    assert efficiency_dose(1500.0, 1600.0) == (1500.0, None)
    dose, note = efficiency_dose(None, 5400.0, 0.5)
    assert dose == 1350.0 and "≈ 1350 e/Å²" in note and "state the dose" in note
    assert efficiency_dose(None, 5400.0, 0.85) == (5400.0, None)
    assert efficiency_dose(None, 5400.0) == (5400.0, None)
    assert efficiency_dose(None, None, 0.5) == (None, None)


def structures_erring_alike(offset_sd: float, rng: np.random.Generator) -> Efficiency:
    """Two classes, 60 structures each of 15 reported molecules: each molecule's evidence for the other
    class against its own is the structure's offset (sd ``offset_sd``) plus its own noise (sd 2)."""
    rows = []
    for k in range(2):
        evidence = -3 + rng.normal(0, offset_sd, (60, 1)) + rng.normal(0, 2, (60, 15))
        own = np.zeros((900, 2))
        own[:, 1 - k] = evidence.ravel()
        rows.append(own)
    structures = (np.tile([15, 15], (60, 1)),) * 2
    counts = np.array([[900.0, 900.0]])
    return Efficiency(np.ones(1), counts, counts, (tuple(rows),), np.zeros(1), (structures,))


def test_the_evidence_a_structure_shares_is_measured_between_its_molecules():
    """A structure the references were not made from errs alike in every cell: with an offset of sd 1
    per structure and sd 2 per molecule, 1 / (1 + 4) = 0.2 of the variance is shared, and the image's
    molecules then carry at most 1 / 0.2 molecules' evidence; without offsets none."""
    rng = np.random.default_rng(7)
    assert abs(shared_share(structures_erring_alike(1.0, rng).evidence_by_structure()) - 0.2) < 0.07
    assert shared_share(structures_erring_alike(0.0, rng).evidence_by_structure()) < 0.03


def calibration_measuring(offset_sds: dict[int, float], rng: np.random.Generator) -> Calibration:
    """A calibration of T1 and T5 whose efficiency structures at each dose err alike in every cell by an
    offset of the given sd (:func:`structures_erring_alike`)."""
    names = ["T1", "T5"]

    def entry(dose, offset_sd):
        made = structures_erring_alike(offset_sd, rng)
        rows, structures = made.molecules[0], made.structures[0]
        return {"dose": dose, "false_alarms": {"T1": 0},
                "classes": {c: [900, 900] for c in names},
                "molecules": {c: r.tolist() for c, r in zip(names, rows, strict=True)},
                "structures": {c: s.tolist() for c, s in zip(names, structures, strict=True)}}  # fmt: skip

    classes = {"classes": [{"name": c, "tsites": [c], "conformations": [c]} for c in names]}
    entries = [entry(dose, sd) for dose, sd in offset_sds.items()]
    return Calibration(1.0, 0.0, 0.1, 1.0, classes=classes, detection_efficiency=entries)


def test_the_shared_evidence_grows_with_the_dose_between_the_validation_doses():
    """A structure's offset grows as the dose and the shot noise's variance as the dose too, so the
    offset's share ρ has odds ρ / (1 − ρ) in proportion to the dose: validation doses 1000 and 4000
    with ρ 0.2 and 0.5 (odds 0.25 and 1) give those back at their doses, ρ ≈ 1/3 at 2000 and none
    without a dose."""
    calibration = calibration_measuring({1000: 1.0, 4000: 2.0}, np.random.default_rng(8))
    at = calibration.shared_evidence_at
    assert abs(at(2000) - 1 / 3) < 0.06
    assert abs(at(1000) - 0.2) < 0.05 and abs(at(4000) - 0.5) < 0.05
    assert at(None) == 0.0
    assert Calibration(1.0, 0.0, 0.1, 1.0, classes=calibration.classes).shared_evidence_at(2000) == 0.0


def test_a_field_whose_structure_errs_in_every_cell_is_not_called_sure_once_the_calibration_measured_it():
    """100 molecules, each favouring T5 over the true T1 by 0.5 nats through its structure's error: with
    the framework's share alone (0 here) the field names T5 at p ≈ 1; with the share the calibration's
    structures show at that dose (≈ 1/3 at 2000 e/Å²) the pooled evidence stays below 0.5 / ρ ≈ 1.5
    nats, p < 0.85, however many molecules there are."""
    calibration = calibration_measuring({1000: 1.0, 4000: 2.0}, np.random.default_rng(8))
    classes = Classes(["T1", "T5"], [[0], [1]], [["T1"], ["T5"]], np.full(2, -np.log(2)))
    scores = SimpleNamespace(answering_llr=np.tile([20.0, 20.5], (100, 1)), correlation=0.0)
    detected = np.arange(100)
    assert image_class_posterior(scores, detected, classes, calibration, None)["T5"] > 0.999
    assert image_class_posterior(scores, detected, classes, calibration, 2000.0)["T5"] < 0.85
