"""The models' settings, without torch: what the workflow's job lists and the model cards need.

Each dataclass's config keys are its fields (less ``NOT_CONFIG``, which the rule or the code fixes),
read from one section of a validated config; the defaults live only in the config schema
(``defaults`` reads them, for tests and benchmarks that change a few).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import ClassVar

from zeostem.io.config import validate_config


class FromConfig:
    SECTION: ClassVar[str]
    NOT_CONFIG: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def config_keys(cls) -> tuple[str, ...]:
        """The keys of the config's section that make these settings."""
        return tuple(f.name for f in fields(cls) if f.name not in cls.NOT_CONFIG)

    @classmethod
    def from_config(cls, section: dict, **fixed):
        """From a validated config's section; ``fixed``: the fields the rule sets (and overrides)."""
        values = {
            k: tuple(v) if isinstance(v, list) else v for k, v in section.items() if k in cls.config_keys()
        }
        return cls(**{**values, **fixed})

    @classmethod
    def defaults(cls, **changes):
        """The config schema's defaults, with ``changes``."""
        return replace(cls.from_config(validate_config({cls.SECTION: {}})[cls.SECTION]), **changes)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DivaesrConfig(FromConfig):
    """The DIVAESR architecture (``clearstem`` section); ``variant`` comes from the rule."""

    scale: int
    vae_features: int
    latent_channels: int
    vae_levels: int
    edsr_blocks: int
    edsr_features: int
    variant: str = "divaesr"  # divaesr | vae_only | sr_only | vae_sr_direct (the Table 1 ablation)
    SECTION: ClassVar[str] = "clearstem"
    NOT_CONFIG: ClassVar[tuple[str, ...]] = ("variant",)


@dataclass(frozen=True)
class TrainConfig(FromConfig):
    """Denoiser training (``clearstem`` section); ``sr_weight`` is overridden for the λ sweep."""

    epochs: int
    batch_size: int
    learning_rate: float
    schedule: str  # cosine | step | constant
    kl_weight: float
    sr_weight: float
    seed: int
    SECTION: ClassVar[str] = "clearstem"


@dataclass(frozen=True)
class DetectorConfig(FromConfig):
    """The Faster R-CNN (``detector`` section)."""

    backbone: str
    anchor_sizes_px: tuple[int, ...]
    aspect_ratios: tuple[float, ...]
    score_threshold: float
    head_features: int = 256  # the box head's MLP width (torchvision's default 1024 is for 80 classes)
    # per training crop: the RPN's proposals kept after NMS (twice as many before it; torchvision's
    # 2000 / 2000 are for 800-px images of many objects) and the boxes the ROI head samples from them
    # (torchvision's 512). Training only; benchmarks/detector_step.py measures what each costs: on CPU
    # the box pooling's backward for the sampled boxes dominates, and 32 instead of 128 boxes of a few
    # molecules per crop takes 0.43 × the time per step for a validation AP50 at least as high
    train_proposals: int = 300
    sampled_boxes: int = 32
    # backbone divaesr_encoder (benchmarks/detector_backbone.py): the denoiser's encoder width and levels
    encoder_features: int = 16
    encoder_levels: int = 3
    SECTION: ClassVar[str] = "detector"
    NOT_CONFIG: ClassVar[tuple[str, ...]] = (
        "head_features", "train_proposals", "sampled_boxes", "encoder_features", "encoder_levels"
    )  # fmt: skip


@dataclass(frozen=True)
class DetectorTrainConfig(FromConfig):
    """Detector training (``detector`` section)."""

    epochs: int
    batch_size: int
    learning_rate: float
    warmup_steps: int
    weight_decay: float
    schedule: str
    crop: int  # training crop (px); inference tiles may be larger (no resizing)
    seed: int
    SECTION: ClassVar[str] = "detector"
