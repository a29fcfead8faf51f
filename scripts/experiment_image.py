"""Rule experiment_image: an experiment-like image (a held-out noise seed) of a test conformation, with
the real-micrograph nuisances of ``analysis/experiment_nuisances`` drawn for it (none by default)."""

import json

import numpy as np

from zeostem.io.images import write_image
from zeostem.runlog import logged
from zeostem.simulation.images import SimulatedSegments, noise_record, noise_seed, noisy_idpc
from zeostem.simulation.nuisances import Nuisances, nuisance_image

with logged(snakemake.log[0]):
    sim = SimulatedSegments.read(snakemake.input.segments)
    dose, replica, seed = int(snakemake.wildcards.dose), snakemake.params.replica, snakemake.params.seed
    conformation = snakemake.wildcards.conformation
    seeds = noise_seed(seed, conformation, dose, replica)
    noise = noise_record(seed, conformation, dose, replica)
    if snakemake.params.nuisances:
        with open(snakemake.input.labels) as f:
            labels = json.load(f)
        rng = np.random.default_rng(seeds)
        drawn = Nuisances.drawn(snakemake.params.nuisances, rng)
        scan = nuisance_image(sim.segments, sim.fov.pixel_size, labels, drawn, dose, sim.rotation_deg, rng)
        image, noise = scan.noisy, {**noise, **scan.metadata}
        print(f"nuisances drawn: {drawn.record()}")
    else:
        image = noisy_idpc(sim.segments, sim.fov.pixel_size, dose, sim.rotation_deg, seeds)
    write_image(
        snakemake.output[0], image, {**sim.meta, **noise, "signal": "iDPC, experiment-like (held-out seed)"}
    )
