"""Structure files of the workflow (extxyz), written atomically so no half-written file survives."""

from __future__ import annotations

from pathlib import Path

from ase import Atoms
from ase.io import read, write

from zeostem.io.atomic import atomic_write


def write_structure(atoms: Atoms, path: str | Path) -> None:
    """Write ``atoms`` as extxyz: to a temporary file beside ``path``, then rename into place."""
    with atomic_write(path) as tmp:
        write(tmp, atoms, format="extxyz")


def read_structure(path: str | Path) -> Atoms:
    """Read a workflow structure file (extxyz with ``info`` and ``arrays['site']``)."""
    return read(path, format="extxyz")
