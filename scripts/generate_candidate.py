"""Rule generate_candidate: build one candidate conformation (Al site + acid H + molecule)."""

from zeostem.io.structures import write_structure
from zeostem.runlog import logged
from zeostem.structures import build_candidate, load_framework, load_molecule

with logged(snakemake.log[0]):
    spec = snakemake.params.spec
    framework = load_framework(snakemake.params.framework)
    molecule = load_molecule(spec.molecule, snakemake.params.molecules[spec.molecule])
    atoms = build_candidate(
        framework,
        molecule,
        spec.tsite,
        spec.proton_o,
        cells_along_beam=snakemake.params.cells_along_beam,
        seed=snakemake.params.seed,
    )
    print(f"{spec.conformation}: {len(atoms)} atoms, shortest contact {atoms.info['min_contact_A']} Å")
    write_structure(atoms, snakemake.output[0])
