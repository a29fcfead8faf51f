"""ClearSTEM: split by conformation, deterministic batch-independent inference, training that learns,
tiled inference equal to whole-image inference away from seams."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from zeostem.datasets.augment import Augmentation, augment_pair
from zeostem.datasets.split import split_by_conformation
from zeostem.metrics.image_quality import image_quality, psnr
from zeostem.models.divaesr import DIVAESR, VARIANTS, image_stats
from zeostem.models.inference import denoise_image
from zeostem.models.settings import DivaesrConfig, TrainConfig
from zeostem.models.training import train_denoiser
from zeostem.simulation.images import clean_field_of_view, noise_seed, noisy_idpc
from zeostem.simulation.multislice import simulate_cell
from zeostem.simulation.settings import SimulationSettings
from zeostem.structures import build_candidate

# the CUDA path runs where torch sees a GPU (skipped elsewhere: CI has none)
NO_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible to torch")
DEVICES = ["cpu", pytest.param("cuda", marks=NO_CUDA)]
TINY = DivaesrConfig.defaults(vae_features=8, latent_channels=4, vae_levels=2, edsr_blocks=1, edsr_features=8)


def test_split_never_puts_a_conformation_in_two_splits():
    names = [f"pyridine_T{i}_O{j}" for i in range(1, 13) for j in (1, 2)]
    split = split_by_conformation(names * 3, validation=0.2, test=0.25, seed=3)
    sets = [set(split[k]) for k in ("train", "validation", "test")]
    assert set().union(*sets) == set(names)
    assert all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1 :])
    assert len(split["test"]) == 6 and len(split["validation"]) == 5
    assert split == split_by_conformation(list(reversed(names)), 0.2, 0.25, seed=3)  # order-free, seeded
    with pytest.raises(ValueError, match="at least 3"):
        split_by_conformation(["a", "b"], 0.2, 0.2, 0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_inference_is_deterministic_and_independent_of_the_batch(variant):
    torch.manual_seed(0)
    model = DIVAESR(replace(TINY, variant=variant))
    images = torch.randn(3, 1, 32, 48) * torch.tensor([1.0, 5.0, 0.1])[:, None, None, None] + 2.0
    batch = model.denoise(images)
    alone = torch.cat([model.denoise(images[i : i + 1]) for i in range(3)])
    assert torch.equal(model.denoise(images), batch)  # no sampling at test time
    assert torch.allclose(batch, alone, atol=1e-5)  # per-image normalisation, never batch-wide


def test_per_image_statistics():
    images = torch.stack([torch.full((1, 4, 4), 1.0), torch.arange(16.0).reshape(1, 4, 4)])
    mean, std = image_stats(images)
    assert mean.shape == (2, 1, 1, 1) and mean[0].item() == 1.0 and mean[1].item() == 7.5


@pytest.fixture(scope="module")
def dose_series(mfi, pyridine):
    """Real (coarse) simulated images: clean field of view and noisy ones at 2000 e/Å²."""
    settings = SimulationSettings(
        potential_sampling_A=0.2, scan_step_A=0.5, slice_thickness_A=2.0, field_of_view_cells=(3, 3)
    )
    atoms = build_candidate(mfi, pyridine, "T1", "O2")
    fov, segments, clean = clean_field_of_view(simulate_cell(atoms, mfi.beam_axis, settings, 2), settings)
    noisy = [noisy_idpc(segments, fov.pixel_size, 2000, -45, noise_seed(0, "t", 2000, r)) for r in range(6)]
    return clean.astype(np.float32), [n.astype(np.float32) for n in noisy]


@pytest.mark.parametrize("device", DEVICES)
def test_a_tiny_model_trained_for_a_few_steps_gets_better_on_held_out_noise(tmp_path, dose_series, device):
    clean, noisy = dose_series
    rng = np.random.default_rng(0)

    def tiles(images, n):
        pairs = [np.stack([x, clean]) for x in images]
        crops = []
        for pair in pairs:
            for _ in range(n):
                y, x = rng.integers(0, pair.shape[1] - 32), rng.integers(0, pair.shape[2] - 32)
                crops.append(pair[:, y : y + 32, x : x + 32])
        return np.stack([c[0] for c in crops]), np.stack([c[1] for c in crops])

    train, validation = tiles(noisy[:4], 24), tiles(noisy[4:], 8)  # validation: unseen noise
    torch.manual_seed(0)
    untrained = DIVAESR(TINY)
    before = np.mean(
        [
            psnr(c, o)
            for c, o in zip(
                validation[1],
                untrained.denoise(torch.from_numpy(validation[0][:, None])).numpy()[:, 0],
                strict=True,
            )
        ]
    )
    history = train_denoiser(
        TINY,
        TrainConfig.defaults(epochs=8, batch_size=8, learning_rate=3e-3),
        train,
        validation,
        tmp_path / "tiny0.7",
        device,
    )
    noisy_tiles, clean_tiles = validation
    identity = np.mean([psnr(c, n) for c, n in zip(clean_tiles, noisy_tiles, strict=True)])
    gaussian = max(
        np.mean([psnr(c, gaussian_filter(n, sigma)) for c, n in zip(clean_tiles, noisy_tiles, strict=True)])
        for sigma in (0.5, 0.75, 1.0, 1.5, 2.0)
    )  # the best Gaussian filter, its width chosen on these very tiles
    print(f"held-out PSNR: untrained {before:.2f}, input {identity:.2f}, best Gaussian {gaussian:.2f}, "
          f"trained {history['val_psnr'].iloc[-1]:.2f} dB")  # fmt: skip
    assert history["val_psnr"].iloc[-1] > max(before, identity, gaussian)
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    # a name with a dot (as the λ sweep's divaesr_lambda0.7) keeps it in every file
    assert (tmp_path / "tiny0.7.pt").is_file() and (tmp_path / "tiny0.7.history.csv").is_file()


def test_an_interrupted_training_resumes_to_the_same_model(tmp_path, dose_series):
    clean, noisy = dose_series
    data = (np.stack([n[:32, :32] for n in noisy]), np.stack([clean[:32, :32]] * len(noisy)))
    config = TrainConfig.defaults(epochs=3, batch_size=4)
    straight = train_denoiser(TINY, config, data, data, tmp_path / "straight")
    first = train_denoiser(TINY, config, data, data, tmp_path / "resumed", stop_after=1)
    assert list(first["epoch"]) == [1]
    # Snakemake deletes the incomplete outputs of a killed job, the best weights among them
    (tmp_path / "resumed.pt").unlink()
    resumed = train_denoiser(TINY, config, data, data, tmp_path / "resumed")
    assert list(resumed["epoch"]) == [1, 2, 3]
    assert np.allclose(resumed["loss"], straight["loss"])
    a = torch.load(tmp_path / "straight.ckpt", weights_only=False)["model"]
    b = torch.load(tmp_path / "resumed.ckpt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    # killed after the last epoch, before the model card: the rerun restores the best weights
    (tmp_path / "resumed.pt").unlink()
    train_denoiser(TINY, config, data, data, tmp_path / "resumed")
    best_a = torch.load(tmp_path / "straight.pt", weights_only=True)
    best_b = torch.load(tmp_path / "resumed.pt", weights_only=True)
    assert all(torch.equal(best_a[k], best_b[k]) for k in best_a)


def test_a_checkpoint_of_other_training_data_is_discarded_not_resumed(tmp_path, dose_series, capsys):
    clean, noisy = dose_series
    data = (np.stack([n[:32, :32] for n in noisy]), np.stack([clean[:32, :32]] * len(noisy)))
    config = TrainConfig.defaults(epochs=2, batch_size=4)
    train_denoiser(TINY, config, data, data, tmp_path / "model", stop_after=1)
    changed = (data[0][::-1].copy(), data[1])  # the dataset was rebuilt: same shapes, other tiles
    history = train_denoiser(TINY, config, changed, changed, tmp_path / "model")
    assert list(history["epoch"]) == [1, 2]  # trained from scratch on the new data
    assert "stale checkpoint discarded (data changed)" in capsys.readouterr().out
    fresh = train_denoiser(TINY, config, changed, changed, tmp_path / "fresh")
    assert np.allclose(history["loss"], fresh["loss"])


def test_tiled_inference_matches_the_whole_image_away_from_seams(dose_series):
    _, noisy = dose_series
    torch.manual_seed(1)
    model = DIVAESR(
        DivaesrConfig.defaults(variant="sr_only", edsr_blocks=2, edsr_features=8)
    )  # small receptive field
    image = noisy[0][:112, :152]
    whole = model.denoise(torch.from_numpy(image)[None, None])[0, 0].numpy()
    tiled = denoise_image(model, image, tile=64, overlap=16)
    assert tiled.shape == image.shape
    # tiles start at 0, 48 (rows) and 0, 48, 88 (cols); pixels ≥ 12 px from every tile edge that covers them
    inner = np.zeros(image.shape, bool)
    inner[12:36, 12:36] = True
    assert np.abs(tiled - whole)[inner].max() < 1e-4
    assert np.abs(tiled - whole).mean() < 0.02 * whole.std()


def test_whole_images_of_any_size_go_through(dose_series):
    _, noisy = dose_series
    model = DIVAESR(TINY)
    image = noisy[0][:101, :157]  # not a multiple of anything
    assert denoise_image(model, image, tile=64, overlap=16).shape == (101, 157)
    sr = DIVAESR(replace(TINY, scale=2))
    assert denoise_image(sr, image, tile=64, overlap=16).shape == (202, 314)


def test_image_quality_metrics_on_known_cases():
    rng = np.random.default_rng(0)
    reference = rng.random((64, 64))
    perfect = image_quality(reference, reference)
    assert perfect["ssim"] == pytest.approx(1.0) and perfect["vif"] == pytest.approx(1.0)
    noisy = reference + 0.1 * rng.standard_normal(reference.shape)
    assert psnr(reference, noisy) == pytest.approx(20.0, abs=0.3)  # range 1, σ 0.1
    assert image_quality(reference, noisy)["ssim"] < 0.99


def test_training_tiles_are_augmented_deterministically(dose_series):
    clean, noisy = dose_series
    pair = np.stack([noisy[0], clean])
    a = augment_pair(pair, 32, Augmentation(), np.random.default_rng(5))
    b = augment_pair(pair, 32, Augmentation(), np.random.default_rng(5))
    c = augment_pair(pair, 32, Augmentation(), np.random.default_rng(6))
    assert np.array_equal(a, b) and a.shape == (2, 32, 32)
    assert not np.array_equal(a, c)


def test_noisy_and_clean_tiles_get_the_same_transform(dose_series):
    clean, _ = dose_series
    every = Augmentation(scale=(0.8, 1.25), blur_sigma_px=(0.5, 1.5))  # zoom and blur on too
    for seed in range(8):
        noisy_tile, clean_tile = augment_pair(
            np.stack([clean, clean]), 32, every, np.random.default_rng(seed)
        )
        assert np.array_equal(noisy_tile, clean_tile)  # the same input, transformed alike
    plain = augment_pair(np.stack([clean, clean]), 32, Augmentation(dihedral=False, brightness=0, contrast=0),
                         np.random.default_rng(0))[1]  # fmt: skip
    assert not any(np.allclose(plain, augment_pair(np.stack([clean, clean]), 32, every,
                   np.random.default_rng(s))[1]) for s in range(8))  # fmt: skip
