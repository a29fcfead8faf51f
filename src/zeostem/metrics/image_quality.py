"""Image-quality metrics against a clean reference, with pinned definitions.

* PSNR: 10·log10(R² / MSE) with R = max − min of the reference.
* SSIM: scikit-image ``structural_similarity`` with the settings of Wang et al. (2004): Gaussian
  window σ = 1.5 px (11×11), K1 = 0.01, K2 = 0.03, population covariance, data range R.
* VIF: ``piq.vif_p`` (pixel-domain VIF) on images shifted and clipped to [0, R] of the reference,
  with ``data_range=R`` given explicitly (piq and torchmetrics otherwise assume other ranges).
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.metrics import structural_similarity


def data_range(reference: np.ndarray) -> float:
    return float(reference.max() - reference.min())


def psnr(reference: np.ndarray, image: np.ndarray) -> float:
    mse = float(np.mean((np.asarray(image, np.float64) - reference) ** 2))
    return float(10 * np.log10(data_range(reference) ** 2 / max(mse, 1e-30)))


def ssim(reference: np.ndarray, image: np.ndarray) -> float:
    return float(
        structural_similarity(
            np.asarray(reference, np.float64),
            np.asarray(image, np.float64),
            data_range=data_range(reference),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
    )


def vif(reference: np.ndarray, image: np.ndarray) -> float:
    import piq

    low, span = float(reference.min()), data_range(reference)

    def as_tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.clip(np.asarray(a, np.float64) - low, 0, span))[None, None].float()

    return float(piq.vif_p(as_tensor(image), as_tensor(reference), data_range=span))


def image_quality(reference: np.ndarray, image: np.ndarray) -> dict[str, float]:
    return {"psnr": psnr(reference, image), "ssim": ssim(reference, image), "vif": vif(reference, image)}
