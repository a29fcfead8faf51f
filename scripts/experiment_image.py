"""Rule experiment_image: an experiment-like image (a held-out noise seed) of a test conformation, with
the real-micrograph nuisances of ``analysis/experiment_nuisances`` drawn for it (none by default)."""

import json

import numpy as np

from zeostem.io.images import read_image, write_image
from zeostem.runlog import logged
from zeostem.simulation.images import FieldOfView, noise_seed, noisy_idpc
from zeostem.simulation.nuisances import Nuisances, nuisance_image

with logged(snakemake.log[0]):
    segments, meta = read_image(snakemake.input.segments)
    fov = FieldOfView.from_metadata(meta, segments.shape[1:])
    dose, replica, seed = int(snakemake.wildcards.dose), snakemake.params.replica, snakemake.params.seed
    conformation = snakemake.wildcards.conformation
    rotation = meta["simulation"]["detector_rotation_deg"]
    seeds = noise_seed(seed, conformation, dose, replica)
    noise = {"dose_e_per_A2": dose, "replica": replica, "noise_seed": [seed, conformation, dose, replica]}
    if snakemake.params.nuisances:
        with open(snakemake.input.labels) as f:
            labels = json.load(f)
        rng = np.random.default_rng(seeds)
        drawn = Nuisances.drawn(snakemake.params.nuisances, rng)
        scan = nuisance_image(segments, fov.pixel_size, labels, drawn, dose, rotation, rng)
        image, noise = scan.noisy, {**noise, **scan.metadata}
        print(f"nuisances drawn: {drawn.record()}")
    else:
        image = noisy_idpc(segments, fov.pixel_size, dose, rotation, seeds)
    write_image(
        snakemake.output[0], image, {**meta, **noise, "signal": "iDPC, experiment-like (held-out seed)"}
    )
