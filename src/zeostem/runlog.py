"""Run a workflow step with its output (prints, progress bars, warnings, tracebacks) in a log file."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def logged(log_path: str | Path) -> Iterator[None]:
    """Redirect stdout, stderr and ``logging`` to ``log_path``; an error is logged and re-raised."""
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", buffering=1) as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        handler = logging.StreamHandler(log)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        try:
            yield
        except Exception as exc:
            traceback.print_exc(file=log)
            print(f"zeostem: {exc}", file=sys.__stderr__)
            raise
        finally:
            logging.getLogger().removeHandler(handler)
