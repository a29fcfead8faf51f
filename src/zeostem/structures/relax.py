"""ML relaxation of candidate conformations (CHGNet or SevenNet through ASE), with sanity checks.

Both potentials ship their weights inside their wheels, so they load offline. A relaxation is
rejected (error, no output) when it breaks the framework (an atom moves further than allowed) or
lets the molecule leave the acid site (anchor–H, or for a transferred proton N–H and H–O, too long).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.optimize import BFGS, FIRE

OPTIMIZERS = {"FIRE": FIRE, "BFGS": BFGS}


@dataclass(frozen=True)
class RelaxSettings:
    method: str = "chgnet"
    optimizer: str = "FIRE"
    fmax: float = 0.05
    max_steps: int = 300
    max_framework_displacement_A: float = 1.0
    max_anchor_distance_A: float = 3.0
    device: str = "cpu"


class RelaxationRejected(RuntimeError):
    """The relaxed structure failed a sanity check; the message says which."""


def make_calculator(method: str, device: str = "cpu"):
    """An ASE calculator for ``chgnet`` or ``sevenn`` (imported lazily: both are heavy)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "chgnet":
            from chgnet.model.dynamics import CHGNetCalculator

            return CHGNetCalculator(use_device=device)
        if method == "sevenn":
            from sevenn.calculator import SevenNetCalculator

            return SevenNetCalculator(model="7net-0", device=device)
    raise ValueError(f"unknown relaxation method {method!r} (use chgnet or sevenn)")


def relax(conformation: Atoms, settings: RelaxSettings, calculator=None, logfile: str = "-") -> Atoms:
    """Relax all atoms at fixed cell; record energies, steps and displacements in ``info``."""
    atoms = conformation.copy()
    atoms.calc = calculator or make_calculator(settings.method, settings.device)
    start = atoms.get_positions()
    energy_start = float(atoms.get_potential_energy())
    optimizer = OPTIMIZERS[settings.optimizer](atoms, logfile=logfile)
    converged = bool(optimizer.run(fmax=settings.fmax, steps=settings.max_steps))
    energy = float(atoms.get_potential_energy())
    displacement = np.linalg.norm(atoms.get_positions() - start, axis=1)
    framework = np.isin(atoms.arrays["site"], ["molecule", "acid_H"], invert=True)
    anchor_distance = acid_site_distance(atoms)
    atoms.calc = None
    atoms.info.update(
        source=f"relaxed:{settings.method}",
        energy=energy,
        energy_start=energy_start,
        relax_steps=int(optimizer.nsteps),
        relax_converged=converged,
        max_framework_displacement_A=round(float(displacement[framework].max()), 4),
        anchor_distance_A=round(anchor_distance, 4),
    )
    if displacement[framework].max() > settings.max_framework_displacement_A:
        raise RelaxationRejected(
            f"a framework atom moved {displacement[framework].max():.2f} Å "
            f"(> {settings.max_framework_displacement_A} Å): the framework did not stay intact"
        )
    if anchor_distance > settings.max_anchor_distance_A:
        raise RelaxationRejected(
            f"the molecule left the acid site: proton–molecule or proton–O distance {anchor_distance:.2f} Å "
            f"(> {settings.max_anchor_distance_A} Å)"
        )
    return atoms


def acid_site_distance(atoms: Atoms) -> float:
    """The longer of proton–molecule (nearest heavy atom) and proton–framework O distances.

    Small whether the proton stays on the O (N⋯H–O) or moves to the molecule (N–H⋯O); large when
    the molecule, with or without the proton, has drifted away from the acid site.
    """
    site = atoms.arrays["site"]
    h = int(np.flatnonzero(site == "acid_H")[0])
    heavy = np.flatnonzero((site == "molecule") & (atoms.numbers != 1))
    oxygen = np.flatnonzero(np.char.startswith(site.astype(str), "O") & (atoms.symbols == "O"))
    to_molecule = atoms.get_distances(h, heavy, mic=True).min()
    to_framework = atoms.get_distances(h, oxygen, mic=True).min()
    return float(max(to_molecule, to_framework))
