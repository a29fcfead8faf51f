"""Model mismatch: how much two honest simulations of one structure differ, next to the T-site signal.

A *variant* is the same conformation simulated with other, equally defensible settings (source size,
defocus, slice thickness, frozen phonons, thickness, ...). Its clean image, analysed with the nominal
references (registration known, noise-free), moves every candidate's log-likelihood ratio. In the
per-cell Gaussian-gradient likelihood with unit noise variance per gradient component (variance 2 of
the curl-free gradient's one degree of freedom), the noise-free margin of the true candidate k over a
rival j is ``||Δ||² / 4`` (Δ = m_k − m_j, the T-site signal) and a variant ``x = m_k + e`` shifts it
by ``<e, Δ> / 2``. Treating the variants as draws of the references'
uncertainty, the variance of that uncertainty *along the directions that separate candidates* is

    s² = mean over (variant, molecule, rival) of <e, Δ>² / ||Δ||²,

per gradient component and pixel, in reference units, with the variant's molecules at the contrast the
analysis fits (``measured_contrast``; Δ and the margins scale with it): a thicker crystal's fainter
molecules are not model error, the analysis measures them. It is the model-error variance of the
likelihood (``zeostem.analysis.likelihood``). With it, a candidate that wins by less than the
references' own spread no longer wins with certainty at high dose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zeostem.analysis.fourier import spectral_gradient
from zeostem.analysis.likelihood import noise_free_llr
from zeostem.analysis.references import References
from zeostem.analysis.registration import Placement


@dataclass(frozen=True)
class VariantMismatch:
    """One variant of one conformation against the nominal references."""

    variant: str
    conformation: str
    tsite: str
    ncc: float  # of the clean variant with the nominal clean image (after its intensity scale)
    rivals: list[int]  # candidates that can sit at the truth's site (the others are no competition)
    margin: np.ndarray  # (molecules, rivals) noise-free LLR margin of the truth (nominal image, ``contrast``)
    shift: np.ndarray  # (molecules, rivals) what the variant adds to it
    contrast: float  # the variant's molecules' contrast fitted as the analysis fits it (margins at it)

    @property
    def ratios(self) -> np.ndarray:
        """<e, Δ>² / ||Δ||² of every (molecule, rival) the nominal image separates (margin > 0)."""
        separated = self.margin > 0
        return self.shift[separated] ** 2 / self.margin[separated]

    @property
    def error_variance(self) -> float:
        """This variant's estimate of s² (see the module docstring)."""
        return float(np.mean(self.ratios))

    def row(self, dose_constant: float) -> dict:
        """Summary: NCC, relative shift, how often the variant's noise-free image prefers a rival, and
        the dose above which the variant's shift of the closest rival's margin outweighs shot noise."""
        closest = np.argmin(self.margin, axis=1)
        rows = np.arange(len(closest))
        margin, shift = self.margin[rows, closest], self.shift[rows, closest]
        # margin and shift are in nats at unit noise variance, i.e. ∝ dose / dose_constant; the noise's
        # spread of a margin m (nats) is sqrt(2 m) (an exact LLR's variance is twice its mean): the
        # shift dominates above 2 c m / shift²
        dominant = 2 * dose_constant * margin / np.maximum(shift**2, 1e-300)
        return {
            "variant": self.variant,
            "conformation": self.conformation,
            "tsite": self.tsite,
            "molecules": len(margin),
            "ncc": self.ncc,
            "molecule_contrast": self.contrast,
            "relative_shift": float(np.median(np.abs(self.shift) / self.margin)),
            "closest_rival_relative_shift": float(np.median(np.abs(shift) / margin)),
            "rival_preferred": float(np.mean(self.margin + self.shift < 0)),
            "truth_still_first": float(np.mean(np.all(self.margin + self.shift > 0, axis=1))),
            "dose_mismatch_dominates": float(np.median(dominant)),
            "error_variance": self.error_variance,
        }


