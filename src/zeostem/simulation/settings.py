"""Simulation settings (the config's ``simulation`` section, validated with defaults by the schema)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class SimulationSettings:
    """Microscope, potential, scan, detector and output settings; defaults are the paper's."""

    energy_keV: float = 300.0
    semiangle_mrad: float = 15.0
    defocus_A: float = 0.0
    aberrations: dict = field(default_factory=dict)
    parametrization: str = "kirkland"
    slice_thickness_A: float = 1.0
    potential_sampling_A: float = 0.1
    scan_step_A: float = 0.3
    detector_inner_mrad: float = 4.0
    detector_outer_mrad: float = 22.0
    detector_rotation_deg: float = -45.0
    frozen_phonons: int = 0
    phonon_sigma_A: dict = field(default_factory=lambda: {"default": 0.08})
    source_fwhm_A: float = 0.8
    output_sampling_A: float = 0.25
    field_of_view_cells: tuple[int, int] = (5, 5)
    method: str = "multislice"
    prism_interpolation: int = 1
    device: str = "auto"
    seed: int = 0

    @classmethod
    def from_config(cls, section: dict) -> SimulationSettings:
        """Build from the config's ``simulation`` section (keys not about one multislice are ignored)."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in section.items() if k in names}
        if "field_of_view_cells" in values:
            values["field_of_view_cells"] = tuple(values["field_of_view_cells"])
        return cls(**values)

    def phonon_sigmas(self, elements: set[str]) -> dict[str, float]:
        default = self.phonon_sigma_A.get("default", 0.08)
        return {el: float(self.phonon_sigma_A.get(el, default)) for el in sorted(elements)}
