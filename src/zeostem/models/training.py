"""Training of the ClearSTEM denoiser: Adam + schedule, checkpoint every epoch, resume, best model.

Files for a model ``out`` (a path without suffix): ``out.ckpt`` (last epoch: model, optimiser,
scheduler, RNG state, history; removed after a finished run), ``out.pt`` (state_dict of the best
epoch by validation PSNR), ``out.history.csv`` (per-epoch losses, validation PSNR / SSIM).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from zeostem.metrics.image_quality import psnr, ssim
from zeostem.models.checkpoint import EpochLoop, data_digest
from zeostem.models.divaesr import DIVAESR, loss_terms
from zeostem.models.settings import DivaesrConfig, TrainConfig


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int, warmup_steps: int = 0
):
    """The configured schedule per step, after a linear warm-up over ``warmup_steps``."""
    total = max(1, config.epochs * steps_per_epoch)

    def warmup(s: int) -> float:
        return min(1.0, (s + 1) / warmup_steps) if warmup_steps else 1.0

    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: warmup(s) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
        )
    if config.schedule == "step":
        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: warmup(s) * 0.3 ** (s // max(1, total // 3))
        )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, warmup)


@torch.no_grad()
def validate(model: DIVAESR, noisy: np.ndarray, clean: np.ndarray, device: torch.device) -> dict[str, float]:
    """Mean PSNR / SSIM of the model's output on validation tiles (physical units, per-tile range)."""
    model.eval()
    out = []
    for start in range(0, len(noisy), 64):
        batch = torch.from_numpy(noisy[start : start + 64, None]).to(device)
        out.append(model.denoise(batch).cpu().numpy()[:, 0])
    out = np.concatenate(out)
    return {
        "val_psnr": float(np.mean([psnr(c, o) for c, o in zip(clean, out, strict=True)])),
        "val_ssim": float(np.mean([ssim(c, o) for c, o in zip(clean, out, strict=True)])),
    }


def train_denoiser(
    model_config: DivaesrConfig,
    config: TrainConfig,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    out: str | Path,
    device: str = "auto",
    stop_after: int | None = None,
) -> pd.DataFrame:
    """Train (or resume) one model; returns the per-epoch history.

    ``stop_after`` ends this run after that many epochs (e.g. to fit a cluster time limit); the next
    call with the same configuration resumes from the checkpoint and ends where an uninterrupted run
    would have ended.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dev = pick_device(device)
    torch.manual_seed(config.seed)
    model = DIVAESR(model_config).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    noisy, clean = (torch.from_numpy(np.ascontiguousarray(a[:, None])) for a in train)
    steps = math.ceil(len(noisy) / config.batch_size)
    scheduler = make_scheduler(optimizer, config, steps)
    generator = torch.Generator().manual_seed(config.seed)
    configs = {
        "model": model_config.to_dict(),
        "training": asdict(config),
        "data": data_digest(*train, *validation),
    }
    loop = EpochLoop(out, model, optimizer, scheduler, generator, configs, dev, metric="val_psnr")
    for epoch in loop.epochs(config.epochs, stop_after):
        model.train()
        began = time.perf_counter()
        order = torch.randperm(len(noisy), generator=generator)
        sums: dict[str, float] = {}
        for i in tqdm(range(steps), desc=f"{out.name} epoch {epoch + 1}/{config.epochs}"):
            idx = order[i * config.batch_size : (i + 1) * config.batch_size]
            loss, terms = loss_terms(
                model, noisy[idx].to(dev), clean[idx].to(dev), config.kl_weight, config.sr_weight
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            for key, value in {"loss": float(loss.detach()), **terms}.items():
                sums[key] = sums.get(key, 0.0) + value / steps
        row = {"epoch": epoch + 1, **sums, **validate(model, *validation, dev)}
        row["lr"] = scheduler.get_last_lr()[0]
        row["seconds"] = time.perf_counter() - began
        loop.end_epoch(epoch, row)
    return pd.DataFrame(loop.history)


def load_model(path: str | Path, model_config: DivaesrConfig, device: str = "auto") -> DIVAESR:
    model = DIVAESR(model_config)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.to(pick_device(device)).eval()
