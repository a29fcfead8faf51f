"""Train / validation / test split by conformation: a conformation's images never appear in two splits."""

from __future__ import annotations

import numpy as np

SPLITS = ("train", "validation", "test")


def split_by_conformation(
    conformations: list[str], validation: float, test: float, seed: int
) -> dict[str, list[str]]:
    """Assign whole conformations to splits (seeded shuffle; at least one per non-empty fraction)."""
    names = sorted(set(conformations))
    if len(names) < 3:
        raise ValueError(f"need at least 3 conformations to split into {SPLITS}, got {len(names)}")
    order = np.random.default_rng(seed).permutation(len(names))
    n_test = max(1, int(round(test * len(names)))) if test > 0 else 0
    n_val = max(1, int(round(validation * len(names)))) if validation > 0 else 0
    if n_test + n_val >= len(names):
        raise ValueError("validation + test fractions leave no conformation for training")
    shuffled = [names[i] for i in order]
    return {
        "test": sorted(shuffled[:n_test]),
        "validation": sorted(shuffled[n_test : n_test + n_val]),
        "train": sorted(shuffled[n_test + n_val :]),
    }
