"""Rule train_detector: Faster R-CNN from scratch on denoised or raw simulated images."""

from pathlib import Path

import torch

from zeostem.datasets.coco import load_coco_images
from zeostem.models.card import write_model_card
from zeostem.models.checkpoint import beside
from zeostem.models.detector_training import denoiser_start, train_detector
from zeostem.models.settings import DetectorConfig, DetectorTrainConfig
from zeostem.runlog import logged


def load(coco_path):
    return [(image, boxes) for _, image, boxes in load_coco_images(coco_path)]


with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    d = snakemake.params.detector
    config = DetectorConfig.from_config(d)
    state = None
    if hasattr(snakemake.input, "denoiser_weights"):  # a divaesr_encoder starts from the denoiser
        config, state = denoiser_start(
            config, snakemake.input.denoiser_weights, snakemake.input.denoiser_card
        )
    train_config = DetectorTrainConfig.from_config(d)
    out = Path(snakemake.output.weights).with_suffix("")
    history = train_detector(
        config,
        train_config,
        load(snakemake.input.train),
        load(snakemake.input.validation),
        out,
        d["device"],
        d["tile"],
        denoiser_state=state,
    )
    settings = {
        "detector": config.to_dict(),
        "training": train_config.__dict__,
        "input": snakemake.wildcards.input,
    }
    write_model_card(
        snakemake.output.card, out.name, settings, list(snakemake.input), history, metric="val_ap50"
    )
    beside(out, ".ckpt").unlink(missing_ok=True)
