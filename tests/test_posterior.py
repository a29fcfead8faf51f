"""Probabilities from likelihoods: temperature, ties, the shared-site posterior and the Al distribution."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp
from scipy.stats import beta

from zeostem.analysis.analyzer import molecule_evidence
from zeostem.analysis.calibration import Calibration
from zeostem.analysis.classes import Classes
from zeostem.analysis.efficiency import Efficiency, efficiency_dose
from zeostem.analysis.posterior import (
    FALSE_ALARMS,
    against_false_alarms,
    al_distribution,
    al_distribution_table,
    at_grid_edge,
    calibrate_temperature,
    class_posteriors,
    mixture_posterior,
    reference_priors,
    shared_class_posterior,
    topk_credit,
    tsite_probabilities,
)
from zeostem.errors import InputError
from zeostem.evaluation.calibration import (
    empty_field_bayes_factor,
    false_alarm_fit,
    false_alarm_threshold,
    field_dispersion,
    unfitted_doses,
)
from zeostem.evaluation.robustness import robustness_table
from zeostem.evaluation.stats import wilson


def one_per_tsite(tsites: list[str]) -> Classes:
    """Every candidate its own class, uniform prior."""
    n = len(tsites)
    return Classes(list(tsites), [[k] for k in range(n)], [[t] for t in tsites], np.full(n, -np.log(n)))


def template_stack(fractions: list[float], false_alarms: int, molecules: int, rng) -> np.ndarray:
    """Exact log-likelihood ratios (class vs no molecule) of detections in white noise: class k adds the
    signal s_k (d′ ≈ 2.5 against an empty site, the classes' signals partly alike); a false alarm is
    noise alone. Returns (detections, classes)."""
    signals = 1.8 * np.eye(len(fractions), 8) + 0.9 * np.eye(len(fractions), 8, 1)
    k = rng.choice(len(fractions), size=molecules, p=fractions)
    data = np.r_[signals[k], np.zeros((false_alarms, 8))] + rng.normal(size=(molecules + false_alarms, 8))
    return data @ signals.T - 0.5 * np.sum(signals**2, axis=1)


def test_the_al_distribution_recovers_known_fractions_beside_false_alarms():
    rng = np.random.default_rng(0)
    truth = [0.6, 0.3, 0.1]
    log_lik = template_stack(truth, false_alarms=150, molecules=600, rng=rng)
    result = {r["class"]: r for r in al_distribution(log_lik, ["T1", "T5", "T9"], [["T1"], ["T5"], ["T9"]])}
    for site, fraction in zip(["T1", "T5", "T9"], truth, strict=True):
        assert result[site]["low"] <= fraction <= result[site]["high"]
        assert result[site]["fraction"] == pytest.approx(fraction, abs=0.06)
    assert result[FALSE_ALARMS]["fraction"] == pytest.approx(150 / 750, abs=0.06)
    # without the null component every false alarm would be given to some T-site (the fractions are
    # posterior medians: they sum to 1 within the posterior's width)
    assert sum(r["fraction"] for name, r in result.items() if name != FALSE_ALARMS) == pytest.approx(
        1.0, abs=0.01
    )


def test_a_stack_of_false_alarms_only_is_all_null():
    log_lik = template_stack([0.5, 0.5], false_alarms=200, molecules=0, rng=np.random.default_rng(1))
    result = {r["class"]: r for r in al_distribution(log_lik, ["T1", "T5"], [["T1"], ["T5"]])}
    assert result[FALSE_ALARMS]["fraction"] > 0.9 and result[FALSE_ALARMS]["high"] > 0.97


def test_fractions_and_intervals_stay_within_zero_and_one_on_a_single_class():
    """One class, a few molecules from null-only to sure: every fraction and interval stays within
    [0, 1], never 1 + ε (the report's schema refuses that; seen in CI)."""
    outside = []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        log_lik = rng.normal(rng.uniform(-40, 20), 3, (int(rng.integers(1, 6)), 1))  # null-only to sure
        for row in al_distribution(log_lik, ["T1"], [["T1"]]):
            if not 0 <= row["low"] <= row["high"] <= 1 or not 0 <= row["fraction"] <= 1:
                outside.append((seed, row))
    assert not outside


def test_an_absent_class_gets_an_interval_from_zero_and_a_point_near_zero():
    log_lik = template_stack([0.7, 0.3, 0.0], false_alarms=20, molecules=300, rng=np.random.default_rng(2))
    result = {r["class"]: r for r in al_distribution(log_lik, ["T1", "T5", "T9"], [["T1"], ["T5"], ["T9"]])}
    assert result["T9"]["fraction"] < 0.05 and result["T9"]["low"] < 0.005 < result["T9"]["high"]


def test_nominal_90_percent_intervals_cover_the_true_fractions_about_90_percent_of_the_time():
    """60 stacks of 150 detections (two sites 70/30, one absent, 10 % false alarms): the share of
    intervals (3 classes × 60) that hold the truth is within the binomial spread of 0.9."""
    rng = np.random.default_rng(3)
    truth = {"T1": 0.7, "T5": 0.3, "T9": 0.0}
    covered = []
    for _ in range(60):
        log_lik = template_stack(list(truth.values()), false_alarms=15, molecules=135, rng=rng)
        for row in al_distribution(log_lik, list(truth), [[t] for t in truth]):
            if row["class"] in truth:
                covered.append(row["low"] <= truth[row["class"]] <= row["high"])
    assert 0.8 <= np.mean(covered) <= 0.98


def test_an_image_of_one_class_among_ten_holds_that_class_s_whole_share_in_its_interval():
    """11 unambiguous molecules of one class, 10 classes and the null: its interval reaches 1 and holds
    its point. With a prior of ½ per column (weighing as 5.5 molecules) it read 0.73 in [0.55, 0.88]:
    the truth outside, and the demo's maximum-likelihood point (0.98) outside its own interval."""
    log_lik = np.where(np.arange(10) == 0, 30.0, -30.0) * np.ones((11, 1))
    names = [f"T{k}" for k in range(1, 11)]
    first = al_distribution(log_lik, names, [[n] for n in names])[0]
    assert first["low"] <= first["fraction"] <= first["high"] == 1.0 and first["fraction"] > 0.85


def test_the_gibbs_posterior_of_unambiguous_molecules_is_the_dirichlet_one():
    """Every molecule certain of its column: π | data is Dirichlet(prior + counts) exactly, in every
    chain (the prior asking about the third column: ½ on it, ¼ on each of the others)."""
    log_lik = np.where(np.eye(3, dtype=bool)[[0] * 6 + [1] * 3 + [2]], 50.0, -50.0)
    draws = mixture_posterior(log_lik, reference_priors(3), draws=4000, seed=4)[:, 2]
    expected = (np.array([0.25, 0.25, 0.5]) + [6, 3, 1]) / 11
    assert draws.mean(axis=0) == pytest.approx(expected, abs=0.01)
    assert draws[:, 2].std() == pytest.approx(np.sqrt(expected[2] * (1 - expected[2]) / 12), rel=0.1)


def test_a_class_the_detections_hardly_see_keeps_the_share_they_cannot_rule_out():
    """Ten molecules found, all of T12, among six classes; T5 is found at a tenth of the others' rate,
    so a stack half of each would have shown ≈ 1 T5 in 11: T5's interval holds ½ (under a symmetric
    prior weighing as one molecule it read [0, 0.29]: absent from the prior alone), T12's reaches 1,
    and a class found as well as T12 stays near 0."""
    names = ["T12", "T5", "T1", "T2", "T3", "T4"]

    def named(k):
        return np.where(np.arange(len(names)) == k, 30.0, -30.0)

    reported = [250, 25, 250, 250, 250, 250]  # of 500 molecules each on the calibration's fields
    efficiency = Efficiency(
        np.ones(1), np.array([reported], float), np.full((1, len(names)), 500.0),
        (tuple(np.tile(named(k), (n, 1)) for k, n in enumerate(reported)),), np.zeros(1),
    )  # fmt: skip
    rows = al_distribution(np.tile(named(0), (10, 1)), names, [[n] for n in names], efficiency=efficiency)
    result = {r["class"]: r for r in rows}
    assert result["T5"]["low"] == 0.0 and result["T5"]["high"] > 0.5
    assert result["T12"]["high"] == 1.0
    assert result["T1"]["fraction"] < 0.05 and result["T1"]["high"] < 0.2


def test_a_tie_at_the_top_is_not_a_hit():
    flat = {f"T{i}": 1 / 12 for i in range(1, 13)}
    assert topk_credit(flat, {"T5"}, 1) == pytest.approx(1 / 12)
    assert topk_credit(flat, {"T5"}, 3) == pytest.approx(3 / 12)
    assert topk_credit({"T1": 0.7, "T2": 0.3}, {"T1"}, 1) == 1.0
    assert topk_credit({"T1": 0.7, "T2": 0.3}, {"T2"}, 1) == 0.0


def test_temperature_calibration_softens_overconfident_scores():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 300)
    picked = np.where(rng.random(300) < 0.6, truth, (truth + 1) % 3)
    llr = np.where(np.arange(3)[None] == picked[:, None], 0.0, -50.0)  # right 60 % of the time, sure always
    classes = one_per_tsite(["T1", "T2", "T3"])
    temperature = calibrate_temperature(llr, np.eye(3, dtype=bool)[truth], classes)
    confidence = class_posteriors(llr, classes, temperature).max(axis=1).mean()
    assert temperature > 10 and confidence == pytest.approx(0.6, abs=0.1)


def test_shared_site_posterior_pools_molecules_and_respects_impossible_sites():
    classes = one_per_tsite(["T1", "T2", "T3"])
    # each molecule alone prefers T1 only weakly; T3 cannot sit at the second molecule's site
    llr = np.array([[1.0, 0.5, 0.0], [1.0, 0.5, -np.inf]])
    posterior = shared_class_posterior(llr, classes, 1.0)
    assert posterior["T3"] == 0.0
    assert posterior["T1"] > class_posteriors(llr[:1], classes, 1.0)[0, 0]


def test_wilson_interval_covers_the_proportion_and_shrinks_with_n():
    low, high = wilson(9, 10)
    assert low < 0.9 < high and high <= 1
    assert wilson(90, 100)[1] - wilson(90, 100)[0] < high - low


def test_empty_sites_weighed_by_occupancy_do_not_drown_one_clear_molecule():
    classes = one_per_tsite(["T1", "T2", "T3"])
    molecule = np.array([[6.0, 0.0, 0.0]])  # a clear T1 molecule
    empty = np.random.default_rng(0).normal(-6.0, 2.0, (200, 3))  # 200 sites that hold nothing
    alone = shared_class_posterior(molecule, classes, 1.0, occupancy=0.1)
    pooled = shared_class_posterior(np.r_[molecule, empty], classes, 1.0, occupancy=0.1)
    assert max(alone, key=alone.get) == max(pooled, key=pooled.get) == "T1"
    assert pooled["T1"] == pytest.approx(alone["T1"], abs=0.05)
    # taken as molecules, the same empty sites would outvote it
    forced = shared_class_posterior(np.r_[molecule, empty], classes, 1.0)
    assert forced["T1"] < 0.5


def test_al_distribution_table_pools_the_molecules_of_every_report():
    def report(name, likelihoods):  # as write_report makes it: the image's own distribution included
        log_lik = np.array([[ll["T1"], ll["T5"]] for ll in likelihoods]).reshape(-1, 2)
        return {
            "image": name,
            "noise": {"efficiency_dose_e_per_A2": 1500.0},
            "molecules": [{"al_log_likelihood": ll} for ll in likelihoods],
            "al_distribution": al_distribution(log_lik, ["T1", "T5"], [["T1"], ["T5"]]),
        }

    t1, t5 = {"T1": 30.0, "T5": -30.0}, {"T1": -30.0, "T5": 30.0}  # unambiguous molecules
    classes = {"classes": [{"name": t, "tsites": [t], "conformations": [t]} for t in ("T1", "T5")]}
    calibration = Calibration(1.0, 0.0, 0.1, 1.0, classes=classes)  # no efficiency measured
    reports = [report("a", [t1, t1, t1]), report("b", [t5]), report("c", [])]
    table = al_distribution_table(reports, calibration)
    pooled = table[table["images"] == "all images"].set_index("class")
    # T1 among the molecules: Beta(½ + 3, ¼ + 1) pooled (the prior asking about T1: ½ on it, ¼ on T5)
    assert pooled.loc["T1", "fraction"] == pytest.approx(beta.median(1 / 2 + 3, 1 / 4 + 1), abs=0.01)
    assert set(pooled["molecules"]) == {4}
    alone = table[table["images"] == "b"].set_index("class").loc["T5"]  # Beta(½ + 1, ¼): highest at 1
    assert (
        alone["fraction"] == pytest.approx(beta.median(1 / 2 + 1, 1 / 4), abs=0.01) and alone["high"] == 1.0
    )
    assert "c" not in set(table["images"])  # an image without molecules has no distribution
    other = Calibration(1.0, 0.0, 0.1, 1.0, classes={"classes": classes["classes"][:1]})
    with pytest.raises(InputError, match="other classes than the calibration"):
        al_distribution_table(reports, other)


def measured(*rows: np.ndarray, reported: list[float], there: list[float]) -> Efficiency:
    """The efficiency a calibration measures at one dose: per class its reported molecules' rows (no
    false alarm among them)."""
    return Efficiency(np.ones(1), np.array([reported], float), np.array([there], float), (rows,), np.zeros(1))


def test_the_al_distribution_is_of_all_molecules_when_their_classes_are_found_at_different_rates():
    """Half the molecules at each of two classes, T1's found 90 % of the time and T5's 30 %: among the
    molecules found T1 holds ≈ 0.75, and an interval of the found shares misses the truth ½; divided by
    the efficiencies measured on 100 molecules of each (as the calibration measures them), the interval
    holds ½; a class whose molecules were found once in 100, or found five times but each read as a
    T1, is not seen: its share is unknown, and T1 holds all molecules seen. Pooled over reports at two
    doses the counts are the molecules' weighted mean of each dose's."""
    rng = np.random.default_rng(7)
    signals = 1.8 * np.eye(2, 8)

    def exact(classes: np.ndarray, false_alarms: int) -> np.ndarray:  # as in template_stack
        data = np.r_[signals[classes], np.zeros((false_alarms, 8))] + rng.normal(
            size=(len(classes) + false_alarms, 8)
        )
        return data @ signals.T - 0.5 * np.sum(signals**2, axis=1)

    classes = rng.integers(0, 2, size=1600)
    found = exact(classes[rng.random(1600) < np.where(classes == 0, 0.9, 0.3)], 40)
    names, tsites = ["T1", "T5"], [["T1"], ["T5"]]
    biased = {r["class"]: r for r in al_distribution(found, names, tsites)}["T1"]
    assert biased["fraction"] == pytest.approx(0.75, abs=0.04) and biased["low"] > 0.5
    efficiency = measured(
        exact(np.zeros(90, int), 0), exact(np.ones(30, int), 0), reported=[90, 30], there=[100, 100]
    )
    t1 = {r["class"]: r for r in al_distribution(found, names, tsites, efficiency=efficiency)}["T1"]
    assert t1["low"] <= 0.5 <= t1["high"] and t1["fraction"] == pytest.approx(0.5, abs=0.06)
    one_in_100 = measured(
        exact(np.zeros(90, int), 0), exact(np.ones(1, int), 0), reported=[90, 1], there=[100, 100]
    )
    unseen = {r["class"]: r for r in al_distribution(found, names, tsites, efficiency=one_in_100)}
    assert unseen["T5"]["fraction"] is None and (unseen["T5"]["low"], unseen["T5"]["high"]) == (0.0, 1.0)
    assert unseen["T1"]["seen"] and unseen["T1"]["fraction"] == 1.0
    # five T5 molecules reported, but every one of them reads as a T1: none is credited to T5
    misread = measured(
        exact(np.zeros(90, int), 0), exact(np.zeros(5, int), 0), reported=[90, 5], there=[100, 100]
    )
    assert not {r["class"]: r for r in al_distribution(found, names, tsites, efficiency=misread)}["T5"][
        "seen"
    ]
    doses = [measured(*(np.zeros((0, 2)),) * 2, reported=r, there=[10, 10]) for r in ([9, 3], [5, 7])]
    assert Efficiency.pooled([(doses[0], 3), (doses[1], 1)]).counts.tolist() == [[8.0, 10.0], [4.0, 10.0]]


def faint_stack(classes: np.ndarray, false_alarms: int, contrast: list[float], rng) -> np.ndarray:
    """Log-likelihood ratios (class vs false alarm) of detections whose likelihood is the references'
    (class k adds the template t_k to white noise) while each class's molecules show only ``contrast``
    of it, as a structure the references were not made from can: a faint class's molecules read partly
    as false alarms. (detections, classes)."""
    templates = 1.5 * np.eye(len(contrast), 6)
    data = np.r_[templates[classes] * np.asarray(contrast)[classes][:, None], np.zeros((false_alarms, 6))]
    data += rng.normal(size=data.shape)
    return data @ templates.T - 0.5 * np.sum(templates**2, axis=1)


@pytest.mark.parametrize("seed", range(3))
def test_the_al_distribution_credits_a_faint_class_as_its_molecules_are_credited(seed):
    """Half the molecules at T1, half at T5, every one found, T5's showing half the contrast its
    reference has, and a sixth of the detections false alarms: the mixture gives T5's molecules partly
    to the null, so its share among the molecules found reads ≈ 0.3 and the detection efficiency (all
    found: 1 for both) cannot mend it. Divided by the share of each class's molecules that the mixture
    credits to it (measured on 200 molecules of each from the same structures), T5's interval holds ½."""
    rng = np.random.default_rng(seed)
    stack = faint_stack(rng.integers(0, 2, size=600), 120, [1.0, 0.5], rng)
    names, tsites = ["T1", "T5"], [["T1"], ["T5"]]
    fields = [faint_stack(np.full(200, k), 0, [1.0, 0.5], rng) for k in (0, 1)]
    efficiency = measured(*fields, reported=[200, 200], there=[200, 200])
    uncorrected = {r["class"]: r for r in al_distribution(stack, names, tsites)}["T5"]
    assert uncorrected["high"] < 0.45
    corrected = {r["class"]: r for r in al_distribution(stack, names, tsites, efficiency=efficiency)}["T5"]
    assert corrected["low"] <= 0.5 <= corrected["high"] and corrected["fraction"] == pytest.approx(
        0.5, abs=0.07
    )


@pytest.mark.parametrize("seed", range(3))
def test_classes_a_stack_holds_none_of_do_not_take_the_molecules_of_those_it_holds(seed):
    """Eight classes whose templates overlap their neighbours', a stack of 80 molecules of the first two
    and 15 false alarms, every class's efficiency measured on 60 molecules: the six absent classes'
    found shares are the prior's, near 0; credited as classes of almost no weight they would be divided
    by almost nothing and take the molecules (measured: the present two then hold 0.27–0.37 of them).
    Credited as classes of at least one detection, the present two hold most molecules and every
    absent class's interval reaches 0."""
    rng = np.random.default_rng(seed)
    templates = 1.5 * np.eye(8, 10) + 0.75 * np.eye(8, 10, 1)

    def detections(classes: np.ndarray, false_alarms: int) -> np.ndarray:
        data = np.r_[templates[classes], np.zeros((false_alarms, 10))]
        data += rng.normal(size=data.shape)
        return data @ templates.T - 0.5 * np.sum(templates**2, axis=1)

    names = [f"T{k + 1}" for k in range(8)]
    stack = detections(rng.integers(0, 2, size=80), 15)
    efficiency = measured(
        *[detections(np.full(60, k), 0) for k in range(8)], reported=[60] * 8, there=[60] * 8
    )
    result = {
        r["class"]: r for r in al_distribution(stack, names, [[n] for n in names], efficiency=efficiency)
    }
    assert result["T1"]["fraction"] + result["T2"]["fraction"] > 0.7
    assert all(result[n]["low"] == 0.0 for n in names[2:])


def test_a_calibration_says_which_doses_have_no_false_alarm_fit_of_their_own():
    fits = [
        {"dose": 1500.0, "intercept": -1.0, "slope": 1.2},
        {"dose": 4500.0, "intercept": -2.0, "slope": 1.3},
    ]
    assert unfitted_doses(fits, [1500.0, 4500.0]) is None
    warning = unfitted_doses(fits, [500.0, 1500.0, 4500.0])
    assert "500 e/Å²" in warning and "1500" not in warning and "nearest dose's fit" in warning
    assert "empty site" in unfitted_doses(None, [500.0, 1500.0])


def test_a_class_s_only_molecule_keeps_a_finite_interval():
    # T5's one molecule cannot be a T1 (−inf), and none of them is a false alarm
    log_lik = np.array([[30.0, -np.inf]] * 9 + [[-np.inf, 30.0]])
    result = {r["class"]: r for r in al_distribution(log_lik, ["T1", "T5"], [["T1"], ["T5"]])}
    assert result["T5"]["fraction"] == pytest.approx(beta.median(1 / 2 + 1, 1 / 4 + 9), abs=0.01)
    assert result["T5"]["low"] < 0.05 and 0.1 < result["T5"]["high"] < 0.4


def test_a_class_of_two_tsites_carries_both_priors_and_says_its_split_is_not_identified():
    # T1 and T2 look the same (equal likelihoods), T7 differs: the class T1|T2 holds 2 of 3 T-sites
    classes = Classes(["O2: T1|T2", "T7"], [[0, 1], [2]], [["T1", "T2"], ["T7"]], np.full(3, -np.log(3)))
    flat = class_posteriors(np.zeros((1, 3)), classes, 1.0)[0]
    assert flat == pytest.approx([2 / 3, 1 / 3])
    assert not classes.split_identified("O2: T1|T2") and classes.split_identified("T7")
    entries = al_distribution(np.array([[30.0, -30.0]] * 5), classes.names, classes.tsites)
    assert [(e["class"], e["split_identified"]) for e in entries[:2]] == [("O2: T1|T2", False), ("T7", True)]


def test_an_error_shared_by_every_molecule_bounds_the_image_posterior_however_many_are_pooled():
    """Every molecule favours the wrong class by m = 0.5 nats through an error of the references that
    repeats in every cell (correlation ρ = 0.2): pooled, n molecules may carry at most m / ρ = 2.5 nats
    (p ≤ 0.924), not n × m (p → 1)."""
    classes = one_per_tsite(["T1", "T2"])
    m, rho = 0.5, 0.2
    bound = 1 / (1 + np.exp(-m / rho))
    for n in (1, 10, 100, 10000):
        llr = np.tile([[0.0, m]], (n, 1))
        shared = shared_class_posterior(llr, classes, 1.0, correlation=rho)["T2"]
        independent = shared_class_posterior(llr, classes, 1.0)["T2"]
        assert shared <= bound + 1e-12
        assert independent >= shared
    assert shared > bound - 0.01  # the bound is what many molecules reach
    assert independent > 0.999


def test_clustered_interval_widens_when_a_cluster_s_molecules_share_their_outcome():
    from zeostem.evaluation.stats import clustered_interval

    independent = np.tile([1.0, 0.0], 100)  # 200 molecules, right half the time, within every cluster
    shared = np.repeat([1.0, 0.0], 100)  # the same outcome for all of a cluster's molecules
    clusters = np.repeat(np.arange(10), 20)
    low, high = clustered_interval(independent, clusters)
    assert (low, high) == pytest.approx(wilson(100, 200))  # no cluster effect: Wilson's
    low_shared, high_shared = clustered_interval(shared, clusters)
    # 10 clusters of 0 or 1: like 10 samples, not 200 (half-width ≈ 1.96 √(10/9 · 10 · 10²) / 200 = 0.33)
    assert high_shared - low_shared > 0.6 > 3 * (high - low)
    assert low_shared < 0.5 < high_shared


def test_summarise_counts_hits_misses_and_sure_calls_on_a_known_truth():
    from zeostem.evaluation.identifiability import summarise

    rows = [  # 4 molecules of two conformations: a sure hit, a sure miss, an unsure hit, a miss (undetected)
        {"confidence": 0.99, "top1": 1.0, "detected": True, "conformation": "a"},
        {"confidence": 0.97, "top1": 0.0, "detected": True, "conformation": "a"},
        {"confidence": 0.60, "top1": 1.0, "detected": True, "conformation": "b"},
        {"confidence": 0.0, "top1": 0.0, "detected": False, "conformation": "b"},
    ]
    molecules = pd.DataFrame(rows).assign(model="realistic", observer="pipeline", dose=1500, top3=1.0)
    images = molecules.iloc[:1].assign(top3=1.0)
    summary = summarise(molecules, images).set_index("level")
    row = summary.loc["molecule"]
    assert row["n"] == 4 and row["detected"] == 3 and row["clusters"] == 2
    assert row["top1"] == 0.5 and row["top1_detected"] == pytest.approx(2 / 3)
    assert row["sure_calls"] == 2 and row["sure_right"] == 1
    assert row["top1_low"] < 0.5 < row["top1_high"]


def test_the_confidence_gap_is_told_from_zero_only_where_the_structures_agree():
    """100 calls at confidence 0.5 over 10 structures, right 70 % of the time: where every structure's
    calls are right 6–8 times in 10, the tool is under-confident (the gap's interval above 0); where 7
    structures are always right and 3 always wrong (a structure errs in every cell), the same mean
    gap cannot be told from 0."""
    from zeostem.evaluation.identifiability import summarise

    def gap(right_per_structure):
        rows = [{"confidence": 0.5, "top1": float(k < right), "detected": True, "conformation": f"s{s}"}
                for s, right in enumerate(right_per_structure) for k in range(10)]  # fmt: skip
        molecules = pd.DataFrame(rows).assign(model="realistic", observer="pipeline", dose=500, top3=1.0)
        row = summarise(molecules, molecules.iloc[:1]).set_index("level").loc["molecule"]
        return row["confidence_gap"], row["confidence_gap_low"], row["confidence_gap_high"]

    mean, low, high = gap([6, 8] * 5)
    assert mean == pytest.approx(0.2) and low > 0.1
    mean, low, high = gap([10] * 7 + [0] * 3)
    assert mean == pytest.approx(0.2) and low < 0 < high


def test_expected_calibration_error_on_known_answers():
    from zeostem.evaluation.stats import expected_calibration_error

    rng = np.random.default_rng(0)
    confidence = rng.uniform(0, 1, 200_000)
    calibrated = rng.random(200_000) < confidence  # right as often as it says
    assert expected_calibration_error(confidence, calibrated) < 0.01
    always_sure = np.ones(1000)
    right_60 = np.arange(1000) < 600
    assert expected_calibration_error(always_sure, right_60) == pytest.approx(0.4)


def test_the_calibration_test_tells_small_sample_noise_from_over_confidence():
    """A calibrated tool's ECE on 100 calls is far from 0 (each bin a small sample): the test says it is
    chance; calls as confident but right half as often are told apart at that same sample size."""
    from zeostem.evaluation.stats import calibration_test

    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.3, 1.0, 100)
    ece, chance, p = calibration_test(confidence, rng.random(100) < confidence)
    assert 0.04 < chance < 0.12 and p > 0.05  # chance level ≈ 0.08 at n = 100, the calls consistent with it
    many = np.repeat(confidence, 16)
    _, chance_large, _ = calibration_test(many, rng.random(1600) < many)
    assert chance_large < chance / 2.5  # shrinks as 1 / √n
    over, chance_over, p_over = calibration_test(confidence, rng.random(100) < confidence / 2)
    assert over > 2 * chance_over and p_over < 0.01


