"""How the analysis finds and names each class's molecules on structures the references were not made
from: what the Al distribution (``zeostem.analysis.posterior.al_distribution``) divides out.

The calibration measures it (``zeostem.evaluation.calibration.detection_efficiency``) on the fields of
perturbed structures of every candidate, per validation dose: per class, how many of its molecules the
analysis reported, how many there were, and what every reported one looked like to the Al
distribution (its ``al_log_likelihood``: each class against a false alarm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import softmax

MIN_SEEN = 3  # a class the analysis credits fewer of its molecules to at a dose is not seen there
THICK_READ = 2.0  # an estimate this many times the stated dose: a crystal thicker than the references'
# below this contrast (× the references') the molecules are fainter than the references': the crystal is
# taken as thicker than theirs (the report says so, and reads the dose through the molecules' contrast)
FAINT = 0.8


def efficiency_dose(
    stated: float | None, estimated: float | None, contrast: float = 1.0
) -> tuple[float | None, str | None]:
    """The dose an image's efficiency and false-alarm fit are looked up at, and what to say beside it:
    the dose the user states the image was taken at; else, where the molecules' fitted ``contrast``
    (× the references') is below ``FAINT``, the estimate × contrast²; else the analysis's estimate
    (None without either).

    The estimate comes from the framework's contrast against the noise; a crystal n cells thick shows
    n times the framework contrast of the references' one cell, so it reads ≈ n² × the dose, while its
    molecules, one per channel, are found as at the dose imaged — and show ≈ 1 / n × the references'
    contrast against the framework, which gives the dose back. Their efficiency is the dose imaged's:
    the demo's two-cell fields imaged at 1500 e/Å² read ≈ 5400 and took the 4500 e/Å² efficiency,
    where T5 is credited ten times as many of its molecules."""
    if not stated:
        if estimated and contrast < FAINT:
            read = estimated * contrast**2
            return read, (
                f"the molecules' contrast ({contrast:.2g} × the references') reads the dose as ≈ {read:.0f} "
                "e/Å² (a crystal thicker than the references'): the molecules' efficiency and false-alarm "
                "evidence are taken there; state the dose if it is known"
            )
        return estimated, None
    if estimated and estimated / stated > THICK_READ:
        ratio = estimated / stated
        return stated, (
            f"the framework reads ≈ {ratio:.1f} × the stated dose: a crystal ≈ {np.sqrt(ratio):.1f} cells "
            "thick (or a misstated dose or pixel size); the molecules' efficiency is taken at the stated dose"
        )
    return stated, None


@dataclass(frozen=True)
class Efficiency:
    """Per dose the calibration measured (the rows; several where reports at several doses are pooled,
    each with its ``weight``, the share of the pooled molecules at that dose): per class, molecules
    ``reported`` and molecules ``there`` were, and the reported ones' ``al_log_likelihood`` rows
    (``molecules[dose][class]``: (reported, classes)); the share of the reported sites there that
    were false alarms; and per class its ``structures`` (``structures[dose][class]``: (structures, 2),
    each one's reported rows, which follow one another in ``molecules``, and molecules there). Without
    ``structures`` a class's molecules count as of one structure."""

    weights: np.ndarray  # (doses,)
    reported: np.ndarray  # (doses, classes)
    there: np.ndarray  # (doses, classes)
    molecules: tuple[tuple[np.ndarray, ...], ...]
    false_alarm_share: np.ndarray  # (doses,)
    structures: tuple[tuple[np.ndarray, ...], ...] = ()

    @classmethod
    def from_entry(cls, entry: dict, names: list[str]) -> Efficiency:
        """One dose of the calibration's ``detection_efficiency``, its classes in ``names`` order."""
        counts = np.array([entry["classes"][c] for c in names], float).reshape(-1, 2)
        rows = tuple(np.array(entry["molecules"][c], float).reshape(-1, len(names)) for c in names)
        structures = tuple(np.array(entry["structures"][c], int).reshape(-1, 2) for c in names)
        alarms = sum(entry["false_alarms"].values())
        share = alarms / max(alarms + counts[:, 0].sum(), 1)
        there = counts[None, :, 1]
        return cls(np.ones(1), counts[None, :, 0], there, (rows,), np.array([share]), (structures,))

    def structures_at(self, dose: int) -> tuple[np.ndarray, ...]:
        """Per class at one dose, its structures' (reported rows, molecules there)."""
        if self.structures:
            return self.structures[dose]
        rows = self.molecules[dose]
        return tuple(np.array([[len(r), n]], int) for r, n in zip(rows, self.there[dose], strict=True))

    @classmethod
    def of_detections(cls, parts: list[tuple[Efficiency | None, int]]) -> Efficiency | None:
        """The efficiency of several images' detections pooled (``int``: each image's detections; those
        without any drop out), each at the dose its analysis looked the calibration up at (a crystal
        thicker than the references' reads as a higher dose); None where an image with detections has
        none (no dose estimate) or no image has detections."""
        parts = [(e, n) for e, n in parts if n]
        if not parts or any(e is None for e, _ in parts):
            return None
        return cls.pooled(parts)

    @classmethod
    def pooled(cls, parts: list[tuple[Efficiency, float]]) -> Efficiency:
        """The efficiencies of reports pooled, each weighted by its share of the molecules (``float``);
        parts of the same calibration dose count once, with their weights summed."""
        merged: list[list] = []
        for e, w in parts:
            same = next((m for m in merged if m[0].same_as(e)), None)
            if same is None:
                merged.append([e, w])
            else:
                same[1] += w
        parts = [(e, w) for e, w in merged]
        weights = np.concatenate([w * e.weights for e, w in parts])
        return cls(
            weights / weights.sum(),
            np.concatenate([e.reported for e, _ in parts]),
            np.concatenate([e.there for e, _ in parts]),
            tuple(rows for e, _ in parts for rows in e.molecules),
            np.concatenate([e.false_alarm_share for e, _ in parts]),
            tuple(e.structures_at(k) for e, _ in parts for k in range(len(e.molecules))),
        )

    def same_as(self, other: Efficiency) -> bool:
        """Whether ``other`` holds the same measurements (the same calibration doses, weighted alike)."""
        arrays = ("weights", "reported", "there", "false_alarm_share")
        if not all(np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays):
            return False
        # equal weights and counts: as many doses and classes
        doses = range(len(self.molecules))
        pairs = [*zip(self.molecules, other.molecules, strict=True)]
        pairs += [(self.structures_at(k), other.structures_at(k)) for k in doses]
        return all(np.array_equal(x, y) for mine, theirs in pairs for x, y in zip(mine, theirs, strict=True))

    @property
    def counts(self) -> np.ndarray:
        """(classes, 2) molecules reported and there were (the doses' weighted mean)."""
        return np.tensordot(self.weights, np.stack([self.reported, self.there], axis=2), axes=1)

    @property
    def seen(self) -> np.ndarray:
        """(classes,) whether a mixture of the calibration fields' own make-up (their false alarms'
        share, the classes alike) credits at least ``MIN_SEEN`` of the class's molecules to it: with
        fewer, what the Al distribution divides by is not measured (at 500 e/Å² in the demo four
        classes had 4–12 molecules reported and 0.3–2.6 credited)."""
        classes = self.there.shape[1]
        own_make_up = [
            np.r_[share, np.full(classes, (1 - share) / classes)] for share in self.false_alarm_share
        ]
        per_dose = [self._own_credit(weights, 0.0, k) for k, weights in enumerate(own_make_up)]
        return self.weights @ np.array(per_dose, float) >= MIN_SEEN

    def _responsibilities(self, mixture_weights: np.ndarray, least: float, dose: int) -> list[np.ndarray]:
        """Per class, each of its reported molecules' responsibility of its own class at one dose, each
        class's weight at least ``least``."""
        out = []
        for k, rows in enumerate(self.molecules[dose]):
            weights = np.array(mixture_weights, float)
            weights[k + 1] = max(weights[k + 1], least)
            log_weights = np.log(np.maximum(weights, 1e-300))
            out.append(softmax(np.c_[np.zeros(len(rows)), rows] + log_weights, axis=1)[:, k + 1])
        return out

    def _own_credit(self, mixture_weights: np.ndarray, least: float, dose: int) -> list[float]:
        """Per class, its molecules' responsibility of their own class at one dose, summed."""
        return [r.sum() for r in self._responsibilities(mixture_weights, least, dose)]

    def credited(self, mixture_weights: np.ndarray, detections: int) -> np.ndarray:
        """(classes, 2) how many of each class's molecules a mixture with ``mixture_weights`` (shares of
        the stack's ``detections``: false alarms first, then the classes) credits to their own class —
        each reported molecule's responsibility of its class, summed — and how many there were, both
        as many as the spread of the credit between structures leaves (:func:`effective_counts`): the
        counts of a Beta that holds what a structure not measured may credit.

        What the Al distribution's found share of a class estimates is the responsibility its
        molecules put on it, not how many were reported: on structures the references were not made
        from, a faint class's molecules are reported and then taken partly for false alarms or for a
        class that shows more contrast, so dividing by the share reported left its fraction low (at
        1500 e/Å² in the demo T5 and T7 read 0.13 and 0.15 where a third). Measured under the stack's
        own weights, a class present in it is credited as its molecules are there. A class is credited
        as if it held at least one of the detections (its weight at least 1 / ``detections``): with
        its weight near 0 a class the stack holds none of would be credited near nothing, and its
        found share, which the prior keeps above 0, divided by that took the others' molecules (the
        demo's 4500 e/Å² stacks read their present classes 0.2–0.3 off)."""
        per_dose = []
        for dose in range(len(self.molecules)):
            responsibilities = self._responsibilities(mixture_weights, 1 / detections, dose)
            per_structure = [
                np.c_[[part.sum() for part in np.split(r, np.cumsum(s[:-1, 0]))], s[:, 1]]
                for r, s in zip(responsibilities, self.structures_at(dose), strict=True)
            ]
            per_dose.append(effective_counts(per_structure))
        return np.tensordot(self.weights, np.array(per_dose, float), axes=1)

    def evidence_by_structure(self, dose: int = 0) -> list[np.ndarray]:
        """Per structure of every class at one dose, each reported molecule's evidence against its own
        class: the log-likelihood of the strongest other class minus its own class's. A structure the
        references were not made from (a relaxed or turned molecule, a strained cell) errs alike in
        every cell, so its molecules' evidence shares an offset (:func:`shared_share` measures it):
        at 1500 e/Å² in the demo one T7 structure read as `O2: T1|T2` in every noise replica."""
        groups = []
        per_class = zip(self.molecules[dose], self.structures_at(dose), strict=True)
        for k, (rows, structures) in enumerate(per_class):
            for part in np.split(rows, np.cumsum(structures[:-1, 0])):
                against = np.delete(part, k, axis=1).max(axis=1, initial=-np.inf) - part[:, k]
                groups.append(against[np.isfinite(against)])
        return groups


def shared_share(groups: list[np.ndarray]) -> float:
    """The intra-class correlation of values in groups (one-way analysis of variance, moment
    estimate, in [0, 1)): the share of a value's variance that its group shares. Groups of fewer than
    two values do not count; 0 with fewer than two groups left."""
    groups = [g for g in groups if len(g) >= 2]
    if len(groups) < 2:
        return 0.0
    sizes = np.array([len(g) for g in groups], float)
    total, means = sizes.sum(), np.array([g.mean() for g in groups])
    grand = float(np.concatenate(groups).mean())
    between = float(sizes @ (means - grand) ** 2) / (len(groups) - 1)
    within = sum(float(((g - g.mean()) ** 2).sum()) for g in groups) / (total - len(groups))
    size = (total - (sizes**2).sum() / total) / (len(groups) - 1)
    denominator = between + (size - 1) * within
    return float(np.clip((between - within) / denominator, 0.0, 0.99)) if denominator > 0 else 0.0


def structure_spread(per_structure: list[np.ndarray]) -> float:
    """The share ρ of the variance of a molecule's credit that is shared by the molecules of one
    structure (the intra-class correlation of a beta-binomial), pooled over the classes: per class
    (structures, 2) credited and there. A moment estimate from the classes with two structures or more
    whose credit is neither none nor all; 0 where none has."""
    spread = expected = excess = 0.0
    for part in per_structure:
        credited, there = part[:, 0], part[:, 1].astype(float)
        total = there.sum()
        share = credited.sum() / total if total else 0.0
        if len(part) < 2 or not 0 < share < 1:
            continue
        spread += ((credited - there * share) ** 2).sum() / (share * (1 - share))
        binomial = (1 - there / total) * there  # what the spread would be without a structure effect
        expected += binomial.sum()
        excess += (binomial * (there - 1)).sum()
    return float(np.clip((spread - expected) / excess, 0.0, 1.0)) if excess > 0 else 0.0


def effective_counts(per_structure: list[np.ndarray]) -> np.ndarray:
    """(classes, 2) credited and there per class, scaled to as many molecules as the structures'
    :func:`structure_spread` ρ leaves for what a structure not measured credits: its credit differs from
    the measured share by the share's error (the design effect 1 + (m − 1) ρ over n molecules, m a
    structure's mean size weighted by size) and by a structure's own spread (ρ), so n molecules count
    as n / (1 + (m − 1) ρ + n ρ); ρ = 0 leaves the counts as they are."""
    rho = structure_spread(per_structure)
    counts = np.array([part.sum(axis=0) for part in per_structure], float)
    there = counts[:, 1]
    size = np.array([(p[:, 1] ** 2).sum() for p in per_structure]) / np.maximum(there, 1)
    return counts / (1 + (size - 1) * rho + there * rho)[:, None]
