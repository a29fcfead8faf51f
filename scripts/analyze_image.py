"""Rule analyze_image: the Al-site report of one image of the images sheet."""

import torch

from zeostem.analysis.reader import read_micrograph
from zeostem.analysis.report import write_report
from zeostem.analysis.workflow import Workflow, analyze
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    i, p = snakemake.input, snakemake.params
    row = p.row
    pixel = float(row["pixel_size_A"]) if row["pixel_size_A"] else None
    micrograph = read_micrograph(i.image, pixel)
    workflow = Workflow.load(
        {"clean": i.clean, "labels": i.labels, "empty": i.empty}, p.models, i.calibration, p.settings
    )
    result = analyze(micrograph.image, micrograph.pixel_size_A, workflow, i.image)
    report = write_report(p.out_dir, row["image"], i.image, result, workflow, micrograph)
    print({k: report[k] for k in ("image", "lattice", "noise", "class_ranking")})
