"""Per-cell likelihoods of every candidate conformation, the molecule detector and the matcher in one.

Every candidate conformation under every symmetry placement is a full-field model of the registered
image, with its molecule in every cell. For each such hypothesis and each cell whose cell-sized
window (centred on the hypothesis's molecule) lies inside the image, the log-likelihood ratio
"framework + candidate" vs "framework alone" is computed with the iDPC noise model: shot noise in
iDPC has a 1/k² power spectrum, i.e. it is white in the image gradient, so the likelihood is
Gaussian in the gradient with one variance per image, estimated from the image itself where the
molecules' evidence lies: a filtered or smoothed export (or an interpolated one) is not white, and its
noise in the molecules' band can be several times its mean, so the variance is the residual's power
spectrum weighted by one molecule's (``References.molecule_power``), the lattice's reflections left
out; its ratio to the plain mean is the image's ``noise_whiteness`` (1 for raw counts). The gradient
of an image is curl-free: its two components carry one degree of freedom per spatial frequency, not
two, so the whitened residual's variance per pixel is that of both components together (twice one
component's); counting them as independent would double every log-likelihood ratio. The
references are never exactly the experiment: a model-error variance (per gradient component and
pixel, in reference units, measured from the spread of simulation variants of one structure with
their molecules at the contrast the analysis fits; see ``zeostem.evaluation.mismatch``) adds to the
shot noise's, so differences between candidates smaller
than the references' own uncertainty stop counting as evidence, however high the dose.
Hypotheses whose molecules sit within ``SITE_RADIUS_A`` of the strongest are one molecule site, one
molecule at most: they compete for it, and together they are its evidence against "no molecule". Each ratio
is kept as its two parts (the residual's projection on the molecule model, the model's energy), so
it can be taken at any molecule contrast: in a crystal thicker than the references' one cell the
molecules show fainter against the framework (``measured_contrast``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import logsumexp

from zeostem.analysis.fit import FrameworkFit, framework_fit
from zeostem.analysis.fourier import frequency_grid, periodic_component, spectral_gradient
from zeostem.analysis.references import FLIPS, References
from zeostem.analysis.registration import Placement, Registration, model_image

KNOWN = Registration("identity", np.zeros(2), 1.0)  # simulated fields: lattice origin at pixel (0, 0)
# the noise-free limit: the log-likelihoods are computed at a vanishing noise variance (so pooling a
# site's hypotheses is a maximum, not an average with its −log(count)) and reported per unit variance
VANISHING_VARIANCE = 1e-12
# one site per channel: the demo's library puts every candidate's molecule in one of two channels per
# cell (MFI [010]), those of one channel within 6.9 Å of each other, 5.1 Å at closest from the other's.
# At 3 Å a real molecule's offset hypotheses (another candidate or placement in its channel) became
# sites of their own: false alarms at every dose (closed world 16 / 15 / 15 % of empty sites at 500 /
# 1500 / 4500 e/Å², 21 / 14 / 9 % at 5.5 Å, the lattice detector's AP50 0.12 / 0.32 / 0.67 → 0.22 /
# 0.45 / 0.81; measured side by side on the demo's simulations)
SITE_RADIUS_A = 5.5
# the molecules' contrast relative to the references' is measured where they are found, within these
# bounds (crystals up to 4 cells thick), in this many rounds of finding them at the last round's contrast,
# the first at the bounds' geometric middle: at the references' contrast a molecule at half of it has a
# log-likelihood ratio of 0 and is never found (a two-cell crystal's at 4500 e/Å² were not), at 0.5 both
# it and a full-contrast one stand out, and the fit moves towards the contrast of the molecules found
CONTRAST_BOUNDS = (0.25, 1.0)
CONTRAST_START = 0.5
CONTRAST_ROUNDS = 3


@dataclass(frozen=True)
class Hypotheses:
    """One row per (candidate, placement, cell): where its molecule is and its log-likelihood ratio."""

    centres_px: np.ndarray  # (n, 2) (row, col) on the image's grid
    candidate: np.ndarray  # (n,)
    placement: np.ndarray  # (n,)
    cross: np.ndarray  # (n,) <residual, molecule model> / variance: the molecule's evidence, linear in it
    energy: np.ndarray  # (n,) ‖molecule model‖² / variance
    contrast: float  # the molecules' contrast relative to the references' (1: as they were simulated)
    llr: np.ndarray  # (n,) at that contrast
    noise_variance: float  # of one gradient component per pixel
    scale: float  # image intensity per reference intensity (the median of the local scale)
    model_error: float  # model-error variance assumed, in reference units
    fit: FrameworkFit  # the framework's local scale and every cell's misfit
    noise_whiteness: float  # noise variance in the molecules' band / its mean over all frequencies

    def at_contrast(self, contrast: float) -> Hypotheses:
        """The same hypotheses with the molecules at ``contrast`` × the references' contrast."""
        return replace(self, contrast=contrast, llr=2 * contrast * self.cross - contrast**2 * self.energy)


