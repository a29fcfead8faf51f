"""Faster R-CNN training on CPU: seconds per optimisation step, where they go, and what each setting costs.

    python benchmarks/detector_step.py [--config config.yaml] [--backbone NAME] [--steps 24] [--rounds 4]
                                       [--threads 2]

Every variant is the config's detector (its anchors, crop and batch size; its backbone unless
``--backbone`` names another) with one setting
changed: the RPN's proposals per training crop (``train_proposals``), the boxes the ROI head samples
from them (``sampled_boxes``), the box head's width (``head_features``); ``torchvision`` restores
torchvision's own defaults (2000 proposals, 512 boxes, 1024 wide). Each step is
a batch of random crops of synthetic fields (molecule-sized blobs, 2–3 per crop, in unit noise) through
forward, backward and AdamW, as ``train_detector`` does. The variants take turns in ``--rounds`` rounds,
so every ratio is measured side by side; the first step of each variant is not timed. Per step:
backbone, RPN and ROI-head forward, backward, optimiser, as shares of the step.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch

from zeostem.io.config import load_config
from zeostem.models.detector import BACKBONES, build_detector
from zeostem.models.detector_training import random_crop
from zeostem.models.settings import DetectorConfig, DetectorTrainConfig

PARTS = ("backbone", "rpn", "roi_heads")


def variants(config: DetectorConfig) -> dict[str, DetectorConfig]:
    return {
        "config": config,
        "sampled boxes 128": replace(config, sampled_boxes=128),
        "proposals 100": replace(config, train_proposals=100),
        "head width 64": replace(config, head_features=64),
        "torchvision": replace(config, train_proposals=2000, sampled_boxes=512, head_features=1024),
    }


def synthetic_fields(count: int, size: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Unit-noise fields with pyridine-sized (27 × 15 px) blobs, ~1 per 64² px, and their boxes."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size]
    fields = []
    for _ in range(count):
        centres = rng.uniform(16, size - 16, (size * size // 4096, 2))
        image = rng.normal(0, 1, (size, size)) + sum(
            2 * np.exp(-((x - cx) ** 2 / 90 + (y - cy) ** 2 / 30)) for cx, cy in centres
        )
        boxes = np.c_[centres - [13.5, 7.5], centres + [13.5, 7.5]]
        fields.append((torch.from_numpy(image.astype(np.float32))[None], torch.from_numpy(boxes).float()))
    return fields


class Timed:
    """Seconds in the forward of each part of one model, summed over the steps."""

    def __init__(self, model):
        self.seconds = dict.fromkeys(PARTS, 0.0)
        for name in PARTS:
            module = getattr(model, name)
            module.register_forward_pre_hook(lambda *_, n=name: self._start(n))
            module.register_forward_hook(lambda *_, n=name: self._stop(n))
        self._began: dict[str, float] = {}

    def _start(self, name: str) -> None:
        self._began[name] = time.perf_counter()

    def _stop(self, name: str) -> None:
        self.seconds[name] += time.perf_counter() - self._began[name]


class Runner:
    def __init__(self, config: DetectorConfig, train: DetectorTrainConfig, seed: int):
        torch.manual_seed(seed)
        self.model = build_detector(config).train()
        self.timed = Timed(self.model)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=train.learning_rate)
        self.train, self.generator = train, torch.Generator().manual_seed(seed)
        self.totals = {"step": 0.0, "backward": 0.0, "optimiser": 0.0}
        self.steps = 0

    def step(self, fields, timed: bool) -> None:
        picks = torch.randint(0, len(fields), (self.train.batch_size,), generator=self.generator).tolist()
        crops = [random_crop(*fields[k], self.train.crop, self.generator) for k in picks]
        targets = [{"boxes": b, "labels": torch.ones(len(b), dtype=torch.int64)} for _, b in crops]
        forward = dict(self.timed.seconds)
        began = time.perf_counter()
        loss = sum(self.model([image for image, _ in crops], targets).values())
        self.optimizer.zero_grad()
        backward = time.perf_counter()
        loss.backward()
        optimiser = time.perf_counter()
        self.optimizer.step()
        ended = time.perf_counter()
        if not timed:  # the warm-up step: its forward times are taken back out
            self.timed.seconds = forward
            return
        self.steps += 1
        self.totals["step"] += ended - began
        self.totals["backward"] += optimiser - backward
        self.totals["optimiser"] += ended - optimiser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--steps", type=int, default=24, help="timed steps per variant")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backbone", choices=BACKBONES, help="the config's unless given")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    section = load_config(args.config)["detector"]
    train = DetectorTrainConfig.from_config(section)
    fields = synthetic_fields(16, 256, seed=0)
    config = DetectorConfig.from_config(section)
    config = replace(config, backbone=args.backbone or config.backbone)
    runners = {name: Runner(c, train, seed=1) for name, c in variants(config).items()}
    for runner in runners.values():
        runner.step(fields, timed=False)
    per_round = max(args.steps // args.rounds, 1)
    for _ in range(args.rounds):
        for runner in runners.values():
            for _ in range(per_round):
                runner.step(fields, timed=True)
    base = runners["config"].totals["step"] / runners["config"].steps
    print(
        f"{config.backbone}, {train.batch_size} crops of {train.crop}² per step, "
        f"{args.threads} threads, {per_round * args.rounds} timed steps per variant"
    )
    columns = "  ".join(f"{p:>9s}" for p in (*PARTS, "backward", "optimiser"))
    print(f"{'variant':18s} {'s/step':>7s} {'× config':>8s}   {columns}")
    for name, r in runners.items():
        per_step = r.totals["step"] / r.steps
        shares = [r.timed.seconds[p] for p in PARTS] + [r.totals["backward"], r.totals["optimiser"]]
        print(
            f"{name:18s} {per_step:7.3f} {per_step / base:8.2f}   "
            + "  ".join(f"{s / r.totals['step']:9.0%}" for s in shares)
        )


if __name__ == "__main__":
    main()
