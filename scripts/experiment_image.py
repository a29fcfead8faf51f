"""Rule experiment_image: an experiment-like image (a held-out noise seed) of a test conformation."""

from zeostem.io.images import read_image, write_image
from zeostem.runlog import logged
from zeostem.simulation.images import FieldOfView, noise_seed, noisy_idpc

with logged(snakemake.log[0]):
    segments, meta = read_image(snakemake.input[0])
    fov = FieldOfView.from_metadata(meta, segments.shape[1:])
    dose, replica, seed = int(snakemake.wildcards.dose), snakemake.params.replica, snakemake.params.seed
    conformation = snakemake.wildcards.conformation
    rotation = meta["simulation"]["detector_rotation_deg"]
    image = noisy_idpc(
        segments, fov.pixel_size, dose, rotation, noise_seed(seed, conformation, dose, replica)
    )
    noise = {"dose_e_per_A2": dose, "replica": replica, "noise_seed": [seed, conformation, dose, replica]}
    write_image(
        snakemake.output[0], image, {**meta, **noise, "signal": "iDPC, experiment-like (held-out seed)"}
    )
