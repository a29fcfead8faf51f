"""Rule molecule_free_images: noise replicas of a conformation's molecule-free twin (seeds no other
image uses) and its labels: the field of view, no molecule."""

import json

from zeostem.runlog import logged
from zeostem.simulation.images import write_noise_replicas

with logged(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    name = f"{snakemake.wildcards.conformation}/evaluation/empty"
    signal = "iDPC, evaluation replica (molecule-free)"
    write_noise_replicas(i.segments, o.noisy, p.jobs, p.seed, name, signal)
    with open(i.labels) as f:
        labels = json.load(f)
    with open(o.labels, "w") as f:
        json.dump({**labels, "molecules": []}, f, indent=1)