def test_the_calibration_test_takes_calls_that_err_together_as_the_evidence_they_are():
    """A calibrated tool whose calls share a structure (12 structures, each right more or less often
    than its confidence says, by as much on average in either direction): a test that took the calls as
    independent rejects it far more often than 5 % of the time; with the structures as clusters it
    rejects near its level, still tells an over-confident tool on the same clusters, and does not
    take confident calls that were all right for miscalibrated."""
    from zeostem.evaluation.stats import calibration_test

    rng = np.random.default_rng(2)
    independent, clustered, over = [], [], []
    for _ in range(300):
        structure = rng.integers(0, 12, 200)
        confidence = rng.uniform(0.3, 0.8, 200)
        lean = rng.choice([-0.2, 0.2], 12)[structure]  # each structure's calls err one way
        right = rng.random(200) < confidence + lean
        independent.append(calibration_test(confidence, right, draws=500)[2])
        clustered.append(calibration_test(confidence, right, structure, draws=500)[2])
        sure = rng.random(200) < confidence - 0.25
        over.append(calibration_test(confidence, sure, structure, draws=500)[2])
    assert np.mean(np.array(independent) < 0.05) > 0.15  # 0.22 measured
    assert np.mean(np.array(clustered) < 0.05) < 0.12  # 0.087 measured
    assert np.mean(np.array(over) < 0.05) > 0.8
    *_, p_all_right = calibration_test(np.full(24, 0.977), np.ones(24), np.arange(24) % 12)
    assert p_all_right > 0.2  # 24 fields called at 0.977, all right: what a calibrated tool does often


