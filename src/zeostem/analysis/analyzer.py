"""One micrograph → Al-site analysis, lattice first.

1. lattice fit (affine map to the reference frame) → 2. one resampling onto the reference grid →
3. one registration of the framework → 4. per (cell, site) likelihoods of every candidate vs no
molecule (the molecule detector and the matcher in one) → 5. probabilities with the calibrated
temperature: per molecule, per image (shared site) and the Al distribution. ClearSTEM and the
Faster R-CNN run on the resampled image for the report (denoised image, columns, the paper's boxes
beside the lattice's detections); the likelihoods use the image itself, whose noise model is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from zeostem.analysis.calibration import Calibration
from zeostem.analysis.classes import Classes
from zeostem.analysis.efficiency import FAINT, efficiency_dose
from zeostem.analysis.fit import raw_counts
from zeostem.analysis.lattice import LatticeError, LatticeFit, Reflections, Resampled, fit_lattice, resample
from zeostem.analysis.likelihood import (
    CONTRAST_ROUNDS,
    CONTRAST_START,
    Hypotheses,
    SiteScores,
    hypotheses,
    measured_contrast,
    molecule_sites,
)
from zeostem.analysis.references import References
from zeostem.analysis.registration import Placement, Registration, refine_map, register, symmetry_placements
from zeostem.errors import InputError

MIN_CELLS = 2.0  # an image must hold at least this many unit cells along both axes
FIT_REFLECTIONS = 24
REGISTER_FLOOR = 0.02
# the framework's registration correlation below which the references do not describe the image
# (≥ 0.93 measured on iDPC fields of the demo down to 500 e/Å², thin and two cells thick; 0.23 with the
# pixel size 20 % off, 0.31 with the contrast inverted)
REGISTER_MIN = 0.5
# the evidence test (molecule_evidence): the share of the stated level its strength part takes, and the
# occupancies its mixture e-value weighs equally (a field's sites share its noise estimate and
# registration, so high occupancies would compound a field-wide lean of its empty sites: at 0.1 a lean
# of 1.5 × over 70 sites gives (1.05)^70 ≈ 30, against the 1000 the test asks at a 5 % level)
STRENGTH_SHARE = 0.02
EVIDENCE_OCCUPANCIES = (0.01, 0.02, 0.05, 0.1)


def register_reflections(refs: References) -> Reflections:
    """The framework's reflections the registration (and the symmetry placements) use."""
    return Reflections.of(refs.empty, refs.cells, floor=REGISTER_FLOOR)


def framework_placements(refs: References) -> list[Placement]:
    """Where the framework's symmetry puts each candidate's molecule (what the likelihoods score)."""
    return symmetry_placements(refs, register_reflections(refs))


@dataclass
class Analyzer:
    """References with what the analysis derives from them once, and the calibration."""

    references: References
    calibration: Calibration
    fit_reflections: Reflections = field(init=False)
    register_reflections: Reflections = field(init=False)
    placements: list[Placement] = field(init=False)
    classes: Classes = field(init=False)

    def __post_init__(self):
        refs = self.references
        self.fit_reflections = Reflections.of(refs.empty, refs.cells, count=FIT_REFLECTIONS)
        self.register_reflections = register_reflections(refs)
        self.placements = symmetry_placements(refs, self.register_reflections)
        record = self.calibration.classes
        self.classes = Classes.per_tsite(refs) if record is None else Classes.from_record(record, refs)


