"""Rule alsite_matching_figure: Fig. 5, conformation matching and T-site probabilities per image."""

import json

from zeostem.analysis.pipeline import cell_window_shape, load_references
from zeostem.figures.alsite import matching_figure
from zeostem.io.images import read_image
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    references, _, cell = load_references("results", snakemake.params.conformations)
    items = []
    for report_path, denoised_path in zip(snakemake.input.reports, snakemake.input.denoised, strict=True):
        with open(report_path) as f:
            items.append((json.load(f), read_image(denoised_path)[0]))
    matching_figure(
        items, {r.conformation: r.image for r in references}, cell_window_shape(cell), snakemake.output[0]
    )
