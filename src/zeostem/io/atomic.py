"""Atomic writes: build a file or a folder beside the target, rename it into place on success."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``path`` (permissions as for a new file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces the folder ``path`` as a whole.

    Concurrent writers of the same folder each swap in a complete folder; the last one stays, and
    no reader ever sees a mix of two writers' files or a half-written folder.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        yield tmp
        while True:
            with contextlib.suppress(FileNotFoundError):  # move the old folder aside (another writer may)
                old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex}")
                path.rename(old)
                shutil.rmtree(old, ignore_errors=True)
            try:
                tmp.rename(path)
                break
            except OSError:  # another writer's folder landed in between: move it aside and retry
                continue
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
