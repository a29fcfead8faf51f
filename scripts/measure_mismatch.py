"""Rule measure_mismatch: variants of the validation conformations vs the nominal references →
mismatch.csv, the model-error variance the likelihood uses (model_error.json) and the figure."""

import json

from zeostem.analysis.analyzer import framework_placements
from zeostem.analysis.references import References
from zeostem.evaluation.mismatch import (
    mismatch_table,
    model_error_record,
    noise_dose_constant,
    variant_mismatch,
)
from zeostem.evaluation.truth import true_molecules
from zeostem.figures.mismatch import mismatch_figure
from zeostem.io.images import read_image
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    refs = References.load(i.clean, i.labels, i.empty)
    placements = framework_placements(refs)
    labels = dict(zip(refs.conformations, i.labels, strict=True))
    results = []
    for (variant, conformation), path in zip(p.fits, i.variants, strict=True):
        image = read_image(path)[0].astype(float)
        centres, _ = true_molecules(labels[conformation], image.shape, refs.cell_px)
        results.append(variant_mismatch(variant, conformation, image, centres, refs, placements))
    constant = noise_dose_constant(
        [(read_image(r["noisy"])[0], read_image(r["clean"])[0], r["dose"]) for r in p.dose_images]
    )
    table = mismatch_table(results, constant)
    table.to_csv(o.table, index=False)
    print(table.to_string())
    record = model_error_record(results, constant)
    with open(o.model_error, "w") as f:
        json.dump(record, f, indent=1)
    print(f"model-error variance {record['variance']:.4g} ({record['source']})")
    mismatch_figure(table, sorted({row["dose"] for row in p.dose_images}), o.figure)
