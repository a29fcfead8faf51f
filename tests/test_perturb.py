"""Realistic structures: the molecule's pose and the Al's O tetrahedron change by what was asked."""

import numpy as np
import pytest

from zeostem.structures import build_candidate
from zeostem.structures.geometry import minimum_image
from zeostem.structures.perturb import perturbed, realistic_structure, thickened


def al_o_lengths(atoms) -> np.ndarray:
    al = np.flatnonzero(atoms.symbols == "Al")[0]
    bonds = np.linalg.norm(minimum_image(atoms.positions - atoms.positions[al], atoms.cell.array), axis=1)
    return np.sort(bonds[(atoms.symbols == "O") & (bonds < 2.0)])


def test_perturbed_structure_moves_the_molecule_rigidly_and_lengthens_al_o(mfi, pyridine):
    atoms = build_candidate(mfi, pyridine, "T7", "O16")
    moved = perturbed(atoms, np.random.default_rng(3), rotation_deg=10, shift_A=0.3, al_o_stretch_A=0.08)
    molecule = atoms.arrays["site"] == "molecule"
    a = minimum_image(atoms.positions[molecule] - atoms.positions[molecule][0], atoms.cell.array)
    b = minimum_image(moved.positions[molecule] - moved.positions[molecule][0], moved.cell.array)
    # rigid: every interatomic distance of the molecule is kept
    assert np.allclose(
        np.linalg.norm(a[:, None] - a[None], axis=-1), np.linalg.norm(b[:, None] - b[None], axis=-1)
    )
    displacement = np.linalg.norm(minimum_image(moved.positions[molecule] - atoms.positions[molecule],
                                                atoms.cell.array), axis=1)  # fmt: skip
    assert 0.0 < displacement.max() < 0.3 + 2 * np.sin(np.radians(10)) * 3.0  # ≤ shift + turn × size
    assert al_o_lengths(moved) == pytest.approx(al_o_lengths(atoms) + 0.08, abs=1e-6)
    symbols = np.array(atoms.get_chemical_symbols())
    framework = (atoms.arrays["site"] != "molecule") & np.isin(symbols, ["Si", "Al"])
    assert np.allclose(moved.positions[framework], atoms.positions[framework])  # T atoms stay
    assert moved.info["source"] == "perturbed:pyridine_T7_O16"


def test_strained_cell_stretches_each_axis_by_its_own_fraction(mfi, pyridine):
    atoms = build_candidate(mfi, pyridine, "T7", "O16")
    moved = perturbed(atoms, np.random.default_rng(4), 0, 0, 0, cell_strain=0.03)
    stretch = moved.cell.lengths() / atoms.cell.lengths() - 1
    assert np.all((stretch >= 0) & (stretch <= 0.03)) and np.ptp(stretch) > 0.002  # not one factor
    given = np.array(moved.info["perturbed_cell_strain"].split(","), float)
    assert stretch == pytest.approx(given, abs=1e-4)
    fractional = np.linalg.solve(moved.cell.array.T, moved.positions.T).T % 1  # the atoms move with it
    assert np.allclose(fractional, atoms.get_scaled_positions() % 1, atol=1e-6)


def test_thickened_crystal_holds_one_molecule_at_one_depth(mfi, pyridine):
    atoms = build_candidate(mfi, pyridine, "T7", "O16")
    beam = mfi.beam_axis
    thick = thickened(atoms, 3, beam, np.random.default_rng(1))
    site = thick.arrays["site"]
    assert thick.cell.lengths()[beam] == pytest.approx(3 * atoms.cell.lengths()[beam])
    assert np.sum(site == "molecule") == np.sum(atoms.arrays["site"] == "molecule")
    assert np.sum(thick.symbols == "Al") == 1 and np.sum(site == "acid_H") == 1
    framework = ~np.isin(site, ["molecule", "acid_H"])
    assert np.sum(framework) == 3 * np.sum(~np.isin(atoms.arrays["site"], ["molecule", "acid_H"]))
    depth = thick.info["molecule_depth_cell"]
    length = atoms.cell.lengths()[beam]
    al = thick.positions[thick.symbols == "Al"][0, beam]
    assert depth * length <= al < (depth + 1) * length  # the Al sits in the molecule's cell
    molecule = thick.positions[site == "molecule"]
    assert np.ptp(molecule[:, beam]) < 8.0  # in one piece (pyridine is ≈ 5 Å across), not split by the cell


def test_realistic_structures_are_reproducible_distinct_and_take_the_thicknesses_in_turn(mfi, pyridine):
    atoms = build_candidate(mfi, pyridine, "T7", "O16")
    realistic = {"rotation_deg": 10, "shift_A": 0.3, "al_o_stretch_A": 0.08, "cell_strain": 0.02,
                 "thickness_cells": [1, 2, 3]}  # fmt: skip
    made = [realistic_structure(atoms, "pyridine_T7_O16", k, realistic, 0, mfi.beam_axis) for k in range(4)]
    assert [m.info["thickness_cells"] for m in made] == [1, 2, 3, 1]
    again = realistic_structure(atoms, "pyridine_T7_O16", 3, realistic, 0, mfi.beam_axis)
    assert np.array_equal(again.positions, made[3].positions)  # the same seed, the same structure
    strains = {m.info["perturbed_cell_strain"] for m in made}
    assert len(strains) == 4  # each index its own perturbation
    other = realistic_structure(atoms, "pyridine_T7_O17", 3, realistic, 0, mfi.beam_axis)
    assert other.info["perturbed_cell_strain"] != made[3].info["perturbed_cell_strain"]  # and each parent
