"""Command line.

``zeostem analyze IMAGE|FOLDER... [--pixel-size Å] [--dose e/Å²] --workflow-results results/ [--out DIR]``:
Al-site reports, models loaded once, one folder per image and a summary table.
``zeostem plan --workflow-results results/ --target-accuracy 0.9 [--max-dose 6000] [--interval 0.05]``:
the lowest dose and the number of molecules that answer where the Al sits.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from zeostem import paths
from zeostem.errors import InputError


def plan_command(args: argparse.Namespace) -> int:
    """``zeostem plan``: the answer on the terminal, the table, the text and the figure on disk."""
    from zeostem.analysis.calibration import Calibration
    from zeostem.app.manifest import read_manifest
    from zeostem.evaluation.dose_planner import DosePlanSettings, plan_experiment, read_molecules, write_plan
    from zeostem.figures.plan import plan_figure
    from zeostem.io.atomic import atomic_write
    from zeostem.io.config import validate_config

    results = Path(args.workflow_results)
    try:
        manifest = read_manifest(results)
        asked = {
            "target_accuracy": args.target_accuracy,
            "max_dose": args.max_dose,
            "interval": args.interval,
        }
        settings = {**manifest["dose_plan"], **{k: v for k, v in asked.items() if v is not None}}
        seed = settings.pop("seed")
        # the schema that checks the config's analysis.plan checks the command line's values too
        validate_config({"analysis": {"plan": settings}}, "--target-accuracy / --max-dose / --interval")
        files = {
            key: str(paths.located(path, results))
            for key, path in (("molecules", paths.ALSITE_MOLECULES), ("table", paths.DOSE_PLAN),
                              ("classes", paths.DOSE_PLAN_CLASSES), ("text", paths.DOSE_PLAN_TEXT),
                              ("figure", paths.figure("plan")))
        }  # fmt: skip
        molecules = read_molecules(files["molecules"])
        calibration = Calibration.load(manifest["calibration"])
        result = plan_experiment(molecules, calibration, DosePlanSettings(**settings, seed=seed))
    except InputError as exc:
        print(f"zeostem: {exc}", file=sys.stderr)
        return 2
    if args.out:
        out = Path(args.out)
        files = {k: str(out / Path(v).name) for k, v in files.items()}
    print(write_plan(result, files["table"], files["classes"], files["text"]))
    with atomic_write(files["figure"]) as tmp:
        plan_figure(result, str(tmp))
    print(f"written: {', '.join(files[k] for k in ('table', 'classes', 'text', 'figure'))}")
    return 0


def positive(text: str) -> float:
    """A command-line number that must be above 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def analyze_command(args: argparse.Namespace) -> int:
    """``zeostem analyze``: one report folder per image, a summary; a bad image is reported and skipped."""
    from zeostem.app.batch import analyze_many, expand_inputs, write_summary

    results = Path(args.workflow_results)
    out = Path(args.out) if args.out else paths.located(paths.REPORTS, results)
    loaded = {}

    def load() -> None:  # the models and their libraries (seconds to import) once an image is readable
        from zeostem.app.report import write_report
        from zeostem.app.trained import TrainedRun, analyze

        loaded.update(trained=TrainedRun.from_results(results), analyze=analyze, write_report=write_report)

    def analyze_one(micrograph, path: Path) -> dict:
        trained = loaded["trained"]
        micrograph = replace(micrograph, dose_e_per_A2=args.dose)
        result = loaded["analyze"](micrograph.image, micrograph.pixel_size_A, trained, str(path))
        report = loaded["write_report"](out / path.stem, path.stem, str(path), result, trained, micrograph)
        print(_one_line(out / path.stem, report))
        return report

    try:
        batch = analyze_many(
            expand_inputs(args.images), args.pixel_size, analyze_one, load, args.segment_rotation
        )
    except InputError as exc:  # no usable run, or inputs that cannot be told apart: nothing analysed
        print(f"zeostem: {exc}", file=sys.stderr)
        return 2
    for message in batch.failures.values():
        print(f"zeostem: {message}", file=sys.stderr)
    if batch.reports:
        written = write_summary(batch, out, loaded["trained"].analyzer.calibration)
        done = f"{len(batch.reports)} of {len(batch.rows)} image(s) analysed"
        print(f"{done}; summary: {', '.join(map(str, written))}")
    warnings = {r["calibration"]["warning"] for r in batch.reports} - {None}
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 2 if batch.failures else 0


def _one_line(folder: Path, report: dict) -> str:
    best = report["class_ranking"][0] if report["class_ranking"] else {"class": "none", "probability": 0}
    lattice = report["lattice"]
    return (
        f"{folder}: lattice rotation {lattice['rotation_deg']:.2f}°, pixel {lattice['pixel_size_x_A']:.4f} × "
        f"{lattice['pixel_size_y_A']:.4f} Å; {len(report['molecules'])} molecule(s) in "
        f"{report['sites_analysed']} sites; most probable Al site {best['class']} "
        f"(p = {best['probability']:.2f})"
    )


def main(argv: list[str] | None = None) -> int:
    """The ``zeostem`` command.

    Parameters
    ----------
    argv
        The arguments after the program name (None: ``sys.argv``).

    Returns
    -------
    int
        0 when every input was analysed (or the plan written), 2 when any input or the run failed.
    """
    parser = argparse.ArgumentParser(prog="zeostem", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    analyze = sub.add_parser(
        "analyze", help="Al-site reports of images or folders of images, with the models of a finished run"
    )
    analyze.add_argument("images", nargs="+", help="image files and/or folders of them")
    analyze.add_argument("--pixel-size", type=float, default=None, help="Å per pixel (else from the file)")
    analyze.add_argument(
        "--dose",
        type=positive,
        default=None,
        help="the dose (e/Å²) the images were taken at: the Al distribution's detection efficiency is "
        "taken there (else at the estimate, which reads a crystal n cells thick at ≈ n² × its dose, "
        "corrected by the molecules' contrast where they are faint)",
    )
    analyze.add_argument(
        "--segment-rotation",
        type=float,
        default=None,
        help="detector rotation (°) for four-segment inputs (else the one that leaves the DPC curl-free)",
    )
    analyze.add_argument(
        "--workflow-results",
        default=paths.ROOT,
        help="the results folder of a finished run (its manifest names the models, references, calibration)",
    )
    analyze.add_argument(
        "--out", default=None, help="report folders and summary.csv go here (default: the run's reports)"
    )
    plan = sub.add_parser(
        "plan", help="lowest dose and molecules needed, from a finished run's identifiability"
    )
    plan.add_argument("--workflow-results", default=paths.ROOT, help="the results folder of a finished run")
    plan.add_argument(
        "--target-accuracy", type=float, default=None, help="per-molecule T-site top-1 to reach"
    )
    plan.add_argument("--max-dose", type=float, default=None, help="highest tolerable dose (e/Å²)")
    plan.add_argument(
        "--interval", type=float, default=None, help="widest 90 %% interval of a T-site fraction"
    )
    plan.add_argument(
        "--out",
        default=None,
        help="folder for the plan's tables, text and figure (default: the run's)",
    )
    args = parser.parse_args(argv)
    return plan_command(args) if args.command == "plan" else analyze_command(args)


if __name__ == "__main__":
    sys.exit(main())
