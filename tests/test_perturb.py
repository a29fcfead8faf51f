"""Realistic structures: the molecule's pose and the Al's O tetrahedron change by what was asked."""

import numpy as np
import pytest

from zeostem.structures import build_candidate
from zeostem.structures.geometry import minimum_image
from zeostem.structures.perturb import perturbed


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
