"""Read a micrograph (TIFF, PNG/JPG, MRC, .dm3/.dm4/.emd/.ser) as a 2-D float image with its pixel size.

The pixel size comes from the file (zeostem TIFF description, TIFF resolution tags in a length
unit, MRC voxel size, rosettasciio axes) or from the caller (the images sheet's ``pixel_size_A``,
which wins when given). Every failure names the file and says what to do.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile

from zeostem.errors import InputError

RSCIIO_FORMATS = {".dm3": "digitalmicrograph", ".dm4": "digitalmicrograph", ".emd": "emd", ".ser": "tia"}
UNIT_TO_ANGSTROM = {"a": 1.0, "å": 1.0, "angstrom": 1.0, "nm": 10.0, "µm": 1e4, "um": 1e4, "pm": 0.01}


def read_micrograph(path: str | Path, pixel_size_A: float | None = None) -> tuple[np.ndarray, float]:
    """The image as float32 (H, W) and its pixel size in Å."""
    path = Path(path)
    if not path.is_file():
        raise InputError("image file not found", path=path, fix="check the `file` column of the images sheet")
    if path.stat().st_size == 0:
        raise InputError("the image file is empty", path=path, fix="export the image again")
    suffix = path.suffix.lower()
    try:
        if suffix in (".tif", ".tiff"):
            image, found = _read_tiff(path)
        elif suffix in (".png", ".jpg", ".jpeg"):
            from skimage.io import imread

            image, found = imread(path), None
        elif suffix == ".mrc":
            import mrcfile

            with mrcfile.open(path, permissive=True) as mrc:
                image, size = np.array(mrc.data), float(mrc.voxel_size.x)
            found = size if size > 0 else None
        elif suffix in RSCIIO_FORMATS:
            image, found = _read_rsciio(path, RSCIIO_FORMATS[suffix])
        else:
            raise InputError(
                f"unknown image format {suffix!r}",
                path=path,
                fix="use TIFF, PNG/JPG, MRC, .dm3/.dm4, .emd or .ser",
            )
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"cannot read the image ({type(exc).__name__}: {exc})", path=path) from exc
    image = _to_grey(np.asarray(image), path)
    if not np.all(np.isfinite(image)):
        raise InputError(
            f"the image holds {int(np.sum(~np.isfinite(image)))} NaN/infinite pixels",
            path=path,
            fix="replace or crop the bad pixels before the analysis",
        )
    size = pixel_size_A if pixel_size_A is not None else found
    if size is None or not size > 0:
        raise InputError(
            "the pixel size is unknown: the file carries no calibration",
            path=path,
            fix="give pixel_size_A in the images sheet (or --pixel-size on the command line)",
        )
    return image.astype(np.float32), float(size)


def _read_tiff(path: Path) -> tuple[np.ndarray, float | None]:
    with tifffile.TiffFile(path) as tif:
        image = tif.asarray()
        page = tif.pages[0]
        try:
            return image, float(json.loads(page.description)["pixel_size_A"])
        except (ValueError, KeyError, TypeError):
            pass
        tags = page.tags
        if "XResolution" in tags and "ResolutionUnit" in tags:
            num, den = tags["XResolution"].value
            per_unit = num / den if den else 0
            unit = {2: 2.54e8, 3: 1e8}.get(int(tags["ResolutionUnit"].value))  # inch, cm in Å
            if unit and per_unit > 1:
                return image, unit / per_unit
    return image, None


def _read_rsciio(path: Path, plugin: str) -> tuple[np.ndarray, float | None]:
    import importlib

    reader = importlib.import_module(f"rsciio.{plugin}")
    signal = reader.file_reader(str(path))[0]
    axis = [a for a in signal["axes"] if a.get("navigate") is False][-1]
    scale = UNIT_TO_ANGSTROM.get(str(axis.get("units", "")).lower())
    return signal["data"], (axis["scale"] * scale if scale else None)


def _to_grey(image: np.ndarray, path: Path) -> np.ndarray:
    """RGB/RGBA grey exports → one channel; anything else that is not 2-D is an error."""
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        rgb = image[..., :3].astype(np.float64)
        if not (np.allclose(rgb[..., 0], rgb[..., 1]) and np.allclose(rgb[..., 1], rgb[..., 2])):
            raise InputError(
                "a colour image: expected a grey-scale micrograph", path=path, fix="export it in grey"
            )
        return rgb[..., 0]
    if image.ndim != 2:
        raise InputError(
            f"the file holds a {image.ndim}-D array of shape {image.shape}, not one image",
            path=path,
            fix="export a single frame (sum or pick a frame of the stack)",
        )
    return image.astype(np.float64)
