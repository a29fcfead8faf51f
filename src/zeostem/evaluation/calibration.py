"""Fitting the analysis's calibration (``zeostem.analysis.calibration``) on validation images with known
truth: dose constant, identifiable classes, temperature, occupancy thresholds at a stated false-alarm
rate and false-alarm fits."""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
from scipy import stats
from scipy.optimize import minimize

from zeostem.analysis.analyzer import Analyzer
from zeostem.analysis.calibration import Calibration, nearest_dose
from zeostem.analysis.classes import Classes, derive_classes
from zeostem.analysis.posterior import (
    against_false_alarms,
    at_grid_edge,
    calibrate_temperature,
    class_log_likelihoods,
    detection_scores,
)
from zeostem.evaluation.identifiability import lattice_or_none
from zeostem.evaluation.truth import (
    MATCH_A,
    MISSED,
    TruthImage,
    edge_molecules,
    near,
    nearest_site,
    true_molecules,
)
from zeostem.io.images import read_image
from zeostem.parallel import forked_map


def false_alarm_threshold(empty_scores: np.ndarray, rate: float) -> float:
    """The threshold that ``rate`` of the empty sites' scores exceed: halfway between the
    ⌊rate × n⌋-th highest and the next (the highest itself where none may exceed); ``rate`` < 1.

    The 2-D template-matching practice: a threshold from the null distribution of the score (here a
    site's maximum over its candidates and placements) at a stated false-alarm rate, which holds on
    new images whatever their molecules, unlike a best-F1 threshold that moves with how many there are.
    """
    ranked = np.sort(np.asarray(empty_scores, float))[::-1]
    if not len(ranked):
        raise ValueError("no empty sites to set a false-alarm threshold on")
    allowed = int(np.floor(rate * len(ranked)))
    if allowed == 0:
        return float(ranked[0])
    return float((ranked[allowed - 1] + ranked[allowed]) / 2)


def occupancy_thresholds(
    null: list[dict], records: list[dict], temperature: float, rate: float
) -> list[dict]:
    """Per validation dose, :func:`false_alarm_threshold` of the sites of molecule-free fields (``null``)
    that count (in cells the framework explains: only those can be taken for a molecule), with its
    false alarms there and their rate's interval; and what it gives on the fields with molecules
    (``records``): false alarms among their empty sites and molecules found; and the largest mean Bayes
    factor of one field's empty sites, of either kind (:func:`empty_field_bayes_factor`).

    The null is fields with nothing to find, not the empty sites between molecules: there the fitted
    molecule contrast is lower and every site gathers its own hypotheses, so (measured on the demo's
    molecule-free fields) they alarm 1.3–3 × as often at a threshold set on the empty sites of full
    fields; set on the molecule-free fields, the rate is a bound on full fields."""
    thresholds = []
    for dose in sorted({r["dose"] for r in null}):
        per_field = [_counted_bayes(r, temperature) for r in null if r["dose"] == dose]
        empty = np.concatenate(per_field)
        threshold = false_alarm_threshold(empty, rate)
        alarms = int((empty > threshold).sum())
        field_alarms = [int((field > threshold).sum()) for field in per_field]
        full = [r for r in records if r["dose"] == dose]
        bayes = np.concatenate([_counted_bayes(r, temperature) for r in full] or [np.zeros(0)])
        occupied = np.concatenate([r["occupied"][r["counted"]] for r in full] or [np.zeros(0, bool)])
        taken = bayes > threshold
        empty_fields = per_field + [
            _counted_bayes(r, temperature)[~r["occupied"][r["counted"]]] for r in full
        ]
        thresholds.append({
            "dose": dose, "threshold": threshold, "null_sites": len(empty), "false_alarms": alarms,
            "false_alarm_rate_interval": false_alarm_rate_interval(alarms, len(empty)),
            "null_fields": len(per_field),
            "field_dispersion": field_dispersion(field_alarms, [len(field) for field in per_field]),
            "empty_sites": int((~occupied).sum()), "empty_site_alarms": int((taken & ~occupied).sum()),
            "molecules": int(occupied.sum()), "found": int((taken & occupied).sum()),
            "empty_field_bayes_factor": empty_field_bayes_factor(empty_fields),
        })  # fmt: skip
    return thresholds


