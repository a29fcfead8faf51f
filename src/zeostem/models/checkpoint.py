"""Per-epoch checkpoints shared by the trainers: save everything needed to resume bit-for-bit."""

from __future__ import annotations

from pathlib import Path

import torch

from zeostem.io.atomic import atomic_write


def save_state(obj, path: str | Path) -> None:
    with atomic_write(path) as tmp:
        torch.save(obj, tmp)


def save_checkpoint(
    path: Path, model, optimizer, scheduler, generator, epoch, best, history, configs
) -> None:
    save_state(
        {
            "model": model.state_dict(),
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
) -> tuple[list, int, float] | None:
    """Restore a checkpoint written with the same ``configs``; returns (history, next epoch, best) or None."""
    if not path.exists():
        return None
    state = torch.load(path, map_location=device, weights_only=False)
    if state["configs"] != configs:
        print(f"{path.name}: the configuration changed, training from scratch")
        return None
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    print(f"resuming {path.name} after epoch {state['epoch'] + 1}")
    return state["history"], state["epoch"] + 1, state["best"]
