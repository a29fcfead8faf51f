"""Rule perturb_structure: one realistic structure (perturbed pose and Al–O) of a candidate."""

import numpy as np

from zeostem.io.structures import read_structure, write_structure
from zeostem.runlog import logged
from zeostem.structures.perturb import perturbed

with logged(snakemake.log[0]):
    p = snakemake.params
    rng = np.random.default_rng([p.seed, p.index, *map(ord, p.parent)])
    atoms = perturbed(read_structure(snakemake.input[0]), rng, p.rotation_deg, p.shift_A, p.al_o_stretch_A)
    atoms.info["conformation"] = snakemake.wildcards.name
    print({k: v for k, v in atoms.info.items() if k.startswith("perturbed")})
    write_structure(atoms, snakemake.output[0])
