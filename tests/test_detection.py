"""Molecule detection: valid COCO files, tiled detection merged like whole-image detection, learning."""

import json

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO

from zeostem.datasets.coco import coco_from_labels
from zeostem.errors import InputError
from zeostem.metrics.detection import coco_metrics, fixed_box_detections
from zeostem.metrics.detection import molecule_crops as paper_crops
from zeostem.models.detector import build_detector, detect, start_from_denoiser
from zeostem.models.detector_training import (
    denoiser_start,
    flip,
    load_detector,
    random_crop,
    train_detector,
)
from zeostem.models.divaesr import DIVAESR
from zeostem.models.settings import DetectorConfig, DetectorTrainConfig, DivaesrConfig

LABELS = {
    "molecules": [
        {"cell": [0, 0], "bbox_xyxy": [10.0, 12.0, 38.0, 30.0], "truncated": False},
        {"cell": [1, 0], "bbox_xyxy": [90.0, 12.0, 118.0, 30.0], "truncated": False},
        {"cell": [2, 0], "bbox_xyxy": [159.0, 12.0, 160.5, 30.0], "truncated": True},  # a sliver: dropped
    ]
}


def test_coco_file_is_valid_for_pycocotools(tmp_path):
    coco = coco_from_labels(
        [
            {"file": f"img{i}.tif", "height": 105, "width": 161, "labels": LABELS, "dose": 1000}
            for i in range(3)
        ]
    )
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(coco))
    api = COCO(str(path))
    assert len(api.getImgIds()) == 3 and len(api.getAnnIds()) == 6
    assert len({a["id"] for a in coco["annotations"]}) == 6
    ann = api.loadAnns(api.getAnnIds(imgIds=[1]))[0]
    assert ann["bbox"] == [10.0, 12.0, 28.0, 18.0] and ann["area"] == 28.0 * 18.0
    with pytest.raises(ValueError, match="listed twice"):
        coco_from_labels([{"file": "a.tif", "height": 1, "width": 1, "labels": LABELS}] * 2)


def synthetic_scene(rng, height=160, width=224, n=6):
    """Bright Gaussian blobs (the 'molecules', ~20 px) on a noisy lattice background."""
    y, x = np.mgrid[0:height, 0:width]
    image = 0.3 * np.cos(2 * np.pi * x / 16) * np.cos(2 * np.pi * y / 12) + 0.3 * rng.standard_normal(
        (height, width)
    )
    boxes = []
    for _ in range(n):
        cy, cx = rng.uniform(16, height - 16), rng.uniform(16, width - 16)
        image += 2.0 * np.exp(-((x - cx) ** 2 / 40 + (y - cy) ** 2 / 25))
        boxes.append([cx - 12, cy - 10, cx + 12, cy + 10])
    return image.astype(np.float32), np.array(boxes, dtype=np.float32)


def test_tiled_detection_puts_each_tile_s_boxes_in_the_whole_image_s_pixels():
    torch.manual_seed(0)
    config = DetectorConfig.defaults(backbone="resnet18_fpn", score_threshold=0.0)
    model = build_detector(config).eval()
    image, _ = synthetic_scene(np.random.default_rng(0), 256, 256)
    alone_boxes, alone_scores = detect(model, image, tile=256, overlap=0)
    # 256 × 512 of two copies: tiles at x = 0, 192 and 256; the first and last see exactly `image`
    boxes, scores = detect(model, np.concatenate([image, image], axis=1), tile=256, overlap=64)

    def region(b, s, keep):
        order = np.lexsort(b[keep].T)
        return b[keep][order], s[keep][order]

    # boxes only the first tile can hold (x1 ≤ 192) are its own, unchanged
    left = region(boxes, scores, boxes[:, 2] <= 192)
    assert len(left[0]) > 0
    expected = region(alone_boxes, alone_scores, alone_boxes[:, 2] <= 192)
    np.testing.assert_allclose(left[0], expected[0], atol=1e-3)
    np.testing.assert_allclose(left[1], expected[1], rtol=1e-5)
    # boxes only the last tile can hold (x0 ≥ 448) are its own, moved by the tile's offset
    right = region(boxes - [256, 0, 256, 0], scores, boxes[:, 0] >= 448)
    assert len(right[0]) > 0
    expected = region(alone_boxes, alone_scores, alone_boxes[:, 0] >= 192)
    np.testing.assert_allclose(right[0], expected[0], atol=1e-3)
    np.testing.assert_allclose(right[1], expected[1], rtol=1e-5)


