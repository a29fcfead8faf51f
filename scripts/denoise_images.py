"""Rule denoise_images: the ClearSTEM output of every simulated noisy image of one conformation."""

import torch

from zeostem.io.images import read_image, write_image
from zeostem.models.inference import denoise_at_input_sampling
from zeostem.models.loading import load_trained
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    c = snakemake.params.clearstem
    model = load_trained(snakemake.input.weights, snakemake.input.card, "denoiser", c["device"])
    for source, target in zip(snakemake.input.images, snakemake.output, strict=True):
        image, meta = read_image(source)
        denoised = denoise_at_input_sampling(model, image, c["inference_tile"], c["inference_overlap"])
        write_image(
            target,
            denoised,
            {**meta, "signal": "iDPC denoised by ClearSTEM", "model": snakemake.input.weights},
        )
