"""The candidates' clean references: periodic fields of view, their lattice and exact periodic transforms.

A reference is a clean iDPC field of view of ``cells = (rows, cols)`` identical unit cells on a pixel
grid that holds them exactly (the simulation's fields of view), with the lattice origin at pixel
(0, 0). Its spectrum is non-zero only at the reflections of the projected cell, which is what the
lattice fit indexes and the registration phases against. Coordinates are (row, col) in reference
pixels throughout; a flip is ``F = diag(±1, ±1)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from zeostem.analysis.fourier import frequency_grid
from zeostem.errors import InputError
from zeostem.io.images import read_image

FLIPS = {
    "identity": (1, 1),
    "mirror_x": (1, -1),  # columns reversed (x → −x)
    "mirror_y": (-1, 1),
    "rotate_180": (-1, -1),
}


FRAMEWORK_ELEMENTS = {"Si": "T", "Al": "T", "O": "O"}  # a framework column's element, as the columns name it


@dataclass(frozen=True)
class FrameworkColumns:
    """The references' projected framework columns: (row, col) in pixels and element (``T`` or ``O``)."""

    rc: np.ndarray
    element: np.ndarray

    @classmethod
    def of(cls, labels: dict) -> FrameworkColumns:
        """The framework columns of a reference's labels (``labels.json``: atoms with x/y px and the
        column each projects into): each column where its atoms lie on average."""
        columns: dict[int, list] = {}
        for atom in labels["atoms"]:
            if atom["site"] != "molecule" and atom["element"] in FRAMEWORK_ELEMENTS:
                columns.setdefault(atom["column"], []).append((atom["y"], atom["x"], atom["element"]))
        rc = np.array([np.mean([a[:2] for a in atoms], axis=0) for atoms in columns.values()]).reshape(-1, 2)
        element = [FRAMEWORK_ELEMENTS[atoms[0][2]] for atoms in columns.values()]
        return cls(rc, np.array(element))

    def registered(
        self,
        operation: str,
        origin_px: np.ndarray,
        field_shape: tuple[int, int],
        shape: tuple[int, int],
        margin_px: float = 8.0,
    ) -> FrameworkColumns:
        """Where an image registered to the references shows them. The registration says
        ``image(u) ≈ framework(F (u − origin))``, the reference field repeating, so the column at ``a``
        lies at ``origin + F a`` modulo the field, and again one field further on across ``shape``. Columns
        just outside the image are kept (``margin_px``): a maximum on the edge may be theirs."""
        field = np.asarray(field_shape, float)
        at = np.mod(np.asarray(origin_px, float) + np.array(FLIPS[operation]) * self.rc, field)
        repeats = [np.arange(-1, -(-n // int(f)) + 1) for n, f in zip(shape, field_shape, strict=True)]
        offsets = np.stack(np.meshgrid(*repeats, indexing="ij"), -1).reshape(-1, 2) * field
        rc = (at[None] + offsets[:, None]).reshape(-1, 2)
        element = np.tile(self.element, len(offsets))
        inside = np.all((rc > -margin_px) & (rc < np.array(shape) - 1 + margin_px), axis=1)
        return FrameworkColumns(rc[inside], element[inside])


@dataclass(frozen=True)
class Candidate:
    """One candidate conformation: its clean field of view and where its molecule sits in cell (0, 0)."""

    conformation: str
    tsite: str
    image: np.ndarray
    molecule_centre_px: tuple[float, float]  # (row, col)
    molecule_box_px: tuple[float, float]  # (height, width) of the molecule's box
    proton_o: str  # the acid O the molecule's proton sits on


@dataclass
class References:
    """Every candidate, the molecule-free framework (mean of the candidates' empty twins) and the lattice."""

    candidates: list[Candidate]
    empty: np.ndarray
    cells: tuple[int, int]  # (rows, cols) of unit cells in the field of view
    pixel_size_A: tuple[float, float]  # (row, col) = (y, x)
    framework: FrameworkColumns  # the framework's projected columns in the field of view

    @cached_property
    def spectra(self) -> dict[str, np.ndarray]:
        """FFT of every candidate's field of view (by conformation) and of the framework (``empty``)."""
        return {
            "empty": np.fft.fft2(self.empty),
            **{c.conformation: np.fft.fft2(c.image) for c in self.candidates},
        }

    @cached_property
    def molecule_power(self) -> np.ndarray:
        """Where in frequency one molecule's evidence lies: the gradient power spectrum of one molecule
        (candidate minus framework in one cell centred on it), summed over the candidates and
        normalised, on a grid of twice the references' size (cycles per pixel as ``frequency_grid``)."""
        shape = tuple(2 * n for n in self.shape)
        h, w = np.round(self.cell_px).astype(int)
        ky, kx = frequency_grid(shape)
        total = np.zeros(shape)
        for c in self.candidates:
            diff = c.image - self.empty
            to_middle = np.round(np.array(diff.shape) / 2 - c.molecule_centre_px).astype(int)
            centred = np.roll(diff, to_middle, (0, 1))
            top, left = diff.shape[0] // 2 - h // 2, diff.shape[1] // 2 - w // 2
            one = np.zeros(shape)
            one[:h, :w] = centred[top : top + h, left : left + w]
            total += (ky**2 + kx**2) * np.abs(np.fft.fft2(one)) ** 2
        return total / total.sum()

    @property
    def shape(self) -> tuple[int, int]:
        return self.empty.shape

    @property
    def cell_px(self) -> np.ndarray:
        """(rows, cols) of one unit cell in reference pixels."""
        return np.array(self.shape, float) / np.array(self.cells, float)

    @property
    def tsites(self) -> list[str]:
        return [c.tsite for c in self.candidates]

    @property
    def conformations(self) -> list[str]:
        return [c.conformation for c in self.candidates]

    @classmethod
    def load(cls, clean: list[str | Path], labels: list[str | Path], empty: list[str | Path]) -> References:
        """The candidates' references from the workflow's simulation of each.

        Parameters
        ----------
        clean, labels, empty
            Per candidate conformation, in the same order: its clean field of view (``clean.tif``),
            its labels (``labels.json``) and its molecule-free twin (``empty-clean.tif``).

        Returns
        -------
        References
            One field of view per candidate on a common grid, and the mean molecule-free field.

        Raises
        ------
        InputError
            Labels without a molecule, or candidates simulated on different grids.
        """
        candidates, grids = [], set()
        for clean_path, labels_path in zip(clean, labels, strict=True):
            image, meta = read_image(clean_path)
            info = json.loads(Path(labels_path).read_text())
            box = next((m["bbox_xyxy"] for m in info["molecules"] if not m["truncated"]), None)
            if info["molecule_center_px"] is None or box is None:
                raise InputError(
                    "the reference holds no molecule", path=labels_path, fix="re-run the workflow"
                )
            cx, cy = info["molecule_center_px"]
            candidates.append(
                Candidate(
                    meta["conformation"],
                    meta["structure"]["tsite"],
                    image.astype(np.float64),
                    (cy, cx),
                    (box[3] - box[1], box[2] - box[0]),
                    meta["structure"]["proton_o"],
                )
            )
            grids.add(
                (image.shape, tuple(meta["field_of_view_cells_xy"][::-1]), tuple(meta["pixel_size_xy_A"]))
            )
        if len(grids) != 1:
            raise InputError(
                f"the references were simulated on {len(grids)} different grids",
                path=Path(clean[0]).parent.parent,
                fix="simulate every candidate with the same simulation settings",
            )
        (shape, cells, (px, py)) = grids.pop()
        empties = [read_image(p)[0].astype(np.float64) for p in empty]
        framework = FrameworkColumns.of(json.loads(Path(labels[0]).read_text()))
        return cls(candidates, np.mean(empties, axis=0), cells, (py, px), framework)
