"""Rule evaluation_images: extra noise replicas of a test conformation and of its molecule-free twin (seeds no
training image uses)."""

import json

from zeostem.io.images import write_image
from zeostem.runlog import logged
from zeostem.simulation.images import SimulatedSegments, noise_record, noise_seed, noisy_idpc

with logged(snakemake.log[0]):
    for kind in ("full", "empty"):  # the conformation's field, and its molecule-free twin
        sim = SimulatedSegments.read(snakemake.input[kind])
        name = f"{snakemake.wildcards.conformation}/evaluation" + ("" if kind == "full" else "/empty")
        for (dose, replica), path in zip(snakemake.params.jobs, snakemake.output[kind], strict=True):
            seed = [snakemake.params.seed, name, dose, replica]
            image = noisy_idpc(sim.segments, sim.fov.pixel_size, dose, sim.rotation_deg, noise_seed(*seed))
            noise = noise_record(*seed)
            write_image(path, image, {**sim.meta, **noise, "signal": f"iDPC, evaluation replica ({kind})"})
    with open(snakemake.input.labels) as f:
        labels = json.load(f)
    with open(snakemake.output.empty_labels, "w") as f:  # the twin's field of view, no molecule
        json.dump({**labels, "molecules": []}, f, indent=1)