def test_training_pools_as_many_proposals_and_sampled_boxes_as_the_settings_say():
    """What a training step costs on CPU is set by these two (benchmarks/detector_step.py): the RPN hands
    the ROI head ``train_proposals`` proposals per crop (and the true boxes) and the head pools
    ``sampled_boxes`` of them."""
    torch.manual_seed(0)
    config = DetectorConfig.defaults(backbone="mobilenet_v3_fpn", train_proposals=40, sampled_boxes=12)
    model = build_detector(config).train()
    seen = {}
    model.roi_heads.register_forward_pre_hook(lambda _, args: seen.update(proposals=args[1]))
    model.roi_heads.box_roi_pool.register_forward_pre_hook(lambda _, args: seen.update(pooled=args[1]))
    crops = [torch.randn(1, 128, 128) for _ in range(2)]
    box = torch.tensor([[30.0, 40.0, 57.0, 55.0]])
    targets = [{"boxes": box, "labels": torch.ones(1, dtype=torch.int64)}] * 2
    model(crops, targets)
    assert [len(p) for p in seen["proposals"]] == [40, 40]
    assert [len(p) for p in seen["pooled"]] == [12, 12]


def test_an_encoder_detector_starts_from_the_denoiser_it_is_given_sized_as_that_denoiser(tmp_path):
    """backbone divaesr_encoder: the trained DIVAESR's encoder, read from its weights and card as the
    rule train_detector does; one of another width is refused, a denoiser without a VAE named."""
    torch.manual_seed(0)
    denoiser = DIVAESR(DivaesrConfig.defaults(vae_features=8, vae_levels=3))
    torch.save(denoiser.state_dict(), tmp_path / "divaesr.pt")
    card = tmp_path / "divaesr.json"
    card.write_text(json.dumps({"config": {"model": denoiser.config.to_dict()}}))
    wide = DetectorConfig.defaults(backbone="divaesr_encoder", encoder_features=32, encoder_levels=2)
    config, state = denoiser_start(wide, tmp_path / "divaesr.pt", card)
    assert (config.encoder_features, config.encoder_levels) == (8, 3)
    model = build_detector(config)
    start_from_denoiser(model, state)
    for name, value in model.backbone.body.state_dict().items():
        assert torch.equal(value, denoiser.vae.encoder.state_dict()[name])
    features = model.backbone(torch.randn(1, 1, 128, 128))  # strides 4 and 8 and a pooled 16
    assert [f.shape[-1] for f in features.values()] == [32, 16, 8]
    with pytest.raises(ValueError, match="encoder_features"):
        start_from_denoiser(build_detector(wide), state)
    card.write_text(json.dumps({"config": {"model": {**denoiser.config.to_dict(), "variant": "sr_only"}}}))
    with pytest.raises(InputError, match="no VAE encoder"):
        denoiser_start(wide, tmp_path / "divaesr.pt", card)


def test_flips_and_crops_move_boxes_with_the_image():
    image = torch.zeros(1, 40, 60)
    image[0, 5:15, 10:30] = 1.0
    boxes = torch.tensor([[10.0, 5.0, 30.0, 15.0]])
    flipped, fboxes = flip(image, boxes, horizontal=True, vertical=True)
    x0, y0, x1, y1 = fboxes[0].int().tolist()
    assert flipped[0, y0:y1, x0:x1].min() == 1.0 and flipped.sum() == image.sum()
    crop, cboxes = random_crop(image, boxes, 32, torch.Generator().manual_seed(0))
    assert crop.shape == (1, 32, 32)
    for box in cboxes:
        x0, y0, x1, y1 = box.int().tolist()
        assert crop[0, y0:y1, x0:x1].mean() == 1.0


NO_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible to torch")


def molecule_crops(simulated, size: int = 128) -> list[tuple[np.ndarray, np.ndarray]]:
    """``size``² crops of the clean fields (a perfect denoiser), each centred on a molecule, with every
    molecule box that lies wholly inside."""
    refs, _, labels = simulated
    crops = []
    for k, tsite in enumerate(refs.tsites):
        image = refs.candidates[k].image.astype(np.float32)
        boxes = np.array([m["bbox_xyxy"] for m in labels[tsite]["molecules"] if not m["truncated"]])
        for x0, y0, x1, y1 in boxes:
            top = int(np.clip((y0 + y1) / 2 - size / 2, 0, image.shape[0] - size))
            left = int(np.clip((x0 + x1) / 2 - size / 2, 0, image.shape[1] - size))
            moved = boxes - [left, top, left, top]
            inside = moved[(moved[:, :2] >= 0).all(axis=1) & (moved[:, 2:] <= size).all(axis=1)]
            crops.append((image[top : top + size, left : left + size], inside))
    return crops


