"""Structures the references were not made from: a candidate as a relaxation or a sample would change it.

The molecule is turned rigidly about its anchor atom by up to ``rotation_deg`` (random axis) and moved
by up to ``shift_A`` (random direction); the four O around the Al move out along Al–O by
``al_o_stretch_A`` (DFT puts Al–O near 1.70 Å against Si–O's 1.61 Å), carrying the acid H with its O.
Such structures make the realistic test and validation sets; none of them is ever a reference.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from zeostem.structures.geometry import axis_angle_matrices, minimum_image, unit

AL_O_BOND_A = 2.0  # O within this of the Al are its tetrahedron


def perturbed(
    atoms: Atoms, rng: np.random.Generator, rotation_deg: float, shift_A: float, al_o_stretch_A: float
) -> Atoms:
    """A copy of ``atoms`` with its molecule's pose and its Al's O tetrahedron perturbed (see the module)."""
    out = atoms.copy()
    site = out.arrays["site"]
    molecule = site == "molecule"
    positions = out.positions
    cell = out.cell.array
    h = positions[site == "acid_H"][0]
    anchor = positions[molecule][
        np.argmin(np.linalg.norm(minimum_image(positions[molecule] - h, cell), axis=1))
    ]
    axis = unit(rng.normal(size=3))
    angle = np.radians(rng.uniform(-rotation_deg, rotation_deg))
    turn = axis_angle_matrices(axis[None], np.array([angle]))[0]
    shift = unit(rng.normal(size=3)) * rng.uniform(0, shift_A)
    relative = minimum_image(positions[molecule] - anchor, cell)  # the molecule may straddle the cell
    positions[molecule] = relative @ turn.T + anchor + shift
    al = np.flatnonzero(out.symbols == "Al")
    if len(al):
        bonds = minimum_image(positions - positions[al[0]], cell)
        oxygens = np.flatnonzero((out.symbols == "O") & (np.linalg.norm(bonds, axis=1) < AL_O_BOND_A))
        for o in oxygens:
            step = unit(bonds[o]) * al_o_stretch_A
            positions[o] += step
            near = np.linalg.norm(minimum_image(positions - positions[o], cell), axis=1) < 1.2
            positions[(site == "acid_H") & near] += step
    out.positions = positions
    out.info.update(
        perturbed_rotation_deg=round(float(np.degrees(angle)), 3),
        perturbed_shift_A=round(float(np.linalg.norm(shift)), 4),
        perturbed_al_o_stretch_A=float(al_o_stretch_A),
        source=f"perturbed:{atoms.info.get('conformation', '')}",
    )
    out.wrap()
    return out
