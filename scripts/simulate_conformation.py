"""Rule simulate_conformation: abTEM multislice of one cell → segments.tif, clean.tif, labels.json."""

import json

from zeostem.io.images import write_image
from zeostem.io.structures import read_structure
from zeostem.runlog import logged
from zeostem.simulation.images import clean_field_of_view, settings_metadata
from zeostem.simulation.labels import field_of_view_labels
from zeostem.simulation.multislice import simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import load_framework

with logged(snakemake.log[0]):
    settings = SimulationSettings.from_config(snakemake.params.simulation)
    beam_axis = load_framework(snakemake.params.framework).beam_axis
    atoms = read_structure(snakemake.input[0])
    cell = simulate_cell(atoms, beam_axis, settings, threads=snakemake.threads)
    print(f"multislice: {cell.segments.shape[1:]} probe positions in {cell.seconds:.1f} s")
    fov, segments, clean = clean_field_of_view(cell, settings)
    meta = {
        **fov.metadata(),
        **settings_metadata(settings),
        "conformation": snakemake.wildcards.conformation,
        "structure": {k: v for k, v in atoms.info.items() if isinstance(v, str | int | float)},
    }
    labels = field_of_view_labels(atoms, beam_axis, fov, snakemake.params.simulation["box_margin_A"])
    write_image(snakemake.output.segments, segments, {**meta, "signal": "segment fractions D0..D3"})
    write_image(snakemake.output.clean, clean, {**meta, "signal": "iDPC (clean)"})
    with open(snakemake.output.labels, "w") as f:
        json.dump({"conformation": snakemake.wildcards.conformation, **labels}, f)
