"""The paper's path as an observer: SSIM of a box against every candidate, boxes matched to molecules."""

import numpy as np
import pytest

from zeostem.analysis.classes import Classes
from zeostem.evaluation.paper_path import paper_calls, paper_row, ssim_scores


def molecule_box(refs, k: int, cell: tuple[int, int]) -> np.ndarray:
    """Candidate k's molecule box (xyxy) in the given cell of its reference field."""
    centre = np.array(refs.candidates[k].molecule_centre_px) + np.array(cell) * refs.cell_px
    half = np.array(refs.candidates[k].molecule_box_px) / 2  # (height, width)
    return np.r_[centre[::-1] - half[::-1], centre[::-1] + half[::-1]]


@pytest.mark.parametrize("k", [0, 1, 2])
def test_ssim_names_the_candidate_whose_image_the_box_shows(simulated, k):
    """A box on a molecule of candidate k's field (another cell than the template's, with noise at a
    tenth of the molecule's contrast) is most similar to candidate k's own window."""
    refs = simulated[0]
    image = refs.candidates[k].image
    contrast = np.std(image - refs.empty)
    noisy = image + np.random.default_rng(k).normal(0, 0.1 * contrast, image.shape)
    scores = ssim_scores(noisy, molecule_box(refs, k, (1, 1)), refs)
    assert scores.argmax() == k
    # on the molecule-free framework no candidate stands out as much as the true one does on its own
    empty_scores = ssim_scores(refs.empty, molecule_box(refs, k, (1, 1)), refs)
    assert np.ptp(empty_scores) < np.ptp(scores)


def test_a_box_finds_the_molecule_it_overlaps_once_and_a_stray_box_none(simulated):
    refs = simulated[0]
    classes = Classes.per_tsite(refs)
    truth = np.array([molecule_box(refs, 1, (0, 0)), molecule_box(refs, 1, (1, 1))])
    boxes = np.array([truth[0] + 1.0, truth[0] + 2.0, [0.0, 0.0, 3.0, 3.0]])  # two on the first, one stray
    scores = np.array([0.9, 0.8, 0.95])
    calls = paper_calls(refs.candidates[1].image, boxes, scores, truth, refs, classes)
    assert calls[1] is None  # the second molecule has no box of its own
    assert max(calls[0], key=calls[0].get) == "T7"
    row = paper_row(calls[0], {"T7"})
    assert row["detected"] and row["top1"] == 1.0 and np.isnan(row["confidence"])
    missed = paper_row(None, {"T7"})
    assert not missed["detected"] and missed["predicted_class"] == ""
    assert missed["top1"] == missed["top3"] == 0.0
