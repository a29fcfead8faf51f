"""The framework built from the definition file is a proper MFI silica network."""

import numpy as np
import pytest

from zeostem.errors import InputError
from zeostem.structures import load_framework
from zeostem.structures.framework import parse_symmetry_operation, tetrahedral_bonds
from zeostem.structures.pores import find_pores


def test_mfi_p1_cell_has_96_t_and_192_o_with_orbits_of_eight(mfi):
    atoms = mfi.unit_cell
    assert atoms.get_chemical_formula() == "O192Si96"
    assert set(mfi.orbit_sizes()) == {f"T{i}" for i in range(1, 13)}
    assert set(mfi.orbit_sizes().values()) == {8}
    t_labels = atoms.arrays["site"][atoms.symbols == "Si"]
    assert sorted(set(t_labels), key=lambda s: int(s[1:])) == [f"T{i}" for i in range(1, 13)]


def test_every_t_is_tetrahedral_and_every_o_bridges_two_t(mfi):
    atoms = mfi.unit_cell
    t_mask, o_mask = atoms.symbols == "Si", atoms.symbols == "O"
    t_idx, o_idx, vectors = tetrahedral_bonds(atoms, t_mask, o_mask)
    lengths = np.linalg.norm(vectors, axis=1)
    assert lengths.min() > 1.58 and lengths.max() < 1.65  # Si–O in silica
    assert np.all(np.bincount(t_idx, minlength=len(atoms))[t_mask] == 4)
    assert np.all(np.bincount(o_idx, minlength=len(atoms))[o_mask] == 2)


def test_cell_and_beam_axis_follow_the_definition(mfi):
    assert mfi.cellpar[:3] == (20.09, 19.738, 13.142)
    assert mfi.beam_axis == 1
    assert len(mfi.supercell(2)) == 2 * 288
    assert np.isclose(mfi.supercell(2).cell.lengths()[1], 2 * 19.738)


def test_channel_intersections_are_the_four_largest_pores(mfi):
    pores = find_pores(mfi.unit_cell)
    frac = pores.intersections / mfi.unit_cell.cell.lengths()
    # MFI intersections sit at y = 1/4, 3/4 (straight channel along b meets the sinusoidal one)
    assert np.allclose(np.minimum(frac[:, 1] % 0.5, 0.5 - frac[:, 1] % 0.5), 0.25, atol=0.03)
    assert pores.radii.max() > 4.0


def test_symmetry_operation_parser():
    rotation, translation = parse_symmetry_operation("1/2-x, y, 1/2+z")
    assert np.allclose(rotation, np.diag([-1, 1, 1]))
    assert np.allclose(translation, [0.5, 0, 0.5])


def test_another_framework_is_a_dropped_file(tmp_path):
    # A toy one-T framework (not a zeolite) proves nothing in the code is MFI-specific.
    path = tmp_path / "TOY.yaml"
    path.write_text(
        "name: TOY\ncell: {a: 5, b: 5, c: 5, alpha: 90, beta: 90, gamma: 90}\n"
        "symmetry_operations: ['x,y,z', '-x,-y,-z']\n"
        "t_sites: {T1: [0.1, 0.1, 0.1]}\no_sites: {O1: [0.0, 0.0, 0.0]}\n"
    )
    toy = load_framework(path)
    assert toy.orbit_sizes() == {"T1": 2}
    assert toy.unit_cell.get_chemical_formula() == "OSi2"


@pytest.mark.parametrize(
    ("content", "message"),
    [("name: X\n", "not a valid framework definition"), ("[unclosed", "not a valid framework definition")],
)
def test_bad_framework_file_names_the_file(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as err:
        load_framework(path)
    assert "bad.yaml" in str(err.value)


def test_missing_framework_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_framework(tmp_path / "nope.yaml")
