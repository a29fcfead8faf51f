"""iDPC-STEM simulation: physics a user relies on, on small cells with coarse (fast) settings."""

from dataclasses import replace

import numpy as np
import pytest
from skimage.registration import phase_cross_correlation

from zeostem.io.segments import frequencies, integrate_dpc
from zeostem.simulation.idpc import source_blur, tile
from zeostem.simulation.images import clean_field_of_view, noise_seed, noisy_idpc
from zeostem.simulation.labels import field_of_view_labels
from zeostem.simulation.multislice import resolve_device, simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import build_candidate

# coarse but physical: 0.2 Å potential sampling, 0.5 Å probe step, 2 Å slices (seconds per cell)
COARSE = SimulationSettings(
    potential_sampling_A=0.2, scan_step_A=0.5, slice_thickness_A=2.0, field_of_view_cells=(2, 2)
)
MFI_A, MFI_C = 20.09, 13.142


@pytest.fixture(scope="module")
def conformation(mfi, pyridine):
    return build_candidate(mfi, pyridine, "T1", "O2")


@pytest.fixture(scope="module")
def simulated(conformation, mfi):
    cell = simulate_cell(conformation, mfi.beam_axis, COARSE, threads=2)
    fov, segments, clean = clean_field_of_view(cell, COARSE)
    return cell, fov, segments, clean


def test_segments_are_fractions_of_the_probe(simulated):
    cell, _, segments, _ = simulated
    total = cell.segments.sum(axis=0)
    # a 15 mrad probe on a 4–22 mrad detector: most of the bright field, minus the 0–4 mrad hole
    assert 0.85 < total.mean() < 0.98
    assert np.all(segments > -1e-6)


def test_lattice_period_from_the_fft_peak_matches_the_cell(simulated):
    _, fov, _, clean = simulated
    for axis, (length, n_cells) in enumerate([(MFI_C, fov.cells[0]), (MFI_A, fov.cells[1])]):
        profile = np.abs(np.fft.rfft(clean - clean.mean(), axis=axis)).sum(axis=1 - axis)
        strongest = profile[1:].max()
        fundamental = 1 + int(np.flatnonzero(profile[1:] > 0.05 * strongest)[0])
        period_A = clean.shape[axis] / fundamental * fov.pixel_size[axis]
        assert period_A == pytest.approx(length, rel=0.01)
        assert fundamental == n_cells


