"""Rule al_distribution: the Al distribution over T-sites, per image and pooled over the images sheet."""

import json

from zeostem.analysis.calibration import Calibration
from zeostem.analysis.posterior import al_distribution_table
from zeostem.figures.alsite import al_distribution_figure
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    reports = []
    for path in snakemake.input.reports:
        with open(path) as f:
            reports.append(json.load(f))
    table = al_distribution_table(reports, Calibration.load(snakemake.input.calibration))
    table.to_csv(snakemake.output.table, index=False)
    print(table[table["images"] == "all images"].to_string() if len(table) else "no molecule in any report")
    al_distribution_figure(table, snakemake.output.figure)
