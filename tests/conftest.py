"""Shared fixtures: the project's framework and molecules, and paths to the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from zeostem.structures import load_framework, load_molecule

REPO = Path(__file__).resolve().parents[1]
SHARED_DFT = REPO.parent / "shared" / "data" / "dft" / "thiophene"


@pytest.fixture(scope="session")
def mfi():
    return load_framework(REPO / "resources" / "frameworks" / "MFI.yaml")


@pytest.fixture(scope="session")
def pyridine():
    return load_molecule("pyridine", REPO / "resources" / "molecules" / "pyridine.xyz")


@pytest.fixture(scope="session")
def thiophene():
    return load_molecule("thiophene", REPO / "resources" / "molecules" / "thiophene.xyz")