def render_labels(labels: dict, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """A label image: a Gaussian per labelled atom, weighted by Z^0.7 (≈ iDPC's projected potential)."""
    z = {"H": 1, "C": 6, "N": 7, "O": 8, "Al": 13, "Si": 14, "S": 16}
    rows, cols = np.indices(shape)
    image = np.zeros(shape)
    for atom in labels["atoms"]:
        r, c = int(round(atom["y"])), int(round(atom["x"]))
        window = (slice(max(r - 8, 0), r + 9), slice(max(c - 8, 0), c + 9))
        d2 = (rows[window] - atom["y"]) ** 2 + (cols[window] - atom["x"]) ** 2
        image[window] += z[atom["element"]] ** 0.7 * np.exp(-d2 / (2 * sigma_px**2))
    return image


def test_atoms_are_bright_and_labels_sit_on_the_atom_columns(simulated, conformation, mfi):
    # In 1-cell-thick MFI along b every T column has an O column < 0.8 Å away in projection, so
    # single peaks are blends; instead the whole label map must register onto the image at zero shift.
    _, fov, _, clean = simulated
    labels = field_of_view_labels(conformation, mfi.beam_axis, fov, box_margin_A=1.0)
    rendered = render_labels(labels, clean.shape, sigma_px=0.45 / fov.pixel_size[0])
    shift, _, _ = phase_cross_correlation(clean, rendered, upsample_factor=20, normalization=None)
    assert np.hypot(*shift) < 0.5  # pixels
    assert np.corrcoef(clean.ravel(), rendered.ravel())[0, 1] > 0.9
    assert np.corrcoef(clean.ravel(), np.roll(rendered, 2, axis=1).ravel())[0, 1] < 0.85
    t_columns = [(a["x"], a["y"]) for a in labels["atoms"] if a["element"] == "Si"]
    assert (
        np.mean([clean[int(round(y)) % clean.shape[0], int(round(x)) % clean.shape[1]] for x, y in t_columns])
        > 2 * clean.std()
    )


def test_molecule_boxes_in_every_cell(simulated, conformation, mfi):
    _, fov, _, _ = simulated
    labels = field_of_view_labels(conformation, mfi.beam_axis, fov, box_margin_A=1.0)
    cells = {tuple(m["cell"]) for m in labels["molecules"]}
    assert len(cells) == 4
    for m in labels["molecules"]:
        x0, y0, x1, y1 = m["bbox_xyxy"]
        assert 0 <= x0 < x1 < fov.shape[1] and 0 <= y0 < y1 < fov.shape[0]
    mol = [a for a in labels["atoms"] if a["site"] == "molecule"]
    assert len(mol) == 4 * 11


def test_noise_variance_scales_as_one_over_dose(simulated):
    _, fov, segments, clean = simulated
    variance = {}
    for dose in (1000, 4000):
        noise = [
            noisy_idpc(segments, fov.pixel_size, dose, -45, noise_seed(0, "t", dose, r)) - clean
            for r in range(6)
        ]
        variance[dose] = np.mean([n.var() for n in noise])
    assert variance[1000] / variance[4000] == pytest.approx(4.0, rel=0.10)


def test_noise_at_a_stated_dose_has_the_variance_the_counts_predict(simulated):
    """The absolute dose scale: at 2000 e/Å², each segment of a pixel of area A counts Poisson
    electrons with mean 2000 · A · f_i, so the DPC components carry white noise of variance
    Σ cos²(θ_i) f_i / (2000 A) (and sin² for y), and their Fourier integral's variance follows from
    the integration filter. Noise drawn at twice (or half) the stated dose misses this by 2×."""
    _, fov, segments, clean = simulated
    dose = 2000
    noise = [
        noisy_idpc(segments, fov.pixel_size, dose, -45, noise_seed(1, "abs", dose, r)) - clean
        for r in range(6)
    ]
    measured = np.mean([n.var() for n in noise])
    electrons = dose * fov.pixel_size[0] * fov.pixel_size[1]
    angles = np.radians(-45) + (np.arange(4) + 0.5) * np.pi / 2
    fractions = segments.reshape(4, -1).mean(axis=1)
    var_x, var_y = (np.sum(w(angles) ** 2 * fractions) / electrons for w in (np.cos, np.sin))
    ky, kx = frequencies(clean.shape, fov.pixel_size)
    k2 = kx**2 + ky**2
    k2[0, 0] = np.inf
    gain = (kx**2 * var_x + ky**2 * var_y) / (4 * np.pi**2 * k2**2)
    predicted = gain.sum() / clean.size
    assert measured == pytest.approx(predicted, rel=0.05)


def test_same_seed_same_image_other_replica_other_noise(simulated):
    _, fov, segments, _ = simulated
    a = noisy_idpc(segments, fov.pixel_size, 1000, -45, noise_seed(0, "x", 1000, 0))
    b = noisy_idpc(segments, fov.pixel_size, 1000, -45, noise_seed(0, "x", 1000, 0))
    c = noisy_idpc(segments, fov.pixel_size, 1000, -45, noise_seed(0, "x", 1000, 1))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_empty_framework_and_conformation_differ_only_near_the_molecule(simulated, conformation, mfi):
    _, fov, _, clean = simulated
    empty_cell = simulate_cell(mfi.unit_cell, mfi.beam_axis, COARSE, threads=2)
    _, _, empty = clean_field_of_view(empty_cell, COARSE)
    diff = np.abs(clean - empty - np.median(clean - empty))
    labels = field_of_view_labels(conformation, mfi.beam_axis, fov, box_margin_A=1.0)
    near = np.zeros(clean.shape, bool)
    rows, cols = np.indices(clean.shape)
    changed = [a for a in labels["atoms"] if a["site"] in ("molecule", "acid_H") or a["element"] == "Al"]
    for a in changed:  # within 3 Å of an atom that differs between the two structures
        near |= np.hypot((rows - a["y"]) * fov.pixel_size[0], (cols - a["x"]) * fov.pixel_size[1]) < 3.0
    assert diff[near].max() > 0.1 * clean.std()
    assert diff[~near].max() < 0.05 * diff[near].max()


def test_t_sites_sharing_their_acid_o_differ_only_at_the_al_column_which_is_darker(
    simulated, conformation, mfi, pyridine
):
    # T1 and T2 share O2: the acid H and the molecule sit at the same place, only Si ↔ Al moves
    _, fov, _, clean_t1 = simulated
    t2 = build_candidate(mfi, pyridine, "T2", "O2")
    _, _, clean_t2 = clean_field_of_view(simulate_cell(t2, mfi.beam_axis, COARSE, threads=2), COARSE)
    difference = clean_t1 - clean_t2

    def al_columns(atoms):
        labels = field_of_view_labels(atoms, mfi.beam_axis, fov, box_margin_A=1.0)
        return np.array([(a["y"], a["x"]) for a in labels["atoms"] if a["element"] == "Al"])

    darkest = np.array(np.unravel_index(difference.argmin(), difference.shape))
    brightest = np.array(np.unravel_index(difference.argmax(), difference.shape))
    # Al (Z 13) is darker than Si (14): T1's image is darkest at its Al, brightest where T2 has its Al
    assert np.min(np.linalg.norm(al_columns(conformation) - darkest, axis=1)) < 1.0  # px
    assert np.min(np.linalg.norm(al_columns(t2) - brightest, axis=1)) < 1.0
    assert 0.02 * clean_t1.std() < np.abs(difference).max() < 0.2 * clean_t1.std()  # small, but there


def test_fourier_integration_recovers_a_known_potential():
    ny, nx, p = 48, 64, (0.25, 0.25)
    y, x = np.mgrid[0:ny, 0:nx] * 0.25
    ly, lx = ny * 0.25, nx * 0.25
    phi = np.sin(2 * np.pi * 2 * x / lx) * np.cos(2 * np.pi * 3 * y / ly)
    gx = 2 * np.pi * 2 / lx * np.cos(2 * np.pi * 2 * x / lx) * np.cos(2 * np.pi * 3 * y / ly)
    gy = -2 * np.pi * 3 / ly * np.sin(2 * np.pi * 2 * x / lx) * np.sin(2 * np.pi * 3 * y / ly)
    assert np.allclose(integrate_dpc(gx, gy, p), phi - phi.mean(), atol=1e-10)


def test_tiling_is_exact_band_limited_interpolation():
    ny, nx = 27, 40
    y, x = np.mgrid[0:ny, 0:nx]
    cell = np.cos(2 * np.pi * (3 * x / nx + 2 * y / ny)) + 0.5 * np.sin(2 * np.pi * 5 * y / ny)
    out = tile(cell, (2, 3), (70, 161))
    yy, xx = np.mgrid[0:70, 0:161]
    fx, fy = xx * 3 * nx / 161, yy * 2 * ny / 70  # output pixel → cell sample coordinates
    expected = np.cos(2 * np.pi * (3 * fx / nx + 2 * fy / ny)) + 0.5 * np.sin(2 * np.pi * 5 * fy / ny)
    assert np.allclose(out, expected, atol=1e-10)


def test_source_blur_of_a_point_has_the_source_s_fwhm():
    point = np.zeros((128, 128))
    point[64, 64] = 1.0
    blurred = source_blur(point, (0.05, 0.05), 0.8)
    profile = blurred[64] / blurred[64].max()
    above = np.flatnonzero(profile >= 0.5)
    left, right = above[0], above[-1]  # interpolate the half-maximum crossings on both flanks
    x_left = left - (profile[left] - 0.5) / (profile[left] - profile[left - 1])
    x_right = right + (profile[right] - 0.5) / (profile[right] - profile[right + 1])
    assert (x_right - x_left) * 0.05 == pytest.approx(0.8, rel=0.02)
    assert np.unravel_index(blurred.argmax(), blurred.shape) == (64, 64)


def test_source_blur_conserves_the_mean_and_lowers_contrast():
    rng = np.random.default_rng(0)
    signal = rng.random((32, 32))
    blurred = source_blur(signal, (0.25, 0.25), 0.8)
    assert blurred.mean() == pytest.approx(signal.mean())
    assert blurred.std() < 0.5 * signal.std()


def test_repeated_simulations_in_one_process_are_identical(conformation, mfi):
    first = simulate_cell(conformation, mfi.beam_axis, COARSE, threads=2).segments
    second = simulate_cell(conformation, mfi.beam_axis, COARSE, threads=2).segments
    assert np.array_equal(first, second)


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_image_as_threads_in_the_job(conformation, mfi, simulated):
    import dask
    from distributed import LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        dask.config.set({"scheduler-address": cluster.scheduler_address}),
    ):
        segments = simulate_cell(conformation, mfi.beam_axis, COARSE).segments
        tasks_seen = len(cluster.scheduler.task_prefixes)  # empty unless the scan ran there
    assert tasks_seen > 0
    np.testing.assert_allclose(segments, simulated[0].segments, rtol=1e-5, atol=1e-8)  # float32 FFT rounding


