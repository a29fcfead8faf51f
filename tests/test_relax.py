"""ML relaxation (CHGNet, weights shipped in its wheel): lowers the energy and is sanity-checked."""

import pytest

from zeostem.structures import build_candidate
from zeostem.structures.relax import RelaxationRejected, RelaxSettings, make_calculator, relax


@pytest.fixture(scope="module")
def calculator():
    return make_calculator("chgnet")


@pytest.fixture(scope="module")
def candidate(mfi, pyridine):
    return build_candidate(mfi, pyridine, "T1", "O2")


def test_a_few_chgnet_steps_lower_the_energy_and_keep_the_site(candidate, calculator):
    settings = RelaxSettings(method="chgnet", max_steps=3, fmax=0.01)
    relaxed = relax(candidate, settings, calculator=calculator, logfile=None)
    assert relaxed.info["energy"] < relaxed.info["energy_start"]
    assert relaxed.info["source"] == "relaxed:chgnet"
    assert relaxed.info["relax_steps"] == 3
    assert 0 < relaxed.info["max_framework_displacement_A"] < 1.0
    assert relaxed.info["anchor_distance_A"] < 3.0
    assert relaxed.info["tsite"] == "T1"


def test_a_relaxation_that_moves_the_framework_too_far_is_rejected(candidate, calculator):
    settings = RelaxSettings(method="chgnet", max_steps=1, max_framework_displacement_A=1e-4)
    with pytest.raises(RelaxationRejected, match="framework did not stay intact"):
        relax(candidate, settings, calculator=calculator, logfile=None)


def test_a_molecule_that_left_the_acid_site_is_rejected(candidate, calculator):
    moved = candidate.copy()
    moved.positions[moved.arrays["site"] == "molecule"] += [0.0, 0.0, 4.0]
    settings = RelaxSettings(method="chgnet", max_steps=1)
    with pytest.raises(RelaxationRejected, match="left the acid site"):
        relax(moved, settings, calculator=calculator, logfile=None)
