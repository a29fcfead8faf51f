"""Rules simulate_conformation / simulate_empty / simulate_variant: abTEM multislice of one cell, tiled
to the field of view.

Writes segments.tif (source-blurred segment signals), and where the rule asks for them clean.tif
(iDPC) and labels.json; with ``params.remove_molecule`` the molecule is taken out first, with
``params.cells_along_beam`` > 1 the structure is repeated along the beam (a thicker crystal).
"""

import json

from zeostem.io.images import write_image
from zeostem.io.structures import read_structure
from zeostem.runlog import logged
from zeostem.simulation.images import clean_field_of_view, settings_metadata
from zeostem.simulation.labels import field_of_view_labels
from zeostem.simulation.mosaic import without_molecule
from zeostem.simulation.multislice import simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import load_framework

with logged(snakemake.log[0]):
    settings = SimulationSettings.from_config(snakemake.params.simulation)
    beam_axis = load_framework(snakemake.params.framework).beam_axis
    atoms = read_structure(snakemake.input[0])
    if snakemake.params.remove_molecule:
        atoms = without_molecule(atoms)
    repeats = [1, 1, 1]
    repeats[beam_axis] = snakemake.params.cells_along_beam
    atoms = atoms.repeat(repeats)
    cell = simulate_cell(atoms, beam_axis, settings, threads=snakemake.threads)
    print(f"multislice: {cell.segments.shape[1:]} probe positions in {cell.seconds:.1f} s")
    fov, segments, clean = clean_field_of_view(cell, settings)
    meta = {
        **fov.metadata(),
        **settings_metadata(settings),
        "conformation": snakemake.wildcards.conformation,
        "molecule_removed": snakemake.params.remove_molecule,
        "cells_along_beam": snakemake.params.cells_along_beam,
        "structure": {k: v for k, v in atoms.info.items() if isinstance(v, str | int | float)},
    }
    write_image(snakemake.output.segments, segments, {**meta, "signal": "segment fractions D0..D3"})
    if hasattr(snakemake.output, "clean"):
        write_image(snakemake.output.clean, clean, {**meta, "signal": "iDPC (clean)"})
    if hasattr(snakemake.output, "labels"):
        labels = field_of_view_labels(atoms, beam_axis, fov, snakemake.params.simulation["box_margin_A"])
        with open(snakemake.output.labels, "w") as f:
            json.dump({"conformation": snakemake.wildcards.conformation, **labels}, f)
