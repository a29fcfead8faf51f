"""Rules evaluation_images, mismatched_images, realistic_images, optics_images and robustness_images:
extra noise replicas of a simulated field (seeds no training image uses)."""

from zeostem.runlog import logged
from zeostem.simulation.images import write_noise_replicas

with logged(snakemake.log[0]):
    p, name = snakemake.params, f"{snakemake.wildcards.conformation}/evaluation"
    write_noise_replicas(
        snakemake.input[0], snakemake.output, p.jobs, p.seed, name, "iDPC, evaluation replica"
    )
