"""Read a micrograph (TIFF, PNG/JPG, MRC, .dm3/.dm4/.emd/.ser) as a 2-D float image with its pixel size.

The pixel size comes from the file (zeostem TIFF description, TIFF resolution tags in a length
unit, MRC voxel size, Velox metadata, rosettasciio axes) or from the caller (the images sheet's
``pixel_size_A``, which wins when given). Four detector segments — a Velox .emd's DF4-A…D images or
a four-page TIFF stack — are combined into iDPC here (:mod:`zeostem.io.segments`); a Velox
file without them gives its iDPC image. The result says which signal was used and where the
calibration came from. Every failure names the file and says what to do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from zeostem.errors import InputError
from zeostem.io.segments import SegmentIDPC, idpc_of_segments

RSCIIO_FORMATS = {".dm3": "digitalmicrograph", ".dm4": "digitalmicrograph", ".emd": "emd", ".ser": "tia"}
UNIT_TO_ANGSTROM = {
    "a": 1.0, "å": 1.0, "angstrom": 1.0, "nm": 10.0, "µm": 1e4, "um": 1e4, "pm": 0.01, "m": 1e10
}  # fmt: skip


SEGMENT_NAME = re.compile(r"^DF4?-?([A-D])$", re.IGNORECASE)  # Velox: DF4-A … DF4-D


@dataclass(frozen=True)
class Micrograph:
    """The image to analyse, its pixel size, and where both came from."""

    image: np.ndarray
    pixel_size_A: float
    signal: str  # "image" (the file's one image), "iDPC" (the file's), "iDPC from 4 segments"
    calibration_source: str  # "given" (sheet / command line) or what in the file it was read from
    segments: SegmentIDPC | None = None
    dose_e_per_A2: float | None = None  # the dose the user states it was taken at (None: not stated)

    def record(self) -> dict:
        """The report's ``input`` section."""
        out = {"signal": self.signal, "calibration_source": self.calibration_source}
        if self.segments is not None:
            out["segments"] = self.segments.record()
        return out


