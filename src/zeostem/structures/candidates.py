"""Candidate conformations: one Al T-site + acid O + a molecule bound to the acid proton.

For a T-site and one of its bridging O atoms: Si→Al on the orbit member whose O–H points best into
a channel intersection, the acid H in the Al–O–Si plane pointing away from both T atoms, and the
molecule placed so that its anchor atom (pyridine N, thiophene S) sits at its H-bond distance from
the H, the ring reaches into the pore, and no other contact is shorter than ``MIN_CONTACT_A``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree

from zeostem.errors import InputError
from zeostem.structures.framework import Framework, site_order, tetrahedral_bonds
from zeostem.structures.geometry import (
    axis_angle_matrices,
    directions_in_cone,
    image_tree,
    minimum_image,
    periodic_images,
    rotations_between,
    unit,
)
from zeostem.structures.molecules import Molecule
from zeostem.structures.pores import find_pores

O_H_BOND_A = 0.97
MIN_CONTACT_A = 2.0
OPEN_PROBE_A = 3.0  # a bridging O "faces a channel" if the point this far along O–H is open
OPEN_RADIUS_A = 2.5
ENVIRONMENT_RADIUS_A = 14.0
N_SAMPLES = 6000

AcidOChoice = Literal["first", "all"]


@dataclass(frozen=True)
class AcidSite:
    """A possible Brønsted site: Al on ``t_index``, H on ``o_index`` at ``h_position``."""

    tsite: str
    proton_o: str
    t_index: int
    o_index: int
    h_position: np.ndarray
    h_direction: np.ndarray
    intersection_distance_A: float
    faces_channel: bool


@dataclass(frozen=True)
class CandidateSpec:
    """What to build: ``conformation`` id = ``{molecule}_{tsite}_{proton_o}``."""

    conformation: str
    molecule: str
    tsite: str
    proton_o: str


def conformation_id(molecule: str, tsite: str, proton_o: str) -> str:
    return f"{molecule}_{tsite}_{proton_o}"


def acid_sites(framework: Framework, cells_along_beam: int = 1) -> list[AcidSite]:
    """Best orbit member for every (T-site, bridging O label) pair of the framework."""
    atoms = framework.supercell(cells_along_beam)
    t_mask = np.isin(atoms.symbols, ["Si", "Al"])
    o_mask = atoms.symbols == "O"
    t_idx, o_idx, t_to_o = tetrahedral_bonds(atoms, t_mask, o_mask)
    intersections = find_pores(atoms).intersections
    tree = image_tree(atoms)
    cell = np.asarray(atoms.cell)
    labels = atoms.arrays["site"]
    best: dict[tuple[str, str], AcidSite] = {}
    for t, o, vec in zip(t_idx, o_idx, t_to_o, strict=True):
        other = (o_idx == o) & (t_idx != t)
        if other.sum() != 1:
            continue  # not a bridging O
        u_al = unit(-vec)
        u_si = unit(-t_to_o[other][0])
        direction = -unit(u_al + u_si)
        h = atoms.positions[o] + O_H_BOND_A * direction
        facing = float(np.min(np.linalg.norm(minimum_image(intersections - h, cell), axis=1)))
        openness, _ = tree.query(atoms.positions[o] + OPEN_PROBE_A * direction)
        site = AcidSite(
            tsite=str(labels[t]),
            proton_o=str(labels[o]),
            t_index=int(t),
            o_index=int(o),
            h_position=h,
            h_direction=direction,
            intersection_distance_A=facing,
            faces_channel=bool(openness >= OPEN_RADIUS_A),
        )
        key = (site.tsite, site.proton_o)
        if key not in best or facing < best[key].intersection_distance_A - 1e-9:
            best[key] = site
    return sorted(best.values(), key=lambda s: (site_order(s.tsite), s.intersection_distance_A))


def select_acid_sites(
    framework: Framework, tsites: list[str], acid_o: AcidOChoice, cells_along_beam: int = 1
) -> list[AcidSite]:
    """The acid sites to build: ``first`` = best-facing O per T-site, ``all`` = every channel-facing O."""
    unknown = [t for t in tsites if t not in framework.t_sites]
    if unknown:
        raise InputError(
            f"unknown T-site(s) {unknown} for framework {framework.name}",
            path=framework.source,
            fix=f"choose from {list(framework.t_sites)}",
        )
    chosen = []
    sites = [s for s in acid_sites(framework, cells_along_beam) if s.faces_channel]
    for tsite in tsites:
        facing = [s for s in sites if s.tsite == tsite]
        if not facing:
            raise InputError(f"T-site {tsite} has no bridging O facing a channel", path=framework.source)
        chosen.extend(facing[:1] if acid_o == "first" else facing)
    return chosen


def enumerate_candidates(
    framework: Framework,
    molecules: list[str],
    tsites: list[str],
    acid_o: AcidOChoice = "first",
    cells_along_beam: int = 1,
) -> list[CandidateSpec]:
    """Every (molecule, T-site, acid O) conformation the configuration asks for."""
    sites = select_acid_sites(framework, tsites, acid_o, cells_along_beam)
    return [
        CandidateSpec(conformation_id(m, s.tsite, s.proton_o), m, s.tsite, s.proton_o)
        for m in molecules
        for s in sites
    ]


def build_candidate(
    framework: Framework,
    molecule: Molecule,
    tsite: str,
    proton_o: str,
    cells_along_beam: int = 1,
    seed: int = 0,
) -> Atoms:
    """Build one candidate conformation (periodic Atoms with ``info`` and ``arrays['site']``)."""
    matches = [
        s for s in select_acid_sites(framework, [tsite], "all", cells_along_beam) if s.proton_o == proton_o
    ]
    if not matches:
        options = [s.proton_o for s in select_acid_sites(framework, [tsite], "all", cells_along_beam)]
        raise InputError(
            f"O {proton_o!r} is not a channel-facing bridging O of {tsite} in {framework.name}",
            path=framework.source,
            fix=f"use one of {options}",
        )
    site = matches[0]
    host = framework.supercell(cells_along_beam)
    host.symbols[site.t_index] = "Al"
    acid_h = Atoms("H", positions=[site.h_position])
    acid_h.new_array("site", np.array(["acid_H"], dtype="<U12"))
    host += acid_h
    placed, min_contact = place_molecule(host, molecule, site, seed)
    placed.new_array("site", np.array(["molecule"] * len(placed), dtype="<U12"))
    conformation = host + placed
    conformation.wrap()
    conformation.info.update(
        conformation=conformation_id(molecule.name, tsite, proton_o),
        framework=framework.name,
        molecule=molecule.name,
        tsite=tsite,
        proton_o=proton_o,
        source="generated",
        cells_along_beam=cells_along_beam,
        min_contact_A=round(min_contact, 4),
    )
    return conformation


class NoPoseError(InputError):
    """No pose of the molecule binds the acid H without a clash."""


def binds(
    framework: Framework, molecule: Molecule, tsite: str, proton_o: str, cells_along_beam: int = 1,
    seed: int = 0,
) -> bool:  # fmt: skip
    """Whether :func:`build_candidate` finds a clash-free pose here (the same search, the same seed)."""
    try:
        build_candidate(framework, molecule, tsite, proton_o, cells_along_beam, seed)
    except NoPoseError:
        return False
    return True


def place_molecule(host: Atoms, molecule: Molecule, site: AcidSite, seed: int) -> tuple[Atoms, float]:
    """Random search over anchor direction, ring axis and spin; keep the best contact-free pose."""
    rng = np.random.default_rng(seed)
    h = site.h_position
    env, _ = periodic_images(host, h, ENVIRONMENT_RADIUS_A)
    env_tree = cKDTree(env[np.linalg.norm(env - h, axis=1) > 1e-6])  # the acid H: the anchor's partner
    pore = _nearest_intersection(host, h)

    mol = molecule.atoms.positions - molecule.atoms.positions[molecule.anchor_index]
    axis_mol = unit(mol.mean(axis=0))
    others = np.arange(len(mol)) != molecule.anchor_index

    best_score, best_pos, best_contact = -np.inf, None, 0.0
    cone_anchor, cone_axis = np.radians(45), np.radians(70)
    centre_e, centre_a = site.h_direction, None
    for _ in range(3):  # coarse search, then two refinements around the best pose
        e = directions_in_cone(centre_e, cone_anchor, rng.random((2, N_SAMPLES)).T)
        anchor = h + molecule.anchor_distance_A * e
        target = unit(pore - anchor) if centre_a is None else np.broadcast_to(centre_a, anchor.shape)
        axes = directions_in_cone(target, cone_axis, rng.random((N_SAMPLES, 2)))
        spin = rng.uniform(0, 2 * np.pi, N_SAMPLES)
        align = rotations_between(axis_mol, axes)
        rot = axis_angle_matrices(axes, spin) @ align
        pos = anchor[:, None, :] + np.einsum("nij,kj->nki", rot, mol)
        contact = env_tree.query(pos.reshape(-1, 3))[0].reshape(len(pos), -1).min(axis=1)
        contact = np.minimum(contact, np.linalg.norm(pos[:, others] - h, axis=-1).min(axis=1))
        bend = np.arccos(np.clip(e @ site.h_direction, -1, 1))
        centre_dist = np.linalg.norm(pos.mean(axis=1) - pore, axis=1)
        score = np.minimum(contact, 2.6) - 0.3 * bend - 0.05 * centre_dist
        score[contact < MIN_CONTACT_A] = -np.inf
        i = int(np.argmax(score))
        if score[i] > best_score:
            best_score, best_pos, best_contact = score[i], pos[i], float(contact[i])
            centre_e, centre_a = e[i], axes[i]
        cone_anchor, cone_axis = cone_anchor / 3, cone_axis / 3
    if best_pos is None:
        raise NoPoseError(
            f"no pose of {molecule.name} binds the acid H of {site.tsite}/{site.proton_o} without a "
            f"contact shorter than {MIN_CONTACT_A} Å",
            fix="choose another acid O (structures.acid_o: all lists them) or a smaller molecule",
        )
    placed = molecule.atoms.copy()
    placed.positions = best_pos
    return placed, best_contact


def _nearest_intersection(host: Atoms, point: np.ndarray) -> np.ndarray:
    """The channel-intersection centre nearest to ``point`` (as the image closest to it)."""
    delta = minimum_image(find_pores(host).intersections - point, np.asarray(host.cell))
    return point + delta[np.argmin(np.linalg.norm(delta, axis=1))]
