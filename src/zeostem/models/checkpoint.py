"""Per-epoch checkpoints shared by the trainers: save everything needed to resume bit-for-bit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from zeostem.io.atomic import atomic_write


def beside(prefix: str | Path, suffix: str) -> Path:
    """``prefix`` with ``suffix`` appended: names may hold dots (divaesr_lambda0.7 → divaesr_lambda0.7.pt)."""
    prefix = Path(prefix)
    return prefix.with_name(prefix.name + suffix)


def data_digest(*arrays: np.ndarray) -> str:
    """SHA-256 of the training data (shapes, dtypes, values): a checkpoint resumes only on the same data."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save_state(obj, path: str | Path) -> None:
    with atomic_write(path) as tmp:
        torch.save(obj, tmp)


def save_checkpoint(
    path: Path, model, optimizer, scheduler, generator, epoch, best, history, configs, best_model=None
) -> None:
    save_state(
        {
            "model": model.state_dict(),
            "best_model": best_model,  # the best epoch's weights: the .pt beside may be deleted
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "generator": generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "epoch": epoch,
            "best": best,
            "history": history,
            "configs": configs,
        },
        path,
    )


def resume(
    path: Path, model, optimizer, scheduler, generator, configs, device
) -> tuple[list, int, float, dict | None] | None:
    """Restore a checkpoint written with the same ``configs`` (which hold the data's digest).

    Returns (history, next epoch, best metric, best epoch's weights) or None; a stale checkpoint is
    discarded with a log line saying what changed.
    """
    if not path.exists():
        return None
    state = torch.load(path, map_location=device, weights_only=False)
    if state["configs"] != configs:
        changed = [
            k
            for k in sorted(set(configs) | set(state["configs"]))
            if state["configs"].get(k) != configs.get(k)
        ]
        print(
            f"{path.name}: stale checkpoint discarded ({', '.join(changed)} changed), training from scratch"
        )
        path.unlink()
        return None
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    print(f"resuming {path.name} after epoch {state['epoch'] + 1}")
    return state["history"], state["epoch"] + 1, state["best"], state.get("best_model")


class EpochLoop:
    """The bookkeeping both trainers share: resume, epochs to run, best weights, CSV, checkpoint.

    ``out`` is a path without suffix: ``out.ckpt`` (last epoch), ``out.pt`` (best epoch by
    ``metric``), ``out.history.csv`` (one row per epoch).
    """

    def __init__(self, out: Path, model, optimizer, scheduler, generator, configs, device, metric: str):
        self.out, self.metric = Path(out), metric
        self.parts = (model, optimizer, scheduler, generator)
        self.configs = configs
        self.history: list[dict] = []
        self.start, self.best, self.best_model = 0, float("-inf"), None
        restored = resume(beside(self.out, ".ckpt"), *self.parts, configs, device)
        if restored is not None:
            self.history, self.start, self.best, self.best_model = restored
            weights = beside(self.out, ".pt")
            if self.best_model is not None and not weights.exists():  # e.g. removed as incomplete output
                save_state(self.best_model, weights)

    def epochs(self, total: int, stop_after: int | None = None) -> range:
        """The epochs this run trains: all that remain, or at most ``stop_after`` of them."""
        last = total if stop_after is None else min(total, self.start + stop_after)
        return range(self.start, last)

    def end_epoch(self, epoch: int, row: dict) -> None:
        self.history.append(row)
        print(", ".join(f"{k}={v:.4g}" for k, v in row.items()))
        if row[self.metric] > self.best:
            self.best = row[self.metric]
            self.best_model = {k: v.detach().clone() for k, v in self.parts[0].state_dict().items()}
            save_state(self.best_model, beside(self.out, ".pt"))
        pd.DataFrame(self.history).to_csv(beside(self.out, ".history.csv"), index=False)
        save_checkpoint(
            beside(self.out, ".ckpt"),
            *self.parts,
            epoch,
            self.best,
            self.history,
            self.configs,
            self.best_model,
        )