def read_micrograph(
    path: str | Path, pixel_size_A: float | None = None, segment_rotation_deg: float | None = None
) -> Micrograph:
    """Read a micrograph: an iDPC image, or four detector segments combined into iDPC.

    Parameters
    ----------
    path
        TIFF, PNG/JPG, MRC, .dm3/.dm4, .emd (Velox DF4 segments or its iDPC image) or .ser.
    pixel_size_A
        Å per pixel; overrides the file's calibration (needed where the file has none).
    segment_rotation_deg
        Detector rotation for four-segment inputs; None: the one that leaves the DPC field curl-free.

    Returns
    -------
    Micrograph
        The image as float32 (H, W), its pixel size in Å and where each came from.

    Raises
    ------
    InputError
        A missing, empty, damaged or uncalibrated file, naming the file and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("image file not found", path=path, fix="check the `file` column of the images sheet")
    if path.stat().st_size == 0:
        raise InputError("the image file is empty", path=path, fix="export the image again")
    suffix = path.suffix.lower()
    signal = "image"
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
            found = (size, "MRC voxel size") if size > 0 else None
        elif suffix == ".emd" and _is_velox(path):
            image, found, signal = _read_velox(path)
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
        raise InputError(
            f"cannot read the image ({type(exc).__name__}: {exc})",
            path=path,
            fix="the file is damaged or not an image: copy or export it again (TIFF, EMD, MRC, DM)",
        ) from exc
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[0] == 4 and image.shape[-1] not in (3, 4):
        signal = "segments"
    else:
        image = _to_grey(image, path)
    if not np.all(np.isfinite(image)):
        raise InputError(
            f"the image holds {int(np.sum(~np.isfinite(image)))} NaN/infinite pixels",
            path=path,
            fix="replace or crop the bad pixels before the analysis",
        )
    size, source = (pixel_size_A, "given") if pixel_size_A is not None else (found or (None, ""))
    if size is None or not size > 0:
        raise InputError(
            "the pixel size is unknown: the file carries no calibration",
            path=path,
            fix="give pixel_size_A in the images sheet (or --pixel-size on the command line)",
        )
    combined = None
    if signal == "segments":
        given = "given" if segment_rotation_deg is not None else ""
        combined = idpc_of_segments(image, (size, size), segment_rotation_deg, given)
        image, signal = combined.image, "iDPC from 4 segments"
    return Micrograph(image.astype(np.float32), float(size), signal, source, combined)


def _read_tiff(path: Path) -> tuple[np.ndarray, tuple[float, str] | None]:
    with tifffile.TiffFile(path) as tif:
        image = tif.asarray()
        page = tif.pages[0]
        try:
            return image, (float(json.loads(page.description)["pixel_size_A"]), "TIFF description")
        except (ValueError, KeyError, TypeError):
            pass
        tags = page.tags
        if "XResolution" in tags and "ResolutionUnit" in tags:
            num, den = tags["XResolution"].value
            per_unit = num / den if den else 0
            unit = {2: 2.54e8, 3: 1e8}.get(int(tags["ResolutionUnit"].value))  # inch, cm in Å
            if unit and per_unit > 1:
                return image, (unit / per_unit, "TIFF resolution tags")
    return image, None


def _read_rsciio(path: Path, plugin: str) -> tuple[np.ndarray, tuple[float, str] | None]:
    import importlib

    reader = importlib.import_module(f"rsciio.{plugin}")
    signal = reader.file_reader(str(path))[0]
    axis = [a for a in signal["axes"] if a.get("navigate") is False][-1]
    scale = UNIT_TO_ANGSTROM.get(str(axis.get("units", "")).lower())
    return signal["data"], ((axis["scale"] * scale, f"{plugin} axes") if scale else None)


def _is_velox(path: Path) -> bool:
    import h5py

    with h5py.File(path, "r") as f:
        return "Data/Image" in f


def _velox_images(path: Path) -> dict[str, tuple[np.ndarray, dict]]:
    """Detector name → (frame-averaged image, its metadata) of every image of a Velox file."""
    import h5py

    images = {}
    with h5py.File(path, "r") as f:
        for uid, group in f["Data/Image"].items():
            text = bytes(np.asarray(group["Metadata"])[:, 0]).split(b"\0")[0]
            meta = json.loads(text.decode("utf-8", "ignore"))
            data = np.asarray(group["Data"], np.float64)  # (rows, columns, frames)
            name = str(meta.get("BinaryResult", {}).get("Detector", uid))
            images[name] = (data.mean(axis=2) if data.ndim == 3 else data, meta)
    return images


def _read_velox(path: Path) -> tuple[np.ndarray, tuple[float, str] | None, str]:
    """The DF4 segments as a (4, H, W) stack (A…D) when all four are there, else the iDPC image."""
    images = _velox_images(path)
    segments = {SEGMENT_NAME.match(n).group(1).upper(): n for n in images if SEGMENT_NAME.match(n)}
    idpc = [n for n in images if "idpc" in n.lower()]
    if len(segments) == 4:
        names = [segments[k] for k in "ABCD"]
        data, signal = np.stack([images[n][0] for n in names]), "segments"
    elif idpc:
        names = idpc[:1]
        data, signal = images[names[0]][0], "iDPC"
    else:
        raise InputError(
            f"no iDPC image and no four DF4 segments among the file's detectors {sorted(images)}",
            path=path,
            fix="export the DF4 segments (DF4-A … DF4-D) or the iDPC image from Velox",
        )
    result = images[names[0]][1].get("BinaryResult", {})
    try:
        unit = UNIT_TO_ANGSTROM.get(str(result.get("PixelUnitX", "m")).lower(), 1e10)
        found = (float(result["PixelSize"]["width"]) * unit, f"Velox metadata ({names[0]})")
    except (KeyError, TypeError, ValueError):
        found = None
    return data, found, signal


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
