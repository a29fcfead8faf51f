"""Adsorbate molecules: geometry plus the atom that binds the acid proton."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read

from zeostem.errors import InputError


@dataclass(frozen=True)
class Molecule:
    """A molecule and how it binds a Brønsted site: ``anchor`` element at ``anchor_distance_A`` from H."""

    name: str
    atoms: Atoms
    anchor: str
    anchor_distance_A: float

    @property
    def formula(self) -> str:
        return self.atoms.get_chemical_formula(mode="hill")

    @property
    def anchor_index(self) -> int:
        return int(np.flatnonzero(self.atoms.symbols == self.anchor)[0])


def load_molecule(name: str, path: str | Path) -> Molecule:
    """Read a molecule file (extxyz, or anything ASE reads) with ``anchor``/``anchor_distance_A`` info."""
    path = Path(path)
    fix = (
        "give an extxyz file whose comment line sets anchor=<element binding the acid H> and "
        "anchor_distance_A=<H...anchor distance>, like resources/molecules/pyridine.xyz"
    )
    try:
        atoms = read(path)
    except FileNotFoundError as exc:
        raise InputError(f"molecule {name!r} file not found", path=path, fix=fix) from exc
    except Exception as exc:  # ase raises many types for unreadable files
        raise InputError(f"cannot read molecule {name!r} ({exc})", path=path, fix=fix) from exc
    anchor = atoms.info.get("anchor")
    distance = atoms.info.get("anchor_distance_A")
    if anchor is None or distance is None:
        raise InputError(f"molecule {name!r} does not say which atom binds the acid H", path=path, fix=fix)
    if anchor not in atoms.symbols:
        raise InputError(f"molecule {name!r} has no {anchor} atom to bind the acid H", path=path, fix=fix)
    atoms.pbc = False
    atoms.cell = None
    return Molecule(name=name, atoms=atoms, anchor=str(anchor), anchor_distance_A=float(distance))
