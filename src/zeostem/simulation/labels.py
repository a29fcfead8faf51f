"""Labels of a simulated field of view: projected atoms (columns) and molecule boxes, in image pixels.

Pixel ``(x, y)`` = (column, row); pixel centres sit at integer coordinates, pixel (0, 0) at the
cell origin. Every cell of the tiling is listed.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from scipy.cluster.hierarchy import fcluster, linkage

from zeostem.simulation.images import FieldOfView
from zeostem.simulation.multislice import beam_view

COLUMN_MERGE_A = 0.3  # atoms projected closer than this form one column


def projected_columns(view: Atoms) -> np.ndarray:
    """Column index of every atom: atoms whose (x, y) projections coincide within 0.3 Å share one."""
    if len(view) == 1:
        return np.zeros(1, dtype=int)
    xy = view.positions[:, :2]
    extent = np.diag(view.cell)[:2]
    # periodic distance in the projection plane
    delta = xy[:, None, :] - xy[None, :, :]
    delta -= extent * np.round(delta / extent)
    dist = np.linalg.norm(delta, axis=-1)
    condensed = dist[np.triu_indices(len(xy), 1)]
    return fcluster(linkage(condensed, "single"), COLUMN_MERGE_A, criterion="distance") - 1


def molecule_box(view: Atoms, mask: np.ndarray, margin_A: float) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) in Å of the molecule atoms (unwrapped around its first atom) ± margin."""
    if not mask.any():
        return None
    xy = view.positions[mask, :2]
    extent = np.diag(view.cell)[:2]
    delta = xy - xy[0]
    xy = xy[0] + delta - extent * np.round(delta / extent)
    lo, hi = xy.min(axis=0) - margin_A, xy.max(axis=0) + margin_A
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def field_of_view_labels(atoms: Atoms, beam_axis: int, fov: FieldOfView, box_margin_A: float) -> dict:
    """Every atom of every cell (element, site, column, x/y px) and every molecule box (x0, y0, x1, y1 px)."""
    view = beam_view(atoms, beam_axis)
    sites = atoms.arrays.get("site", np.array([""] * len(atoms)))
    columns = projected_columns(view)
    n_columns = int(columns.max()) + 1
    cell_x, cell_y = float(view.cell[0, 0]), float(view.cell[1, 1])
    py, px = fov.pixel_size
    height, width = fov.shape
    box = molecule_box(view, sites == "molecule", box_margin_A)
    centre = None if box is None else [(box[0] + box[2]) / 2 / px, (box[1] + box[3]) / 2 / py]
    atoms_out, boxes = [], []
    for row in range(fov.cells[0]):
        for col in range(fov.cells[1]):
            cell_index = row * fov.cells[1] + col
            x = (view.positions[:, 0] + col * cell_x) / px
            y = (view.positions[:, 1] + row * cell_y) / py
            for i in range(len(view)):
                atoms_out.append(
                    {
                        "element": view.get_chemical_symbols()[i],
                        "site": str(sites[i]),
                        "column": cell_index * n_columns + int(columns[i]),
                        "cell": [col, row],
                        "x": round(float(x[i]), 3),
                        "y": round(float(y[i]), 3),
                    }
                )
            if box is not None:
                x0, y0 = (box[0] + col * cell_x) / px, (box[1] + row * cell_y) / py
                x1, y1 = (box[2] + col * cell_x) / px, (box[3] + row * cell_y) / py
                clipped = [max(x0, 0.0), max(y0, 0.0), min(x1, width - 1.0), min(y1, height - 1.0)]
                if clipped[2] > clipped[0] and clipped[3] > clipped[1]:
                    boxes.append(
                        {
                            "cell": [col, row],
                            "bbox_xyxy": [round(v, 3) for v in clipped],
                            "truncated": clipped != [x0, y0, x1, y1],
                        }
                    )
    return {
        "image_shape": [height, width],
        "pixel_size_xy_A": [px, py],
        "cell_px": [cell_x / px, cell_y / py],
        "molecule_center_px": centre,
        "atoms": atoms_out,
        "molecules": boxes,
    }
