"""Zeolite framework definitions: load a definition file, expand it to a labelled P1 cell.

A definition file (YAML, see ``resources/frameworks/MFI.yaml``) holds the cell, the space group's
symmetry operations and the asymmetric unit (T sites and O sites in fractional coordinates). Nothing
here knows about a particular framework: another one is added by dropping its file beside MFI's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import numpy as np
import yaml
from ase import Atoms
from ase.geometry import cellpar_to_cell
from ase.neighborlist import neighbor_list

from zeostem.errors import InputError

AXES = "abc"
T_O_BOND_MAX_A = 2.0  # Si–O ≈ 1.61 Å, Al–O ≈ 1.75 Å; next neighbours are > 2.5 Å away
SITE_TOLERANCE_FRAC = 1e-3


def parse_symmetry_operation(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse an operation such as ``'1/2-x,1/2+y,z'`` into (rotation 3×3, translation 3)."""
    parts = [p.strip().replace(" ", "") for p in text.split(",")]
    if len(parts) != 3:
        raise ValueError(f"symmetry operation {text!r} does not have three components")
    rotation = np.zeros((3, 3))
    translation = np.zeros(3)
    for row, part in enumerate(parts):
        for sign, token in re.findall(r"([+-]?)([^+-]+)", part):
            value = -1.0 if sign == "-" else 1.0
            if token in ("x", "y", "z"):
                rotation[row, "xyz".index(token)] = value
            else:
                translation[row] = value * float(Fraction(token))
    return rotation, translation


@dataclass(frozen=True)
class Framework:
    """A zeolite framework: cell, symmetry and asymmetric unit, expandable to a P1 cell."""

    name: str
    cellpar: tuple[float, float, float, float, float, float]
    symmetry_operations: tuple[str, ...]
    t_sites: dict[str, tuple[float, float, float]]
    o_sites: dict[str, tuple[float, float, float]]
    beam_axis: int
    citation: str
    source: Path

    @property
    def cell(self) -> np.ndarray:
        return cellpar_to_cell(self.cellpar)

    @cached_property
    def unit_cell(self) -> Atoms:
        """The P1 cell: Si on T sites, O on O sites; ``arrays['site']`` holds each atom's label."""
        ops = [parse_symmetry_operation(op) for op in self.symmetry_operations]
        symbols, labels, positions = [], [], []
        for element, sites in (("Si", self.t_sites), ("O", self.o_sites)):
            for label, frac in sites.items():
                for orbit_frac in _orbit(np.asarray(frac, float), ops):
                    symbols.append(element)
                    labels.append(label)
                    positions.append(orbit_frac)
        atoms = Atoms(symbols, scaled_positions=positions, cell=self.cell, pbc=True)
        atoms.new_array("site", np.array(labels, dtype="<U12"))
        return atoms

    def supercell(self, cells_along_beam: int) -> Atoms:
        """The P1 cell repeated ``cells_along_beam`` times along the beam axis."""
        reps = [1, 1, 1]
        reps[self.beam_axis] = cells_along_beam
        return self.unit_cell.repeat(reps)

    def orbit_sizes(self) -> dict[str, int]:
        labels = self.unit_cell.arrays["site"]
        return {label: int(np.sum(labels == label)) for label in self.t_sites}


def _orbit(frac: np.ndarray, ops: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """Distinct images of one fractional position under the symmetry operations."""
    images: list[np.ndarray] = []
    for rotation, translation in ops:
        image = np.mod(rotation @ frac + translation, 1.0)
        if not any(_same_site(image, other) for other in images):
            images.append(image)
    return images


def _same_site(a: np.ndarray, b: np.ndarray) -> bool:
    delta = a - b
    delta -= np.round(delta)
    return bool(np.all(np.abs(delta) < SITE_TOLERANCE_FRAC))


def load_framework(path: str | Path) -> Framework:
    """Read a framework definition file; the error names the file and the missing key."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "framework definition not found",
            path=path,
            fix="set `framework` in config.yaml to a file under resources/frameworks/",
        )
    try:
        data = yaml.safe_load(path.read_text())
        cell = data["cell"]
        return Framework(
            name=str(data["name"]),
            cellpar=tuple(float(cell[k]) for k in ("a", "b", "c", "alpha", "beta", "gamma")),
            symmetry_operations=tuple(data["symmetry_operations"]),
            t_sites={k: tuple(map(float, v)) for k, v in data["t_sites"].items()},
            o_sites={k: tuple(map(float, v)) for k, v in data["o_sites"].items()},
            beam_axis=AXES.index(data.get("beam_axis", "b")),
            citation=str(data.get("citation", "")),
            source=path,
        )
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise InputError(
            f"not a valid framework definition ({type(exc).__name__}: {exc})",
            path=path,
            fix="follow the format of resources/frameworks/MFI.yaml (name, cell, "
            "symmetry_operations, t_sites, o_sites)",
        ) from exc


def tetrahedral_bonds(atoms: Atoms, t_mask: np.ndarray, o_mask: np.ndarray):
    """Periodic T–O bonds: arrays (t_index, o_index, vector T→O) for every bond shorter than 2 Å."""
    i, j, d_vec = neighbor_list("ijD", atoms, T_O_BOND_MAX_A)
    keep = t_mask[i] & o_mask[j]
    return i[keep], j[keep], d_vec[keep]


def site_order(label: str) -> tuple[str, int]:
    """Framework order of a site label: ``T2`` before ``T11``, T-sites before O sites."""
    digits = "".join(ch for ch in label if ch.isdigit())
    return (label.rstrip("0123456789"), int(digits) if digits else 0)
