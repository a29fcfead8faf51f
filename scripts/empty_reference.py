"""Rule empty_reference: the clean iDPC of a conformation's molecule-free twin (the framework reference)."""

import numpy as np

from zeostem.io.images import write_image
from zeostem.io.segments import idpc
from zeostem.runlog import logged
from zeostem.simulation.images import SimulatedSegments

with logged(snakemake.log[0]):
    sim = SimulatedSegments.read(snakemake.input[0])
    clean = idpc(sim.segments, sim.fov.pixel_size, np.radians(sim.rotation_deg))
    write_image(snakemake.output[0], clean, {**sim.meta, "signal": "iDPC (clean, molecule removed)"})