@dataclass
class LatticeAnalysis:
    """What the lattice-first analysis found in one image (arrays on the reference grid)."""

    fit: LatticeFit
    frame: Resampled
    registration: Registration
    scores: SiteScores
    log_bayes_factor: np.ndarray  # per site
    detected: np.ndarray  # indices of the sites taken for a molecule (at the stated false-alarm rate)
    occupancy_threshold: float  # the log Bayes factor they exceed (the calibration's at the image's dose)
    molecule_evidence: dict  # do the image's detections hold more than false alarms? (molecule_evidence)
    dose_estimate: float | None
    dose_note: str | None
    goodness_of_fit: dict  # FrameworkFit.record() (local contrast, cells not explained, noise whiteness),
    # the molecules' contrast
    contrast_inverted: bool  # atoms were dark: the image was analysed with its sign reversed

    @property
    def molecules(self) -> np.ndarray:
        """The sites the analysis answers with: those detected, where the image holds evidence of
        molecules at all (none where its detections are as many as false alarms alone would give)."""
        return self.detected if self.molecule_evidence["molecules_present"] else self.detected[:0]

    def al_dose(self, stated: float | None) -> tuple[float | None, str | None]:
        """The dose this image's Al distribution takes its efficiency and false-alarm fit at, and what
        to say of it: ``stated`` (the user's), else the one its molecules' contrast reads, else its
        estimate (:func:`zeostem.analysis.efficiency.efficiency_dose`)."""
        return efficiency_dose(stated, self.dose_estimate, self.goodness_of_fit["molecule_contrast"])


def check_image(image: np.ndarray, pixel_size_A: float, refs: References, name: str | None) -> None:
    """Clear errors for images that cannot hold an answer: no contrast, or fewer than two cells."""
    cell_A = refs.cell_px * np.array(refs.pixel_size_A)
    extent_A = np.array(image.shape) * pixel_size_A
    if np.any(extent_A < 0.98 * MIN_CELLS * cell_A.min()):
        raise InputError(
            f"the image ({image.shape[0]} × {image.shape[1]} px of {pixel_size_A:.4g} Å) is smaller than "
            f"{MIN_CELLS:g} unit cells ({cell_A[1]:.1f} × {cell_A[0]:.1f} Å)",
            path=name,
            fix="analyse a larger field of view, or check the pixel size",
        )
    if not np.ptp(image) > 0:
        raise InputError(
            "the image has no contrast (every pixel is the same)", path=name, fix="export the image again"
        )


def analyze_lattice(
    image: np.ndarray, pixel_size_A: float, analyzer: Analyzer, name: str | None = None
) -> LatticeAnalysis:
    """Steps 1–5 of the lattice-first analysis on one image.

    Parameters
    ----------
    image
        The micrograph (H, W), atoms bright or dark (a dark image is analysed reversed and flagged).
    pixel_size_A
        The file's or the sheet's pixel size: a start, refined by the lattice fit (trusted to ±10 %).
    analyzer
        References, what is derived from them once, and the calibration.
    name
        What errors name (the file).

    Returns
    -------
    LatticeAnalysis
        Lattice fit, resampled frame, registration, per-site likelihoods and Bayes factors, the sites
        that hold a molecule, the dose estimate and the goodness of fit.

    Raises
    ------
    InputError
        An image smaller than two cells, without contrast, without the framework's lattice, or one the
        framework reference does not describe.
    """
    refs, calibration = analyzer.references, analyzer.calibration
    check_image(image, pixel_size_A, refs, name)
    try:
        fit = fit_lattice(image, pixel_size_A, analyzer.fit_reflections, refs.pixel_size_A)
    except LatticeError as exc:
        raise InputError(
            f"no lattice of the framework's projected cell in the image: {exc}",
            path=name,
            fix="check that it is an iDPC/DPC image along the framework's beam axis and that its pixel size "
            "is right within 10 %",
        ) from exc
    frame, registration = resampled_and_registered(image, fit, analyzer)
    inverted = registration.correlation < REGISTER_MIN
    if inverted:  # a reversed segment order or a detector rotation 180° off: atoms dark
        image = -image
        frame, registration = resampled_and_registered(image, fit, analyzer)
        if registration.correlation < REGISTER_MIN:
            raise InputError(
                f"the framework reference does not match the image (registration correlation "
                f"{registration.correlation:.2f}, with either sign of the contrast; iDPC fields of the "
                f"framework give ≥ 0.9, {REGISTER_MIN} is needed)",
                path=name,
                fix="check the pixel size (right within 10 %), that the image is iDPC/DPC along the "
                "framework's beam axis, and that the workflow's framework is the sample's",
            )
    refined = refine_map(frame.image, registration_weight(frame), refs, registration)
    fit = replace(fit, matrix=refined @ fit.matrix)
    frame, registration = resampled_and_registered(image, fit, analyzer)
    found = hypotheses(
        frame.image, frame.valid, refs, registration, analyzer.placements, model_error=calibration.model_error
    )
    dose, note = dose_estimate(found, fit, calibration, refs)
    threshold = calibration.occupancy_threshold_at(dose)
    found, (scores, bayes, detected) = molecules_at_their_contrast(
        found, refs, calibration.temperature, threshold
    )
    null = calibration.field_null(dose)
    evidence = molecule_evidence(bayes[scores.explained], threshold, null, calibration.false_alarm_rate)
    goodness = {**found.fit.record(found.noise_whiteness), "molecule_contrast": found.contrast}
    if found.contrast < FAINT:
        noted(goodness, faint_note(found.contrast))
    if inverted:
        warning = "the contrast is inverted (atoms dark: check the detector rotation); analysed reversed"
        noted(goodness, warning)
    return LatticeAnalysis(
        fit, frame, registration, scores, bayes, detected, threshold, evidence, dose, note, goodness, inverted
    )


