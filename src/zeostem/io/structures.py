"""Structure files of the workflow (extxyz), written atomically so no half-written file survives."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ase import Atoms
from ase.io import read, write


def write_structure(atoms: Atoms, path: str | Path) -> None:
    """Write ``atoms`` as extxyz: to a temporary file beside ``path``, then rename into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp, atoms, format="extxyz")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_structure(path: str | Path) -> Atoms:
    """Read a workflow structure file (extxyz with ``info`` and ``arrays['site']``)."""
    return read(path, format="extxyz")