def test_the_between_cluster_variance_is_what_the_clusters_add_to_shot_noise():
    """Calls right with probability 0.6 plus their structure's lean (sd 0.15, 40 structures of 50 calls):
    the variance the structures' means show beyond the calls' own (0.24 each) is the leans' 0.0225;
    without leans it is ≈ 0, and with every call its own cluster exactly 0."""
    from zeostem.evaluation.stats import between_cluster_variance

    rng = np.random.default_rng(4)
    index = np.repeat(np.arange(40), 50)
    within = np.full(len(index), 0.24)
    lean = rng.normal(0, 0.15, 40)[index]
    leaning = (rng.random(len(index)) < 0.6 + lean) - 0.6
    plain = (rng.random(len(index)) < 0.6) - 0.6
    assert between_cluster_variance(leaning, index, within) == pytest.approx(0.0225, abs=0.008)
    assert between_cluster_variance(plain, index, within) < 0.003
    assert between_cluster_variance(leaning, np.arange(len(index)), within) == 0.0


def test_scores_that_carry_no_confidence_put_the_temperature_at_its_grid_edge():
    """Likelihoods that point away from the truth (the references describe something else): the fitted
    temperature is the grid's top, which the calibration reports as a warning; scores with modest real
    evidence are not at the edge."""
    rng = np.random.default_rng(1)
    classes = one_per_tsite(["T1", "T2", "T3"])
    truth = np.eye(3, dtype=bool)[rng.integers(0, 3, 400)]
    noise = rng.normal(0, 5, (400, 3))
    assert at_grid_edge(calibrate_temperature(noise - 3 * truth, truth, classes))
    assert not at_grid_edge(calibrate_temperature(noise + 3 * truth, truth, classes))