def molecule_evidence(
    log_bayes: np.ndarray, threshold: float, null: dict | None, level: float | None
) -> dict:
    """Does an image hold molecules at all, or only what the threshold takes on fields without any?

    Two tests of "no molecules" on the log Bayes factors of the sites that count (``log_bayes``), the
    stated level (``level``, the false-alarm rate) shared between them:

    * the **count**: the field's detections (factors above ``threshold``) among its sites are
      beta-binomial under "no molecules": the calibration's per-site false-alarm rate, with its own
      uncertainty and the fields' over-dispersion (``Calibration.field_null``); ``p_value`` is the
      chance of at least as many, tested at ``level`` × (1 − ``STRENGTH_SHARE``). It weighs many weak
      detections (a low-dose field).
    * the **strength**: the mixture e-value Σ_π ∏_sites (1 − π + π B / s) / |π| over the occupancies
      ``EVIDENCE_OCCUPANCIES`` (B a site's Bayes factor, s the null's ``bayes_factor_scale``: the most a
      validation field's empty sites favoured molecules on average, at least 1), whose mean is at most 1
      without molecules, so that it reaches 1 / (``level`` × ``STRENGTH_SHARE``) at most that often
      (Markov). It weighs a few strong ones (a sparsely loaded field at a high dose), which a count
      against ≈ 70 sites' false alarms cannot tell apart.

    Molecules are present where either test says so. Without a calibrated null (``null`` None) any
    detection counts as present.
    """
    detections = int((log_bayes > threshold).sum())
    record = {"detections": detections, "sites": len(log_bayes), "false_alarms_expected": None,
              "p_value": None, "log10_e_value": None}  # fmt: skip
    if null is None or level is None or not detections:
        return {**record, "molecules_present": detections > 0}
    rate, rho, sites = null["rate"], null["dispersion"], len(log_bayes)
    if rho > 0:
        a, b = rate * (1 - rho) / rho, (1 - rate) * (1 - rho) / rho
        p_value = float(stats.betabinom.sf(detections - 1, sites, a, b))
    else:
        p_value = float(stats.binom.sf(detections - 1, sites, rate))
    log_e = strength_log_e_value(log_bayes, null["bayes_factor_scale"])
    present = p_value <= level * (1 - STRENGTH_SHARE) or log_e >= -np.log(level * STRENGTH_SHARE)
    return {**record, "false_alarms_expected": rate * sites, "p_value": p_value,
            "log10_e_value": log_e / np.log(10), "molecules_present": bool(present)}  # fmt: skip


def strength_log_e_value(log_bayes: np.ndarray, scale: float) -> float:
    """log of the mixture e-value of :func:`molecule_evidence`'s strength test (natural log)."""
    pi = np.asarray(EVIDENCE_OCCUPANCIES)[:, None]
    per_site = np.logaddexp(np.log1p(-pi), np.log(pi) + np.asarray(log_bayes)[None] - np.log(scale))
    return float(logsumexp(per_site.sum(axis=1)) - np.log(len(pi)))


