"""Many micrographs in one call: models and references loaded once, one report folder per image, one
summary table (and the pooled Al distribution) over all of them; a bad file is reported and skipped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from zeostem.analysis.calibration import Calibration
from zeostem.analysis.posterior import al_distribution_table
from zeostem.errors import InputError
from zeostem.io.atomic import atomic_write
from zeostem.io.micrographs import RSCIIO_FORMATS, Micrograph, read_micrograph

IMAGE_SUFFIXES = {".tif", ".tiff", ".png", ".jpg", ".jpeg", ".mrc", *RSCIIO_FORMATS}


def expand_inputs(items: list[str | Path]) -> list[Path]:
    """Files as given and, for a folder, the image files in it (sorted); report ids must be unique."""
    paths: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise InputError(
                    "the folder holds no image file",
                    path=item,
                    fix=f"give image files ({', '.join(sorted(IMAGE_SUFFIXES))}) or a folder of them",
                )
            paths += found
        else:
            paths.append(item)
    seen: dict[str, Path] = {}
    for p in paths:
        if p.stem in seen and seen[p.stem] != p:
            raise InputError(
                f"two images would write the same report folder {p.stem!r} ({seen[p.stem]} and {p})",
                path=p,
                fix="rename one of them, or analyse them in separate calls with different --out",
            )
        seen[p.stem] = p
    return list(dict.fromkeys(paths))


@dataclass
class BatchResult:
    reports: list[dict] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # input file → the error message
    rows: list[dict] = field(default_factory=list)  # the summary, one row per input in input order


SUMMARY_COLUMNS = [
    "image", "input_file", "status", "top_class", "top_probability", "second_class", "second_probability",
    "molecules", "detections", "false_alarms_expected", "sites_analysed", "rotation_deg", "pixel_size_x_A",
    "pixel_size_y_A", "shear_deg",
    "dose_estimate_e_per_A2", "dose_stated_e_per_A2", "efficiency_dose_e_per_A2", "fit_flagged", "fit_note",
    "warning", "error",
]  # fmt: skip


def summary_row(report: dict) -> dict:
    """One image's line of the summary table."""
    ranking = report["class_ranking"] + [{"class": "", "probability": float("nan")}] * 2
    lattice = report["lattice"]
    return {
        "image": report["image"],
        "input_file": report["input_file"],
        "status": "ok",
        "top_class": ranking[0]["class"],
        "top_probability": ranking[0]["probability"],
        "second_class": ranking[1]["class"],
        "second_probability": ranking[1]["probability"],
        "molecules": len(report["molecules"]),
        "detections": report["molecule_evidence"]["detections"],
        "false_alarms_expected": report["molecule_evidence"]["false_alarms_expected"],
        "sites_analysed": report["sites_analysed"],
        "rotation_deg": lattice["rotation_deg"],
        "pixel_size_x_A": lattice["pixel_size_x_A"],
        "pixel_size_y_A": lattice["pixel_size_y_A"],
        "shear_deg": lattice["shear_deg"],
        "dose_estimate_e_per_A2": report["noise"]["dose_estimate_e_per_A2"],
        "dose_stated_e_per_A2": report["noise"]["dose_stated_e_per_A2"],
        "efficiency_dose_e_per_A2": report["noise"]["efficiency_dose_e_per_A2"],
        "fit_flagged": report["goodness_of_fit"]["flagged"],
        "fit_note": report["goodness_of_fit"]["note"] or "",
        "warning": report["calibration"]["warning"] or "",
        "error": "",
    }


def analyze_many(
    paths: list[Path],
    pixel_size_A: float | None,
    analyze_one: Callable[[Micrograph, Path], dict],
    load: Callable[[], None] | None = None,
    segment_rotation_deg: float | None = None,
) -> BatchResult:
    """Check that every input reads (nothing is kept: a stack of large micrographs need not fit in
    memory), then ``load`` the models once and read and ``analyze_one`` each readable image; an
    :class:`InputError` of one image is recorded and the others go on."""
    result = BatchResult()
    for path in paths:
        try:
            read_micrograph(path, pixel_size_A, segment_rotation_deg)
        except InputError as exc:
            result.failures[str(path)] = str(exc)
    if len(result.failures) < len(paths) and load is not None:
        load()
    for path in tqdm(paths, desc="analyze", disable=len(paths) < 2):
        if str(path) not in result.failures:
            try:
                micrograph = read_micrograph(path, pixel_size_A, segment_rotation_deg)
                result.reports.append(analyze_one(micrograph, path))
                result.rows.append(summary_row(result.reports[-1]))
                continue
            except InputError as exc:
                result.failures[str(path)] = str(exc)
        result.rows.append({"image": path.stem, "input_file": str(path), "status": "failed",
                            "error": result.failures[str(path)]})  # fmt: skip
    return result


def write_summary(result: BatchResult, out_dir: Path, calibration: Calibration) -> list[Path]:
    """``summary.csv`` (every input, failed ones with their error) and, when any report holds a
    molecule, the pooled ``al_distribution.csv`` (with the reports' ``calibration``); returns what was
    written."""
    written = [out_dir / "summary.csv"]
    table = pd.DataFrame(result.rows, columns=SUMMARY_COLUMNS)
    with atomic_write(written[0]) as tmp:
        table.to_csv(tmp, index=False)
    if any(r["molecules"] for r in result.reports):
        written.append(out_dir / "al_distribution.csv")
        with atomic_write(written[1]) as tmp:
            al_distribution_table(result.reports, calibration).to_csv(tmp, index=False)
    return written
