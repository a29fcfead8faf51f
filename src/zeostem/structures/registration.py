"""Register a framework structure onto the reference framework and label its sites.

An imported structure may use another origin, flipped axes, a slightly larger (relaxed) cell and
several cells along the beam. In fractional coordinates of one cell, the reference and the import
differ by an axis flip and an origin shift only; we try all 8 flips and every shift that puts one
T atom onto a reference T atom, and keep the one with the smallest mean T–T mismatch.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from zeostem.structures.framework import Framework

CELL_TOLERANCE = 0.05
COARSE_KEEP = 16  # trials refined after the one-step screen
MAX_MEAN_MISMATCH_A = 0.8  # DFT-relaxed cells (≈3 % larger) measured at ≈0.4 Å


class RegistrationError(ValueError):
    """The structure is not (a supercell of) the framework; the message says why."""


@dataclass(frozen=True)
class Registration:
    """Map from a structure's fractional coordinates to the reference cell: ``flip * (f * reps) + shift``."""

    cells_along_beam: int
    flip: np.ndarray
    shift: np.ndarray
    mean_mismatch_A: float

    def to_supercell(self, frac: np.ndarray, beam_axis: int) -> np.ndarray:
        """Fractional coordinates of the structure's own cell, flipped and shifted onto the reference."""
        shift = np.array(self.shift, dtype=float)
        shift[beam_axis] /= self.cells_along_beam
        return np.mod(self.flip * np.asarray(frac, dtype=float) + shift, 1.0)

    def to_reference(self, frac: np.ndarray, beam_axis: int) -> np.ndarray:
        """Fractional coordinates of the structure's cell → fractional coordinates of one reference cell."""
        scaled = self.to_supercell(frac, beam_axis)
        scaled[:, beam_axis] *= self.cells_along_beam
        return np.mod(scaled, 1.0)


def cells_along_beam(atoms: Atoms, framework: Framework) -> int:
    """How many framework cells the structure's cell holds along the beam; error if it is no supercell."""
    if not atoms.cell.rank == 3:
        raise RegistrationError("the structure has no periodic cell")
    lengths, angles = atoms.cell.cellpar()[:3], atoms.cell.cellpar()[3:]
    ref = np.asarray(framework.cellpar)
    if np.any(np.abs(angles - ref[3:]) > 2.0):
        raise RegistrationError(
            f"cell angles {angles.round(2).tolist()} differ from {framework.name}'s {ref[3:].tolist()}"
        )
    n = _supercell_multiple(lengths, ref[:3], framework.beam_axis)
    if n is None:
        orders = [o for o in itertools.permutations(range(3)) if o != (0, 1, 2)]
        beam = framework.beam_axis
        swapped = next((o for o in orders if _supercell_multiple(lengths[list(o)], ref[:3], beam)), None)
        if swapped is not None:
            names = "abc"
            axes = ", ".join(
                f"the file's {names[o]} is {framework.name}'s {names[k]}" for k, o in enumerate(swapped)
            )
            raise RegistrationError(
                f"its cell axes are swapped relative to {framework.name} ({axes}; lengths "
                f"{lengths.round(3).tolist()} Å vs {ref[:3].tolist()} Å): the beam axis "
                f"{names[framework.beam_axis]} is not where the framework has it"
            )
        raise RegistrationError(
            f"cell lengths {lengths.round(3).tolist()} Å are not within {CELL_TOLERANCE:.0%} of "
            f"{framework.name}'s {ref[:3].tolist()} Å (or an integer multiple along the beam axis)"
        )
    return n


def _supercell_multiple(lengths: np.ndarray, ref: np.ndarray, beam_axis: int) -> int | None:
    """Cells along the beam when ``lengths`` match ``ref`` (the beam axis an integer multiple), else None."""
    ratio = lengths / ref
    n = max(1, int(round(ratio[beam_axis])))
    ratio[beam_axis] /= n
    return n if np.all(np.abs(ratio - 1.0) <= CELL_TOLERANCE) else None


def register(atoms: Atoms, t_mask: np.ndarray, framework: Framework) -> Registration:
    """Find the flip and origin shift that put the structure's T atoms onto the reference's."""
    n = cells_along_beam(atoms, framework)
    ref = framework.unit_cell
    ref_t = ref.get_scaled_positions()[ref.symbols == "Si"]
    frac_t = atoms.get_scaled_positions()[t_mask]
    frac_t[:, framework.beam_axis] *= n
    cell = framework.cell
    flips = [np.asarray(f) for f in itertools.product((1.0, -1.0), repeat=3)]
    trials = [(flip, start) for flip in flips for start in ref_t - flip * frac_t[0]]
    coarse = [_refine_shift(flip * frac_t, start, ref_t, cell, steps=1)[1] for flip, start in trials]
    refined = []
    for k in np.argsort(coarse)[:COARSE_KEEP]:
        flip, start = trials[k]
        shift, mismatch, nearest = _refine_shift(flip * frac_t, start, ref_t, cell)
        refined.append((mismatch, Registration(n, flip, np.mod(shift, 1.0), mismatch), nearest))
    _, best, best_nearest = min(refined, key=lambda r: r[0])
    if best.mean_mismatch_A > MAX_MEAN_MISMATCH_A:
        raise RegistrationError(
            f"its T atoms do not match the {framework.name} framework (mean mismatch "
            f"{best.mean_mismatch_A:.2f} Å after the best origin shift and axis flip)"
        )
    if np.any(np.bincount(best_nearest, minlength=len(ref_t)) != n):
        raise RegistrationError(
            f"its T atoms do not map one-to-one onto the {framework.name} T atoms "
            f"({n} cell(s) along the beam); the framework is distorted or incomplete"
        )
    return best


def _refine_shift(frac: np.ndarray, shift: np.ndarray, ref: np.ndarray, cell: np.ndarray, steps: int = 3):
    """Move ``shift`` to the mean offset of matched pairs (a few rounds); return it, mismatch, matches."""
    for _ in range(steps):
        delta = (frac + shift)[:, None, :] - ref[None, :, :]
        delta -= np.round(delta)
        dist = np.linalg.norm(delta @ cell, axis=-1)
        nearest = dist.argmin(axis=1)
        shift = shift - delta[np.arange(len(frac)), nearest].mean(axis=0)
    return shift, float(dist.min(axis=1).mean()), nearest


def label_sites(
    frac: np.ndarray, reference: Atoms, elements: tuple[str, ...], cell: np.ndarray
) -> np.ndarray:
    """Label each (reference-cell fractional) position with the site of the nearest reference atom."""
    mask = np.isin(reference.symbols, elements)
    ref_frac = reference.get_scaled_positions()[mask]
    delta = frac[:, None, :] - ref_frac[None, :, :]
    delta -= np.round(delta)
    nearest = np.linalg.norm(delta @ cell, axis=-1).argmin(axis=1)
    return reference.arrays["site"][mask][nearest]


def infer_tsites(atoms: Atoms, framework: Framework) -> dict[int, str]:
    """Crystallographic T-site of every Al atom in ``atoms`` (index → label, e.g. ``{96: 'T1'}``)."""
    t_mask = np.isin(atoms.symbols, ["Si", "Al"])
    reg = register(atoms, t_mask, framework)
    al = np.flatnonzero(atoms.symbols == "Al")
    frac = reg.to_reference(atoms.get_scaled_positions()[al], framework.beam_axis)
    labels = label_sites(frac, framework.unit_cell, ("Si",), framework.cell)
    return {int(i): str(label) for i, label in zip(al, labels, strict=True)}
