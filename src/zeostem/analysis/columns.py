"""Atom columns of the denoised image, each named by the registered framework.

Columns are local maxima of the denoised iDPC image (at least ``min_separation_A`` apart). The lattice
registration says where every framework column of the references lies in the image; a maximum within
``MATCH_A`` of one takes the element of the nearest — ``T`` (Si/Al) or ``O`` — and a maximum on no
framework column is ``light`` (the molecule's C/N, or anything else the framework does not hold).
Intensity alone does not separate the elements here: a mixture over peak height, Laplacian-of-Gaussian
response and background named T correctly for 0.62 of its T columns and O for 0.03 of its O columns
(the test suite's simulated T1 field).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from skimage.feature import peak_local_max

from zeostem.analysis.references import FrameworkColumns, References
from zeostem.analysis.registration import Registration

MATCH_A = 0.7  # a maximum this close to a framework column is that column


def find_columns(
    image: np.ndarray, pixel_size_A: float, framework: FrameworkColumns, min_separation_A: float = 1.0
) -> pd.DataFrame:
    """Atom columns of a denoised image: x/y in px and Å, intensity, the distance to the nearest
    framework column and the class (``T``, ``O`` or ``light``). ``framework``: its columns on the
    image's pixels (:meth:`FrameworkColumns.registered`)."""
    z = (image - image.mean()) / (image.std() + 1e-12)
    distance = max(1, int(round(min_separation_A / pixel_size_A)))
    peaks = peak_local_max(z, min_distance=distance, threshold_abs=0.0, exclude_border=False)
    rows, cols = peaks[:, 0], peaks[:, 1]
    nearest_px, index = cKDTree(framework.rc).query(peaks.astype(float))
    nearest_A = nearest_px * pixel_size_A
    return pd.DataFrame(
        {
            "x_px": cols.astype(float),
            "y_px": rows.astype(float),
            "x_A": cols * pixel_size_A,
            "y_A": rows * pixel_size_A,
            "intensity": image[rows, cols],
            "framework_distance_A": nearest_A,
            "class": np.where(nearest_A <= MATCH_A, framework.element[index], "light"),
        }
    )


def registered_columns(image: np.ndarray, refs: References, registration: Registration) -> pd.DataFrame:
    """The columns of an image on the reference grid, named by the framework ``registration`` places."""
    framework = refs.framework.registered(
        registration.operation, registration.origin_px, refs.shape, image.shape
    )
    return find_columns(image, float(np.mean(refs.pixel_size_A)), framework)
