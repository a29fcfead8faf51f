"""Shared fixtures: the project's framework and molecules, and paths to the repository."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zeostem.structures import load_framework, load_molecule

REPO = Path(__file__).resolve().parents[1]
SHARED_DFT = REPO.parent / "shared" / "data" / "dft" / "thiophene"


@pytest.fixture(scope="session")
def mfi():
    return load_framework(REPO / "resources" / "frameworks" / "MFI.yaml")


@pytest.fixture(scope="session")
def pyridine():
    return load_molecule("pyridine", REPO / "resources" / "molecules" / "pyridine.xyz")


@pytest.fixture(scope="session")
def thiophene():
    return load_molecule("thiophene", REPO / "resources" / "molecules" / "thiophene.xyz")


@pytest.fixture(scope="session")
def coarse_settings():
    """Coarse multislice over 3 × 3 cells: the test suite's simulations."""
    from zeostem.simulation.settings import SimulationSettings

    return SimulationSettings(
        potential_sampling_A=0.2, scan_step_A=0.5, slice_thickness_A=2.0, field_of_view_cells=(3, 3)
    )


@pytest.fixture(scope="session")
def simulated(mfi, pyridine, coarse_settings):
    """Three candidate conformations and their molecule-free twins, coarse multislice, 3 × 3 cells.

    Returns the :class:`References`, and per T-site the source-blurred segments (with the field of
    view) of the conformation and of its empty twin, and the conformation's labels.
    """
    from zeostem.analysis.references import Candidate, FrameworkColumns, References
    from zeostem.simulation.images import clean_field_of_view
    from zeostem.simulation.labels import field_of_view_labels
    from zeostem.simulation.mosaic import without_molecule
    from zeostem.simulation.multislice import simulate_cell
    from zeostem.structures import build_candidate

    settings = coarse_settings
    candidates, empties, segments, labels = [], [], {}, {}
    for tsite, o in (("T1", "O2"), ("T7", "O16"), ("T12", "O25")):
        atoms = build_candidate(mfi, pyridine, tsite, o)
        fov, seg, clean = clean_field_of_view(simulate_cell(atoms, mfi.beam_axis, settings, 2), settings)
        _, empty_seg, empty = clean_field_of_view(
            simulate_cell(without_molecule(atoms), mfi.beam_axis, settings, 2), settings
        )
        lab = field_of_view_labels(atoms, mfi.beam_axis, fov, 1.0)
        box = lab["molecules"][0]["bbox_xyxy"]
        cx, cy = lab["molecule_center_px"]
        candidates.append(
            Candidate(f"pyridine_{tsite}_{o}", tsite, clean, (cy, cx), (box[3] - box[1], box[2] - box[0]), o)
        )
        empties.append(empty)
        segments[tsite], segments[f"{tsite}-empty"], labels[tsite] = (seg, fov), (empty_seg, fov), lab
    framework = FrameworkColumns.of(labels["T1"])
    references = References(candidates, np.mean(empties, axis=0), fov.cells, fov.pixel_size, framework)
    return references, segments, labels


@pytest.fixture(scope="session")
def analyzer(simulated):
    """The lattice analysis of ``simulated``'s references, uncalibrated (temperature 1, threshold 0)."""
    from zeostem.analysis.analyzer import Analyzer
    from zeostem.analysis.calibration import Calibration

    return Analyzer(simulated[0], Calibration.uncalibrated())
