"""The calibration an analysis runs with: what the workflow fitted on validation images with known
truth (``zeostem.evaluation.calibration``) and wrote to one file (``zeostem.paths``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from zeostem.analysis.efficiency import Efficiency, shared_share
from zeostem.errors import InputError
from zeostem.paths import CALIBRATION

# what an analysis reads of each per-dose threshold (``Calibration.occupancy_threshold_at``, ``field_null``)
THRESHOLD_KEYS = (
    "dose", "threshold", "false_alarms", "null_sites", "field_dispersion", "empty_field_bayes_factor",
)  # fmt: skip


@dataclass(frozen=True)
class Calibration:
    """Fitted on validation images: probability temperature, occupancy thresholds, noise-to-dose
    constant; the model-error variance the likelihood assumed while fitting them; and the
    identifiable classes every answer is given in (``zeostem.analysis.classes``; None: one per T-site)."""

    temperature: float
    # on the log Bayes factor molecule vs none, where the image's dose is unknown: the strictest of
    # ``occupancy_thresholds``
    occupancy_threshold: float
    occupancy_prior: float  # fraction of the validation sites that hold a molecule
    dose_constant: float  # gradient noise variance × dose (e/Å²) / scale², on the reference grid
    warning: str | None = None
    model_error: float = 0.0  # variance per gradient component and pixel, reference units
    model_error_source: str = "none"
    classes: dict | None = None
    # per validation dose: the log Bayes factor of a molecule against a false alarm, intercept + slope ×
    # a detection's score (``zeostem.analysis.posterior.against_false_alarms``)
    false_alarm_fits: list[dict] | None = None
    # per validation dose: the threshold that ``false_alarm_rate`` of the molecule-free fields' sites exceed
    occupancy_thresholds: list[dict] | None = None
    false_alarm_rate: float | None = None  # per empty site, stated in the config
    # per validation dose: per class, [molecules reported, molecules there were] on the fields of perturbed
    # structures of every candidate and the reported ones' al_log_likelihood rows
    # (``zeostem.evaluation.calibration.detection_efficiency``)
    detection_efficiency: list[dict] | None = None

    @classmethod
    def uncalibrated(cls, model_error: float = 0.0, model_error_source: str = "none") -> Calibration:
        """Temperature 1, no occupancy threshold, no dose constant, one class per T-site: what the
        calibration starts from (and what studies that need only the likelihoods use)."""
        return cls(1.0, 0.0, 0.5, 0.0, None, model_error, model_error_source)

    @property
    def class_names(self) -> list[str]:
        """The identifiable classes' names (empty before they are derived)."""
        return [c["name"] for c in self.classes["classes"]] if self.classes else []

    def false_alarm_fit(self, dose: float | None) -> dict | None:
        """The false-alarm fit of the validation dose nearest ``dose`` (on a log scale); None without
        fits or a dose."""
        return nearest_dose(self.false_alarm_fits, dose)

    def occupancy_threshold_at(self, dose: float | None) -> float:
        """The occupancy threshold of the validation dose nearest ``dose`` (on a log scale); without
        per-dose thresholds or a dose, ``occupancy_threshold``."""
        entry = nearest_dose(self.occupancy_thresholds, dose)
        return self.occupancy_threshold if entry is None else entry["threshold"]

    def field_null(self, dose: float | None) -> dict | None:
        """What the threshold of the validation dose nearest ``dose`` takes on a new field with no
        molecule: its alarm probability per site has mean ``rate`` and intraclass correlation
        ``dispersion`` (a beta distribution): the posterior of the rate on the validation's null sites
        (Jeffreys prior; k alarms of n: mean (k + ½) / (n + 1), variance ≈ mean (1 − mean) / (n + 2))
        and the fields' own spread around it (``field_dispersion``); and ``bayes_factor_scale``, what the
        evidence test's strength part divides each site's Bayes factor by: the most a validation field's
        empty sites favoured molecules on average (``empty_field_bayes_factor``), at least 1. None without
        per-dose thresholds or a dose."""
        entry = nearest_dose(self.occupancy_thresholds, dose)
        if entry is None:
            return None
        alarms, sites = entry["false_alarms"], entry["null_sites"]
        dispersion = min(1 / (sites + 2) + entry["field_dispersion"], 0.99)
        scale = max(1.0, entry["empty_field_bayes_factor"])
        return {"rate": (alarms + 0.5) / (sites + 1), "dispersion": dispersion, "bayes_factor_scale": scale}

    def efficiency_at(self, dose: float | None) -> Efficiency | None:
        """The classes' efficiency (``class_names`` order) at the validation dose nearest ``dose``; None
        without them or a dose."""
        entry = nearest_dose(self.detection_efficiency, dose)
        return None if entry is None else Efficiency.from_entry(entry, self.class_names)

    @cached_property
    def shared_evidence_rate(self) -> float:
        """c of the share ρ of a molecule's evidence that the molecules of one structure share,
        ρ / (1 − ρ) = c × dose: a structure's offset in the log-likelihoods grows as the dose, their
        shot noise's variance as the dose too, so the offset's share of the variance grows as
        c × dose. Fitted to each validation dose's ρ on the efficiency structures
        (``Efficiency.evidence_by_structure``, :func:`shared_share`), weighted by the structures
        measured; 0 without them."""
        shared = dose_weight = 0.0
        for entry in self.detection_efficiency or []:
            groups = [g for g in self.efficiency_at(entry["dose"]).evidence_by_structure() if len(g) >= 2]
            rho = shared_share(groups)
            shared += len(groups) * rho / (1 - rho)
            dose_weight += len(groups) * entry["dose"]
        return shared / dose_weight if dose_weight else 0.0

    def shared_evidence_at(self, dose: float | None) -> float:
        """The share of a molecule's evidence that every molecule of its structure shares at ``dose``
        (:attr:`shared_evidence_rate`); 0 without a dose."""
        if dose is None or not dose > 0:
            return 0.0
        odds = self.shared_evidence_rate * dose
        return odds / (1 + odds)

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        path = Path(path)
        fix = f"re-run the workflow's calibrate_analysis rule (snakemake --cores N {CALIBRATION})"
        if not path.is_file():
            raise InputError("the calibration file is missing", path=path, fix=fix)
        try:
            data = json.loads(path.read_text())
            keys = (
                "temperature",
                "occupancy_threshold",
                "occupancy_prior",
                "dose_constant",
                "model_error",
                "model_error_source",
                "classes",
            )
            optional = (
                "warning",
                "false_alarm_fits",
                "occupancy_thresholds",
                "false_alarm_rate",
                "detection_efficiency",
            )
            for entry in data.get("occupancy_thresholds") or []:  # a version before the evidence test
                missing = [k for k in THRESHOLD_KEYS if k not in entry]
                if missing:
                    raise KeyError(f"occupancy_thresholds entries lack {', '.join(missing)}")
            for entry in data.get("detection_efficiency") or []:  # a version before the structures' spread
                missing = [k for k in ("molecules", "structures") if k not in entry]
                if missing:
                    raise KeyError(f"detection_efficiency entries lack {', '.join(missing)}")
            return cls(**{k: data[k] for k in keys}, **{k: data.get(k) for k in optional})
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"the calibration file is malformed ({type(exc).__name__}: {exc})"
            raise InputError(problem, path=path, fix=fix) from exc


def nearest_dose(entries: list[dict] | None, dose: float | None) -> dict | None:
    """The entry whose ``dose`` is nearest ``dose`` on a log scale; None without entries or a dose."""
    if not entries or dose is None or not dose > 0:
        return None
    return min(entries, key=lambda e: abs(np.log(e["dose"] / dose)))
