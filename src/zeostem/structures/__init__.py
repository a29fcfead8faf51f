"""Structure stage: framework, molecules, candidate conformations, relaxation and DFT import."""

from zeostem.structures.candidates import CandidateSpec, build_candidate, enumerate_candidates
from zeostem.structures.framework import Framework, load_framework
from zeostem.structures.importing import import_conformation
from zeostem.structures.library import ConformationSpec, conformation_specs
from zeostem.structures.molecules import Molecule, load_molecule
from zeostem.structures.registration import infer_tsites

__all__ = [
    "CandidateSpec",
    "ConformationSpec",
    "Framework",
    "Molecule",
    "build_candidate",
    "enumerate_candidates",
    "import_conformation",
    "infer_tsites",
    "load_framework",
    "load_molecule",
    "conformation_specs",
]