def test_a_false_alarm_threshold_holds_its_rate_on_new_empty_sites():
    """Empty sites' scores from N(0, 1): at a stated 5 % the threshold is the normal's 95th percentile
    (1.645, within the order statistic's spread for 4 000 sites), and on 20 000 new empty sites the
    share above it lies in the binomial interval of 5 % (with the threshold's own spread); the
    threshold falls as the rate rises, and where no site may alarm it is the highest score."""
    rng = np.random.default_rng(4)
    threshold = false_alarm_threshold(rng.normal(size=4000), 0.05)
    assert threshold == pytest.approx(1.645, abs=0.05)
    assert np.mean(rng.normal(size=20_000) > threshold) == pytest.approx(0.05, abs=0.008)
    assert false_alarm_threshold(rng.normal(size=4000), 0.25) < threshold - 0.8  # N: 0.674
    assert false_alarm_threshold(np.array([3.0, 1.0, 2.0]), 0.2) == 3.0
    assert false_alarm_threshold(np.array([4.0, 1.0, 2.0, 3.0]), 0.5) == pytest.approx(2.5)


def clumped_alarm_counts(fields: int, sites: int, rate: float, rho: float, rng) -> np.ndarray:
    """False alarms per field whose sites share the field's alarm probability (beta-distributed around
    ``rate``; intraclass correlation ``rho``)."""
    a, b = rate * (1 - rho) / rho, (1 - rate) * (1 - rho) / rho
    return rng.binomial(sites, rng.beta(a, b, size=fields))