def empty_field_bayes_factor(fields: list[np.ndarray]) -> float:
    """The largest mean Bayes factor (molecule vs none) over the empty sites of one field, of ``fields``'
    log Bayes factors: the most a field's empty sites have been seen to favour molecules together, which
    the evidence test's strength part divides by (``zeostem.analysis.analyzer.molecule_evidence``). A
    Bayes factor that is the likelihood ratio of the data has mean 1 over empty sites; the temperature
    brings it below (measured on the demo's molecule-free validation sites: 0.35–0.82), references that
    favour a molecule where there is none, above."""
    return max(float(np.mean(np.exp(field))) for field in fields if len(field))


def field_dispersion(alarms: list[int], sites: list[int]) -> float:
    """The intraclass correlation of false alarms among the sites of one field (the ANOVA estimator for
    binary outcomes, clipped to [0, 0.99]): the sites of a field share its noise estimate, registration
    and the references' error, so their alarms come in clumps and a field's count is over-dispersed
    against a binomial. 0 with fewer than two fields or no alarms."""
    k, n = np.asarray(alarms, float), np.asarray(sites, float)
    fields, total = len(n), n.sum()
    if fields < 2 or not k.sum() or total <= fields:
        return 0.0
    p, mean = k / n, k.sum() / total
    between = np.sum(n * (p - mean) ** 2) / (fields - 1)
    within = np.sum(n * p * (1 - p)) / (total - fields)
    size = (total - np.sum(n**2) / total) / (fields - 1)
    spread = between + (size - 1) * within
    return float(np.clip((between - within) / spread, 0.0, 0.99)) if spread > 0 else 0.0


def _counted_bayes(record: dict, temperature: float) -> np.ndarray:
    return record["scores"].log_bayes_factor(temperature)[record["counted"]]


def false_alarm_rate_interval(alarms: int, empty_sites: int, level: float = 0.95) -> list[float]:
    """Where the false-alarm rate on new empty sites lies (``level`` interval) for a threshold that
    ``alarms`` of ``empty_sites`` validation scores exceed: for continuous scores the share of the
    null distribution above the k-th highest of n is Beta(k, n − k + 1), above the next Beta(k + 1, n − k);
    the interval spans both."""
    tail = (1 - level) / 2
    low = stats.beta.ppf(tail, alarms, empty_sites - alarms + 1) if alarms else 0.0
    return [float(low), float(stats.beta.ppf(1 - tail, alarms + 1, empty_sites - alarms))]


MIN_PER_KIND = 5  # a dose's false-alarm fit needs this many molecules and false alarms among its detections


def false_alarm_fit(scores: np.ndarray, molecule: np.ndarray) -> dict | None:
    """Logistic regression of "a molecule" on a detection's score (log likelihood ratio of any molecule
    against an empty site), its prior log odds among these detections taken out: the log Bayes factor
    of a molecule against a false alarm, intercept + slope × score, the slope at least 0. None with
    fewer than ``MIN_PER_KIND`` of either."""
    molecule = np.asarray(molecule, bool)
    if min(molecule.sum(), (~molecule).sum()) < MIN_PER_KIND:
        return None

    def loss(p):  # negative log-likelihood, a weak ridge keeping separable data finite
        z = p[0] + p[1] * scores
        return np.sum(np.logaddexp(0, z) - molecule * z) + 1e-3 * p[1] ** 2

    a, b = minimize(loss, [0.0, 1.0], method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-9}).x
    prior = np.log(molecule.mean() / (1 - molecule.mean()))
    if b < 0:  # a higher score is not less of a molecule: where the data say so, the score says nothing
        a, b = prior, 0.0  # (the demo's 500 e/Å² detections fitted −0.57: molecules and alarms alike)
    return {"intercept": float(a - prior), "slope": float(b), "detections": int(len(molecule)),
            "false_alarms": int((~molecule).sum())}  # fmt: skip


def unfitted_doses(fits: list[dict] | None, doses: list[float]) -> str | None:
    """The warning a calibration carries where validation ``doses`` have no false-alarm fit of their own
    (too few molecules or false alarms among the detections fitted on); None where every dose has one."""
    missing = sorted(set(doses) - {f["dose"] for f in fits or []})
    if not missing:
        return None
    instead = "the nearest dose's fit" if fits else "their ratios against an empty site"
    return (
        f"no false-alarm fit at {', '.join(f'{d:g}' for d in missing)} e/Å² (fewer than {MIN_PER_KIND} "
        f"molecules or false alarms among the detections it is fitted on): the Al distribution weighs "
        f"detections there by {instead}"
    )


