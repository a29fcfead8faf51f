"""Rule mosaics: fields of view with the molecule in some cells only, clean and at every dose."""

import json

import numpy as np

from zeostem.io.images import write_image
from zeostem.io.segments import idpc
from zeostem.runlog import logged
from zeostem.simulation.images import SimulatedSegments, noise_record, noise_seed, noisy_idpc
from zeostem.simulation.mosaic import mosaic, occupancy

with logged(snakemake.log[0]):
    sim = SimulatedSegments.read(snakemake.input.segments)
    empty = SimulatedSegments.read(snakemake.input.empty).segments
    with open(snakemake.input.labels) as f:
        labels = json.load(f)
    fov = sim.fov
    conformation, seed = snakemake.wildcards.conformation, snakemake.params.seed
    for k in range(snakemake.params.mosaics):
        name = f"{conformation}/mosaic{k}"
        rng = np.random.default_rng(noise_seed(seed, name, 0, 0))
        occupied = occupancy(fov.cells, snakemake.params.occupancy, rng)
        segments, mosaic_labels = mosaic(sim.segments, empty, fov, labels, occupied)
        mosaic_meta = {**sim.meta, "mosaic": k, "occupied_cells": occupied.astype(int).tolist()}
        clean = idpc(segments, fov.pixel_size, np.radians(sim.rotation_deg))
        write_image(snakemake.output[f"clean{k}"], clean, mosaic_meta)
        with open(snakemake.output[f"labels{k}"], "w") as f:
            json.dump({"conformation": conformation, **mosaic_labels}, f)
        for dose, replica in snakemake.params.doses:
            rng_seed = noise_seed(seed, name, dose, replica)
            image = noisy_idpc(segments, fov.pixel_size, dose, sim.rotation_deg, rng_seed)
            noise = noise_record(seed, name, dose, replica)
            write_image(snakemake.output[f"dose{k}-{dose}-{replica}"], image, {**mosaic_meta, **noise})
        print(f"mosaic {k}: {int(occupied.sum())} of {occupied.size} cells hold the molecule")