def test_the_over_dispersion_of_false_alarms_per_field_is_measured():
    """Fields of 60 sites whose alarms clump (ρ = 0.08) and fields whose alarms do not: the estimator
    gives each its ρ within the spread of 300 fields."""
    rng = np.random.default_rng(11)
    clumped = clumped_alarm_counts(300, 60, 0.05, 0.08, rng)
    assert field_dispersion(clumped, [60] * 300) == pytest.approx(0.08, abs=0.025)
    independent = rng.binomial(60, 0.05, size=300)
    assert field_dispersion(independent, [60] * 300) < 0.015
    assert field_dispersion([0, 0, 0], [60, 60, 60]) == 0.0


def test_the_strength_tests_scale_is_the_most_one_field_leant_not_the_pooled_lean():
    """Exact likelihood-ratio empty sites have mean Bayes factor 1 per field; one field whose empty
    sites all lean 2 × towards a molecule (a shared registration or noise error) sets the scale, though
    pooled with 20 others its lean would read ≈ 1.05; a field with no empty sites counts for nothing."""
    rng = np.random.default_rng(4)
    d = 1.0
    fields = [d * rng.standard_normal(4000) - d * d / 2 for _ in range(20)]
    assert empty_field_bayes_factor(fields) == pytest.approx(1.0, abs=0.1)
    leaning = fields + [d * rng.standard_normal(4000) - d * d / 2 + np.log(2.0), np.zeros(0)]
    assert empty_field_bayes_factor(leaning) == pytest.approx(2.0, abs=0.2)
    assert np.mean(np.exp(np.concatenate(leaning))) < 1.2


