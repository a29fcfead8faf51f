"""Per-image analysis: readers, registration, matching, probabilities, report schema, bad inputs."""

import json
import subprocess
import sys
from pathlib import Path

import mrcfile
import numpy as np
import pytest
import tifffile
from jsonschema.exceptions import ValidationError
from skimage.io import imsave

from zeostem.analysis.columns import find_columns
from zeostem.analysis.identifiability import ideal_log_likelihoods, spectral_gradient
from zeostem.analysis.matching import (
    OPERATIONS,
    Reference,
    calibrate_temperature,
    coarse_register,
    match_window,
    probabilities,
    refine,
    shifted_patch,
    window_at,
)
from zeostem.analysis.reader import read_micrograph
from zeostem.analysis.report import validate_report
from zeostem.errors import InputError
from zeostem.io.images import write_image
from zeostem.simulation.images import clean_field_of_view, noise_seed, noisy_idpc
from zeostem.simulation.labels import field_of_view_labels
from zeostem.simulation.multislice import simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import build_candidate

IMAGE = np.random.default_rng(0).random((40, 60)).astype(np.float32)


def test_reads_calibrated_tiff_of_any_dtype(tmp_path):
    write_image(tmp_path / "a.tif", IMAGE, {"pixel_size_xy_A": [0.25, 0.25]})
    image, size = read_micrograph(tmp_path / "a.tif")
    assert np.array_equal(image, IMAGE) and size == pytest.approx(0.25)
    counts = (IMAGE * 1000).astype(np.uint16)
    tifffile.imwrite(
        tmp_path / "b.tif", counts, resolution=(1e7, 1e7), resolutionunit="CENTIMETER"
    )  # 1 nm/px
    image, size = read_micrograph(tmp_path / "b.tif")
    assert image.dtype == np.float32 and size == pytest.approx(10.0)
    assert read_micrograph(tmp_path / "b.tif", pixel_size_A=0.3)[1] == 0.3  # the sheet wins


def test_reads_rgba_png_grey_export(tmp_path):
    grey = (IMAGE * 255).astype(np.uint8)
    imsave(tmp_path / "a.png", np.dstack([grey, grey, grey, np.full_like(grey, 255)]), check_contrast=False)
    image, size = read_micrograph(tmp_path / "a.png", pixel_size_A=0.25)
    assert np.array_equal(image, grey.astype(np.float32)) and size == 0.25


def test_reads_mrc_with_voxel_size(tmp_path):
    with mrcfile.new(tmp_path / "a.mrc") as mrc:
        mrc.set_data(IMAGE)
        mrc.voxel_size = 0.5
    image, size = read_micrograph(tmp_path / "a.mrc")
    assert np.allclose(image, IMAGE) and size == pytest.approx(0.5)


