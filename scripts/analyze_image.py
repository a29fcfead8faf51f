"""Rule analyze_image: the Al-site report of one image of the images sheet, with the run's manifest."""

from dataclasses import replace
from pathlib import Path

import torch

from zeostem import paths
from zeostem.app.report import write_report
from zeostem.app.trained import TrainedRun, analyze
from zeostem.io.micrographs import read_micrograph
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    i, p = snakemake.input, snakemake.params
    row = p.row
    pixel = float(row["pixel_size_A"]) if row["pixel_size_A"] else None
    dose = float(row["dose_e_per_A2"]) if row.get("dose_e_per_A2") else None  # stated, or not
    micrograph = replace(read_micrograph(i.image, pixel), dose_e_per_A2=dose)
    trained = TrainedRun.from_results(paths.results_folder(i.manifest))
    result = analyze(micrograph.image, micrograph.pixel_size_A, trained, i.image)
    report = write_report(
        Path(snakemake.output.report).parent, row["image"], i.image, result, trained, micrograph
    )
    print({k: report[k] for k in ("image", "lattice", "noise", "class_ranking")})