def weak_field(detections: int, sites: int) -> np.ndarray:
    """Log Bayes factors of a field with ``detections`` sites just above the threshold 0 (the count
    test's case: its strength part sees nothing in them)."""
    return np.where(np.arange(sites) < detections, 0.01, -3.0)


def test_a_field_gets_molecules_only_with_more_detections_than_false_alarms_give():
    """Molecule-free fields of 68 sites whose alarms clump as the calibration measured: at most the
    stated 5 % of them are said to hold molecules (a binomial null that ignored the clumping would say
    so for more than twice as many); a field with 15 molecules found beside its false alarms holds them
    (the clumping costs power: from 13 detections on, against 8 for a binomial null), and without a
    calibrated null any detection counts."""
    rng = np.random.default_rng(12)
    null = {"rate": 0.05, "dispersion": 0.06, "bayes_factor_scale": 1.0}
    counts = clumped_alarm_counts(4000, 68, 0.05, 0.06, rng)
    present = [molecule_evidence(weak_field(k, 68), 0.0, null, 0.05)["molecules_present"] for k in counts]
    assert np.mean(present) <= 0.05
    binomial = {**null, "dispersion": 0.0}
    naive = [molecule_evidence(weak_field(k, 68), 0.0, binomial, 0.05)["molecules_present"] for k in counts]
    assert np.mean(naive) > 2 * 0.05
    found = [molecule_evidence(weak_field(k + 15, 68), 0.0, null, 0.05) for k in counts[:400]]
    assert np.mean([e["molecules_present"] for e in found]) >= 0.9
    assert molecule_evidence(weak_field(1, 68), 0.0, None, None)["molecules_present"]
    assert not molecule_evidence(weak_field(0, 68), 0.0, None, None)["molecules_present"]


