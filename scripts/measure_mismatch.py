"""Rule measure_mismatch: variants of the validation conformations vs the nominal references →
mismatch.csv, the model-error variance the likelihood uses (model_error.json) and the figure."""

import json

from zeostem.analysis.identifiability import true_molecules
from zeostem.analysis.mismatch import (
    mismatch_table,
    model_error_variance,
    noise_dose_constant,
    variant_mismatch,
)
from zeostem.analysis.pipeline import Analyzer, Calibration
from zeostem.analysis.references import References
from zeostem.figures.mismatch import mismatch_figure
from zeostem.io.images import read_image
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    refs = References.load(i.clean, i.labels, i.empty)
    placements = Analyzer(refs, Calibration(1.0, 0.0, 0.5, 0.0)).placements
    labels = dict(zip(refs.conformations, i.labels, strict=True))
    results = []
    for (variant, conformation), path in zip(p.fits, i.variants, strict=True):
        image = read_image(path)[0].astype(float)
        centres, _ = true_molecules(labels[conformation], image.shape, refs.cell_px)
        results.append(variant_mismatch(variant, conformation, image, centres, refs, placements))
    constants = [
        noise_dose_constant(read_image(row["noisy"])[0], read_image(row["clean"])[0], row["dose"])
        for row in p.dose_images
    ]
    constant = sum(constants) / len(constants)
    table = mismatch_table(results, constant)
    table.to_csv(o.table, index=False)
    print(table.to_string())
    variance = model_error_variance(results)
    variants = sorted({v for v, _ in p.fits})
    conformations = sorted({c for _, c in p.fits})
    source = (
        f"measured: {len(variants)} simulation variants ({', '.join(variants)}) of "
        f"{len(conformations)} validation conformations"
    )
    with open(o.model_error, "w") as f:
        json.dump({"variance": variance, "source": source, "variants": variants,
                   "conformations": conformations, "dose_constant": constant}, f, indent=1)  # fmt: skip
    print(f"model-error variance {variance:.4g} ({source})")
    mismatch_figure(table, sorted({row["dose"] for row in p.dose_images}), o.figure)
