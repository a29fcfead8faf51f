"""Import a DFT-relaxed conformation (CIF, POSCAR/CONTCAR, extxyz, vasprun.xml, …) and validate it.

Checks, each with an error that names the file: readable; a supercell of the framework; T and
framework-O counts; Al present, at most one per cell along the beam, all on one T-site orbit, and
that orbit equal to the declared T-site; exactly one intact molecule of the declared formula; an acid
proton on an O of the Al, or transferred to the molecule (then the O nearest to it is the acid O).
A cell whose axes are swapped relative to the framework (the beam not along its axis) is named as such. The
result is expressed in the reference frame (origin and axis directions of the framework definition).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read
from ase.neighborlist import natural_cutoffs, neighbor_list
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from zeostem.errors import InputError
from zeostem.structures.framework import Framework, tetrahedral_bonds
from zeostem.structures.molecules import Molecule
from zeostem.structures.registration import RegistrationError, label_sites, register

ACID_OH_MAX_A = 1.25


def import_conformation(path: str | Path, framework: Framework, molecule: Molecule, tsite: str) -> Atoms:
    """Read ``path``, validate it against framework, molecule and declared ``tsite``; return it labelled."""
    path = Path(path)
    atoms = _read_structure(path)

    def fail(problem: str, fix: str) -> InputError:
        return InputError(problem, path=path, fix=fix)

    t_mask = np.isin(atoms.symbols, ["Si", "Al"])
    o_mask = atoms.symbols == "O"
    t_idx, o_idx, _ = tetrahedral_bonds(atoms, t_mask, o_mask)
    framework_o = np.zeros(len(atoms), bool)
    framework_o[o_idx] = True
    try:
        reg = register(atoms, t_mask, framework)
    except RegistrationError as exc:
        raise fail(
            f"not a {framework.name} structure: {exc}",
            f"give a relaxed {framework.name} supercell with the beam axis "
            f"({'abc'[framework.beam_axis]}) as in {framework.source.name}",
        ) from exc
    n = reg.cells_along_beam
    n_t_ref = int(np.sum(framework.unit_cell.symbols == "Si"))
    n_o_ref = int(np.sum(framework.unit_cell.symbols == "O"))
    if t_mask.sum() != n * n_t_ref or framework_o.sum() != n * n_o_ref:
        raise fail(
            f"expected {n * n_t_ref} T and {n * n_o_ref} framework O atoms for {n} cell(s), found "
            f"{t_mask.sum()} T and {framework_o.sum()} framework O",
            "export the complete periodic cell (no missing or duplicated framework atoms)",
        )

    frac_ref = reg.to_reference(atoms.get_scaled_positions(), framework.beam_axis)
    al = np.flatnonzero(atoms.symbols == "Al")
    if len(al) == 0:
        raise fail("no Al atom: nothing marks the acid site", "import the Al-substituted structure")
    if len(al) > n:
        raise fail(
            f"{len(al)} Al atoms in {n} cell(s) along the beam; at most one per cell is allowed",
            "import a structure with a single acid site per cell",
        )
    inferred = sorted(
        {str(s) for s in label_sites(frac_ref[al], framework.unit_cell, ("Si",), framework.cell)}
    )
    if len(inferred) > 1:
        raise fail(f"its Al atoms sit on different T-sites {inferred}", "keep one T-site per structure")
    if inferred[0] != tsite:
        raise fail(
            f"declared T-site {tsite} but the Al sits on {inferred[0]} (inferred by registering the "
            f"framework onto {framework.name})",
            f"set tsite to {inferred[0]} in the conformations sheet, or check the file",
        )

    labels = np.full(len(atoms), "molecule", dtype="<U12")
    labels[t_mask] = label_sites(frac_ref[t_mask], framework.unit_cell, ("Si",), framework.cell)
    labels[framework_o] = label_sites(frac_ref[framework_o], framework.unit_cell, ("O",), framework.cell)
    acid_h, acid_o = _acid_protons(atoms, framework_o)
    labels[acid_h] = "acid_H"
    protonated = _check_molecule(atoms, labels == "molecule", molecule, fail)
    if acid_o is None and protonated:  # the acid proton moved onto the molecule: its donor O is the acid O
        acid_o = _donor_oxygen(atoms, labels == "molecule", molecule.anchor, o_idx[np.isin(t_idx, al)])
    if acid_o is None:
        raise fail(
            "no acid proton: no H on a framework O, and the molecule is not protonated next to the Al",
            "import the structure with its Brønsted H (on an O of the Al, or transferred to the molecule)",
        )

    result = Atoms(
        atoms.symbols,
        scaled_positions=reg.to_supercell(atoms.get_scaled_positions(), framework.beam_axis),
        cell=atoms.cell,
        pbc=True,
    )
    result.new_array("site", labels)
    result.info = {
        "framework": framework.name,
        "molecule": molecule.name,
        "tsite": tsite,
        "acid_o_site": str(labels[acid_o]),
        "protonated": protonated,
        "source": f"imported:{path.name}",
        "cells_along_beam": n,
        "registration_mismatch_A": round(reg.mean_mismatch_A, 4),
    }
    return result


def _read_structure(path: Path) -> Atoms:
    fix = "give a structure file ase.io can read: CIF, POSCAR/CONTCAR, extxyz or vasprun.xml"
    if not path.is_file():
        raise InputError("structure file not found", path=path, fix="check the `file` column of the sheet")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ase warns about P1 settings of Materials Studio CIFs
            atoms = read(path)
    except Exception as exc:  # ase raises many exception types for malformed files
        raise InputError(
            f"cannot read the structure ({type(exc).__name__}: {exc})", path=path, fix=fix
        ) from exc
    if isinstance(atoms, list) or len(atoms) == 0:
        raise InputError("the file holds no structure", path=path, fix=fix)
    if atoms.cell.rank < 3:
        raise InputError("the structure has no periodic cell", path=path, fix="export the periodic cell")
    atoms.pbc = True
    return atoms


def _acid_protons(atoms: Atoms, framework_o: np.ndarray) -> tuple[np.ndarray, int | None]:
    """Indices of H atoms bonded to framework O, and the O of the first one."""
    i, j = neighbor_list("ij", atoms, ACID_OH_MAX_A)
    bonded = (atoms.symbols[i] == "H") & framework_o[j]
    h = np.unique(i[bonded])
    return h, (int(j[bonded][0]) if bonded.any() else None)


def _donor_oxygen(atoms: Atoms, molecule_mask: np.ndarray, anchor: str, al_oxygens: np.ndarray) -> int | None:
    """The O of the Al nearest to the H bonded to the molecule's anchor atom (the transferred proton)."""
    i, j = neighbor_list("ij", atoms, ACID_OH_MAX_A + 0.2)
    on_anchor = molecule_mask[i] & (atoms.symbols[i] == "H") & (atoms.symbols[j] == anchor) & molecule_mask[j]
    protons = np.unique(i[on_anchor])
    if not len(protons) or not len(al_oxygens):
        return None
    distances = np.array([atoms.get_distances(h, al_oxygens, mic=True) for h in protons])
    return int(al_oxygens[np.unravel_index(distances.argmin(), distances.shape)[1]])