def molecules_at_their_contrast(
    found: Hypotheses, refs: References, temperature: float, threshold: float
) -> tuple[Hypotheses, tuple[SiteScores, np.ndarray, np.ndarray]]:
    """The hypotheses at the molecules' fitted contrast and the molecules found at it: found from
    ``CONTRAST_START``, the contrast fitted to them, found again (``CONTRAST_ROUNDS`` rounds)."""
    found = found.at_contrast(CONTRAST_START)
    scores, bayes, detected = molecules_found(found, refs, temperature, threshold)
    for _ in range(CONTRAST_ROUNDS):  # the molecules found at the last round's contrast set the next's
        found = found.at_contrast(measured_contrast(found, scores.centres_px[detected], refs))
        scores, bayes, detected = molecules_found(found, refs, temperature, threshold)
    return found, (scores, bayes, detected)


def molecules_found(
    found: Hypotheses, refs: References, temperature: float, threshold: float
) -> tuple[SiteScores, np.ndarray, np.ndarray]:
    """The sites of the hypotheses, their log Bayes factors at ``temperature`` and which hold a molecule
    (a factor above ``threshold``, in a cell the framework explains)."""
    scores = molecule_sites(found, refs)
    bayes = scores.log_bayes_factor(temperature)
    return scores, bayes, np.flatnonzero((bayes > threshold) & scores.explained)


def faint_note(contrast: float) -> str:
    """What the goodness of fit says of molecules that show ``contrast`` × the references' (below
    ``FAINT``); the dose they imply is the report's ``noise.dose_note`` (``efficiency_dose``)."""
    return (
        f"the molecules' contrast is about {contrast:.2g} × the references' (a crystal thicker than their "
        "one cell, or molecules unlike theirs): their evidence is weighed at that contrast"
    )


def noted(goodness: dict, warning: str) -> None:
    """Flag the goodness of fit with ``warning`` first in its note."""
    goodness.update(flagged=True, note="; ".join(filter(None, [warning, goodness["note"]])))


def registration_weight(frame: Resampled) -> np.ndarray:
    """Hann taper times the valid mask: the weight of each pixel in the registration."""
    return np.outer(np.hanning(frame.image.shape[0]), np.hanning(frame.image.shape[1])) * frame.valid


def resampled_and_registered(
    image: np.ndarray, fit: LatticeFit, analyzer: Analyzer
) -> tuple[Resampled, Registration]:
    frame = resample(image, fit)
    return frame, register(
        frame.image, registration_weight(frame), analyzer.references, analyzer.register_reflections
    )


def dose_estimate(
    found: Hypotheses, fit: LatticeFit, calibration: Calibration, refs: References
) -> tuple[float | None, str | None]:
    """Dose from the noise (in the molecules' band) relative to the lattice's own contrast
    (independent of intensity units).

    The gradient of iDPC shot noise has a variance ∝ 1 / dose per pixel; divided by the square of the
    image's intensity scale against the reference it is in the reference's units, where the
    validation images fix the constant. Resampling from input pixels of size p to the reference's
    p_ref scales the variance by (p_ref / p)².
    """
    if not calibration.dose_constant > 0:
        return None, "no dose constant in the calibration"
    if not found.scale > 0:
        return None, "the image's contrast is inverted or absent relative to the framework reference"
    physical = fit.physical()
    ratio = np.sqrt(np.prod(refs.pixel_size_A) / (physical["pixel_size_x_A"] * physical["pixel_size_y_A"]))
    dose = calibration.dose_constant * found.scale**2 / found.noise_variance * ratio**2
    notes = []
    if abs(ratio - 1) > 0.05:
        notes.append("the input's pixel size differs from the reference's by > 5 %: it is approximate")
    if not raw_counts(found.noise_whiteness):
        notes.append(
            "the input is not raw counts (its noise is not white in the gradient): this is the dose its "
            "noise in the molecules' band corresponds to"
        )
    return float(dose), "; ".join(notes) or None
