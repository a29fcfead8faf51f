"""Rule dose_series: Poisson noise on the segment counts at every dose and replica, then iDPC."""

from tqdm import tqdm

from zeostem.io.images import write_image
from zeostem.runlog import logged
from zeostem.simulation.images import SimulatedSegments, noise_record, noise_seed, noisy_idpc

with logged(snakemake.log[0]):
    sim = SimulatedSegments.read(snakemake.input.segments)
    conformation = snakemake.wildcards.conformation
    seed = snakemake.params.seed
    jobs = zip(snakemake.params.jobs, snakemake.output, strict=True)
    for (dose, replica), path in tqdm(list(jobs), desc=f"dose series of {conformation}"):
        image = noisy_idpc(
            sim.segments,
            sim.fov.pixel_size,
            dose,
            sim.rotation_deg,
            noise_seed(seed, conformation, dose, replica),
        )
        noise = noise_record(seed, conformation, dose, replica)
        write_image(path, image, {**sim.meta, **noise, "signal": "iDPC (Poisson noise on the segments)"})
