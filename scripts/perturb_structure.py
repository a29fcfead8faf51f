"""Rule perturb_structure: one realistic structure (perturbed pose, Al–O and cell; its thickness) of a
candidate."""

from zeostem.io.structures import read_structure, write_structure
from zeostem.runlog import logged
from zeostem.structures import load_framework
from zeostem.structures.perturb import realistic_structure

with logged(snakemake.log[0]):
    p = snakemake.params
    atoms = realistic_structure(
        read_structure(snakemake.input[0]), p.parent, p.index, p.realistic, p.seed,
        load_framework(p.framework).beam_axis,
    )  # fmt: skip
    atoms.info["conformation"] = snakemake.wildcards.conformation
    print({k: v for k, v in atoms.info.items() if k.startswith(("perturbed", "thickness", "molecule_depth"))})
    write_structure(atoms, snakemake.output[0])