def test_a_few_strong_molecules_in_a_sparse_field_are_evidence_a_count_cannot_see():
    """Sites whose log Bayes factor is the exact likelihood ratio of a molecule d′ = 4 apart from none
    (a high dose), threshold at 5 % false alarms, 70 sites: with 3 molecules a field holds 3 detections
    where false alarms give 3.5, which the count alone credits 13 % of the time; their strength makes the
    test answer 82 % of such fields, while molecule-free fields answer at most the stated 5 % and the
    strength part alone (e ≥ 1000) almost never, even where every empty site leans 2 × towards a
    molecule and the calibration did not see it."""
    rng = np.random.default_rng(3)
    d, sites = 4.0, 70

    def field(molecules: int = 0, lean: float = 1.0) -> np.ndarray:
        log_bayes = d * rng.standard_normal(sites) - d * d / 2 + np.log(lean)
        log_bayes[:molecules] = d * rng.standard_normal(molecules) + d * d / 2
        return log_bayes

    threshold = float(np.quantile(d * rng.standard_normal(200_000) - d * d / 2, 0.95))
    null = {"rate": 0.05, "dispersion": 0.01, "bayes_factor_scale": 1.0}
    sparse = [molecule_evidence(field(3), threshold, null, 0.05) for _ in range(600)]
    assert np.mean([e["molecules_present"] for e in sparse]) > 0.75
    assert np.mean([e["p_value"] <= 0.05 for e in sparse]) < 0.25  # the count alone
    free = [molecule_evidence(field(), threshold, null, 0.05) for _ in range(2000)]
    assert np.mean([e["molecules_present"] for e in free]) <= 0.05
    leaning = [molecule_evidence(field(lean=2.0), threshold, null, 0.05) for _ in range(2000)]
    assert np.mean([(e["log10_e_value"] or -np.inf) >= 3 for e in leaning]) <= 0.002
    # the calibration's scale divides the lean out: the same fields' e-values fall by about what it took
    scaled = {**null, "bayes_factor_scale": 2.0}
    lean_field = field(lean=2.0)
    assert (molecule_evidence(lean_field, threshold, scaled, 0.05)["log10_e_value"]
            < molecule_evidence(lean_field, threshold, null, 0.05)["log10_e_value"])  # fmt: skip


def test_robustness_table_on_hand_made_rows():
    """Per case and observer: top-1 and recall with Wilson intervals, false alarms per empty site; the
    ideal observer of a geometric nuisance is the nuisance-free one (knowing the geometry undoes it)."""
    scanned = {"none": {}, "rot": {"rotation_deg": 30.0}, "bg": {"background": 4.0}}
    molecules, images = [], []
    for case, hits, found in (("none", 8, 9), ("rot", 5, 7), ("bg", 2, 4)):
        for observer in ("pipeline", "ideal"):
            h = hits if observer == "pipeline" else 10
            molecules += [{"case": case, "observer": observer, "top1": float(k < h), "detected": k < found}
                          for k in range(10)]  # fmt: skip
            images.append({"case": case, "observer": observer, "top1": 1.0, "molecules": 10,
                           "empty_sites": 40, "empty_alarms": 4 if case == "bg" else 0})  # fmt: skip
    table = robustness_table(pd.DataFrame(molecules), pd.DataFrame(images), scanned, chance=1 / 12)
    rows = table.set_index(["case", "observer"])
    rot = rows.loc[("rot", "pipeline")]
    assert rot["top1"] == 0.5 and rot["recall"] == 0.7
    assert (rot["top1_low"], rot["top1_high"]) == wilson(5, 10)
    assert rows.loc[("rot", "ideal"), "ideal_from"] == "none"  # knowing the geometry undoes it
    assert rows.loc[("bg", "ideal"), "ideal_from"] == "bg"
    assert rows.loc[("bg", "pipeline"), "false_alarms_per_empty_site"] == pytest.approx(0.1)
    assert rows.loc[("bg", "pipeline"), "nuisance"] == "background"
    assert rows.loc[("rot", "pipeline"), "top1_detected"] == pytest.approx(5 / 7)