def _check_molecule(atoms: Atoms, mask: np.ndarray, molecule: Molecule, fail) -> bool:
    """Exactly one connected molecule with the declared formula or its protonated form (returns which)."""
    fix = f"the conformation should hold one intact {molecule.name} ({molecule.formula})"
    if not mask.any():
        raise fail("no molecule found besides the framework", fix)
    sub = atoms[mask]
    i, j = neighbor_list("ij", sub, [c * 1.15 for c in natural_cutoffs(sub)])
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(len(sub), len(sub)))
    n_parts, _ = connected_components(graph, directed=False)
    formula = sub.get_chemical_formula(mode="hill")
    protonated = (molecule.atoms + Atoms("H")).get_chemical_formula(mode="hill")
    if n_parts == 1 and formula not in (molecule.formula, protonated):
        raise fail(
            f"the molecule in the file is {formula}, not the declared {molecule.name} ({molecule.formula})",
            "set the sheet's molecule column to the molecule the file holds, or check the file",
        )
    if n_parts != 1:
        raise fail(f"the non-framework atoms form {n_parts} fragment(s) with formula {formula}", fix)
    ref_i, _ = neighbor_list("ij", molecule.atoms, [c * 1.15 for c in natural_cutoffs(molecule.atoms)])
    if formula == molecule.formula and len(i) != len(ref_i):
        raise fail(f"the molecule has {len(i) // 2} bonds, {molecule.name} has {len(ref_i) // 2}", fix)
    return formula == protonated
