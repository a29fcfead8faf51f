"""Rule alsite_matching_figure: Fig. 5, the most certain molecule of each image against its candidates."""

import json

from zeostem.analysis.analyzer import framework_placements
from zeostem.analysis.references import References
from zeostem.figures.alsite import matching_figure
from zeostem.io.images import read_image
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i = snakemake.input
    references = References.load(i.clean, i.labels, i.empty)
    placements = framework_placements(references)
    items = []
    for report, denoised in zip(i.reports, i.denoised, strict=True):
        with open(report) as f:
            items.append((json.load(f), read_image(denoised)[0]))
    matching_figure(items, references, placements, snakemake.output[0])