def test_a_detection_keeps_its_classes_relative_evidence_and_takes_the_calibrated_evidence_for_a_molecule():
    classes = one_per_tsite(["T1", "T5", "T9"])
    class_ll = np.array([[6.0, 2.0, -1.0], [0.5, 0.4, 0.1]])
    fit = {"intercept": -2.0, "slope": 1.5}
    adjusted = against_false_alarms(class_ll, classes, fit)
    assert np.allclose(np.diff(adjusted, axis=1), np.diff(class_ll, axis=1))  # classes against each other
    score = logsumexp(class_ll + classes.log_prior, axis=1)  # any molecule against an empty site
    assert np.allclose(logsumexp(adjusted + classes.log_prior, axis=1), -2.0 + 1.5 * score)
    assert against_false_alarms(class_ll, classes, None) is class_ll


def test_the_false_alarm_fit_recovers_a_known_log_bayes_factor_with_the_prior_odds_taken_out():
    """Scores of molecules ~ N(3, 1), of false alarms ~ N(0, 1), one molecule to three false alarms: the
    log Bayes factor of a molecule against a false alarm is exactly 3 s − 4.5, whatever their shares."""
    rng = np.random.default_rng(5)
    scores = np.r_[rng.normal(3, 1, 1000), rng.normal(0, 1, 3000)]
    molecule = np.r_[np.ones(1000, bool), np.zeros(3000, bool)]
    fit = false_alarm_fit(scores, molecule)
    assert fit["slope"] == pytest.approx(3.0, abs=0.25) and fit["intercept"] == pytest.approx(-4.5, abs=0.35)
    assert fit["false_alarms"] == 3000 and false_alarm_fit(scores[:1004], molecule[:1004]) is None  # 4 alarms
    backwards = false_alarm_fit(-scores, molecule)  # molecules scoring lower: the score says nothing
    assert backwards["slope"] == 0.0 and backwards["intercept"] == pytest.approx(0.0)


def test_the_tsite_probability_marginalises_over_acid_o_and_brackets_an_unidentified_split():
    """A library with every acid O (``acid_o: all``): T5 on two acid O the data tell apart, T1 in two
    classes it shares with T2 and T10. T5's probability is the sum over its acid O, exactly; T1's
    lies between 0 (no class is T1's alone) and the sum of the two classes that hold it; T2 and T10
    are bracketed by their one class."""
    names = ["O2: T1|T2", "O3: T1|T10", "O1: T5", "O7: T5"]
    tsites = [["T1", "T2"], ["T1", "T10"], ["T5"], ["T5"]]
    classes = Classes(names, [[0, 1], [2, 3], [4], [5]], tsites, np.full(6, -np.log(6)))
    probabilities = {"O2: T1|T2": 0.1, "O3: T1|T10": 0.2, "O1: T5": 0.3, "O7: T5": 0.4}
    bounds = {r["tsite"]: (r["low"], r["high"]) for r in tsite_probabilities(probabilities, classes)}
    assert list(bounds) == ["T1", "T2", "T5", "T10"]  # framework order
    assert bounds["T5"] == pytest.approx((0.7, 0.7))
    assert bounds["T1"] == pytest.approx((0.0, 0.3))
    assert bounds["T2"] == pytest.approx((0.0, 0.1)) and bounds["T10"] == pytest.approx((0.0, 0.2))
    assert tsite_probabilities({}, classes) == []  # no call, no T-site


def test_a_report_with_its_dose_stated_or_read_from_its_molecules_takes_the_efficiency_of_that_dose():
    """A thick crystal imaged at 1500 e/Å² whose estimate reads 5400: the calibration sees T5 at 1500
    e/Å² (30 of 100 molecules reported) but not at 4500 (one); with the dose stated, or read through
    the molecules' contrast (0.55 × the references': ≈ 1630 e/Å²), the pooled distribution sees T5 and
    gives its fraction; with the estimate alone (molecules as bright as the references') T5's share is
    unknown."""
    t1, t5 = [30.0, -30.0], [-30.0, 30.0]

    def entry(dose: int, t5_found: int) -> dict:
        return {"dose": dose, "classes": {"T1": [90, 100], "T5": [t5_found, 100]},
                "molecules": {"T1": [t1] * 90, "T5": [t5] * t5_found},
                "structures": {"T1": [[90, 100]], "T5": [[t5_found, 100]]},
                "false_alarms": {"T1": 0, "T5": 0}}  # fmt: skip

    classes = {"classes": [{"name": t, "tsites": [t], "conformations": [t]} for t in ("T1", "T5")]}
    calibration = Calibration(
        1.0, 0.0, 0.1, 1.0, classes=classes, detection_efficiency=[entry(1500, 30), entry(4500, 1)]
    )
    likelihoods = [dict(zip(("T1", "T5"), ll, strict=True)) for ll in [t1] * 6 + [t5] * 2]

    def t5_row(stated: float | None, contrast: float = 1.0) -> pd.Series:
        log_lik = np.array([[ll["T1"], ll["T5"]] for ll in likelihoods])
        noise = {"efficiency_dose_e_per_A2": efficiency_dose(stated, 5400.0, contrast)[0]}
        report = {"image": "thick", "noise": noise,
                  "molecules": [{"al_log_likelihood": ll} for ll in likelihoods],
                  "al_distribution": al_distribution(log_lik, ["T1", "T5"], [["T1"], ["T5"]])}  # fmt: skip
        table = al_distribution_table([report], calibration)
        return table[table["images"] == "all images"].set_index("class").loc["T5"]

    stated, read, estimated = t5_row(1500.0), t5_row(None, 0.55), t5_row(None)
    assert stated["seen"] and stated["fraction"] > 0.25
    assert read["seen"] and read["fraction"] == stated["fraction"]
    assert not estimated["seen"] and np.isnan(estimated["fraction"])
