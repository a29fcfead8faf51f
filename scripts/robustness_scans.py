"""Rule robustness_scans: a test conformation's full field scanned with each robustness case's nuisances."""

import json

import numpy as np

from zeostem.io.images import write_image
from zeostem.runlog import logged
from zeostem.simulation.images import SimulatedSegments, noise_record, noise_seed
from zeostem.simulation.nuisances import Nuisances, nuisance_image

with logged(snakemake.log[0]):
    sim = SimulatedSegments.read(snakemake.input.segments)
    with open(snakemake.input.labels) as f:
        labels = json.load(f)
    conformation, seed = snakemake.wildcards.conformation, snakemake.params.seed
    outputs = iter(snakemake.output)
    for case, nuisances in snakemake.params.cases.items():
        for dose, replica in snakemake.params.jobs:
            name = [seed, f"{conformation}/robustness/{case}", dose, replica]
            rng = np.random.default_rng(noise_seed(*name))
            scan = nuisance_image(
                sim.segments, sim.fov.pixel_size, labels, Nuisances(**nuisances), dose, sim.rotation_deg, rng
            )
            record = {**sim.meta, **scan.metadata, **noise_record(*name)}
            write_image(next(outputs), scan.noisy, {**record, "signal": f"iDPC, robustness case {case}"})
            write_image(
                next(outputs), scan.clean, {**record, "signal": f"clean iDPC, robustness case {case}"}
            )
            with open(next(outputs), "w") as f:
                json.dump(scan.labels, f)
        print(f"{case}: {len(snakemake.params.jobs)} image(s)")
