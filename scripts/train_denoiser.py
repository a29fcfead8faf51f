"""Rule train_denoiser: train one ClearSTEM model (resumes from its checkpoint), write its model card."""

from pathlib import Path

import torch

from zeostem.io.images import read_image
from zeostem.models.card import write_model_card
from zeostem.models.checkpoint import beside
from zeostem.models.settings import DivaesrConfig, TrainConfig
from zeostem.models.training import train_denoiser
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    c = snakemake.params.clearstem
    model_config = DivaesrConfig.from_config(c, variant=snakemake.params.variant)
    train_config = TrainConfig.from_config(c, sr_weight=snakemake.params.sr_weight)
    train = tuple(read_image(f)[0] for f in (snakemake.input.train_noisy, snakemake.input.train_clean))
    validation = tuple(read_image(f)[0] for f in (snakemake.input.val_noisy, snakemake.input.val_clean))
    out = Path(snakemake.output.weights).with_suffix("")
    history = train_denoiser(model_config, train_config, train, validation, out, device=c["device"])
    config = {"model": model_config.to_dict(), "training": train_config.to_dict()}
    write_model_card(snakemake.output.card, out.name, config, list(snakemake.input), history)
    beside(out, ".ckpt").unlink(missing_ok=True)  # finished: nothing left to resume
