"""Command line.

``zeostem analyze IMAGE|FOLDER... [--pixel-size Å] --workflow-results results/ [--out DIR]``: Al-site
reports, models loaded once, one folder per image and a summary table.
``zeostem plan --workflow-results results/ --target-accuracy 0.9 [--max-dose 6000] [--interval 0.05]``:
the lowest dose and the number of molecules that answer where the Al sits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeostem.errors import InputError


def load_workflow(results: Path, config: dict):
    """The finished run's models, the references its config simulated, and its calibration."""
    from zeostem.analysis.workflow import Workflow
    from zeostem.layout import (
        analysis_model_files,
        analysis_settings,
        calibration_file,
        reference_files,
    )
    from zeostem.structures.plan import plan_conformations

    conformations = [plan.conformation for plan in plan_conformations(config)]
    references = reference_files(results, conformations)
    missing = [p for paths in references.values() for p in paths if not Path(p).is_file()]
    if missing:
        raise InputError(
            f"{len(missing)} reference file(s) of the config's conformations are missing, e.g. {missing[0]}",
            path=results,
            fix="run the workflow with this config first (snakemake --cores N), or pass the run's --config",
        )
    models = analysis_model_files(results, config)
    return Workflow.load(references, models, calibration_file(results), analysis_settings(config))


def plan_command(args: argparse.Namespace) -> int:
    """``zeostem plan``: the answer on the terminal, the table, the text and the figure on disk."""
    from zeostem.analysis.pipeline import Calibration
    from zeostem.analysis.planner import plan_experiment, read_molecules, write_plan
    from zeostem.figures.plan import plan_figure
    from zeostem.io.atomic import atomic_write
    from zeostem.io.config import load_config, validate_config
    from zeostem.layout import calibration_file, plan_files
    from zeostem.plan import plan_settings

    try:
        config = load_config(args.config)
        asked = {
            "target_accuracy": args.target_accuracy,
            "max_dose": args.max_dose,
            "interval": args.interval,
        }
        config["analysis"]["plan"].update({k: v for k, v in asked.items() if v is not None})
        # the schema that checks the config's analysis.plan checks the command line's values too
        config = validate_config(config, "--target-accuracy / --max-dose / --interval")
        settings = plan_settings(config)
        files = plan_files(args.workflow_results)
        molecules = read_molecules(files["molecules"])
        classes = Calibration.load(calibration_file(args.workflow_results)).class_names
        result = plan_experiment(molecules, classes, settings)
    except InputError as exc:
        print(f"zeostem: {exc}", file=sys.stderr)
        return 2
    if args.out:
        out = Path(args.out)
        files = {k: str(out / Path(v).name) for k, v in files.items()}
    print(write_plan(result, files["table"], files["text"]))
    with atomic_write(files["figure"]) as tmp:
        plan_figure(result, str(tmp))
    print(f"written: {files['table']}, {files['text']}, {files['figure']}")
    return 0


def analyze_command(args: argparse.Namespace) -> int:
    """``zeostem analyze``: one report folder per image, a summary; a bad image is reported and skipped."""
    from zeostem.analysis.batch import analyze_many, expand_inputs, write_summary
    from zeostem.analysis.report import write_report
    from zeostem.analysis.workflow import analyze as run_analysis
    from zeostem.io.config import load_config

    results = Path(args.workflow_results)
    out = Path(args.out) if args.out else results / "reports"
    loaded = {}

    def load() -> None:
        loaded["workflow"] = load_workflow(results, load_config(args.config))

    def analyze_one(micrograph, path: Path) -> dict:
        workflow = loaded["workflow"]
        result = run_analysis(micrograph.image, micrograph.pixel_size_A, workflow, str(path))
        report = write_report(out / path.stem, path.stem, str(path), result, workflow, micrograph)
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
        written = write_summary(batch, out)
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
    parser = argparse.ArgumentParser(prog="zeostem", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    analyze = sub.add_parser(
        "analyze", help="Al-site reports of images or folders of images, with the models of a finished run"
    )
    analyze.add_argument("images", nargs="+", help="image files and/or folders of them")
    analyze.add_argument("--pixel-size", type=float, default=None, help="Å per pixel (else from the file)")
    analyze.add_argument(
        "--segment-rotation",
        type=float,
        default=None,
        help="detector rotation (°) for four-segment inputs (else the one that leaves the DPC curl-free)",
    )
    analyze.add_argument(
        "--workflow-results", default="results", help="the results/ folder of a finished run"
    )
    analyze.add_argument("--config", default="config.yaml", help="the config of that run")
    analyze.add_argument(
        "--out", default=None, help="folder of the report folders and summary.csv (default: results/reports)"
    )
    plan = sub.add_parser(
        "plan", help="lowest dose and molecules needed, from a finished run's identifiability"
    )
    plan.add_argument("--workflow-results", default="results", help="the results/ folder of a finished run")
    plan.add_argument("--config", default="config.yaml", help="the config of that run")
    plan.add_argument(
        "--target-accuracy", type=float, default=None, help="per-molecule T-site top-1 to reach"
    )
    plan.add_argument("--max-dose", type=float, default=None, help="highest tolerable dose (e/Å²)")
    plan.add_argument(
        "--interval", type=float, default=None, help="widest 90 %% interval of a T-site fraction"
    )
    plan.add_argument(
        "--out", default=None, help="folder for plan.csv, plan.txt, plan.png (default: the run's)"
    )
    args = parser.parse_args(argv)
    return plan_command(args) if args.command == "plan" else analyze_command(args)


if __name__ == "__main__":
    sys.exit(main())
