"""Model mismatch: the variant measurement, and the model-error term that keeps the likelihood honest."""

import numpy as np
import pytest
from scipy import ndimage

from zeostem.analysis.analyzer import Analyzer
from zeostem.analysis.calibration import Calibration
from zeostem.analysis.fourier import spectral_gradient
from zeostem.analysis.likelihood import KNOWN, hypotheses, sites_at
from zeostem.analysis.posterior import molecule_posteriors
from zeostem.analysis.registration import model_image
from zeostem.evaluation.mismatch import model_error_variance, on_grid, variant_mismatch
from zeostem.evaluation.truth import molecules_inside
from zeostem.simulation.idpc import tile
from zeostem.simulation.images import noise_seed, noisy_idpc


@pytest.fixture(scope="module")
def analyzer(simulated):
    return Analyzer(simulated[0], Calibration.uncalibrated())


def rival_at_the_site(refs, analyzer, truth: int, rival: int, centres) -> np.ndarray:
    """The rival's clean field with its molecule placed (symmetry operation) where the truth's sits."""
    nominal = refs.candidates[truth].image
    found = hypotheses(nominal, np.ones(nominal.shape, bool), refs, KNOWN, analyzer.placements, 1.0, 1.0)
    placement = analyzer.placements[sites_at(found, centres, refs).placement[0, rival]]
    return model_image(refs.spectra[refs.conformations[rival]], KNOWN, placement, nominal.shape)


def posteriors(image, clean, refs, analyzer, centres, model_error):
    """Per-molecule candidate posteriors, registration, scale and noise level known."""
    variance = float(np.mean(spectral_gradient(image - clean) ** 2))
    found = hypotheses(image, np.ones(image.shape, bool), refs, KNOWN, analyzer.placements, variance, 1.0,
                       model_error)  # fmt: skip
    return molecule_posteriors(sites_at(found, centres, refs).llr, analyzer.classes, 1.0)


@pytest.mark.parametrize("fraction", [0.2, 0.35])
def test_a_variant_toward_a_rival_shifts_its_margin_by_the_amount_it_moved(simulated, analyzer, fraction):
    """Moving the image a fraction c of the way from the truth's to a rival's cuts the noise-free margin
    over that rival by 2c of itself (the Gaussian-gradient likelihood's geometry; the intensity scale
    and the molecules' contrast the analysis fits absorb a little of it: 1.5c measured at c = 0.2),
    and the truth stays first while c < 1/2."""
    refs, segments, labels = simulated
    k, j = refs.tsites.index("T1"), refs.tsites.index("T12")
    a = refs.candidates[k].image
    centres, _ = molecules_inside(labels["T1"], a.shape, refs.cell_px)
    b = rival_at_the_site(refs, analyzer, k, j, centres)
    result = variant_mismatch("toward T12", refs.conformations[k], a + fraction * (b - a), centres, refs,
                              analyzer.placements)  # fmt: skip
    relative = -result.shift / result.margin
    assert 1.4 * fraction < np.median(relative[:, result.rivals.index(j)]) < 2.2 * fraction
    assert np.all(result.margin + result.shift > 0)  # not yet past the midpoint
    assert result.row(1.0)["truth_still_first"] == 1.0
    assert result.error_variance > 0 and result.ncc > 0.99


def test_a_fainter_molecule_is_measured_as_contrast_not_as_model_error(simulated, analyzer):
    """A crystal twice as thick shows its molecule at half the references' contrast against the same
    framework. The analysis fits that contrast, so the variant's spread is measured at it: no model
    error left (at the references' contrast the same variant would count as a large one)."""
    refs, segments, labels = simulated
    k, j = refs.tsites.index("T1"), refs.tsites.index("T12")
    a = refs.candidates[k].image
    centres, _ = molecules_inside(labels["T1"], a.shape, refs.cell_px)
    faint = refs.empty + 0.5 * (a - refs.empty)
    placements = analyzer.placements
    result = variant_mismatch("half contrast", refs.conformations[k], faint, centres, refs, placements)
    assert result.contrast == pytest.approx(0.5, abs=0.03)
    assert result.row(1.0)["relative_shift"] < 0.05
    # a change that no contrast explains (a fifth of the way to T12) is model error
    toward = a + 0.2 * (rival_at_the_site(refs, analyzer, k, j, centres) - a)
    moved = variant_mismatch("toward T12", refs.conformations[k], toward, centres, refs, placements)
    assert moved.error_variance > 100 * result.error_variance


def test_the_model_error_term_stops_trusting_a_win_smaller_than_the_variant_spread(simulated, analyzer):
    """A T1 molecule imaged by a 'microscope' whose image sits 60 % of the way to T12's: without the
    model-error term a high dose names T12 with near certainty; with the variance measured from that
    very variant the likelihood no longer does — and it is never more confident than without it."""
    refs, segments, labels = simulated
    k, j = refs.tsites.index("T1"), refs.tsites.index("T12")
    seg, fov = segments["T1"]
    a = refs.candidates[k].image
    centres, _ = molecules_inside(labels["T1"], a.shape, refs.cell_px)
    clean = a + 0.6 * (rival_at_the_site(refs, analyzer, k, j, centres) - a)
    measured = variant_mismatch("60 % to T12", refs.conformations[k], clean, centres, refs,
                                analyzer.placements)  # fmt: skip
    model_error = model_error_variance([measured])
    for dose in (1500, 4500, 50000):
        noise = noisy_idpc(seg, fov.pixel_size, dose, -45, noise_seed(0, "mismatch", dose, 0)) - a
        noisy = clean + noise  # the shot noise of dose D on the variant's image
        without = posteriors(noisy, clean, refs, analyzer, centres, 0.0)
        with_term = posteriors(noisy, clean, refs, analyzer, centres, model_error)
        assert np.all(with_term.max(axis=1) <= without.max(axis=1) + 1e-12)  # never more confident
        if dose == 50000:
            assert np.median(without[:, j]) > 0.99  # the wrong T-site, with near certainty
            assert np.median(with_term[:, j]) < 0.8  # the term: a win this small is not proof
            assert np.median(with_term[:, k]) > 0.15  # and the truth keeps a real share


def test_a_strained_field_is_moved_onto_the_reference_grid_exactly():
    """A realistic structure's cell is strained, so its field of view has other pixel counts; holding
    the same cells, its Fourier coefficients move to the reference grid unchanged (the lattice fit's
    job in an image), which is what the model-error measurement compares."""
    rng = np.random.default_rng(0)
    cell = ndimage.gaussian_filter(rng.normal(size=(20, 30)), 3, mode="wrap")  # smooth: band-limited
    on_reference = tile(cell, (3, 2), (61, 59))
    strained = tile(cell, (3, 2), (64, 62))  # the same 3 × 2 cells, 5 % larger in pixels
    assert on_grid(strained, (61, 59)) == pytest.approx(on_reference, abs=1e-4 * np.ptp(on_reference))
    assert on_grid(on_reference, (61, 59)) is on_reference