# the gradient's two components are one degree of freedom (see the module docstring)
GRADIENT_COMPONENTS = 2


@dataclass(frozen=True)
class SiteScores:
    """Per molecule site of an image: where, and the log-likelihood ratio of each candidate there.

    ``llr[n, k]`` is −inf where candidate k has no placement at that site; ``placement[n, k]`` is the
    index (into the placements) of its best placement there.
    """

    centres_px: np.ndarray  # (n, 2)
    llr: np.ndarray  # (n, candidates)
    placement: np.ndarray  # (n, candidates)
    box_px: np.ndarray  # (candidates, 2) molecule box (height, width)
    noise_variance: float
    scale: float
    model_error: float
    explained: np.ndarray  # (n,) the framework explains the site's cell (else: none of the candidates)
    noise_whiteness: float

    def boxes_xyxy(self, centres: np.ndarray | None = None, candidate: int | None = None) -> np.ndarray:
        """Per site, the molecule box (x0, y0, x1, y1) of its best candidate (or of ``candidate``) around
        ``centres`` (or its own)."""
        best = np.argmax(self.llr, axis=1) if candidate is None else np.full(len(self.llr), candidate)
        h, w = self.box_px[best].T
        r, c = (self.centres_px if centres is None else np.asarray(centres, float)).reshape(-1, 2).T
        return np.c_[c - w / 2, r - h / 2, c + w / 2, r + h / 2]

    @property
    def correlation(self) -> float:
        """The share of one molecule's noise-plus-model-error variance that every molecule of the image
        shares: the references' error repeats in every cell, the shot noise does not."""
        shared = self.scale**2 * self.model_error
        return float(shared / (self.noise_variance + shared)) if shared > 0 else 0.0

    @property
    def answering_llr(self) -> np.ndarray:
        """``llr`` with the sites the framework does not explain set to −inf: none of the candidates."""
        return np.where(self.explained[:, None], self.llr, -np.inf)

    def log_bayes_factor(self, temperature: float = 1.0) -> np.ndarray:
        """Molecule (any candidate present there, uniform prior) vs no molecule, per site."""
        llr = self.llr / temperature
        count = np.isfinite(llr).sum(axis=1)
        return logsumexp(llr, axis=1) - np.log(np.maximum(count, 1))


def gradients(image: np.ndarray) -> np.ndarray:
    """Spectral gradient of a micrograph (its periodic component: no ringing at the borders)."""
    return spectral_gradient(periodic_component(image))


