"""Rule denoise_dataset: split by conformation, cut (noisy, clean) pairs into tiles."""

import json
from pathlib import Path

from zeostem.datasets.augment import Augmentation
from zeostem.datasets.denoise import ImagePair, build_denoise_dataset
from zeostem.io.images import read_image
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    p = snakemake.params
    pairs = [
        ImagePair(conformation=c, dose=d, replica=r, noisy=noisy, clean=clean)
        for (c, d, r), noisy, clean in zip(p.pairs, snakemake.input.noisy, snakemake.input.clean, strict=True)
    ]
    split = p.split  # decided when the workflow is planned, shared by every stage
    print(json.dumps(split, indent=1))
    augmentation = Augmentation.from_config(p.datasets["augmentation"])
    _, meta = read_image(pairs[0].clean)
    build_denoise_dataset(
        pairs,
        Path(snakemake.output.split).parent,
        split,
        p.datasets["tile_size"],
        p.datasets["tiles_per_image"],
        p.scale,
        augmentation,
        p.datasets["seed"],
        meta["pixel_size_A"],
    )
    with open(snakemake.output.split, "w") as f:
        json.dump(split, f, indent=1)
