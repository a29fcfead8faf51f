"""Molecule detector: torchvision Faster R-CNN trained from scratch on single-channel iDPC images.

No downloaded weights: backbones are built with ``weights=None``. The first convolution takes one
channel, and the detector's own normalisation is the identity because every image is already
normalised by its own mean and standard deviation. torchvision's resizing is switched off (its 800-px
default would upsample 0.25 Å pixels threefold, and any fixed size would rescale crops and tiles of
other sizes): the model sees pixels at the simulation's scale, so training crops and inference tiles
may differ in size. Whole images are detected tile by tile; boxes from overlapping tiles are merged
by NMS.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import (
    BackboneWithFPN,
    mobilenet_backbone,
    resnet_fpn_backbone,
)
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.ops import nms
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from zeostem.models.divaesr import NoiseVAE
from zeostem.models.settings import DetectorConfig

BACKBONES = ("resnet50_fpn", "resnet18_fpn", "mobilenet_v3_fpn", "divaesr_encoder")


class NoResize(GeneralizedRCNNTransform):
    """torchvision's detection transform without its resizing (normalisation and batching only)."""

    def resize(self, image, target=None):
        return image, target


def _single_channel(conv: nn.Conv2d) -> nn.Conv2d:
    return nn.Conv2d(
        1, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=conv.bias is not None
    )


def build_detector(config: DetectorConfig) -> FasterRCNN:
    """Faster R-CNN (two classes: background, molecule) with a from-scratch backbone."""
    if config.backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {config.backbone!r}; choose from {BACKBONES}")
    if config.backbone == "divaesr_encoder":
        backbone, levels = encoder_backbone(config.encoder_features, config.encoder_levels), 3
    elif config.backbone == "mobilenet_v3_fpn":
        # torchvision's default takes the last two stages only (strides 32, 32 and a 64 pool): a
        # 27 × 15 px molecule is smaller than one feature cell. Stages at strides 8, 16, 32 (+ pool).
        backbone = mobilenet_backbone(
            backbone_name="mobilenet_v3_large",
            weights=None,
            fpn=True,
            trainable_layers=6,
            norm_layer=nn.BatchNorm2d,
            returned_layers=[2, 3, 4],
        )
        first = backbone.body["0"][0]
        backbone.body["0"][0] = _single_channel(first)
        levels = 4
    else:
        name = config.backbone.removesuffix("_fpn")
        backbone = resnet_fpn_backbone(
            backbone_name=name, weights=None, trainable_layers=5, norm_layer=nn.BatchNorm2d
        )
        backbone.body.conv1 = _single_channel(backbone.body.conv1)
        levels = 5
    sizes = list(config.anchor_sizes_px[:levels])
    while len(sizes) < levels:  # one size per level: the coarser levels double
        sizes.append(2 * sizes[-1])
    sizes = tuple((s,) for s in sizes)
    anchors = AnchorGenerator(sizes=sizes, aspect_ratios=(config.aspect_ratios,) * levels)
    resolution = 7
    head = TwoMLPHead(backbone.out_channels * resolution**2, config.head_features)
    model = FasterRCNN(
        backbone,
        rpn_anchor_generator=anchors,
        box_head=head,
        box_predictor=FastRCNNPredictor(config.head_features, 2),  # background, molecule
        rpn_pre_nms_top_n_train=2 * config.train_proposals,
        rpn_post_nms_top_n_train=config.train_proposals,
        rpn_pre_nms_top_n_test=300,
        rpn_post_nms_top_n_test=150,
        box_batch_size_per_image=config.sampled_boxes,
        box_score_thresh=config.score_threshold,
    )
    model.transform = NoResize(min_size=1, max_size=1, image_mean=[0.0], image_std=[1.0])
    return model


def encoder_backbone(features: int, levels: int) -> BackboneWithFPN:
    """The DIVAESR's noise-VAE encoder (``zeostem.models.divaesr.NoiseVAE``: a stride-2 stage per level)
    as a detection backbone: its last two stages (strides 4 and 8 for 3 levels) and a max-pooled level
    through an FPN. Its body's parameters are named as the denoiser's ``vae.encoder``, so a trained
    denoiser's encoder can start it (:func:`start_from_denoiser`)."""
    if levels < 2:
        raise ValueError("the encoder backbone needs at least two encoder levels")
    stage_ends = [str(1 + 4 * k) for k in (levels - 1, levels)]  # each stage: conv s2, SiLU, conv, SiLU
    return BackboneWithFPN(
        NoiseVAE(features, 1, levels).encoder,
        return_layers={end: str(k) for k, end in enumerate(stage_ends)},
        in_channels_list=[features, features],
        out_channels=4 * features,
        extra_blocks=LastLevelMaxPool(),
    )


def start_from_denoiser(model: FasterRCNN, denoiser_state: dict[str, torch.Tensor]) -> None:
    """Copy a trained DIVAESR's encoder (``vae.encoder.*`` of its state dict) into an encoder backbone."""
    prefix = "vae.encoder."
    weights = {k.removeprefix(prefix): v for k, v in denoiser_state.items() if k.startswith(prefix)}
    body = model.backbone.body.state_dict()
    differ = [k for k, v in body.items() if k not in weights or weights[k].shape != v.shape]
    if differ:
        raise ValueError(
            f"the denoiser's encoder is not the backbone's ({differ[0]} differs): set the detector's "
            "encoder_features and encoder_levels to the denoiser's vae_features and vae_levels"
        )
    model.backbone.body.load_state_dict({k: weights[k] for k in body})


FRCNN_MIN_SCORE = 0.5  # the Faster R-CNN boxes a report shows and compares with the lattice's detections


def normalise(image: np.ndarray) -> torch.Tensor:
    """(H, W) image → (1, H, W) tensor with zero mean and unit std (per image)."""
    x = torch.from_numpy(np.asarray(image, np.float32))
    return ((x - x.mean()) / x.std().clamp_min(1e-8))[None]


@torch.no_grad()
def detect(model: FasterRCNN, image: np.ndarray, tile: int = 256, overlap: int = 64, iou: float = 0.5):
    """Boxes (N, 4 xyxy in the image's pixels) and scores of molecules in an image of any size."""
    model.eval()
    device = next(model.parameters()).device
    x = normalise(image).to(device)  # whole-image statistics for every tile
    height, width = image.shape
    boxes, scores = [], []
    step = max(tile - overlap, 1)
    rows = sorted({*range(0, max(height - tile, 0) + 1, step), max(height - tile, 0)})
    cols = sorted({*range(0, max(width - tile, 0) + 1, step), max(width - tile, 0)})
    for y in rows:
        for x0 in cols:
            out = model([x[:, y : y + tile, x0 : x0 + tile]])[0]
            boxes.append(out["boxes"] + torch.tensor([x0, y, x0, y], device=device))
            scores.append(out["scores"])
    boxes, scores = torch.cat(boxes), torch.cat(scores)
    keep = nms(boxes, scores, iou)
    return boxes[keep].cpu().numpy(), scores[keep].cpu().numpy()