def hypotheses(
    image: np.ndarray,
    valid: np.ndarray,
    refs: References,
    registration: Registration,
    placements: list[Placement],
    noise_variance: float | None = None,
    scale: float | None = None,
    model_error: float = 0.0,
) -> Hypotheses:
    """Log-likelihood ratio of every (candidate, placement, complete cell window) of the image.

    ``noise_variance`` and ``scale`` are estimated from the image unless given (the ideal observer
    knows them): the scale locally (``zeostem.analysis.fit``), the noise in the molecules' band over
    the cells the framework explains. ``model_error`` (reference units) is scaled to the image's
    intensity and added to the shot noise's variance.
    """
    f0 = np.array(FLIPS[registration.operation])
    t = np.asarray(registration.origin_px, float)
    cell, shape = refs.cell_px, image.shape
    data = gradients(image)
    spectra = refs.spectra
    model_empty = model_image(spectra["empty"], registration, None, shape, gradient=True)
    # the registered frame flips each axis on its own: a pixel's row (column) coordinate there
    # depends on its row (column) alone, so every cell index is one per row and one per column
    z = [(np.arange(n, dtype=float) - t[a]) * f0[a] for a, n in enumerate(shape)]
    cells = [np.floor(z[a] / cell[a]).astype(int) for a in range(2)]
    fit = framework_fit(
        data, model_empty, valid, np.stack(np.meshgrid(*cells, indexing="ij"), -1), cell, scale
    )
    local = fit.scale_map
    residual = data - local * model_empty
    band, whiteness = band_noise_variance(residual, valid & ~fit.misfit_map, refs)
    if noise_variance is None:
        noise_variance = band
    local_valid, local2_valid = local * valid, local**2 * valid  # molecule model = local × (moved − empty)
    rows = {"centres": [], "candidate": [], "placement": [], "cross": [], "energy": []}
    for k, candidate in enumerate(refs.candidates):
        for p, placement in enumerate(placements):
            flip = np.array(FLIPS[placement.operation])
            centre = np.mod(flip * (np.array(candidate.molecule_centre_px) - placement.shift), cell)
            row_cell, col_cell = (np.floor((z[a] - centre[a]) / cell[a] + 0.5).astype(int) for a in range(2))
            windows = complete_windows((row_cell, col_cell), centre, f0, t, cell, valid)
            if not windows:
                continue
            moved = model_image(
                spectra[candidate.conformation], registration, placement, shape, gradient=True
            )
            difference = moved - model_empty
            low = np.array([row_cell.min(), col_cell.min()])
            span = np.array([row_cell.max(), col_cell.max()]) - low + 1
            ids = ((row_cell - low[0])[:, None] * span[1] + (col_cell - low[1])[None, :]).ravel()
            per_cell = {
                name: np.bincount(ids, term.ravel(), int(np.prod(span)))
                for name, term in (
                    ("cross", local_valid * np.einsum("cij,cij->ij", difference, residual)),
                    ("energy", local2_valid * np.einsum("cij,cij->ij", difference, difference)),
                )
            }
            for (i, j), centre_u in windows:
                rows["centres"].append(centre_u)
                rows["candidate"].append(k)
                rows["placement"].append(p)
                for name, sums in per_cell.items():
                    rows[name].append(sums[(i - low[0]) * span[1] + (j - low[1])])
    scale = fit.scale
    variance = 2 * GRADIENT_COMPONENTS * (noise_variance + scale**2 * model_error)
    cross, energy = np.array(rows["cross"]) / variance, np.array(rows["energy"]) / variance
    return Hypotheses(
        np.array(rows["centres"]).reshape(-1, 2),
        np.array(rows["candidate"], int),
        np.array(rows["placement"], int),
        cross,
        energy,
        1.0,
        2 * cross - energy,
        noise_variance,
        scale,
        model_error,
        fit,
        whiteness,
    )


def band_noise_variance(residual: np.ndarray, weight: np.ndarray, refs: References) -> tuple[float, float]:
    """Per gradient component and pixel: the noise variance of the residual (2, H, W) where one
    molecule's evidence lies, and its ratio to the mean variance over all frequencies.

    The residual's power spectrum (both components summed, per component: the curl-free gradient
    of white noise has a flat one) is averaged with one molecule's power spectrum as the weight; the
    bins within one of the lattice's reflections, where the framework's and the average molecule's
    periodic residuals sit, are left out.
    """
    mask = weight.astype(float)
    count = max(mask.sum(), 1.0)
    power = sum(np.abs(np.fft.fft2(component * mask)) ** 2 for component in residual) / (2 * count)
    white = float(np.sum((residual * mask) ** 2) / (2 * count))
    ky, kx = frequency_grid(mask.shape)
    grid = refs.molecule_power.shape
    weights = refs.molecule_power[
        np.round(ky * grid[0]).astype(int) % grid[0], np.round(kx * grid[1]).astype(int) % grid[1]
    ]
    near = [
        np.abs(k * c - np.round(k * c)) / c * n <= 1
        for k, c, n in zip((ky, kx), refs.cell_px, mask.shape, strict=True)
    ]
    weights = weights * ~(near[0] & near[1])
    band = float(np.sum(weights * power) / np.sum(weights))
    return band, band / white if white > 0 else float("nan")


def complete_windows(ij, centre, f0, t, cell, valid) -> list[tuple[tuple[int, int], np.ndarray]]:
    """Cells (i, j) whose cell-sized window centred on the molecule lies inside the valid image
    (``ij``: every row's and every column's cell index)."""
    i, j = np.meshgrid(
        np.arange(ij[0].min(), ij[0].max() + 1), np.arange(ij[1].min(), ij[1].max() + 1), indexing="ij"
    )
    centres_u = f0 * (centre + np.stack([i, j], -1) * cell) + t
    low, high = centres_u - cell / 2, centres_u + cell / 2
    limit = np.array(valid.shape) - 1
    inside = np.all(low >= 0, axis=-1) & np.all(high <= limit, axis=-1)
    r0, c0 = np.moveaxis(np.ceil(np.where(inside[..., None], low, 0)).astype(int), -1, 0)
    r1, c1 = np.moveaxis(np.floor(np.where(inside[..., None], high, 0)).astype(int), -1, 0)
    complete = inside & valid[r0, c0] & valid[r0, c1] & valid[r1, c0] & valid[r1, c1]
    return [
        ((int(a), int(b)), c) for a, b, c in zip(i[complete], j[complete], centres_u[complete], strict=True)
    ]


