"""Rules evaluation_images, mismatched_images, realistic_images and robustness_images: extra noise
replicas of a simulated field (seeds no training image uses); evaluation_images also writes the
conformation's molecule-free twin and its labels (the field of view, no molecule)."""

import json

from zeostem.io.images import write_image
from zeostem.runlog import logged
from zeostem.simulation.images import SimulatedSegments, noise_record, noise_seed, noisy_idpc

with logged(snakemake.log[0]):
    i, o = snakemake.input, snakemake.output
    name = f"{snakemake.wildcards.conformation}/evaluation"
    fields = [(i[0], o, name, "")]  # a study's one field
    if hasattr(i, "empty"):  # evaluation_images: the conformation's field and its molecule-free twin
        fields = [(i.full, o.full, name, ""), (i.empty, o.empty, f"{name}/empty", " (molecule-free)")]
    for segments, outputs, seed_name, kind in fields:
        sim = SimulatedSegments.read(segments)
        for (dose, replica), path in zip(snakemake.params.jobs, outputs, strict=True):
            seed = [snakemake.params.seed, seed_name, dose, replica]
            image = noisy_idpc(sim.segments, sim.fov.pixel_size, dose, sim.rotation_deg, noise_seed(*seed))
            noise = noise_record(*seed)
            write_image(path, image, {**sim.meta, **noise, "signal": f"iDPC, evaluation replica{kind}"})
    if hasattr(i, "empty"):
        with open(i.labels) as f:
            labels = json.load(f)
        with open(o.empty_labels, "w") as f:
            json.dump({**labels, "molecules": []}, f, indent=1)
