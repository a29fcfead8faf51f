"""Robustness table: per nuisance case, the pipeline's per-molecule T-site top-1 and molecule recall,
against the ideal observer's.

The ideal observer knows the molecules' positions and the scan geometry and uses the nominal
references. Where the nuisance is the scan's geometry (rotation, calibration, aspect, shear, or a
combination with any of them) knowing it means undoing it exactly, so the ideal observer there is the
one on the nuisance-free images (case ``none``); every other nuisance changes what the image holds
(jitter, background, gains, the optics) and the ideal observer looks at the nuisance image itself.
"""

from __future__ import annotations

import pandas as pd

from zeostem.analysis.analyzer import Analyzer
from zeostem.evaluation.identifiability import evaluate_image
from zeostem.evaluation.stats import wilson
from zeostem.evaluation.truth import TruthImage
from zeostem.parallel import forked_map

GEOMETRIC = ("rotation_deg", "calibration", "aspect", "shear")


def case_label(case: str, scanned: dict[str, dict]) -> tuple[str, str]:
    """(nuisance, strength) of a case: one nuisance and its value, ``combined``, or a simulated case."""
    if case not in scanned:
        return case, "simulated"
    nuisances = scanned[case]
    if len(nuisances) == 1:
        ((name, value),) = nuisances.items()
        return name, f"{value:g}"
    if not nuisances:
        return "none", ""
    return case, "; ".join(f"{k} {v:g}" for k, v in nuisances.items())


def geometric(case: str, scanned: dict[str, dict]) -> bool:
    return any(k in GEOMETRIC for k in scanned.get(case, {}))


def evaluate_cases(
    analyzer: Analyzer, rows: list[dict], scanned: dict[str, dict], workers: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Molecule rows and image rows for every image (``rows``: TruthImage + case); the ideal observer
    only where it looks at the nuisance image itself."""

    def case_rows(row: dict) -> tuple[list[dict], list[dict]]:
        item = TruthImage(**{k: v for k, v in row.items() if k != "case"})
        m, i, occupancy, _ = evaluate_image(
            item, analyzer, ideal_observer=not geometric(row["case"], scanned)
        )
        o = next(r for r in occupancy if r["method"] == "lattice")
        alarms = {"empty_sites": o["empty_sites"], "empty_alarms": o["empty_alarms"]}
        return (
            [{"case": row["case"], **r} for r in m],
            [{"case": row["case"], **r, **(alarms if r["observer"] == "pipeline" else {})} for r in i],
        )

    molecules, images = [], []
    for m, i in forked_map(case_rows, rows, workers, "robustness"):
        molecules += m
        images += i
    return pd.DataFrame(molecules), pd.DataFrame(images)


def robustness_table(
    molecules: pd.DataFrame, images: pd.DataFrame, scanned: dict[str, dict], chance: float
) -> pd.DataFrame:
    """One row per case and observer: top-1 and recall with 95 % Wilson intervals, top-1 of the
    detected molecules, the pipeline's false alarms per empty site (the symmetry-equivalent places in
    every cell that hold no molecule), and the fraction of images whose pooled T-site ranking names
    the right site."""
    out = []
    for case in dict.fromkeys(molecules["case"]):
        nuisance, strength = case_label(case, scanned)
        for observer in ("pipeline", "ideal"):
            source = "none" if observer == "ideal" and geometric(case, scanned) else case
            mol = molecules[(molecules["case"] == source) & (molecules["observer"] == observer)]
            img = images[(images["case"] == source) & (images["observer"] == observer)]
            n, hits, found = len(mol), float(mol["top1"].sum()), int(mol["detected"].sum())
            empty = img["empty_sites"].sum() if observer == "pipeline" else 0
            out.append(
                {"case": case, "nuisance": nuisance, "strength": strength, "observer": observer,
                 "ideal_from": source, "images": len(img), "molecules": n,
                 "top1": hits / n, "top1_low": wilson(hits, n)[0], "top1_high": wilson(hits, n)[1],
                 "recall": found / n, "recall_low": wilson(found, n)[0], "recall_high": wilson(found, n)[1],
                 "top1_detected": hits / found if found else float("nan"),
                 "false_alarms_per_empty_site": img["empty_alarms"].sum() / empty if empty else float("nan"),
                 "image_top1": float(img["top1"].mean()) if len(img) else float("nan"),
                 "images_without_molecules": int((img["molecules"] == 0).sum()), "chance": chance}
            )  # fmt: skip
    return pd.DataFrame(out)