def variant_mismatch(
    variant: str,
    conformation: str,
    image: np.ndarray,
    centres: np.ndarray,
    refs: References,
    placements: list[Placement],
) -> VariantMismatch:
    """Compare a variant's clean field of ``conformation`` with its nominal reference, at its molecules."""
    k = refs.conformations.index(conformation)
    nominal = refs.candidates[k].image
    image = on_grid(image, nominal.shape)
    g_nominal, g_variant = spectral_gradient(nominal), spectral_gradient(image)
    scaled = image * np.sum(g_nominal * g_variant) / np.sum(g_variant**2)  # the analysis fits a scale
    nominal_llr, _ = noise_free_llr(nominal, centres, refs, placements)
    # the analysis fits the molecules' contrast (fainter in a thicker crystal, or turned from the
    # references' pose): what that absorbs is not model error; at contrast c the margins are c² × those at 1
    variant_llr, contrast = noise_free_llr(scaled, centres, refs, placements, fit_contrast=True)
    rivals = [j for j in range(len(refs.candidates)) if j != k and np.all(np.isfinite(nominal_llr[:, j]))]
    margin = contrast**2 * (nominal_llr[:, [k]] - nominal_llr[:, rivals])
    shift = variant_llr[:, [k]] - variant_llr[:, rivals] - margin
    a, b = nominal - nominal.mean(), scaled - scaled.mean()
    ncc = float(np.sum(a * b) / np.sqrt(np.sum(a**2) * np.sum(b**2)))
    return VariantMismatch(
        variant, conformation, refs.candidates[k].tsite, ncc, rivals, margin, shift, contrast
    )


def on_grid(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A periodic field of view on a grid of ``shape`` holding the same cells (a strained cell's field
    on the reference's grid: what the lattice fit does to an image). Its spectrum sits on the cells'
    reflections, whose indices both grids share, so moving the coefficients is exact up to the smaller
    grid's band limit."""
    if field.shape == tuple(shape):
        return field
    spectrum = np.fft.fft2(field)
    out = np.zeros(shape, complex)
    keep = [np.fft.fftfreq(m, 1 / m).astype(int) for m in np.minimum(field.shape, shape)]
    out[np.ix_(keep[0] % shape[0], keep[1] % shape[1])] = spectrum[
        np.ix_(keep[0] % field.shape[0], keep[1] % field.shape[1])
    ]
    return np.fft.ifft2(out).real * (np.prod(shape) / np.prod(field.shape))


def model_error_variance(results: list[VariantMismatch]) -> float:
    """s² pooled over every variant, molecule and rival (see the module docstring)."""
    return float(np.mean(np.concatenate([r.ratios for r in results])))


def model_error_record(results: list[VariantMismatch], dose_constant: float) -> dict:
    """What ``model_error.json`` holds: s², where it came from (the likelihood's and every report's
    ``model_error_source``), the variants and conformations it pooled, the noise-to-dose constant."""
    variants = sorted({r.variant for r in results})
    conformations = sorted({r.conformation for r in results})
    source = (
        f"measured: {len(variants)} simulation variants ({', '.join(variants)}) of "
        f"{len(conformations)} validation conformations"
    )
    return {"variance": model_error_variance(results), "source": source, "variants": variants,
            "conformations": conformations, "dose_constant": dose_constant}  # fmt: skip


def mismatch_table(results: list[VariantMismatch], dose_constant: float) -> pd.DataFrame:
    """One row per (variant, conformation); see :meth:`VariantMismatch.row`."""
    return pd.DataFrame([r.row(dose_constant) for r in results])


def noise_dose_constant(images: list[tuple[np.ndarray, np.ndarray, float]]) -> float:
    """Gradient noise variance per pixel × dose of simulated (noisy, clean, dose) images, averaged
    (reference units, scale 1)."""
    return float(np.mean([np.mean(spectral_gradient(n - c) ** 2) * d for n, c, d in images]))