@pytest.mark.slow
@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=NO_CUDA)])
def test_the_demo_detector_overfits_a_few_molecule_crops(simulated, tmp_path, device):
    """Labels, boxes, anchors, normalisation and loss are sound: the demo's MobileNetV3-FPN Faster R-CNN,
    from scratch, learns 8 crops that each hold a molecule (AP50 0 → 0.87 in 240 steps, above 0.75 from
    step ~200 on, measured by an earlier version; on the demo's denoised 4500 e/Å² crops 0.95-1.0 after
    300 steps), and finds the molecules of the crops it did not train on better than boxes of the right
    size placed without looking (the fixed-box baseline of detection.csv). A near-zero AP in a run is
    the schedule, not a broken pipeline. Each epoch shows every crop 4 times (8 steps), so the 240
    steps take 30 validations, not 120 (they cost as much as the steps)."""
    crops = molecule_crops(simulated)
    step = max(1, len(crops) // 8)
    seen = crops[::step][:8]
    unseen = [c for i, c in enumerate(crops) if i % step or i // step >= 8]
    config = DetectorConfig.defaults(backbone="mobilenet_v3_fpn")
    train = DetectorTrainConfig.defaults(epochs=30, batch_size=4, learning_rate=1e-3)
    history = train_detector(config, train, seen * 4, seen, tmp_path / "det", device, tile=128)
    assert history["val_ap50"].max() >= 0.75
    assert history["loss"].iloc[-1] < 0.3 * history["loss"].iloc[0]
    model = load_detector(tmp_path / "det.pt", config, device)
    truth = [boxes for _, boxes in unseen]
    found = coco_metrics(truth, [detect(model, image, tile=128) for image, _ in unseen])["ap50"]
    baseline = coco_metrics(truth, fixed_box_detections(truth, [image.shape for image, _ in unseen]))["ap50"]
    assert len(unseen) >= 4 and found > baseline + 0.2


def test_coco_metrics_perfect_and_missed():
    truth = [np.array([[0, 0, 20, 20], [40, 40, 60, 60]], float)]
    assert coco_metrics(truth, [(truth[0], np.array([0.9, 0.8]))])["ap50"] == pytest.approx(1.0)
    assert coco_metrics(truth, [(np.zeros((0, 4)), np.zeros(0))])["ar100"] == 0.0


def test_the_fixed_box_baseline_knows_the_molecules_size_but_not_their_place():
    """The baseline a trained detector must beat in detection.csv: near-zero AP50 where a detector that
    has found the molecules (boxes off by 3 px, random scores) is near 1."""
    rng = np.random.default_rng(0)
    centres = [rng.uniform(20, 380, (25, 2)) for _ in range(10)]
    truth = [np.c_[c - [12, 10], c + [12, 10]] for c in centres]
    baseline = fixed_box_detections(truth, [(400, 300)] * 10)
    boxes = baseline[0][0]
    assert len(boxes) <= 100 and np.allclose(boxes[:, 2:] - boxes[:, :2], [24, 20])
    assert boxes[:, 0].min() == 0 and boxes[:, 2].max() == pytest.approx(300)  # (height, width)
    assert boxes[:, 3].max() == pytest.approx(400)
    assert coco_metrics(truth, baseline)["ap50"] < 0.02
    found = [(t + rng.normal(0, 3, t.shape), rng.uniform(size=len(t))) for t in truth]
    assert coco_metrics(truth, found)["ap50"] > 0.8


def test_the_papers_crop_protocol_scores_a_detector_that_finds_the_molecules_and_not_fixed_boxes():
    """The paper's protocol (detection.csv's ``paper crops``): a 128² crop around every molecule (centred
    where the image allows), holding every box at least half inside, clipped. Boxes off by 1 px score
    AP50 near 1 there (the neighbours' boxes, cut by the crop's edge, are small), fixed boxes of the
    molecules' size on a grid near 0, though a crop is small and the grid dense."""
    rng = np.random.default_rng(1)
    image = rng.normal(size=(300, 400))
    rows, cols = np.meshgrid(np.arange(30, 300, 60), np.arange(30, 400, 70), indexing="ij")
    centres = np.c_[cols.ravel(), rows.ravel()] + rng.uniform(-5, 5, (rows.size, 2))  # (x, y)
    truth = np.c_[centres - [12, 10], centres + [12, 10]]
    crops = paper_crops(image, truth)
    assert len(crops) == len(truth) and not paper_crops(image[:100], truth)  # none in a smaller image
    fits = (centres >= 64).all(axis=1) & (centres[:, 0] <= 400 - 64) & (centres[:, 1] <= 300 - 64)
    for (crop, boxes), centred in zip(crops, fits, strict=True):
        assert crop.shape == (128, 128) and (boxes >= 0).all() and (boxes <= 128).all()
        whole = np.isclose(boxes[:, 2:] - boxes[:, :2], [24, 20]).all(axis=1)
        middle = (boxes[:, :2] + boxes[:, 2:]) / 2
        assert whole.any()  # its own molecule, whole (centred where the image allows)
        assert not centred or (whole & np.isclose(middle, 64, atol=1).all(axis=1)).sum() == 1
    boxes = [b for _, b in crops]
    found = [(b + rng.normal(0, 1, b.shape), rng.uniform(size=len(b))) for b in boxes]
    assert coco_metrics(boxes, found)["ap50"] > 0.8
    fixed = fixed_box_detections(boxes, [c.shape for c, _ in crops])
    assert coco_metrics(boxes, fixed)["ap50"] < 0.1


def test_coco_images_load_with_their_boxes(tmp_path):
    from zeostem.datasets.coco import load_coco_images
    from zeostem.io.images import write_image

    entries = []
    for i in range(2):
        path = tmp_path / f"img{i}.tif"
        write_image(path, np.full((105, 161), i, np.float32), {"pixel_size_xy_A": [0.25, 0.25]})
        entries.append(
            {"file": str(path), "height": 105, "width": 161, "labels": LABELS, "dose": 500 * (i + 1)}
        )
    coco_path = tmp_path / "coco.json"
    coco_path.write_text(json.dumps(coco_from_labels(entries)))
    loaded = load_coco_images(coco_path)
    assert [entry["dose"] for entry, _, _ in loaded] == [500, 1000]
    assert loaded[1][1].mean() == 1.0
    assert np.allclose(loaded[0][2], [[10, 12, 38, 30], [90, 12, 118, 30]])  # the sliver was dropped


def test_the_molecule_boxes_sit_on_the_molecule_in_the_image(simulated, tmp_path_factory):
    """Where a conformation's image differs from its molecule-free twin's (in the gradient, where the
    likelihood looks) is inside its labels' boxes; the overlay of the boxes on the clean and a 4500
    e/Å² image is kept as a test artefact. Measured: 7–9 % of the image holds 82–89 % of it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zeostem.analysis.fourier import spectral_gradient
    from zeostem.io.segments import idpc
    from zeostem.simulation.images import noise_seed, noisy_idpc

    refs, segments, labels = simulated
    out = tmp_path_factory.mktemp("artefacts") / "boxes_on_molecules.png"
    fig, axes = plt.subplots(len(refs.tsites), 2, figsize=(8, 2.6 * len(refs.tsites)), squeeze=False)
    for row, (k, tsite) in enumerate(enumerate(refs.tsites)):
        seg, fov = segments[tsite]
        clean = refs.candidates[k].image
        empty = idpc(segments[f"{tsite}-empty"][0], fov.pixel_size, np.radians(-45))
        inside = np.zeros(clean.shape, bool)
        boxes = [m["bbox_xyxy"] for m in labels[tsite]["molecules"]]
        for x0, y0, x1, y1 in boxes:
            inside[int(np.floor(y0)) : int(np.ceil(y1)), int(np.floor(x0)) : int(np.ceil(x1))] = True
        molecule = np.sum(spectral_gradient(clean - empty) ** 2, axis=0)
        assert molecule[inside].sum() / molecule.sum() > 0.8, tsite  # the signal is in the boxes
        assert inside.mean() < 0.25  # and the boxes are not the whole image
        noisy = noisy_idpc(seg, fov.pixel_size, 4500, -45, noise_seed(0, "overlay", 4500, 0))
        for ax, image, title in ((axes[row, 0], clean, "clean"), (axes[row, 1], noisy, "4500 e/Å²")):
            ax.imshow(image, cmap="gray")
            for x0, y0, x1, y1 in boxes:
                ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="tab:red", lw=1))
            ax.set_title(f"{tsite}, {title}", fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    assert out.stat().st_size > 10_000


def test_an_interrupted_detector_training_resumes_to_the_same_model(simulated, tmp_path):
    """Killed after its first epoch (Snakemake then deletes the incomplete best weights), the detector
    resumes from its checkpoint and ends where an uninterrupted run ends, bit for bit."""
    crops = molecule_crops(simulated)
    crops = crops[:: max(1, len(crops) // 4)][:4]
    config = DetectorConfig.defaults(backbone="mobilenet_v3_fpn")
    train = DetectorTrainConfig.defaults(epochs=3, batch_size=2, learning_rate=1e-3)
    straight = train_detector(config, train, crops, crops, tmp_path / "straight", "cpu", tile=128)
    first = train_detector(config, train, crops, crops, tmp_path / "resumed", "cpu", tile=128, stop_after=1)
    assert list(first["epoch"]) == [1]
    (tmp_path / "resumed.pt").unlink()
    resumed = train_detector(config, train, crops, crops, tmp_path / "resumed", "cpu", tile=128)
    assert list(resumed["epoch"]) == [1, 2, 3]
    assert np.allclose(resumed["loss"], straight["loss"])
    a = torch.load(tmp_path / "straight.ckpt", weights_only=False)["model"]
    b = torch.load(tmp_path / "resumed.ckpt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