def nearby(found: Hypotheses, centres: np.ndarray, radius: float) -> list[list[int]]:
    """Per centre, the hypotheses within ``radius`` (px) of it."""
    if not len(found.llr) or not len(centres):
        return [[] for _ in centres]
    return list(cKDTree(found.centres_px).query_ball_point(centres, radius))


def sites_at(found: Hypotheses, centres: np.ndarray, refs: References) -> SiteScores:
    """Per given molecule centre: each candidate's evidence from its hypotheses within the radius (their
    likelihoods averaged over its placements there), and its strongest placement."""
    radius = SITE_RADIUS_A / np.mean(refs.pixel_size_A)
    centres = np.asarray(centres, float).reshape(-1, 2)
    k_all = len(refs.candidates)
    llr = np.full(len(centres) * k_all, -np.inf)
    best = np.zeros(len(centres) * k_all, int)
    near = [np.asarray(n, int) for n in nearby(found, centres, radius)]
    hypothesis = np.concatenate([np.zeros(0, int), *near])
    if len(hypothesis):
        site = np.repeat(np.arange(len(centres)), [len(n) for n in near])
        key = site * k_all + found.candidate[hypothesis]  # (site, candidate)
        values = found.llr[hypothesis]
        order = np.lexsort((hypothesis, -values, key))  # per key strongest first (the first of equals)
        first = order[np.r_[True, key[order][1:] != key[order][:-1]]]
        top = values[first]
        groups = key[first]
        group = np.searchsorted(groups, key)
        total = np.bincount(group, np.exp(values - top[group]))
        llr[groups] = top + np.log(total) - np.log(np.bincount(group))
        best[groups] = found.placement[hypothesis[first]]
    boxes = np.array([c.molecule_box_px for c in refs.candidates])
    return SiteScores(
        centres, llr.reshape(-1, k_all), best.reshape(-1, k_all), boxes, found.noise_variance, found.scale,
        found.model_error, found.fit.explained(centres), found.noise_whiteness,
    )  # fmt: skip


def molecule_sites(found: Hypotheses, refs: References) -> SiteScores:
    """Every place a molecule could be, strongest first: greedy grouping of nearby hypotheses."""
    radius = SITE_RADIUS_A / np.mean(refs.pixel_size_A)
    neighbours = nearby(found, found.centres_px, radius)
    free = np.ones(len(found.llr), bool)
    centres = []
    for h in np.argsort(-found.llr):
        if not free[h]:
            continue
        centres.append(found.centres_px[h])
        free[neighbours[h]] = False
    return sites_at(found, np.array(centres).reshape(-1, 2), refs)


def measured_contrast(found: Hypotheses, centres: np.ndarray, refs: References) -> float:
    """The molecules' contrast relative to the references', fitted (least squares) to the strongest
    hypothesis at each of ``centres`` (the molecules found), within ``CONTRAST_BOUNDS``; 1 without any.

    The references hold one cell along the beam; in a crystal n cells thick the framework's contrast
    (which fixes the image's scale) is n times the references', one molecule's is not: it is 1 / n of
    what the references predict (a molecule turned or moved from the references' pose also matches
    them at less than its full contrast). Found molecules are those that stood out, so the fit leans
    towards the references' contrast.
    """
    radius = SITE_RADIUS_A / np.mean(refs.pixel_size_A)
    centres = np.asarray(centres, float).reshape(-1, 2)
    near = [np.asarray(n, int) for n in nearby(found, centres, radius)]
    best = [n[np.argmax(found.llr[n])] for n in near if len(n)]
    if not best:
        return 1.0
    return float(np.clip(found.cross[best].sum() / found.energy[best].sum(), *CONTRAST_BOUNDS))


def noise_free_llr(
    image: np.ndarray,
    centres: np.ndarray,
    refs: References,
    placements: list[Placement],
    fit_contrast: bool = False,
) -> tuple[np.ndarray, float]:
    """Per molecule centre, every candidate's LLR in a noise-free simulated field, per unit noise
    variance, and the molecules' contrast it was taken at: the references' (1), or with
    ``fit_contrast`` the molecules' own (``measured_contrast``), as the analysis takes it."""
    valid = np.ones(image.shape, bool)
    found = hypotheses(image, valid, refs, KNOWN, placements, VANISHING_VARIANCE, 1.0)
    contrast = measured_contrast(found, centres, refs) if fit_contrast else 1.0
    return sites_at(found.at_contrast(contrast), centres, refs).llr * VANISHING_VARIANCE, contrast
