"""Rule empty_reference: the clean iDPC of a conformation's molecule-free twin (the framework reference)."""

import numpy as np

from zeostem.io.images import read_image, write_image
from zeostem.runlog import logged
from zeostem.simulation.idpc import idpc
from zeostem.simulation.images import FieldOfView

with logged(snakemake.log[0]):
    segments, meta = read_image(snakemake.input[0])
    fov = FieldOfView.from_metadata(meta, segments.shape[1:])
    clean = idpc(segments, fov.pixel_size, np.radians(meta["simulation"]["detector_rotation_deg"]))
    write_image(snakemake.output[0], clean, {**meta, "signal": "iDPC (clean, molecule removed)"})
