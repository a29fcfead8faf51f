"""Rule analyze_image: the Al-site report of one image of the images sheet."""

import torch

from zeostem.analysis.pipeline import Workflow, analyze
from zeostem.analysis.reader import read_micrograph
from zeostem.analysis.report import write_report
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    p = snakemake.params
    row = p.row
    pixel = float(row["pixel_size_A"]) if row["pixel_size_A"] else None
    image, pixel_size = read_micrograph(row["file"], pixel)
    workflow = Workflow.from_config("results", p.config, p.conformations, snakemake.input.calibration)
    report = write_report(p.out_dir, row["image"], row["file"], analyze(image, pixel_size, workflow))
    print({k: report[k] for k in ("image", "dose_estimate_e_per_A2", "tsite_ranking")})
