"""ClearSTEM benchmark: training time per epoch, inference throughput (MP/s), DIVAESR vs BM3D.

Measured side by side in one run on this machine:
    python benchmarks/clearstem.py [--threads N] [--config config.yaml]
Uses the demo architecture from the config and a simulated-size image (263 × 402 px).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from zeostem.io.config import load_config
from zeostem.models.divaesr import DIVAESR
from zeostem.models.inference import denoise_image
from zeostem.models.settings import DivaesrConfig, TrainConfig
from zeostem.models.training import train_denoiser

SHAPE = (263, 402)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--config", default="config.yaml")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    c = load_config(args.config)["clearstem"]
    tile = load_config(args.config)["datasets"]["tile_size"]
    model_config = DivaesrConfig.from_config(c)
    rng = np.random.default_rng(0)
    n_tiles = 448  # the demo's training set: 56 images × 8 tiles
    data = rng.standard_normal((2, n_tiles, tile, tile)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        history = train_denoiser(
            model_config,
            TrainConfig.defaults(epochs=1, batch_size=c["batch_size"]),
            (data[0], data[1]),
            (data[0][:16], data[1][:16]),
            f"{tmp}/bench",
        )
    print(
        f"training: {history['seconds'].iloc[0]:.1f} s per epoch of {n_tiles} tiles of {tile}² px "
        f"({args.threads} threads)"
    )

    model = DIVAESR(model_config).eval()
    image = rng.standard_normal(SHAPE).astype(np.float32)
    denoise_image(model, image, c["inference_tile"], c["inference_overlap"])  # warm-up
    repeats = 3
    start = time.perf_counter()
    for _ in range(repeats):
        denoise_image(model, image, c["inference_tile"], c["inference_overlap"])
    ours = repeats * image.size / 1e6 / (time.perf_counter() - start)
    print(
        f"DIVAESR inference: {ours:.3f} MP/s (tiles {c['inference_tile']}, overlap {c['inference_overlap']})"
    )
    try:
        import bm3d
    except ImportError:
        print("BM3D: not installed (pip install '.[bm3d]'); no comparison")
        return
    start = time.perf_counter()
    bm3d.bm3d(image, sigma_psd=1.0)
    theirs = image.size / 1e6 / (time.perf_counter() - start)
    print(f"BM3D: {theirs:.3f} MP/s   DIVAESR / BM3D throughput ratio: {ours / theirs:.1f}x")


if __name__ == "__main__":
    main()
