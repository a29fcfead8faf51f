"""Rule alsite_matching_figure: Fig. 5, the most certain molecule of each image against its candidates."""

import json

from zeostem.analysis.lattice import Reflections
from zeostem.analysis.pipeline import REGISTER_FLOOR
from zeostem.analysis.references import References
from zeostem.analysis.registration import symmetry_placements
from zeostem.figures.alsite import matching_figure
from zeostem.io.images import read_image
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i = snakemake.input
    references = References.load(i.clean, i.labels, i.empty)
    placements = symmetry_placements(
        references, Reflections.of(references.empty, references.cells, floor=REGISTER_FLOOR)
    )
    items = []
    for report, denoised in zip(i.reports, i.denoised, strict=True):
        with open(report) as f:
            items.append((json.load(f), read_image(denoised)[0]))
    matching_figure(items, references, placements, snakemake.output[0])