def false_alarm_fits(
    records: list[dict], classes: Classes, temperature: float, thresholds: list[dict]
) -> list[dict]:
    """Per validation dose, :func:`false_alarm_fit` of the sites detected at its threshold."""
    fits = []
    for dose, threshold in ((t["dose"], t["threshold"]) for t in thresholds):
        scores, molecule = [], []
        for r in (r for r in records if r["dose"] == dose):
            sites = r["scores"]
            detected = (sites.log_bayes_factor(temperature) > threshold) & r["counted"]
            class_ll = class_log_likelihoods(sites.answering_llr[detected], classes, temperature)
            scores.append(detection_scores(class_ll, classes))
            molecule.append(r["occupied"][detected])
        fit = false_alarm_fit(np.concatenate(scores), np.concatenate(molecule))
        if fit is not None:
            fits.append({"dose": dose, **fit})
    return fits


def calibrate(
    references,
    images: list[TruthImage],
    class_dose: float,
    class_dprime: float,
    false_alarm_rate: float,
    model_error: float = 0.0,
    model_error_source: str = "none",
    workers: int = 1,
    efficiency_images: tuple[TruthImage, ...] = (),
) -> dict:
    """Dose constant, identifiable classes (d′ < ``class_dprime`` per molecule at ``class_dose``),
    temperature and per-dose occupancy thresholds (``false_alarm_rate`` of the sites of the
    ``molecule-free`` fields among them) from validation images (true molecules known), with the
    likelihood's model-error variance ``model_error`` (reference units) in place. The temperature is
    fitted on the ``realistic`` images where there are any (structures no reference was made from),
    the dose constant on the ``matched`` ones (simulated as the references were: their scale is 1).
    With ``efficiency_images`` (full fields of perturbed structures of every reference conformation,
    named by it), how often the calibrated analysis reports each class's molecules at each dose, and
    the false-alarm fits of its reports there (:func:`detection_efficiency`) in place of the
    validation detections' (mostly of structures the references were made from, where molecules
    stand out from false alarms more than on others: fitted there, the Al distribution's null took
    the weaker classes' molecules for false alarms)."""
    analyzer = Analyzer(references, Calibration.uncalibrated(model_error, model_error_source))
    llr_rows, truth, occupied, constants, detection_records, null = [], [], [], [], [], []
    # the temperature measures the references' error on structures they were not made from (where
    # there are any); the dose constant needs images simulated as the references were (scale 1)
    realistic = any(item.model == "realistic" for item in images)
    matched = any(item.model == "matched" for item in images)
    records = forked_map(lambda item: _validation_record(item, analyzer), images, workers, "calibration")
    for item, record in zip(images, records, strict=True):
        if record is None:
            continue
        if item.model == "realistic" or not realistic:
            llr_rows += record["llr_rows"]
            truth += record["truth"]
        kept = {"dose": item.dose, **{k: record[k] for k in ("scores", "occupied", "counted")}}
        if item.field == "molecule-free":  # the null the thresholds are set on
            null.append(kept)
        else:
            occupied.append(record["occupied"][record["counted"]])
            detection_records.append(kept)
        if item.model == "matched" or not matched:
            constants.append(record["dose_constant"])
    dose_constant = float(np.median(constants))
    record = derive_classes(references, analyzer.placements, dose_constant, class_dose, class_dprime)
    classes = Classes.from_record(record, references)
    truth_mask = np.array([[c in classes.of_tsite(t) for c in classes.names] for t in truth])
    temperature = calibrate_temperature(np.array(llr_rows).reshape(len(truth), -1), truth_mask, classes)
    labels = np.concatenate(occupied)
    if not null:
        raise ValueError("the calibration needs molecule-free validation fields to set its thresholds on")
    thresholds = occupancy_thresholds(null, detection_records, temperature, false_alarm_rate)
    fits = (
        None if efficiency_images else false_alarm_fits(detection_records, classes, temperature, thresholds)
    )
    warning = None
    if at_grid_edge(temperature):
        warning = (
            f"the calibrated temperature {temperature:g} sits at the top of its grid: on the validation "
            "images the likelihoods carried no usable confidence, so the probabilities are not calibrated"
        )
    calibration = Calibration(
        temperature=temperature,
        occupancy_threshold=max(t["threshold"] for t in thresholds),
        occupancy_prior=float(labels.mean()),
        dose_constant=dose_constant,
        warning=warning,
        model_error=model_error,
        model_error_source=model_error_source,
        classes=record,
        false_alarm_fits=fits,
        occupancy_thresholds=thresholds,
        false_alarm_rate=false_alarm_rate,
    )
    efficiency, efficiency_fits = detection_efficiency(
        Analyzer(references, calibration), efficiency_images, workers
    )
    if efficiency_images:  # a molecule's evidence against a false alarm as reports see it, of every class
        calibration = replace(calibration, false_alarm_fits=efficiency_fits)
    unfitted = unfitted_doses(calibration.false_alarm_fits, [t["dose"] for t in thresholds])
    if unfitted:  # every report carries the calibration's warning
        calibration = replace(calibration, warning="; ".join(filter(None, [calibration.warning, unfitted])))
    return {**asdict(calibration), "detection_efficiency": efficiency or None,
            "molecules": len(truth), "sites": int(len(labels))}  # fmt: skip


