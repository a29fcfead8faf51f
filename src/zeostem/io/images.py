"""Calibrated float32 TIFF images of the workflow: pixel size in the resolution tags, parameters as JSON.

The JSON description holds ``pixel_size_A`` (mean of x and y), ``pixel_size_xy_A`` and every physical
parameter of the image; files are written atomically (temporary file, then rename).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile

from zeostem.io.atomic import atomic_write

ANGSTROM_PER_CM = 1e8


def write_image(path: str | Path, array: np.ndarray, metadata: dict) -> None:
    """Write ``array`` (2-D image or stack) as float32 TIFF with ``metadata['pixel_size_xy_A']`` set."""
    px, py = metadata["pixel_size_xy_A"]
    meta = {**metadata, "pixel_size_A": (px + py) / 2}
    with atomic_write(path) as tmp:
        tifffile.imwrite(
            tmp,
            np.asarray(array, dtype=np.float32),
            description=json.dumps(meta, default=_json_default),
            resolution=(ANGSTROM_PER_CM / px, ANGSTROM_PER_CM / py),
            resolutionunit="CENTIMETER",
            metadata=None,
        )


def read_image(path: str | Path) -> tuple[np.ndarray, dict]:
    """Read a workflow TIFF: the array and its metadata (JSON description)."""
    with tifffile.TiffFile(path) as tif:
        array = tif.asarray()
        description = tif.pages[0].description
    return array, json.loads(description)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
