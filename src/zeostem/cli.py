"""Command line: ``zeostem analyze IMAGE [--pixel-size Å] --workflow-results results/ [--out DIR]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zeostem.errors import InputError


def load_workflow(results: Path, config: dict):
    """The finished run's models, the references it simulated and its calibration."""
    from zeostem.analysis.pipeline import Workflow

    conformations = sorted(p.parent.name for p in (results / "simulation").glob("*/clean.tif"))
    if not conformations:
        raise InputError(
            "no simulated references found", path=results / "simulation", fix="run the workflow first"
        )
    calibration = results / "analysis" / "calibration.json"
    return Workflow.from_config(
        results, config, conformations, calibration if calibration.is_file() else None
    )


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
        from zeostem.analysis.pipeline import analyze as run_analysis
        from zeostem.analysis.reader import read_micrograph
        from zeostem.analysis.report import write_report
        from zeostem.io.config import load_config

        config = load_config(args.config)
        results = Path(args.workflow_results)
        image, pixel = read_micrograph(args.image, args.pixel_size)
        workflow = load_workflow(results, config)
        out = Path(args.out) if args.out else results / "reports" / Path(args.image).stem
        report = write_report(out, Path(args.image).stem, args.image, run_analysis(image, pixel, workflow))
    except InputError as exc:
        print(f"zeostem: {exc}", file=sys.stderr)
        return 2
    best = report["tsite_ranking"][0] if report["tsite_ranking"] else {"tsite": "none", "probability": 0}
    print(
        f"{out}: {len(report['molecules'])} molecule(s); "
        f"most probable Al site {best['tsite']} (p = {best['probability']:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
