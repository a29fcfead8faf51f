"""Rule evaluate_alsite: T-site identifiability per dose (pipeline and ideal observer), with a figure."""

import torch

from zeostem.analysis.identifiability import TruthImage, evaluate_alsite, summarise_alsite
from zeostem.analysis.pipeline import Workflow
from zeostem.figures.alsite import alsite_figure
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    p = snakemake.params
    workflow = Workflow.from_config("results", p.config, p.conformations, snakemake.input.calibration)
    rows = evaluate_alsite(workflow, [TruthImage(*row) for row in p.images])
    rows.to_csv(snakemake.output.rows, index=False)
    summary = summarise_alsite(rows)
    summary.to_csv(snakemake.output.summary, index=False)
    print(summary.to_string())
    alsite_figure(rows, summary, snakemake.output.figure)
