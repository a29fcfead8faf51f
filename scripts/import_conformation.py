"""Rule import_conformation: read a DFT result, validate it, write it in the reference frame."""

from zeostem.io.structures import write_structure
from zeostem.runlog import logged
from zeostem.structures import import_conformation, load_framework, load_molecule

with logged(snakemake.log[0]):
    spec = snakemake.params.spec
    framework = load_framework(snakemake.params.framework)
    molecule = load_molecule(spec.molecule, snakemake.params.molecules[spec.molecule])
    atoms = import_conformation(snakemake.input[0], framework, molecule, spec.tsite)
    atoms.info.update(conformation=spec.conformation, proton_o=spec.proton_o)
    print(f"{spec.conformation}: {atoms.info}")
    write_structure(atoms, snakemake.output[0])
