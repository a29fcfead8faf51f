"""Rule perturb_structure: one realistic structure (perturbed pose, Al–O and cell; its thickness) of a
candidate."""

import numpy as np

from zeostem.io.structures import read_structure, write_structure
from zeostem.runlog import logged
from zeostem.structures import load_framework
from zeostem.structures.perturb import perturbed, thickened

with logged(snakemake.log[0]):
    p = snakemake.params
    rng = np.random.default_rng([p.seed, p.index, *map(ord, p.parent)])
    r = p.realistic
    atoms = perturbed(
        read_structure(snakemake.input[0]), rng, r["rotation_deg"], r["shift_A"], r["al_o_stretch_A"],
        r["cell_strain"],
    )  # fmt: skip
    cells = r["thickness_cells"][p.index % len(r["thickness_cells"])]
    atoms = thickened(atoms, cells, load_framework(p.framework).beam_axis, rng)
    atoms.info["conformation"] = snakemake.wildcards.conformation
    print({k: v for k, v in atoms.info.items() if k.startswith(("perturbed", "thickness", "molecule_depth"))})
    write_structure(atoms, snakemake.output[0])
