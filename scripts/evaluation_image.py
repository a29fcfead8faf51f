"""Rule evaluation_images: extra noise replicas of a test conformation (seeds no training image uses)."""

from zeostem.io.images import read_image, write_image
from zeostem.runlog import logged
from zeostem.simulation.images import FieldOfView, noise_seed, noisy_idpc

with logged(snakemake.log[0]):
    segments, meta = read_image(snakemake.input[0])
    fov = FieldOfView.from_metadata(meta, segments.shape[1:])
    rotation = meta["simulation"]["detector_rotation_deg"]
    name = f"{snakemake.wildcards.conformation}/evaluation"
    for (dose, replica), path in zip(snakemake.params.jobs, snakemake.output, strict=True):
        seed = [snakemake.params.seed, name, dose, replica]
        image = noisy_idpc(segments, fov.pixel_size, dose, rotation, noise_seed(*seed))
        noise = {"dose_e_per_A2": dose, "replica": replica, "noise_seed": seed}
        write_image(path, image, {**meta, **noise, "signal": "iDPC, evaluation replica"})