def test_dm_and_emd_are_read_through_rosettasciio():
    # rosettasciio reads .dm3/.dm4/.emd/.ser but writes none of them, so no file can be made here to test
    # the round trip; the reader's dispatch is checked instead.
    from zeostem.analysis.reader import RSCIIO_FORMATS

    pytest.importorskip("rsciio")
    assert RSCIIO_FORMATS[".dm4"] == "digitalmicrograph" and RSCIIO_FORMATS[".emd"] == "emd"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: tifffile.imwrite(p, np.full((8, 8), np.nan, np.float32)), "NaN"),
        (lambda p: tifffile.imwrite(p, np.zeros((5, 8, 8), np.float32)), "3-D array"),
        (lambda p: tifffile.imwrite(p, np.zeros((8, 8), np.float32)), "pixel size is unknown"),
    ],
    ids=["empty", "nan", "stack", "no-pixel-size"],
)
def test_bad_images_are_clear_errors_and_leave_no_report(tmp_path, make, message):
    bad = tmp_path / "bad.tif"
    make(bad)
    with pytest.raises(InputError, match=message) as err:
        read_micrograph(bad)
    assert "bad.tif" in str(err.value)
    out = tmp_path / "report"
    cli = [
        sys.executable,
        "-m",
        "zeostem.cli",
        "analyze",
        str(bad),
        "--workflow-results",
        str(tmp_path),
        "--out",
        str(out),
    ]
    result = subprocess.run(cli, capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert result.returncode == 2 and message in result.stderr
    assert not out.exists()


@pytest.fixture(scope="module")
def references(mfi, pyridine):
    """Clean fields of view of three candidate conformations (coarse multislice) and one's labels."""
    settings = SimulationSettings(
        potential_sampling_A=0.2, scan_step_A=0.5, slice_thickness_A=2.0, field_of_view_cells=(3, 3)
    )
    refs, segments, labels = [], {}, {}
    for tsite, o in (("T1", "O2"), ("T7", "O16"), ("T12", "O25")):
        atoms = build_candidate(mfi, pyridine, tsite, o)
        fov, seg, clean = clean_field_of_view(simulate_cell(atoms, mfi.beam_axis, settings, 2), settings)
        refs.append(Reference(f"pyridine_{tsite}_{o}", tsite, clean))
        segments[tsite], labels[tsite] = (seg, fov), field_of_view_labels(atoms, mfi.beam_axis, fov, 1.0)
    return refs, segments, labels


def test_registration_recovers_a_subpixel_shift_and_a_symmetry_operation(references):
    ref = references[0][0]
    origin = (30.37, 47.81)
    window = shifted_patch(ref.image, origin, (53, 80))
    _, start = coarse_register(window, ref)
    _, found = refine(window, ref, start)
    delta = np.subtract(found, origin)
    delta -= np.round(delta / ref.image.shape) * ref.image.shape  # periodic: any equivalent origin
    cell = (ref.image.shape[0] / 3, ref.image.shape[1] / 3)
    delta = np.array([(d + c / 2) % c - c / 2 for d, c in zip(delta, cell, strict=True)])
    assert np.all(np.abs(delta) < 0.2)
    mirrored = np.ascontiguousarray(OPERATIONS["rotate_180"](window))
    best = match_window(mirrored, [ref], noise_variance=1e-6)[0]
    assert best.operation == "rotate_180" and best.ssim > 0.99
    # the report's origin and operation put the reference back onto the window (what Fig. 5 draws)
    patch = OPERATIONS[best.operation](shifted_patch(ref.image, best.origin_px, mirrored.shape))
    assert np.corrcoef(patch.ravel(), mirrored.ravel())[0, 1] > 0.999


def test_registration_of_a_whole_periodic_field_of_view_stays_on_the_right_peak(references):
    ref = references[0][0]
    image = shifted_patch(ref.image, (0.3, 0.4), ref.image.shape)  # every cell of the field of view
    rng = np.random.default_rng(0)
    noisy = image + rng.normal(0, 0.5 * image.std(), image.shape)
    _, start = coarse_register(noisy, ref)
    _, found = refine(noisy, ref, start)
    # the integer start is a lattice-equivalent origin within half a pixel: refining stays there
    assert np.all(np.abs(np.subtract(found, start)) <= 1.0)
    cell = np.array(ref.image.shape) / 3
    delta = np.subtract(found, (0.3, 0.4))
    assert np.all(np.abs((delta + cell / 2) % cell - cell / 2) < 0.15)


def test_matcher_ranks_the_true_conformation_first_at_high_dose(references):
    refs, segments, labels = references
    seg, fov = segments["T7"]
    noisy = noisy_idpc(seg, fov.pixel_size, 50000, -45, noise_seed(0, "m", 50000, 0))
    box = next(m["bbox_xyxy"] for m in labels["T7"]["molecules"] if not m["truncated"])
    cell = labels["T7"]["cell_px"]
    window = window_at(
        noisy, ((box[1] + box[3]) / 2, (box[0] + box[2]) / 2), (round(cell[1]), round(cell[0]))
    )
    matches = match_window(window, refs, noise_variance=float(np.var(noisy - refs[1].image)))
    assert matches[0].tsite == "T7"
    p = probabilities(np.array([m.log_likelihood for m in matches]), 1.0)
    assert p.sum() == pytest.approx(1.0) and p[0] == p.max()


def band_power(fields: np.ndarray, low: float, high: float) -> float:
    """Mean power (summed over the leading axis) at |k| in [low, high) cycles per pixel."""
    k = np.hypot(np.fft.fftfreq(fields.shape[-2])[:, None], np.fft.fftfreq(fields.shape[-1])[None, :])
    return float(np.mean(np.sum(np.abs(np.fft.fft2(fields)) ** 2, axis=0)[(k >= low) & (k < high)]))


def test_idpc_shot_noise_goes_as_one_over_k_squared_and_its_gradient_is_white(references):
    refs, segments, _ = references
    seg, fov = segments["T7"]
    noise = noisy_idpc(seg, fov.pixel_size, 1500, -45, noise_seed(0, "w", 1500, 0)) - refs[1].image
    low, high = (0.02, 0.06), (0.3, 0.45)  # band centres 0.04 and 0.375: (0.375 / 0.04)² ≈ 88
    assert band_power(noise[None], *low) / band_power(noise[None], *high) > 40
    gradient = spectral_gradient(noise)
    assert band_power(gradient, *low) / band_power(gradient, *high) == pytest.approx(1.0, abs=0.15)


def test_ideal_observer_tells_the_true_conformation_at_the_lowest_dose(references):
    refs, segments, _ = references
    for truth, tsite in enumerate(("T1", "T7", "T12")):
        seg, fov = segments[tsite]
        noisy = noisy_idpc(seg, fov.pixel_size, 500, -45, noise_seed(0, "ideal", 500, 0))
        totals = ideal_log_likelihoods(noisy, refs[truth].image, refs)
        assert max(totals, key=totals.get) == refs[truth].conformation


def test_temperature_calibration_softens_overconfident_scores():
    rng = np.random.default_rng(0)
    truth = list(rng.integers(0, 3, 200))
    # scores that pick the truth 60 % of the time but with huge margins
    lls = [np.where(np.arange(3) == (t if rng.random() < 0.6 else (t + 1) % 3), 0.0, -500.0) for t in truth]
    temperature = calibrate_temperature(lls, truth)
    confidence = np.mean([probabilities(ll, temperature).max() for ll in lls])
    assert temperature > 10 and confidence == pytest.approx(0.6, abs=0.1)


def test_columns_are_classified_by_intensity(references):
    clean = references[0][0].image
    columns = find_columns(clean, 0.25)
    assert set(columns["class"]) == {"T", "O", "light"}
    means = columns.groupby("class")["intensity"].mean()
    assert means["T"] > means["O"] > means["light"]


def test_report_schema_accepts_a_report_and_rejects_a_broken_one():
    report = {
        "image": "x",
        "input_file": "x.tif",
        "pixel_size_A": 0.25,
        "models": {"divaesr": {"weights": "models/divaesr.pt", "sha256": "0" * 64}},
        "molecules": [
            {
                "box_xyxy": [1, 2, 3, 4],
                "score": 0.9,
                "conformations": [
                    {
                        "conformation": "c",
                        "tsite": "T1",
                        "probability": 1.0,
                        "ssim": 0.5,
                        "log_likelihood": -3.0,
                        "operation": "mirror_x",
                        "origin_px": [3.2, 40.7],
                    }
                ],
                "tsites": [{"tsite": "T1", "probability": 1.0}],
            }
        ],
        "tsite_ranking": [{"tsite": "T1", "probability": 1.0}],
    }
    validate_report(report)
    report["tsite_ranking"][0]["probability"] = 1.5
    with pytest.raises(ValidationError):
        validate_report(report)
    json.dumps(report)