@pytest.mark.skipif(resolve_device("auto") != "gpu", reason="no CUDA device visible to cupy (CI has none)")
@pytest.mark.parametrize("method", ["multislice", "prism"])
def test_abtem_on_the_gpu_gives_the_cpu_s_image(conformation, mfi, method):
    settings = replace(COARSE, method=method)
    cpu = simulate_cell(conformation, mfi.beam_axis, replace(settings, device="cpu"), 2).segments
    gpu = simulate_cell(conformation, mfi.beam_axis, replace(settings, device="gpu"), 2).segments
    # float32 FFTs of another library: far below the molecule's own signal (NRMSE ≈ 2.5e-2)
    assert np.sqrt(np.mean((gpu - cpu) ** 2)) / np.ptp(cpu) < 1e-4


NOWHERE = "tcp://127.0.0.1:9"  # the discard port: nothing listens


@pytest.mark.slow
def test_an_unreachable_dask_scheduler_is_named_with_the_fix(conformation, mfi):
    import dask

    from zeostem.errors import InputError

    with (
        dask.config.set({"scheduler-address": NOWHERE, "distributed.comm.timeouts.connect": "2s"}),
        pytest.raises(InputError, match=r"tcp://127.0.0.1:9.*DASK_SCHEDULER_ADDRESS"),
    ):
        simulate_cell(conformation, mfi.beam_axis, COARSE)
