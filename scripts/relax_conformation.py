"""Rule relax_conformation: ML-relax a candidate (CHGNet / SevenNet) and check it stayed sane."""

import torch

from zeostem.io.structures import read_structure, write_structure
from zeostem.runlog import logged
from zeostem.structures.relax import RelaxSettings, relax

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    s = snakemake.params.settings
    settings = RelaxSettings(
        method=s["relax"],
        optimizer=s["optimizer"],
        fmax=s["fmax"],
        max_steps=s["max_steps"],
        max_framework_displacement_A=s["max_framework_displacement_A"],
        max_anchor_distance_A=s["max_anchor_distance_A"],
        device="cuda" if torch.cuda.is_available() else "cpu",
    )
    atoms = relax(read_structure(snakemake.input[0]), settings)
    print(
        {
            k: atoms.info[k]
            for k in ("energy", "relax_steps", "relax_converged", "max_framework_displacement_A")
        }
    )
    write_structure(atoms, snakemake.output[0])
