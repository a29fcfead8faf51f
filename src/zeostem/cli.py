"""Command line: ``zeostem analyze IMAGE [--pixel-size Å] --workflow-results results/ [--out DIR]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeostem.errors import InputError


def load_workflow(results: Path, config: dict):
    """The finished run's models, the references its config simulated, and its calibration."""
    from zeostem.analysis.workflow import Workflow
    from zeostem.layout import (
        analysis_models,
        analysis_settings,
        calibration_file,
        model_files,
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
    denoiser, detector = analysis_models(config)
    models = {
        denoiser: {**model_files(results, denoiser), "kind": "denoiser"},
        detector: {**model_files(results, detector), "kind": "detector"},
    }
    return Workflow.load(references, models, calibration_file(results), analysis_settings(config))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zeostem", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    analyze = sub.add_parser("analyze", help="Al-site report of one image, with the models of a finished run")
    analyze.add_argument("image")
    analyze.add_argument("--pixel-size", type=float, default=None, help="Å per pixel (else from the file)")
    analyze.add_argument(
        "--workflow-results", default="results", help="the results/ folder of a finished run"
    )
    analyze.add_argument("--config", default="config.yaml", help="the config of that run")
    analyze.add_argument("--out", default=None, help="report folder (default: results/reports/<image name>)")
    args = parser.parse_args(argv)
    try:
        from zeostem.analysis.reader import read_micrograph
        from zeostem.analysis.report import write_report
        from zeostem.analysis.workflow import analyze as run_analysis
        from zeostem.io.config import load_config

        config = load_config(args.config)
        results = Path(args.workflow_results)
        image, pixel = read_micrograph(args.image, args.pixel_size)
        workflow = load_workflow(results, config)
        out = Path(args.out) if args.out else results / "reports" / Path(args.image).stem
        result = run_analysis(image, pixel, workflow, args.image)
        report = write_report(out, Path(args.image).stem, args.image, result, workflow, pixel)
    except InputError as exc:
        print(f"zeostem: {exc}", file=sys.stderr)
        return 2
    best = report["tsite_ranking"][0] if report["tsite_ranking"] else {"tsite": "none", "probability": 0}
    lattice = report["lattice"]
    print(
        f"{out}: lattice rotation {lattice['rotation_deg']:.2f}°, pixel {lattice['pixel_size_x_A']:.4f} × "
        f"{lattice['pixel_size_y_A']:.4f} Å; {len(report['molecules'])} molecule(s) in "
        f"{report['sites_analysed']} sites; most probable Al site {best['tsite']} "
        f"(p = {best['probability']:.2f})"
    )
    if report["calibration"]["warning"]:
        print(f"warning: {report['calibration']['warning']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
