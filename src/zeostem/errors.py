"""Errors meant for people: what is wrong, in which file, and what to do."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad user input. The message names the file (when there is one) and the fix."""

    def __init__(self, problem: str, *, path: str | Path | None = None, fix: str | None = None):
        self.path = None if path is None else Path(path)
        self.problem = problem
        self.fix = fix
        where = f"{self.path}: " if self.path is not None else ""
        todo = f" Fix: {fix}" if fix else ""
        super().__init__(f"{where}{problem}.{todo}")