def detection_efficiency(
    analyzer: Analyzer, images: list[TruthImage], workers: int = 1
) -> tuple[list[dict], list[dict]]:
    """Per dose of ``images``: per class, [molecules the analysis reports, molecules there were] — the
    classes' molecules show different contrast, so some are found more often than others, and the Al
    distribution of the molecules found leans towards those (``zeostem.analysis.posterior.al_distribution``
    divides it out). A true molecule is reported where a reported site lies within ``MATCH_A``.

    With them, what the planner (``zeostem.evaluation.dose_planner``) counts on for every class of the
    library: ``confusion`` (per true class, how many of its molecules the analysis named as each class or
    missed, a reported site named by its most probable class) and ``false_alarms`` (the reported sites
    that hold no molecule, by the class they were named, among ``empty_sites`` empty sites that count).
    And per dose, the :func:`false_alarm_fit` of the reported sites that count: a molecule's evidence
    against a false alarm as the reports (``al_log_likelihood``) see it; with it, per class the
    reported molecules' ``al_log_likelihood`` rows (``molecules``), from which the Al distribution
    measures how a mixture credits each class (``zeostem.analysis.efficiency``), a structure's rows one
    after another, and per class its structures' [reported rows, molecules there] in that order
    (``structures``: the images of one ``TruthImage.structure``, else of one conformation), from which
    it measures how much the credit differs from structure to structure.
    """
    records = forked_map(lambda item: _efficiency_record(item, analyzer), images, workers, "efficiency")
    names, conformations = analyzer.classes.names, analyzer.references.conformations
    entries: dict[int, dict] = {}
    for item, record in zip(images, records, strict=True):
        entry = entries.setdefault(item.dose, {
            "dose": item.dose, "classes": {c: [0, 0] for c in names},
            "confusion": {c: dict.fromkeys([*names, MISSED], 0) for c in names},
            "false_alarms": dict.fromkeys(names, 0), "empty_sites": 0, "molecules": {c: [] for c in names},
            "structures": {c: [] for c in names},
        })  # fmt: skip
        truth = names[analyzer.classes.of_candidate(conformations.index(item.conformation))]
        entry["classes"][truth][0] += sum(p != MISSED for p in record["named"])
        entry["classes"][truth][1] += len(record["named"])
        for named in record["named"]:
            entry["confusion"][truth][named] += 1
        for named in record["false_alarms"]:
            entry["false_alarms"][named] += 1
        entry["empty_sites"] += record["empty_sites"]
    fits = []
    for dose in sorted(entries):
        detections = [r for item, r in zip(images, records, strict=True) if item.dose == dose]
        fit = false_alarm_fit(*(np.concatenate([r[k] for r in detections]) for k in ("scores", "molecule")))
        if fit is not None:
            fits.append({"dose": dose, **fit})
    structures: dict[tuple, list] = {}  # (dose, class, structure) → [reported rows, molecules there]
    for item, record in zip(images, records, strict=True):  # as the reports see them, with the fits
        fit = nearest_dose(fits, item.dose)
        truth = names[analyzer.classes.of_candidate(conformations.index(item.conformation))]
        rows = against_false_alarms(record["molecule_ll"], analyzer.classes, fit)
        part = structures.setdefault((item.dose, truth, item.structure or item.conformation), [[], 0])
        part[0] += np.round(rows, 4).tolist()
        part[1] += len(record["named"])
    for (dose, truth, _), (rows, there) in structures.items():  # a structure's rows one after another
        entries[dose]["molecules"][truth] += rows
        entries[dose]["structures"][truth].append([len(rows), there])
    return [entries[dose] for dose in sorted(entries)], fits


