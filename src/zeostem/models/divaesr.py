"""DIVAESR: a VAE that predicts the noise (denoised = input − noise) followed by an EDSR head.

Fully convolutional (any image size that is a multiple of 2^vae_levels), per-image normalisation (statistics
of each input image, never of the batch), deterministic inference (the latent mean μ, no sampling).

Variants for the paper's ablation (Table 1):
    divaesr        VAE predicts the noise, EDSR refines            (the full model)
    vae_only       VAE predicts the noise, no EDSR head
    sr_only        EDSR on the (normalised) noisy input, no VAE
    vae_sr_direct  VAE predicts the clean image directly, EDSR refines
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from zeostem.models.settings import DivaesrConfig

VARIANTS = ("divaesr", "vae_only", "sr_only", "vae_sr_direct")


def conv(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, padding_mode="reflect")


class NoiseVAE(nn.Module):
    """Encoder (``levels`` stride-2 stages) → latent μ, log σ² maps → decoder → noise (or clean) map.

    iDPC shot noise is strongly low-frequency, so the receptive field matters: each level doubles it.
    """

    def __init__(self, features: int, latent: int, levels: int = 3):
        super().__init__()
        f = features
        down: list[nn.Module] = [conv(1, f), nn.SiLU()]
        up: list[nn.Module] = []
        for _ in range(levels):
            down += [conv(f, f, 2), nn.SiLU(), conv(f, f), nn.SiLU()]
            up += [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), conv(f, f), nn.SiLU()]
        self.encoder = nn.Sequential(*down)
        self.mu = nn.Conv2d(f, latent, 1)
        self.logvar = nn.Conv2d(f, latent, 1)
        self.decoder = nn.Sequential(nn.Conv2d(latent, f, 1), nn.SiLU(), *up)
        self.skip = nn.Sequential(conv(1, f), nn.SiLU())
        self.out = nn.Sequential(conv(2 * f, f), nn.SiLU(), nn.Conv2d(f, 1, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        mu, logvar = self.mu(h), self.logvar(h).clamp(-10, 10)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        y = self.decoder(z)
        return self.out(torch.cat([y, self.skip(x)], dim=1)), mu, logvar


class ResBlock(nn.Module):
    def __init__(self, features: int, res_scale: float = 0.1):
        super().__init__()
        self.body = nn.Sequential(conv(features, features), nn.ReLU(inplace=True), conv(features, features))
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.body(x)


class EDSR(nn.Module):
    """EDSR (no batch norm, scaled residual blocks), global residual, optional ×2 pixel shuffle."""

    def __init__(self, blocks: int, features: int, scale: int):
        super().__init__()
        self.head = conv(1, features)
        self.body = nn.Sequential(*[ResBlock(features) for _ in range(blocks)], conv(features, features))
        tail = [conv(features, features * scale * scale), nn.PixelShuffle(scale)] if scale > 1 else []
        self.tail = nn.Sequential(*tail, conv(features, 1))
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        base = (
            F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
            if self.scale > 1
            else x
        )
        return base + self.tail(h + self.body(h))


class DIVAESR(nn.Module):
    """The ClearSTEM denoiser. ``forward`` works on normalised images; ``denoise`` on physical ones."""

    def __init__(self, config: DivaesrConfig):
        super().__init__()
        if config.variant not in VARIANTS:
            raise ValueError(f"unknown variant {config.variant!r}; choose from {VARIANTS}")
        if config.variant == "vae_only" and config.scale != 1:
            raise ValueError("vae_only has no super-resolution head: use scale 1")
        self.config = config
        has_vae = config.variant != "sr_only"
        self.vae = (
            NoiseVAE(config.vae_features, config.latent_channels, config.vae_levels) if has_vae else None
        )
        self.sr = (
            EDSR(config.edsr_blocks, config.edsr_features, config.scale)
            if config.variant != "vae_only"
            else None
        )

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Normalised input (B, 1, H, W) → ``vae`` (the VAE's estimate), ``out``, ``mu``, ``logvar``."""
        result: dict[str, torch.Tensor] = {}
        estimate = x
        if self.vae is not None:
            noise_or_clean, result["mu"], result["logvar"] = self.vae(x)
            estimate = (
                x - noise_or_clean if self.config.variant in ("divaesr", "vae_only") else noise_or_clean
            )
            result["vae"] = estimate
        result["out"] = self.sr(estimate) if self.sr is not None else estimate
        return result

    @torch.no_grad()
    def denoise(self, image: torch.Tensor, stats: tuple[float, float] | None = None) -> torch.Tensor:
        """Physical (B, 1, H, W) images → denoised images in the same units (deterministic).

        ``stats`` = (mean, std) of the whole image when denoising tiles of it; else per image.
        """
        self.eval()
        mean, std = stats if stats is not None else image_stats(image)
        return self((image - mean) / std)["out"] * std + mean


def image_stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image mean and standard deviation (B, 1, 1, 1): never batch-wide."""
    mean = image.mean(dim=(-2, -1), keepdim=True)
    std = image.std(dim=(-2, -1), keepdim=True).clamp_min(1e-8)
    return mean, std


def loss_terms(model: DIVAESR, noisy: torch.Tensor, clean: torch.Tensor, kl_weight: float, sr_weight: float):
    """Loss = L_DIVAE + λ·L_SR on per-image-normalised data (normalised by the noisy image's stats).

    L_DIVAE = MSE(VAE estimate, clean) + β·KL; L_SR = L1(output, clean target). Variants without a
    VAE train on L_SR alone; variants without an EDSR head on L_DIVAE alone.
    """
    mean, std = image_stats(noisy)
    x, target = (noisy - mean) / std, (clean - mean) / std
    result = model(x)
    terms = {}
    if "vae" in result:
        target_in = target if model.config.scale == 1 else F.avg_pool2d(target, model.config.scale)
        kl = -0.5 * torch.mean(1 + result["logvar"] - result["mu"] ** 2 - result["logvar"].exp())
        terms["divae"] = F.mse_loss(result["vae"], target_in) + kl_weight * kl
        terms["kl"] = kl
    if model.sr is not None:
        terms["sr"] = F.l1_loss(result["out"], target)
    sr_factor = sr_weight if "divae" in terms else 1.0
    total = terms.get("divae", 0.0) + sr_factor * terms.get("sr", 0.0)
    return total, {k: float(v.detach()) for k, v in terms.items()}
