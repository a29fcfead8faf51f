"""Rule import_conformation: read a DFT result, validate it, write it in the reference frame."""

from zeostem.io.structures import write_structure
from zeostem.runlog import logged
from zeostem.structures import import_conformation, load_framework, load_molecule

with logged(snakemake.log[0]):
    plan = snakemake.params.plan
    framework = load_framework(snakemake.params.framework)
    molecule = load_molecule(plan.molecule, snakemake.params.molecules[plan.molecule])
    atoms = import_conformation(snakemake.input[0], framework, molecule, plan.tsite)
    atoms.info.update(conformation=plan.conformation, proton_o=plan.proton_o)
    print(f"{plan.conformation}: {atoms.info}")
    write_structure(atoms, snakemake.output[0])
