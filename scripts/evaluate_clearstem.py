"""Rule evaluate_clearstem: raw, tuned Gaussian, BM3D (if installed) and models on the test conformations."""

import pandas as pd
import torch

from zeostem.datasets.denoise import ImagePair
from zeostem.metrics.clearstem import (
    bm3d_method,
    evaluate,
    gaussian_filter,
    markdown_table,
    noise_levels,
    summarise,
    tune_gaussian,
)
from zeostem.models.inference import denoise_at_input_sampling
from zeostem.models.loading import load_trained
from zeostem.runlog import logged


def pairs(path):
    return [ImagePair(**row) for row in pd.read_csv(path).to_dict("records")]


with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    c = snakemake.params.clearstem
    validation, test = pairs(snakemake.input.validation), pairs(snakemake.input.test)
    sigmas = tune_gaussian(validation, c["gaussian_sigmas_px"])
    print(f"Gaussian σ (px) tuned on validation, per dose: {sigmas}")
    methods = {
        "raw": lambda image, dose: image,
        "gaussian": lambda image, dose: gaussian_filter(image, sigmas[dose]),
    }
    bm3d = bm3d_method(noise_levels(validation))
    if bm3d is not None:
        methods["bm3d"] = bm3d
    for name, weights, card in zip(
        snakemake.params.models, snakemake.input.weights, snakemake.input.cards, strict=True
    ):
        model = load_trained(weights, card, "denoiser", c["device"])
        methods[name] = lambda image, dose, model=model: denoise_at_input_sampling(
            model, image, c["inference_tile"], c["inference_overlap"]
        )
    table = evaluate(test, methods)
    table.to_csv(snakemake.output.table, index=False)
    summary = summarise(table)
    summary.to_csv(snakemake.output.summary, index=False)
    with open(snakemake.output.markdown, "w") as f:
        f.write(markdown_table(summary))
    print(summary.to_string())
