"""Which conformations a configuration asks for: generated from the config, plus the sample sheet."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from zeostem.errors import InputError
from zeostem.io.config import read_sheet
from zeostem.structures.candidates import binds, conformation_id, enumerate_candidates
from zeostem.structures.framework import load_framework
from zeostem.structures.molecules import load_molecule


@dataclass(frozen=True)
class ConformationSpec:
    """One conformation to build: generated when ``file`` is empty, else imported from ``file``."""

    conformation: str
    molecule: str
    tsite: str
    proton_o: str
    file: str = ""

    @property
    def imported(self) -> bool:
        return bool(self.file)


@cache
def _binds(framework: str, molecule: str, molecule_file: str, tsite: str, proton_o: str, cells: int,
           seed: int) -> bool:  # fmt: skip
    host, guest = load_framework(framework), load_molecule(molecule, molecule_file)
    return binds(host, guest, tsite, proton_o, cells, seed)


def conformation_specs(config: dict) -> list[ConformationSpec]:
    """All conformations of a validated config: molecules × T-sites × acid O (with ``acid_o: all``, those
    where the molecule binds without a clash), then the sheet's rows."""
    framework = load_framework(config["framework"])
    tsites = list(framework.t_sites) if config["tsites"] == "all" else list(config["tsites"])
    structures = config["structures"]
    cells, seed, acid_o = structures["cells_along_beam"], structures["seed"], structures["acid_o"]
    specs = {
        spec.conformation: ConformationSpec(spec.conformation, spec.molecule, spec.tsite, spec.proton_o)
        for spec in enumerate_candidates(framework, list(config["molecules"]), tsites, acid_o, cells)
        # every channel-facing O: only those the molecule can bind without a clash (`first` names one
        # O per T-site, and a clash there is an error the user must see)
        if acid_o == "first"
        or _binds(
            config["framework"],
            spec.molecule,
            config["molecules"][spec.molecule],
            spec.tsite,
            spec.proton_o,
            cells,
            seed,
        )  # fmt: skip
    }
    sheet_path = config["conformations"]
    if sheet_path:
        for row in read_sheet(sheet_path, "conformations", "conformation").to_dict("records"):
            if row["molecule"] not in config["molecules"]:
                raise InputError(
                    f"conformation {row['conformation']}: molecule {row['molecule']!r} is not in the config",
                    path=sheet_path,
                    fix=f"add it under `molecules` in the config, or use one of {list(config['molecules'])}",
                )
            if row["tsite"] not in framework.t_sites:
                raise InputError(
                    f"conformation {row['conformation']}: unknown T-site {row['tsite']!r}",
                    path=sheet_path,
                    fix=f"use one of {list(framework.t_sites)}",
                )
            spec = ConformationSpec(**row)  # `file` is relative to the working directory
            if not spec.imported and spec.conformation != conformation_id(
                spec.molecule, spec.tsite, spec.proton_o
            ):
                raise InputError(
                    f"generated conformation {spec.conformation!r} must be named "
                    f"{conformation_id(spec.molecule, spec.tsite, spec.proton_o)!r}",
                    path=sheet_path,
                    fix="rename it, or give a `file` to import",
                )
            specs[spec.conformation] = spec
    return list(specs.values())
