"""Identifiable classes: candidates the data cannot tell apart answer together.

Two candidates whose molecule sits in the same pose on the same acid O and that differ only by
Al ↔ Si (T1|T2 on O2 and T11|T12 on O25 in MFI) differ by a per-molecule d′ of a few tenths at the
paper's doses. Naming one of them is a coin toss the probabilities would dress up as an answer. The
classes are derived from the references themselves: the ideal observer of one cell tells candidate a
from candidate b (placed at a's site) with

    d′² = ||∇(m_a − m_b)||² / (2 σ²(D)) = 2 × (noise-free margin of a over b, in nats at σ²(D))

(σ² = per gradient component and pixel, ``dose_constant / D`` in reference units; the curl-free
gradient's one degree of freedom per frequency makes it 2σ²). Candidates closer than a threshold at
the highest dose the workflow simulates are joined (transitively); a structure whose molecule moves
(another acid O, a relaxed framework) stays apart. Each class's prior is uniform over T-sites (a T-site's
mass split among its conformations), so a class of two T-sites starts at twice one T-site's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components

from zeostem.analysis.likelihood import noise_free_llr
from zeostem.analysis.references import References
from zeostem.analysis.registration import Placement
from zeostem.errors import InputError
from zeostem.structures.framework import site_order


@dataclass(frozen=True)
class Classes:
    """A partition of the candidates (indices into the references) into named classes."""

    names: list[str]
    members: list[list[int]]
    tsites: list[list[str]]  # per class, its T-sites in framework order
    candidate_log_prior: np.ndarray  # (candidates,) log prior of each candidate

    @property
    def log_prior(self) -> np.ndarray:
        """(classes,) log prior of each class."""
        return np.array([np.logaddexp.reduce(self.candidate_log_prior[m]) for m in self.members])

    def of_tsite(self, tsite: str) -> set[str]:
        """Names of the classes that hold ``tsite`` (one per acid O it has in the library, at most)."""
        return {n for n, t in zip(self.names, self.tsites, strict=True) if tsite in t}

    def of_candidate(self, k: int) -> int:
        """Index of the class that holds candidate ``k``."""
        return next(i for i, members in enumerate(self.members) if k in members)

    def split_identified(self, name: str) -> bool:
        """False where the class holds several T-sites: the split among them is not identified."""
        return len(self.tsites[self.names.index(name)]) == 1

    @classmethod
    def of(cls, groups: list[list[int]], refs: References) -> Classes:
        """Named classes of candidate index groups (see :func:`class_name`)."""
        tsites = refs.tsites
        per_site = {t: tsites.count(t) for t in tsites}
        log_prior = -np.log(len(per_site)) - np.log([per_site[t] for t in tsites])
        groups = sorted((sorted(g) for g in groups), key=lambda g: min(class_order(tsites[k]) for k in g))
        site_lists = [sorted({tsites[k] for k in g}, key=class_order) for g in groups]
        counts = {t: sum(t in s for s in site_lists) for t in per_site}
        names = [
            class_name(s, {refs.candidates[k].proton_o for k in g}, any(counts[t] > 1 for t in s))
            for g, s in zip(groups, site_lists, strict=True)
        ]
        return cls(names, groups, site_lists, log_prior)

    @classmethod
    def per_tsite(cls, refs: References) -> Classes:
        """Every T-site its own class (its conformations together): before any class is derived."""
        sites = sorted(set(refs.tsites), key=class_order)
        return cls.of([[k for k, t in enumerate(refs.tsites) if t == s] for s in sites], refs)

    @classmethod
    def from_record(cls, record: dict, refs: References) -> Classes:
        """The classes a calibration file names (by conformation); they must cover the references."""
        index = {c: k for k, c in enumerate(refs.conformations)}
        named = [c for entry in record["classes"] for c in entry["conformations"]]
        if sorted(named) != sorted(index):
            raise InputError(
                f"the calibration's classes name the conformations {sorted(named)}, the references are "
                f"{sorted(index)}",
                path="calibration.json",
                fix="re-run the workflow's calibrate_analysis rule with this config's conformations",
            )
        return cls.of([[index[c] for c in entry["conformations"]] for entry in record["classes"]], refs)


def class_name(tsites: list[str], acid_o: set[str], ambiguous: bool) -> str:
    """``T7``; ``O25: T11|T12`` for T-sites sharing their acid O (or a T-site in several classes)."""
    joined = "|".join(tsites)
    return (
        f"{next(iter(acid_o))}: {joined}" if len(acid_o) == 1 and (len(tsites) > 1 or ambiguous) else joined
    )


def class_order(name: str) -> tuple:
    """Framework order of a T-site (``T7``) or of a class by its first T-site (``O25: T11|T12``)."""
    return (*site_order(name.split(": ")[-1].split("|")[0]), name)


def cell_centres(refs: References, k: int) -> np.ndarray:
    """Candidate k's molecule centre in every cell of its reference whose cell-sized window is inside."""
    cell = refs.cell_px
    centre = np.array(refs.candidates[k].molecule_centre_px)
    rows, cols = np.indices(refs.cells).reshape(2, -1)
    centres = centre + np.c_[rows, cols] * cell
    inside = np.all(centres - cell / 2 >= 0, axis=1) & np.all(
        centres + cell / 2 <= np.array(refs.shape) - 1, axis=1
    )
    return centres[inside]


def pairwise_dprime(
    refs: References, placements: list[Placement], dose_constant: float, dose: float
) -> np.ndarray:
    """(candidates, candidates) per-molecule d′ at ``dose`` of the ideal observer telling row's candidate
    (its own reference) from column's (placed at its site); inf where the column cannot sit there."""
    n = len(refs.candidates)
    dprime = np.full((n, n), np.inf)
    for a in range(n):
        llr, _ = noise_free_llr(refs.candidates[a].image, cell_centres(refs, a), refs, placements)
        margin = np.mean(llr[:, [a]] - llr, axis=0) * dose / dose_constant  # nats at σ²(dose)
        dprime[a] = np.where(np.isfinite(margin), np.sqrt(2 * np.clip(margin, 0, None)), np.inf)
    return dprime


def identifiable_groups(dprime: np.ndarray, threshold: float) -> list[list[int]]:
    """Connected components of 'd′ < threshold' (either way round): candidates that answer together."""
    count, label = connected_components(np.minimum(dprime, dprime.T) < threshold, directed=False)
    return [np.flatnonzero(label == c).tolist() for c in range(count)]


def derive_classes(
    refs: References, placements: list[Placement], dose_constant: float, dose: float, threshold: float
) -> dict:
    """The calibration's ``classes`` record: the classes, the d′ matrix and what it was derived at."""
    dprime = pairwise_dprime(refs, placements, dose_constant, dose)
    classes = Classes.of(identifiable_groups(dprime, threshold), refs)
    return {
        "dose": float(dose),
        "dprime_threshold": float(threshold),
        "classes": [
            {
                "name": n,
                "tsites": t,
                "conformations": [refs.conformations[k] for k in m],
                "split_identified": classes.split_identified(n),
            }
            for n, t, m in zip(classes.names, classes.tsites, classes.members, strict=True)
        ],  # fmt: skip
        "conformations": refs.conformations,
        "dprime": np.where(np.isfinite(dprime), dprime, -1.0).round(4).tolist(),  # −1: cannot sit there
    }
