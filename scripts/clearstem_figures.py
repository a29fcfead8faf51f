"""Rule clearstem_figures: Fig. 3 A–C (metrics vs dose), D–G (panels), H (histograms)."""

import pandas as pd
import torch

from zeostem.datasets.denoise import ImagePair, load_pair
from zeostem.figures.clearstem import example_panels, intensity_histograms, metrics_vs_dose
from zeostem.models.inference import denoise_at_input_sampling
from zeostem.models.loading import load_trained
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    c = snakemake.params.clearstem
    metrics_vs_dose(pd.read_csv(snakemake.input.table), snakemake.output.metrics)
    model = load_trained(snakemake.input.weights, snakemake.input.card, "denoiser", c["device"])
    test = [ImagePair(**row) for row in pd.read_csv(snakemake.input.test).to_dict("records")]
    first = test[0].conformation
    examples = []
    for pair in sorted((p for p in test if p.conformation == first and p.replica == 0), key=lambda p: p.dose):
        noisy, clean = load_pair(pair)
        denoised = denoise_at_input_sampling(model, noisy, c["inference_tile"], c["inference_overlap"])
        examples.append({"dose": pair.dose, "noisy": noisy, "denoised": denoised, "clean": clean})
    example_panels(examples, snakemake.output.panels)
    intensity_histograms(examples, snakemake.output.histograms)
