"""Identifiable classes derived from the references: T-sites sharing an acid O and a pose answer together."""

import pytest

from zeostem.analysis.analyzer import Analyzer
from zeostem.analysis.calibration import Calibration
from zeostem.analysis.classes import Classes, derive_classes, pairwise_dprime
from zeostem.analysis.references import Candidate, References
from zeostem.evaluation.mismatch import noise_dose_constant
from zeostem.simulation.images import clean_field_of_view, noise_seed, noisy_idpc
from zeostem.simulation.labels import field_of_view_labels
from zeostem.simulation.multislice import simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import build_candidate

MOVED_A = 0.8  # along a: a relaxed structure whose molecule sits elsewhere


@pytest.fixture(scope="module")
def shared_o(simulated, mfi, pyridine):
    """The fixture's T1/O2, T7/O16, T12/O25 with T2/O2 and T11/O25 (same acid O, same pose) and a T2/O2
    whose molecule moved by ``MOVED_A``; and the dose constant of these references."""
    refs, segments, _ = simulated
    settings = SimulationSettings(
        potential_sampling_A=0.2, scan_step_A=0.5, slice_thickness_A=2.0, field_of_view_cells=(3, 3)
    )
    extra = []
    for tsite, o, shift in (("T2", "O2", 0.0), ("T11", "O25", 0.0), ("T2", "O2", MOVED_A)):
        atoms = build_candidate(mfi, pyridine, tsite, o)
        atoms.positions[atoms.arrays["site"] == "molecule", 0] += shift
        fov, _, clean = clean_field_of_view(simulate_cell(atoms, mfi.beam_axis, settings, 2), settings)
        lab = field_of_view_labels(atoms, mfi.beam_axis, fov, 1.0)
        box = lab["molecules"][0]["bbox_xyxy"]
        cx, cy = lab["molecule_center_px"]
        name = f"pyridine_{tsite}_{o}" + ("_moved" if shift else "")
        extra.append(Candidate(name, tsite, clean, (cy, cx), (box[3] - box[1], box[2] - box[0]), o))
    references = References(
        refs.candidates + extra, refs.empty, refs.cells, refs.pixel_size_A, refs.framework
    )
    seg, fov = segments["T1"]
    noisy = noisy_idpc(seg, fov.pixel_size, 1500, -45, noise_seed(0, "classes", 1500, 0))
    constant = noise_dose_constant([(noisy, refs.candidates[0].image, 1500)])
    return references, constant


def test_tsites_sharing_their_acid_o_and_pose_answer_together_and_a_moved_molecule_stays_apart(shared_o):
    refs, constant = shared_o
    analyzer = Analyzer(refs, Calibration(1.0, 0.0, 0.5, constant))
    record = derive_classes(refs, analyzer.placements, constant, 4500, 1.0)
    groups = {frozenset(c["conformations"]) for c in record["classes"]}
    assert groups == {
        frozenset({"pyridine_T1_O2", "pyridine_T2_O2"}),
        frozenset({"pyridine_T11_O25", "pyridine_T12_O25"}),
        frozenset({"pyridine_T7_O16"}),
        frozenset({"pyridine_T2_O2_moved"}),
    }
    names = {c["name"] for c in record["classes"]}
    assert {"O2: T1|T2", "O25: T11|T12"} <= names
    dprime = pairwise_dprime(refs, analyzer.placements, constant, 4500)
    k = {c: i for i, c in enumerate(refs.conformations)}
    # measured: T1|T2 and T11|T12 0.30 and 0.29 (Al ↔ Si alone), the moved T2 3.5, other pairs 4.2–6.0
    assert dprime[k["pyridine_T1_O2"], k["pyridine_T2_O2"]] < 0.5
    assert dprime[k["pyridine_T2_O2"], k["pyridine_T2_O2_moved"]] > 2
    assert dprime[k["pyridine_T1_O2"], k["pyridine_T7_O16"]] > 3
    # the answer a report gives: one class for the pair, whose split is not identified
    classes = Classes.from_record(record, refs)
    assert classes.of_tsite("T11") == classes.of_tsite("T12") == {"O25: T11|T12"}
    assert not classes.split_identified("O25: T11|T12")
    assert classes.of_tsite("T2") == {"O2: T1|T2", "O2: T2"}  # the moved T2 answers on its own


def test_classes_from_another_run_are_a_clear_error(simulated):
    from zeostem.errors import InputError

    refs = simulated[0]
    record = {"classes": [{"conformations": ["pyridine_T1_O2", "pyridine_T2_O2"]}]}
    with pytest.raises(InputError, match="calibrate_analysis"):
        Classes.from_record(record, refs)
