"""Structures the references were not made from: a candidate as a relaxation or a sample would change it.

``perturbed``: the molecule is turned rigidly about its anchor atom by up to ``rotation_deg`` (random
axis) and moved by up to ``shift_A`` (random direction); the four O around the Al move out along Al–O
by ``al_o_stretch_A`` (DFT puts Al–O near 1.70 Å against Si–O's 1.61 Å), carrying the acid H with its
O; the cell (atoms with it) is stretched along each axis by its own random fraction up to
``cell_strain`` (a relaxed cell is a few per cent larger than the IZA one, not equally along a and c).
``thickened``: a crystal several cells thick along the beam, the molecule (with its Al and acid H) at
one random depth, the other cells bare silica.
``realistic_structure``: structure ``index`` of a candidate as the config's ``realistic`` section asks
(its own seeded perturbation, then the thickness the section's list gives it in turn).
Such structures make the realistic test and validation sets; none of them is ever a reference.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from zeostem.structures.geometry import axis_angle_matrices, minimum_image, unit

AL_O_BOND_A = 2.0  # O within this of the Al are its tetrahedron

# the ``realistic`` config keys a realistic structure depends on (``realistic_structure``)
PERTURBATION_KEYS = ("rotation_deg", "shift_A", "al_o_stretch_A", "cell_strain", "thickness_cells")


def perturbed(
    atoms: Atoms,
    rng: np.random.Generator,
    rotation_deg: float,
    shift_A: float,
    al_o_stretch_A: float,
    cell_strain: float = 0.0,
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
    strain = rng.uniform(0, cell_strain, size=3)
    out.set_cell(cell * (1 + strain)[:, None], scale_atoms=True)
    out.info.update(
        perturbed_rotation_deg=round(float(np.degrees(angle)), 3),
        perturbed_shift_A=round(float(np.linalg.norm(shift)), 4),
        perturbed_al_o_stretch_A=float(al_o_stretch_A),
        perturbed_cell_strain=",".join(f"{s:.4f}" for s in strain),
        source=f"perturbed:{atoms.info.get('conformation', '')}",
    )
    out.wrap()
    return out


def thickened(atoms: Atoms, cells: int, beam_axis: int, rng: np.random.Generator) -> Atoms:
    """``cells`` copies of ``atoms`` along the beam with the molecule, its acid H and the Al in one of
    them (chosen at random); in the others the Al is Si and there is no molecule."""
    repeats = [1, 1, 1]
    repeats[beam_axis] = cells
    out = atoms.repeat(repeats)  # copy m holds atoms m·n … (m+1)·n − 1
    depth = int(rng.integers(cells))
    elsewhere = np.repeat(np.arange(cells), len(atoms)) != depth
    site = out.arrays["site"]
    out.symbols[elsewhere & (out.symbols == "Al")] = "Si"
    out = out[~(elsewhere & np.isin(site, ["molecule", "acid_H"]))]
    molecule = out.arrays["site"] == "molecule"  # in one piece (it may straddle the thin cell's face)
    first = out.positions[molecule][0]
    out.positions[molecule] = first + minimum_image(out.positions[molecule] - first, atoms.cell.array)
    out.wrap()
    out.info.update(thickness_cells=cells, molecule_depth_cell=depth)
    return out


def realistic_structure(
    atoms: Atoms, parent: str, index: int, realistic: dict, seed: int, beam_axis: int
) -> Atoms:
    """Realistic structure ``index`` of candidate ``atoms`` (conformation ``parent``): perturbed
    by ``realistic``'s ``rotation_deg``, ``shift_A``, ``al_o_stretch_A`` and ``cell_strain``, then
    ``thickness_cells[index mod length]`` cells thick; its random draws are seeded by ``seed``,
    ``index`` and ``parent``, so every structure is reproducible and differs from the others."""
    rng = np.random.default_rng([seed, index, *map(ord, parent)])
    out = perturbed(
        atoms, rng, realistic["rotation_deg"], realistic["shift_A"], realistic["al_o_stretch_A"],
        realistic["cell_strain"],
    )  # fmt: skip
    thickness = realistic["thickness_cells"]
    return thickened(out, thickness[index % len(thickness)], beam_axis, rng)
