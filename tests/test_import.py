"""Importing DFT results: the right T-site is inferred, and every bad input is a clear error."""

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from tests.conftest import SHARED_DFT
from zeostem.errors import InputError
from zeostem.structures import build_candidate, import_conformation, infer_tsites


def as_dft_export(atoms: Atoms, expand: float = 1.02, seed: int = 3) -> Atoms:
    """What another code might write: a 2 % larger cell, another origin, a flipped axis."""
    rng = np.random.default_rng(seed)
    frac = np.mod(np.array([1.0, 1.0, -1.0]) * atoms.get_scaled_positions() + rng.uniform(0, 1, 3), 1.0)
    out = Atoms(atoms.symbols, scaled_positions=frac, cell=atoms.cell * expand, pbc=True)
    out.new_array("site", atoms.arrays["site"])  # kept for building bad variants; files drop it
    return out


@pytest.fixture(scope="module")
def dft_like(mfi, thiophene):
    return as_dft_export(build_candidate(mfi, thiophene, "T5", "O1", cells_along_beam=2))


@pytest.mark.parametrize("fmt", ["cif", "vasp", "extxyz"])
def test_round_trip_through_file_formats(tmp_path, mfi, thiophene, dft_like, fmt):
    path = tmp_path / f"T5.{fmt}"
    write(path, dft_like, format=fmt)
    atoms = import_conformation(path, mfi, thiophene, "T5")
    assert atoms.info["tsite"] == "T5"
    assert atoms.info["cells_along_beam"] == 2
    assert atoms.info["acid_o_site"] == "O1"
    assert atoms.info["source"] == f"imported:T5.{fmt}"
    # written in the reference frame: the generated candidate's sites are recovered
    assert set(infer_tsites(atoms, mfi).values()) == {"T5"}
    assert (atoms.arrays["site"] == "molecule").sum() == len(thiophene.atoms)


def write_variant(tmp_path, atoms: Atoms, name: str) -> str:
    path = tmp_path / f"{name}.cif"
    write(path, atoms, format="cif")
    return path


def test_declared_tsite_must_match_the_inferred_one(tmp_path, mfi, thiophene, dft_like):
    path = write_variant(tmp_path, dft_like, "declared_wrong")
    with pytest.raises(InputError, match=r"declared T-site T7 but the Al sits on T5") as err:
        import_conformation(path, mfi, thiophene, "T7")
    assert "declared_wrong.cif" in str(err.value)


def _replace(atoms: Atoms, index: int, symbol: str) -> Atoms:
    out = atoms.copy()
    out.symbols[index] = symbol
    return out


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        (lambda a: _replace(a, int(np.flatnonzero(a.symbols == "Al")[0]), "Si"), "no Al atom"),
        (
            lambda a: Atoms(
                a.symbols, scaled_positions=a.get_scaled_positions(), cell=a.cell * [1.1, 1, 1], pbc=True
            ),
            "not within 5%",
        ),
        (
            lambda a: a[[i for i in range(len(a)) if a.symbols[i] not in "CHS" or i < 500]],
            "no molecule found",
        ),
        (
            lambda a: a[[i for i in range(len(a)) if i != int(np.flatnonzero(a.symbols == "C")[0])]],
            "fragment",
        ),
        (
            lambda a: a[[i for i in range(len(a)) if i != int(np.flatnonzero(a.symbols == "O")[5])]],
            "framework O",
        ),
        (lambda a: _replace(_replace(a, 0, "Al"), 1, "Al"), "Al atoms"),
    ],
    ids=["no-al", "wrong-cell", "no-molecule", "broken-molecule", "missing-o", "too-many-al"],
)
def test_bad_structures_are_rejected_with_the_file_named(
    tmp_path, mfi, thiophene, dft_like, variant, message
):
    path = write_variant(tmp_path, variant(dft_like), "bad")
    with pytest.raises(InputError, match=message) as err:
        import_conformation(path, mfi, thiophene, "T5")
    assert "bad.cif" in str(err.value)