def _efficiency_record(item: TruthImage, analyzer: Analyzer) -> dict:
    """One field's true molecules by the class the analysis named them (or ``MISSED``), its reported
    sites on no molecule by the class they were named, its empty sites that count, its reported
    sites that count (their detection scores and which lie on a molecule) and the class log-likelihoods
    of its reported true molecules."""
    noisy, meta = read_image(item.noisy)
    references, classes = analyzer.references, analyzer.classes
    centres, _ = true_molecules(item.labels, noisy.shape, references.cell_px)
    found = lattice_or_none(noisy, meta["pixel_size_A"], analyzer, item.noisy)
    if found is None:
        return {"named": [MISSED] * len(centres), "false_alarms": [], "empty_sites": 0,
                "scores": np.zeros(0), "molecule": np.zeros(0, bool),
                "molecule_ll": np.zeros((0, len(classes.names)))}  # fmt: skip
    tolerance = MATCH_A / np.mean(references.pixel_size_A)
    sites = found.frame.to_input(found.scores.centres_px)
    reported = found.molecules
    temperature = analyzer.calibration.temperature
    class_ll = class_log_likelihoods(found.scores.answering_llr[reported], classes, temperature)
    named = [classes.names[k] for k in (class_ll + classes.log_prior).argmax(axis=1)] if len(reported) else []
    at = nearest_site(centres, sites[reported], tolerance)
    edge = edge_molecules(item.labels, noisy.shape, references.cell_px)
    counted = found.scores.explained & ~near(sites, edge, tolerance)
    on_molecule = near(sites, centres, tolerance)
    alarms = [named[k] for k, n in enumerate(reported) if counted[n] and not on_molecule[n]]
    kept = counted[reported]
    return {
        "named": [named[k] if k >= 0 else MISSED for k in at],
        "false_alarms": alarms,
        "empty_sites": int((counted & ~on_molecule).sum()),
        "scores": detection_scores(class_ll, classes)[kept],
        "molecule": on_molecule[reported][kept],
        "molecule_ll": class_ll[at[at >= 0]].reshape(-1, len(classes.names)),
    }


def _validation_record(item: TruthImage, analyzer: Analyzer) -> dict | None:
    """One validation image's part of the calibration (None when it has no lattice): every candidate's
    LLR at every true molecule's site where a hypothesis sits, with the true T-site; the sites'
    scores, which hold a molecule and which count; and the image's dose constant."""
    references = analyzer.references
    noisy, meta = read_image(item.noisy)
    found = lattice_or_none(noisy, meta["pixel_size_A"], analyzer, item.noisy)
    if found is None:
        return None
    centres, _ = true_molecules(item.labels, noisy.shape, references.cell_px)
    tolerance = MATCH_A / np.mean(references.pixel_size_A)
    sites = found.frame.to_input(found.scores.centres_px)
    at = nearest_site(centres, sites, tolerance)
    at = at[at >= 0]
    mine = [k for k, t in enumerate(references.tsites) if t == item.tsite]
    competing = [n for n in at if np.isfinite(found.scores.llr[n, mine]).any()]  # the truth competes there
    occupied = np.zeros(len(found.scores.llr), bool)
    occupied[at] = True
    edge = edge_molecules(item.labels, noisy.shape, references.cell_px)
    return {
        "llr_rows": [found.scores.llr[n] for n in competing],
        "truth": [item.tsite] * len(competing),
        "scores": found.scores,
        "occupied": occupied,
        # sites that can count: in a cell the framework explains, not on a molecule left out at the edge
        "counted": found.scores.explained & ~near(sites, edge, tolerance),
        "dose_constant": found.scores.noise_variance * item.dose / found.scores.scale**2,
    }
