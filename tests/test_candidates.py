"""Generated candidates: the requested Al site, a proper acid H, and a clash-free molecule."""

import numpy as np
import pytest
from ase import Atoms

from zeostem.errors import InputError
from zeostem.structures import build_candidate, enumerate_candidates, infer_tsites
from zeostem.structures.candidates import MIN_CONTACT_A, O_H_BOND_A

ALL_TSITES = [f"T{i}" for i in range(1, 13)]


def shifted_and_flipped(atoms: Atoms, rng: np.random.Generator) -> Atoms:
    """The same crystal written with a random origin and flipped axes (as another code might)."""
    flip = rng.choice([-1.0, 1.0], size=3)
    flip[0] = -1.0  # at least one flip, always
    frac = np.mod(flip * atoms.get_scaled_positions() + rng.uniform(0, 1, 3), 1.0)
    return Atoms(atoms.symbols, scaled_positions=frac, cell=atoms.cell, pbc=True)


@pytest.fixture(scope="module")
def candidates(mfi, pyridine):
    specs = enumerate_candidates(mfi, ["pyridine"], ALL_TSITES, "first")
    return {s.tsite: build_candidate(mfi, pyridine, s.tsite, s.proton_o) for s in specs}


def test_one_candidate_per_tsite_with_first_acid_o(mfi):
    specs = enumerate_candidates(mfi, ["pyridine"], ALL_TSITES, "first")
    assert [s.tsite for s in specs] == ALL_TSITES
    assert all(s.conformation == f"pyridine_{s.tsite}_{s.proton_o}" for s in specs)
    every = enumerate_candidates(mfi, ["pyridine"], ALL_TSITES, "all")
    assert len(every) > len(specs)
    assert {(s.tsite, s.proton_o) for s in specs} <= {(s.tsite, s.proton_o) for s in every}


def test_inferred_tsite_equals_requested_also_after_origin_shift_and_flip(mfi, candidates):
    rng = np.random.default_rng(7)
    for tsite, atoms in candidates.items():
        assert set(infer_tsites(atoms, mfi).values()) == {tsite}
        assert set(infer_tsites(shifted_and_flipped(atoms, rng), mfi).values()) == {tsite}


def test_acid_h_bonded_to_its_o_and_anchor_at_hbond_distance(candidates, pyridine):
    for atoms in candidates.values():
        site = atoms.arrays["site"]
        h = int(np.flatnonzero(site == "acid_H")[0])
        al = int(np.flatnonzero(atoms.symbols == "Al")[0])
        o = [i for i in np.flatnonzero(site == atoms.info["proton_o"])]
        assert np.isclose(atoms.get_distances(h, o, mic=True).min(), O_H_BOND_A, atol=1e-6)
        assert atoms.get_distances(al, o, mic=True).min() < 1.7  # the H sits on an O of the Al
        anchor = np.flatnonzero((site == "molecule") & (atoms.symbols == pyridine.anchor))
        assert np.isclose(atoms.get_distance(h, int(anchor[0]), mic=True), pyridine.anchor_distance_A)


def test_no_other_contact_shorter_than_two_angstrom(candidates):
    for atoms in candidates.values():
        site = atoms.arrays["site"]
        mol = np.flatnonzero(site == "molecule")
        rest = np.flatnonzero(site != "molecule")
        h = int(np.flatnonzero(site == "acid_H")[0])
        anchor = mol[atoms.symbols[mol] == "N"][0]
        for i in mol:
            others = rest[rest != h] if i == anchor else rest
            assert atoms.get_distances(i, others, mic=True).min() >= MIN_CONTACT_A


def test_molecule_is_placed_rigidly(candidates, pyridine):
    ref = np.sort(pyridine.atoms.get_all_distances().ravel())
    for atoms in candidates.values():
        mol = atoms[atoms.arrays["site"] == "molecule"]
        assert np.allclose(np.sort(mol.get_all_distances(mic=True).ravel()), ref, atol=1e-6)


def test_two_cells_along_beam_keeps_one_al(mfi, thiophene):
    atoms = build_candidate(mfi, thiophene, "T9", "O21", cells_along_beam=2)
    assert atoms.get_chemical_formula(mode="hill") == "C4H5AlO384SSi191"
    assert set(infer_tsites(atoms, mfi).values()) == {"T9"}


def test_unknown_tsite_and_acid_o_are_clear_errors(mfi, pyridine):
    with pytest.raises(InputError, match=r"unknown T-site.*T13"):
        enumerate_candidates(mfi, ["pyridine"], ["T13"])
    with pytest.raises(InputError, match="not a channel-facing bridging O of T1"):
        build_candidate(mfi, pyridine, "T1", "O26")


def test_rotations_turn_each_vector_onto_its_target_including_parallel_and_opposite_ones():
    from zeostem.structures.geometry import rotations_between, unit

    rng = np.random.default_rng(3)
    a = unit(rng.normal(size=(50, 3)))
    b = unit(rng.normal(size=(50, 3)))
    b[0], b[1] = a[0], -a[1]  # the two special cases
    rotations = rotations_between(a, b)
    assert np.allclose(np.einsum("nij,nj->ni", rotations, a), b, atol=1e-12)
    assert np.allclose(rotations @ rotations.transpose(0, 2, 1), np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(rotations), 1.0)


def test_directions_in_a_cone_fill_it_uniformly_about_each_axis():
    from zeostem.structures.geometry import directions_in_cone, unit

    rng = np.random.default_rng(4)
    axes = unit(rng.normal(size=(20_000, 3)))
    half_angle = np.radians(40)
    cos_angle = np.sum(directions_in_cone(axes, half_angle, rng.random((20_000, 2))) * axes, axis=1)
    assert cos_angle.min() >= np.cos(half_angle) - 1e-12
    # uniform over the cap's solid angle: cos θ uniform on [cos α, 1]
    assert np.mean(cos_angle) == pytest.approx((1 + np.cos(half_angle)) / 2, abs=0.003)