def test_a_protonated_molecule_keeps_its_acid_o(tmp_path, mfi, thiophene, dft_like):
    atoms = dft_like.copy()
    h = int(np.flatnonzero(atoms.arrays["site"] == "acid_H")[0])
    s = int(np.flatnonzero(atoms.symbols == "S")[0])
    towards = atoms.get_distance(s, h, mic=True, vector=True)
    atoms.positions[h] = atoms.positions[s] + 1.35 * towards / np.linalg.norm(towards)  # H moved onto S
    imported = import_conformation(write_variant(tmp_path, atoms, "protonated"), mfi, thiophene, "T5")
    assert imported.info["protonated"] is True
    assert imported.info["acid_o_site"] == "O1"  # the O the proton left, not an empty label
    assert (
        import_conformation(write_variant(tmp_path, dft_like, "neutral"), mfi, thiophene, "T5").info[
            "protonated"
        ]
        is False
    )


def test_the_declared_molecule_must_be_the_one_in_the_file(tmp_path, mfi, pyridine, dft_like):
    with pytest.raises(InputError, match=r"is C4H4S, not the declared pyridine \(C5H5N\)") as err:
        import_conformation(write_variant(tmp_path, dft_like, "thiophene_file"), mfi, pyridine, "T5")
    assert "thiophene_file.cif" in str(err.value) and "molecule column" in str(err.value)


def test_no_acid_proton_and_no_periodic_cell_are_errors(tmp_path, mfi, thiophene, dft_like):
    no_h = dft_like[[i for i in range(len(dft_like)) if dft_like.arrays["site"][i] != "acid_H"]]
    with pytest.raises(InputError, match="no acid proton"):
        import_conformation(write_variant(tmp_path, no_h, "no_proton"), mfi, thiophene, "T5")
    molecule_only = tmp_path / "no_cell.xyz"
    write(molecule_only, Atoms(dft_like.symbols, positions=dft_like.positions), format="xyz")
    with pytest.raises(InputError, match="no periodic cell") as err:
        import_conformation(molecule_only, mfi, thiophene, "T5")
    assert "no_cell.xyz" in str(err.value)


def test_swapped_axes_are_named(tmp_path, mfi, thiophene, dft_like):
    order = [1, 0, 2]  # a ↔ b: the beam (b) would run along a
    swapped = Atoms(dft_like.symbols, scaled_positions=dft_like.get_scaled_positions()[:, order],
                    cell=dft_like.cell.cellpar()[order + [3, 4, 5]], pbc=True)  # fmt: skip
    with pytest.raises(InputError, match="cell axes are swapped") as err:
        import_conformation(write_variant(tmp_path, swapped, "swapped"), mfi, thiophene, "T5")
    assert "swapped.cif" in str(err.value) and "beam axis b" in str(err.value)


def test_al_on_two_different_tsites(tmp_path, mfi, thiophene, dft_like):
    other = int(np.flatnonzero(dft_like.arrays["site"] == "T1")[0])
    path = write_variant(tmp_path, _replace(dft_like, other, "Al"), "two_sites")
    with pytest.raises(InputError, match=r"different T-sites \['T1', 'T5'\]"):
        import_conformation(path, mfi, thiophene, "T5")


def test_corrupt_and_missing_files(tmp_path, mfi, thiophene):
    corrupt = tmp_path / "corrupt.cif"
    corrupt.write_text("data_x\n_cell_length_a 20\nthis is not a cif\n")
    with pytest.raises(InputError, match="corrupt.cif"):
        import_conformation(corrupt, mfi, thiophene, "T1")
    with pytest.raises(InputError, match="not found"):
        import_conformation(tmp_path / "missing.cif", mfi, thiophene, "T1")


DFT_FILES = sorted(SHARED_DFT.glob("*.cif")) if SHARED_DFT.is_dir() else []


@pytest.mark.skipif(not DFT_FILES, reason="../shared/data/dft/thiophene is not beside this checkout")
@pytest.mark.parametrize("path", DFT_FILES, ids=lambda p: p.name)
def test_example_dft_files_import_with_the_tsite_of_their_name(path, mfi, thiophene):
    tsite = path.stem.split("-")[0]
    atoms = import_conformation(path, mfi, thiophene, tsite)
    assert atoms.info["tsite"] == tsite
    assert atoms.info["cells_along_beam"] == 2
    assert atoms.info["registration_mismatch_A"] < 0.5
