"""Training of the molecule detector (checkpoint every epoch, resume, per-epoch CSV, best by val AP50)."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from zeostem.errors import InputError
from zeostem.metrics.detection import coco_metrics
from zeostem.models.checkpoint import EpochLoop, data_digest
from zeostem.models.detector import build_detector, detect, normalise, start_from_denoiser
from zeostem.models.loading import read_card
from zeostem.models.settings import DetectorConfig, DetectorTrainConfig
from zeostem.models.training import make_scheduler, pick_device


def flip(image: torch.Tensor, boxes: torch.Tensor, horizontal: bool, vertical: bool):
    """Flip a (1, H, W) image and its xyxy boxes."""
    _, height, width = image.shape
    boxes = boxes.clone()
    if horizontal:
        image = image.flip(-1)
        boxes[:, [0, 2]] = width - boxes[:, [2, 0]]
    if vertical:
        image = image.flip(-2)
        boxes[:, [1, 3]] = height - boxes[:, [3, 1]]
    return image, boxes


def random_crop(image: torch.Tensor, boxes: torch.Tensor, size: int, generator: torch.Generator):
    """A ``size``² crop (padded when the image is smaller) and the boxes at least half inside it."""
    _, height, width = image.shape
    y = int(torch.randint(0, max(height - size, 0) + 1, (1,), generator=generator))
    x = int(torch.randint(0, max(width - size, 0) + 1, (1,), generator=generator))
    crop = torch.zeros((1, size, size))
    part = image[:, y : y + size, x : x + size]
    crop[:, : part.shape[1], : part.shape[2]] = part
    moved = boxes - torch.tensor([x, y, x, y], dtype=boxes.dtype)
    clipped = moved.clamp(min=0)
    clipped[:, 2] = clipped[:, 2].clamp(max=min(size, width - x))
    clipped[:, 3] = clipped[:, 3].clamp(max=min(size, height - y))
    area = (moved[:, 2] - moved[:, 0]) * (moved[:, 3] - moved[:, 1])
    inside = (clipped[:, 2] - clipped[:, 0]).clamp(min=0) * (clipped[:, 3] - clipped[:, 1]).clamp(min=0)
    return crop, clipped[inside >= 0.5 * area]


def train_detector(
    config: DetectorConfig,
    train_config: DetectorTrainConfig,
    train: list[tuple[np.ndarray, np.ndarray]],
    validation: list[tuple[np.ndarray, np.ndarray]],
    out: str | Path,
    device: str = "auto",
    tile: int = 256,
    stop_after: int | None = None,
    denoiser_state: dict[str, torch.Tensor] | None = None,
) -> pd.DataFrame:
    """Train on random ``crop``² crops of (image, boxes xyxy) pairs; returns the per-epoch history.

    The history holds the loss terms and COCO AP / AP50 / AR@100 on the validation images (detection
    in ``tile``² tiles, as at inference); the best epoch by AP50 is kept. With ``denoiser_state`` (a
    trained DIVAESR's state dict) a ``divaesr_encoder`` backbone starts from the denoiser's encoder.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dev = pick_device(device)
    torch.manual_seed(train_config.seed)
    model = build_detector(config)
    if denoiser_state is not None:
        start_from_denoiser(model, denoiser_state)
    model = model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        params, lr=train_config.learning_rate, weight_decay=train_config.weight_decay
    )
    steps = math.ceil(len(train) / train_config.batch_size)
    scheduler = make_scheduler(optimizer, train_config, steps, train_config.warmup_steps)
    generator = torch.Generator().manual_seed(train_config.seed)
    images = [normalise(image) for image, _ in train]
    targets = [torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4) for _, boxes in train]
    data = data_digest(*(a for pair in train + validation for a in pair))
    start = "scratch"
    if denoiser_state is not None:  # the denoiser it started from, by its weights
        start = data_digest(*(v.numpy() for v in denoiser_state.values()))
    configs = {"detector": config.to_dict(), "training": asdict(train_config), "data": data, "start": start}
    loop = EpochLoop(out, model, optimizer, scheduler, generator, configs, dev, metric="val_ap50")
    for epoch in loop.epochs(train_config.epochs, stop_after):
        model.train()
        began = time.perf_counter()
        order = torch.randperm(len(images), generator=generator)
        sums: dict[str, float] = {}
        for i in tqdm(range(steps), desc=f"{out.name} epoch {epoch + 1}/{train_config.epochs}"):
            batch_images, batch_targets = [], []
            for j in order[i * train_config.batch_size : (i + 1) * train_config.batch_size].tolist():
                image, boxes = random_crop(images[j], targets[j], train_config.crop, generator)
                h, v = (torch.rand(2, generator=generator) < 0.5).tolist()
                image, boxes = flip(image, boxes, h, v)
                batch_images.append(image.to(dev))
                batch_targets.append(
                    {"boxes": boxes.to(dev), "labels": torch.ones(len(boxes), dtype=torch.int64, device=dev)}
                )
            losses = model(batch_images, batch_targets)
            loss = sum(losses.values())
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            optimizer.step()
            scheduler.step()
            for key, value in {"loss": loss, **losses}.items():
                sums[key] = sums.get(key, 0.0) + float(value.detach()) / steps
        predictions = [detect(model, image, tile=tile) for image, _ in validation]
        scores = coco_metrics([boxes for _, boxes in validation], predictions)
        row = {"epoch": epoch + 1, **sums, **{f"val_{k}": v for k, v in scores.items()}}
        row["seconds"] = time.perf_counter() - began
        loop.end_epoch(epoch, row)
    return pd.DataFrame(loop.history)


def denoiser_start(config: DetectorConfig, weights: str | Path, card: str | Path):
    """A ``divaesr_encoder`` detector's settings sized as the trained denoiser (``weights``, ``card``)
    and that denoiser's state dict, to start it from (``train_detector``'s ``denoiser_state``)."""
    model = read_card(card)["config"]["model"]
    if model.get("variant", "divaesr") == "sr_only":
        raise InputError(
            "the denoiser has no VAE encoder to start the detector from", path=card,
            fix="use a denoiser with a VAE (clearstem.models) or another detector.backbone",
        )  # fmt: skip
    sized = replace(config, encoder_features=model["vae_features"], encoder_levels=model["vae_levels"])
    return sized, torch.load(weights, map_location="cpu", weights_only=True)


def load_detector(path: str | Path, config: DetectorConfig, device: str = "auto"):
    model = build_detector(config)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.to(pick_device(device)).eval()
