"""Faster R-CNN backbones side by side: the demo's MobileNetV3-FPN from scratch, the DIVAESR's encoder
from scratch, and the DIVAESR's encoder started from the trained denoiser's.

    python benchmarks/detector_backbone.py [--results results] [--config config.yaml]
                                           [--input raw] [--epochs 12] [--workers 2]

Needs a finished run (its detection datasets and its trained denoiser). Each detector trains as the
rule ``train_detector`` does (config.yaml's detector settings, ``--epochs`` epochs, one thread), the
trainings ``--workers`` at a time; printed: validation AP50 per epoch (COCO, full validation fields
in tiles, as ``results/models/detector_*.history.csv``) and seconds per epoch. The denoiser learned
the raw images (noisy in, clean out), so ``--input raw`` is where its encoder has seen the data.
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context

import pandas as pd
import torch

from zeostem.datasets.coco import load_coco_images
from zeostem.io.config import load_config
from zeostem.jobs import Jobs
from zeostem.models.detector_training import denoiser_start, train_detector
from zeostem.models.settings import DetectorConfig, DetectorTrainConfig
from zeostem.paths import DETECTION_COCO, fill, located, model_files


def train_one(name: str, config: DetectorConfig, args: argparse.Namespace, start: bool) -> pd.DataFrame:
    torch.set_num_threads(1)
    section = load_config(args.config)["detector"]
    train = DetectorTrainConfig.from_config(section, epochs=args.epochs)
    data = {}
    for split in ("train", "validation"):
        coco = located(fill(DETECTION_COCO, input=args.input, split=split), args.results)
        data[split] = [(image, boxes) for _, image, boxes in load_coco_images(coco)]
    state = None
    if start:
        denoiser = model_files(Jobs.from_config(load_config(args.config)).denoiser_model)
        files = (located(denoiser[k], args.results) for k in ("weights", "card"))
        config, state = denoiser_start(config, *files)
    with tempfile.TemporaryDirectory() as out:
        history = train_detector(
            config, train, data["train"], data["validation"], f"{out}/det", "cpu", section["tile"],
            denoiser_state=state,
        )  # fmt: skip
    return history.assign(backbone=name)[["backbone", "epoch", "val_ap50", "seconds"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--input", choices=["denoised", "raw"], default="raw")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    config = load_config(args.config)
    denoiser = model_files(Jobs.from_config(config).denoiser_model)
    demo = replace(DetectorConfig.from_config(config["detector"]), backbone="mobilenet_v3_fpn")
    files = (located(denoiser[k], args.results) for k in ("weights", "card"))
    # sized as the denoiser; started from its weights only in its own run
    encoder, _ = denoiser_start(replace(demo, backbone="divaesr_encoder"), *files)
    runs = {
        f"{demo.backbone} (scratch)": (demo, False),
        "divaesr_encoder (scratch)": (encoder, False),
        "divaesr_encoder (the denoiser's)": (encoder, True),
    }
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(train_one, name, c, args, start) for name, (c, start) in runs.items()]
        histories = pd.concat([f.result() for f in futures])
    table = histories.pivot(index="epoch", columns="backbone", values="val_ap50")[list(runs)]
    print(f"validation AP50 per epoch ({args.input} input, {args.epochs} epochs, 1 thread each):")
    print(table.round(3).to_string())
    print("seconds per epoch:", histories.groupby("backbone")["seconds"].mean().round(1).to_dict())


if __name__ == "__main__":
    main()
