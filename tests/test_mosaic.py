"""Mosaics (molecule in some cells only): composed from two one-cell simulations, checked against a
multislice of the whole mosaic."""

from dataclasses import replace

import numpy as np
import pytest
from ase.geometry import find_mic

from zeostem.io.segments import idpc
from zeostem.simulation.images import clean_field_of_view
from zeostem.simulation.labels import field_of_view_labels
from zeostem.simulation.mosaic import mosaic, occupancy, without_molecule
from zeostem.simulation.multislice import simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import build_candidate

# 0.3 Å probe step: above the probe's band limit, so tiling and the 2-cell scan sample the same signal
SETTINGS = SimulationSettings(
    potential_sampling_A=0.2, scan_step_A=0.3, slice_thickness_A=2.0, field_of_view_cells=(2, 1)
)


def two_cells_molecule_in_first(atoms):
    """The conformation repeated twice along x (a), the molecule kept (whole) in the first copy only."""
    whole = atoms.copy()
    mol = np.flatnonzero(whole.arrays["site"] == "molecule")
    offsets, _ = find_mic(whole.positions[mol] - whole.positions[mol[0]], whole.cell)
    whole.positions[mol] = whole.positions[mol[0]] + offsets
    big = whole.repeat((2, 1, 1))
    keep = np.ones(len(big), bool)
    keep[len(whole) :][whole.arrays["site"] == "molecule"] = False
    big = big[keep]
    big.wrap()
    return big


@pytest.fixture(scope="module")
def conformation(mfi, pyridine):
    return build_candidate(mfi, pyridine, "T1", "O2")  # its molecule straddles the cell edge


@pytest.mark.slow
def test_mosaic_matches_a_multislice_of_the_whole_mosaic(conformation, mfi):
    fov, with_mol, clean_mol = clean_field_of_view(simulate_cell(conformation, 1, SETTINGS, 2), SETTINGS)
    _, empty, clean_empty = clean_field_of_view(
        simulate_cell(without_molecule(conformation), 1, SETTINGS, 2), SETTINGS
    )
    labels = field_of_view_labels(conformation, mfi.beam_axis, fov, box_margin_A=1.0)
    segments, mosaic_labels = mosaic(with_mol, empty, fov, labels, np.array([[True, False]]))
    composed = idpc(segments, fov.pixel_size, np.radians(SETTINGS.detector_rotation_deg))

    whole = replace(SETTINGS, field_of_view_cells=(1, 1))
    _, _, reference = clean_field_of_view(
        simulate_cell(two_cells_molecule_in_first(conformation), 1, whole, 2), whole
    )
    assert reference.shape == composed.shape
    molecule_signal = np.abs(clean_mol - clean_empty).max()
    seam_error = np.abs((composed - composed.mean()) - (reference - reference.mean())).max()
    assert seam_error < 0.05 * molecule_signal  # measured: 1.7 %; cutting at cell edges: 63 %
    assert [m["cell"] for m in mosaic_labels["molecules"]] == [[0, 0]]
    assert sum(a["site"] == "molecule" for a in mosaic_labels["atoms"]) == len(
        conformation[conformation.arrays["site"] == "molecule"]
    )


def test_occupancy_keeps_at_least_one_full_and_one_empty_cell():
    rng = np.random.default_rng(0)
    for fraction in (0.01, 0.5, 0.99):
        mask = occupancy((5, 5), fraction, rng)
        assert mask.shape == (5, 5) and 1 <= mask.sum() <= 24
