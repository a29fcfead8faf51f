"""Element clustering on the denoised physical contrast: atom columns and a class per column.

Columns are local maxima of the denoised iDPC image (at least ``min_separation_A`` apart). Each gets
features — its peak intensity, its Laplacian-of-Gaussian response at the column scale and the local
background — and a 3-component Gaussian mixture over them assigns a class; components are named by
their mean peak intensity: ``T`` (Si/Al, brightest), ``O``, ``light`` (molecule C/N/S/H, faintest).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.feature import peak_local_max
from sklearn.mixture import GaussianMixture

CLASSES = ("light", "O", "T")


def find_columns(
    image: np.ndarray, pixel_size_A: float, min_separation_A: float = 1.0, seed: int = 0
) -> pd.DataFrame:
    """Atom columns of a denoised image: x/y in px and Å, intensity, features and class."""
    z = (image - image.mean()) / (image.std() + 1e-12)
    distance = max(1, int(round(min_separation_A / pixel_size_A)))
    peaks = peak_local_max(z, min_distance=distance, threshold_abs=0.0, exclude_border=False)
    sigma = 0.4 / pixel_size_A
    log = -ndimage.gaussian_laplace(z, sigma) * sigma**2
    background = ndimage.uniform_filter(z, size=int(round(3.0 / pixel_size_A)), mode="reflect")
    rows, cols = peaks[:, 0], peaks[:, 1]
    table = pd.DataFrame(
        {
            "x_px": cols.astype(float),
            "y_px": rows.astype(float),
            "x_A": cols * pixel_size_A,
            "y_A": rows * pixel_size_A,
            "intensity": image[rows, cols],
            "log_response": log[rows, cols],
            "background": background[rows, cols],
        }
    )
    if len(table) < len(CLASSES):
        table["class"] = "T"
        return table
    features = np.c_[z[rows, cols], table["log_response"], table["background"]]
    mixture = GaussianMixture(len(CLASSES), covariance_type="full", random_state=seed).fit(features)
    labels = mixture.predict(features)
    order = np.argsort(mixture.means_[:, 0])  # by peak intensity
    names = {int(component): CLASSES[rank] for rank, component in enumerate(order)}
    table["class"] = [names[int(k)] for k in labels]
    return table
