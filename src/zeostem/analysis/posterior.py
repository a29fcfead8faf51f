"""From per-molecule log-likelihoods to probabilities: temperature, class posteriors, the Al distribution.

Every function takes ``llr`` arrays of shape (molecules, candidates) (log-likelihood ratio of each
candidate conformation vs no molecule; −inf where a candidate cannot sit at that molecule's site)
and the identifiable classes (``zeostem.analysis.classes``): every answer is per class, with the
classes' prior (uniform over T-sites; conformations of one T-site share its prior).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import logsumexp, softmax

from zeostem.analysis.calibration import Calibration
from zeostem.analysis.classes import Classes, class_order
from zeostem.analysis.efficiency import Efficiency
from zeostem.errors import InputError

# model mismatch makes the likelihood overconfident (a temperature above 1: 1.06 in the demo); a model-error
# term measured too large can make it underconfident (below 1)
TEMPERATURES = np.logspace(-0.6, 3, 145)


def class_log_likelihoods(llr: np.ndarray, classes: Classes, temperature: float) -> np.ndarray:
    """(molecules, classes) log p(data | class): its candidates' likelihoods averaged under their prior."""
    scaled = llr / temperature + classes.candidate_log_prior
    columns = [logsumexp(scaled[:, m], axis=1) for m in classes.members]
    return np.stack(columns, axis=1) - classes.log_prior if columns else np.zeros((len(llr), 0))


def class_posteriors(llr: np.ndarray, classes: Classes, temperature: float) -> np.ndarray:
    """(molecules, classes) posterior of each molecule's class."""
    return softmax(classes.log_prior + class_log_likelihoods(llr, classes, temperature), axis=1)


def molecule_posteriors(llr: np.ndarray, classes: Classes, temperature: float) -> np.ndarray:
    """(molecules, candidates) posterior over the candidate conformations (the classes' prior)."""
    return softmax(llr / temperature + classes.candidate_log_prior, axis=1)


def shared_class_posterior(
    llr: np.ndarray,
    classes: Classes,
    temperature: float,
    occupancy: float | None = None,
    correlation: float = 0.0,
) -> dict[str, float]:
    """Class posterior under 'every molecule of this image sits at the same kind of site'.

    Without ``occupancy`` every row is a molecule. With it (the prior probability that a site holds
    a molecule) every row is a site whose occupancy is marginalised, ``log(1 − q + q · L(c))``: no
    threshold decides which sites count, faint molecules add what evidence they carry.
    ``correlation`` is the fraction of one molecule's log-likelihood variance that every molecule of
    the image shares (the references' systematic error repeats in every cell): n molecules then carry
    the evidence of n / (1 + (n − 1) ρ), at most 1 / ρ molecules however many are pooled (the exact
    Gaussian answer for an error shared by every cell; n counts the expected molecules).
    """
    ll = class_log_likelihoods(llr, classes, temperature)
    if not len(ll):
        return {}
    molecules = float(len(ll))
    if occupancy is not None:
        marginal = logsumexp(classes.log_prior + ll, axis=1)
        occupied = (
            np.log(occupancy) + marginal - np.logaddexp(np.log1p(-occupancy), np.log(occupancy) + marginal)
        )
        molecules = float(np.sum(np.exp(occupied)))
        ll = np.logaddexp(np.log1p(-occupancy), np.log(occupancy) + ll)
    shared = ll.sum(axis=0) / (1 + max(molecules - 1, 0) * correlation)
    return dict(zip(classes.names, softmax(classes.log_prior + shared).tolist(), strict=True))


def shared_correlation(scores, calibration: Calibration, dose: float | None) -> float:
    """The share ρ of a molecule's evidence that every molecule of an image shares: the larger of the
    framework's (``SiteScores.correlation``: the references' model error, which repeats in every cell)
    and the molecules' own, measured on the calibration's efficiency structures
    (``Calibration.shared_evidence_at`` ``dose``: a structure the references were not made from errs
    alike in every cell)."""
    return max(scores.correlation, calibration.shared_evidence_at(dose))


def image_class_posterior(
    scores, detected: np.ndarray, classes: Classes, calibration: Calibration, dose: float | None
) -> dict[str, float]:
    """An image's class ranking as its report gives it: every site's evidence (``SiteScores``) with its
    occupancy marginalised (the calibration's prior), the shared error discounted
    (:func:`shared_class_posterior` with :func:`shared_correlation` at ``dose``, the one the Al
    distribution is looked up at); no molecule found (``detected`` empty), no call."""
    if not len(detected):
        return {}
    occupancy, correlation = calibration.occupancy_prior, shared_correlation(scores, calibration, dose)
    return shared_class_posterior(
        scores.answering_llr, classes, calibration.temperature, occupancy, correlation
    )


def calibrate_temperature(llr: np.ndarray, truth: np.ndarray, classes: Classes) -> float:
    """Temperature minimising the negative log-likelihood of the true classes (log-spaced grid);
    ``truth`` (molecules, classes) marks each molecule's true class (or classes)."""
    nll = [
        -np.mean(np.log(np.sum(class_posteriors(llr, classes, t) * truth, axis=1) + 1e-300))
        for t in TEMPERATURES
    ]
    return float(TEMPERATURES[int(np.argmin(nll))])


def at_grid_edge(temperature: float) -> bool:
    """True when the temperature sits at the top of its grid: the likelihoods carried no usable confidence."""
    return bool(np.isclose(temperature, TEMPERATURES[-1]))


FALSE_ALARMS = "false alarms"  # the Al distribution's null component: detections that hold no molecule


def detection_scores(class_ll: np.ndarray, classes: Classes) -> np.ndarray:
    """(detections,) each detection's log likelihood ratio of any molecule (the classes' prior) against
    an empty site: the score the false-alarm fits are made on."""
    return logsumexp(class_ll + classes.log_prior, axis=1) if len(class_ll) else np.zeros(0)


def against_false_alarms(class_ll: np.ndarray, classes: Classes, fit: dict | None) -> np.ndarray:
    """(detections, classes) log p(data | class) − log p(data | false alarm), what the Al distribution
    pools. A detection's class likelihoods are against an *empty* site, but a detection is a site whose
    strongest hypothesis stood out: a false alarm's ratios are maxima over positions, candidates and
    placements, not an empty site's, and with them the false alarms were read as molecules of other
    classes. Each detection keeps its classes' relative evidence; its evidence for a molecule at all
    becomes the calibrated one, ``fit["intercept"] + fit["slope"] × score`` with score its log
    likelihood ratio of any molecule against an empty site (``Calibration.false_alarm_fit``, fitted
    on the detections of the image's dose). Without a fit, the ratios against an empty site."""
    if fit is None or not len(class_ll):
        return class_ll
    score = detection_scores(class_ll, classes)
    return class_ll + (fit["intercept"] + (fit["slope"] - 1) * score)[:, None]


def as_reported(
    class_ll: np.ndarray, classes: Classes, calibration: Calibration, dose: float | None
) -> tuple[np.ndarray, Efficiency | None, dict | None]:
    """What an image's Al distribution pools and divides by, both the ``calibration``'s at one
    ``dose`` (``efficiency_dose``'s: the stated, else the one the image reads): its detections' evidence
    against false alarms (:func:`against_false_alarms`), the classes' efficiency, and the false-alarm
    fit used. The calibration measured each efficiency through the fit of the dose its fields were
    imaged at, so a thick crystal read at a higher dose takes both at its stated dose or neither."""
    fit = calibration.false_alarm_fit(dose)
    return against_false_alarms(class_ll, classes, fit), calibration.efficiency_at(dose), fit


def reference_priors(columns: int) -> np.ndarray:
    """(columns, columns) one Dirichlet prior per column of a mixture, each weighing as one molecule,
    half of it on its own column and half spread over the others: the prior under which a column's
    share is asked about, its marginal Beta(½, ½) (Jeffreys for one share; the reference prior for a
    multinomial share of interest). A symmetric prior weighing as one molecule is Beta(1 / m, 1 − 1 / m)
    for each share: a class the detections hardly see (a faint one at a low dose, whose share the data
    cannot bound) read as absent from the prior alone (a pair of fields half T12, half T5 at 1500 e/Å²
    got T5 in [0, 0.09]); a flatter symmetric one pulls a stack of one class towards the others (at ½
    per column an image of 11 molecules, all of one class, got [0.22, 0.80] for it)."""
    prior = np.full((columns, columns), 0.5 / max(columns - 1, 1))
    np.fill_diagonal(prior, 0.5)
    return prior


def mixture_posterior(
    log_lik: np.ndarray, prior: np.ndarray, draws: int = 2000, burn_in: int = 200, seed: int = 0
) -> np.ndarray:
    """(draws, chains, columns) samples of the mixture weights π given per-molecule log p(data |
    column), one chain per row of ``prior`` (chains, columns): Gibbs sampling of each molecule's
    component and of π ~ Dirichlet(prior + counts). Near a boundary the draws pile up at 0 rather than
    collapsing onto it, as a bootstrap of the maximum does."""
    finite = np.where(np.isfinite(log_lik), log_lik, -1e300)
    shifted = np.exp(finite - finite.max(axis=1, keepdims=True))
    n, m = shifted.shape
    chains = len(prior)
    rng = np.random.default_rng(seed)
    pi = np.full((chains, m), 1.0 / m)
    offsets = (np.arange(chains) * m)[:, None]
    samples = np.empty((draws, chains, m))
    for step in range(burn_in + draws):
        cumulative = np.cumsum(shifted * pi[:, None, :], axis=2)
        drawn = rng.random((chains, n, 1)) * cumulative[:, :, -1:]
        component = np.minimum((cumulative < drawn).sum(axis=2), m - 1)
        counts = np.bincount((component + offsets).ravel(), minlength=chains * m).reshape(chains, m)
        gamma = rng.standard_gamma(prior + counts)
        pi = gamma / gamma.sum(axis=1, keepdims=True)
        if step >= burn_in:
            samples[step - burn_in] = pi
    return samples


def shortest_interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """The shortest interval holding ``level`` of the samples of a fraction. Where it starts at the
    smallest sample (ends at the largest) the density is highest at that edge of the support: the
    interval starts at 0 (ends at 1)."""
    ordered = np.sort(samples)
    k = max(1, int(np.ceil(level * len(ordered))))
    widths = ordered[k - 1 :] - ordered[: len(ordered) - k + 1]
    i = int(np.argmin(widths))
    low = 0.0 if i == 0 else float(ordered[i])
    return low, 1.0 if i + k == len(ordered) and k < len(ordered) else float(ordered[i + k - 1])


def al_distribution(
    log_lik: np.ndarray,
    names: list[str],
    tsites: list[list[str]],
    level: float = 0.9,
    seed: int = 0,
    efficiency: Efficiency | None = None,
) -> list[dict]:
    """Fraction of the molecules at each class's Al, and the share of detections that are false alarms.

    ``log_lik``: (detections, classes) log p(data | class) − log p(data | no molecule), so a false alarm
    (the null component) has log-likelihood 0 against every detection. Each fraction is the posterior
    median of the class's weight among the molecules (the null's share taken out), its interval the
    shortest one holding ``level`` of that posterior, both under the prior that asks about that class
    (:func:`reference_priors`: Gibbs draws of one chain per class); the false alarms' share of the
    detections likewise. A class of several T-sites says that
    the split among them is not identified. Molecules are taken as independent given the fractions.

    The classes' molecules are not found and named alike (a molecule that shows more contrast is
    found more often, and a faint one, once found, is taken for a false alarm or a brighter class more
    often), so the fractions among the detections lean towards the class seen best. With
    ``efficiency`` (the calibration's at this dose, ``zeostem.analysis.efficiency``) each draw divides
    the found fractions by a draw of every class's credited efficiency — the share of its molecules on
    the calibration's fields that a mixture with these weights (the posterior medians) credits to it
    (Beta, Jeffreys prior, of as many molecules as the spread between the calibration's structures
    leaves: what a structure it did not measure credits, ``Efficiency.credited``) — and renormalises:
    the fractions are then of all molecules, found or not.
    A class fewer than ``MIN_SEEN`` of whose molecules there are credited to it (``Efficiency.seen``)
    is not ``seen`` at this dose: how many molecules it holds the data cannot say (fraction None,
    interval [0, 1]), and the other classes' fractions are of the molecules at the classes seen. The
    false alarms' share is the mixture's null weight among the detections: on structures the
    references were not made from it holds the faint molecules the mixture took for false alarms too
    (a measured 0.31 of the detections at 1500 e/Å² in the demo where 0.19 were false alarms), so it
    bounds their share from above.
    """
    if not len(log_lik):
        return []
    columns = len(names) + 1  # the null first
    draws = mixture_posterior(np.c_[np.zeros(len(log_lik)), log_lik], reference_priors(columns), seed=seed)
    own = draws[:, np.arange(columns), np.arange(columns)]  # each column's share in its own chain
    found, seen = draws[:, 1:, 1:], np.ones(len(names), bool)  # (draws, class asked about, classes)
    if efficiency is not None:
        medians = np.median(own, axis=0)
        credited, there = efficiency.credited(medians / medians.sum(), len(log_lik)).T
        seen = efficiency.seen
        rng = np.random.default_rng(seed + 1)
        shape = (len(draws), 1, len(names))  # one efficiency draw per posterior draw, shared by the chains
        drawn = rng.beta(credited + 0.5, np.maximum(there - credited, 0) + 0.5, size=shape)
        found = np.where(seen, found / drawn, 0.0)
    among = np.clip(found / np.maximum(found.sum(axis=2, keepdims=True), 1e-300), 0, 1)
    rows = []
    for k, (name, sites, visible) in enumerate(zip(names, tsites, seen, strict=True)):
        column = among[:, k, k]
        low, high = shortest_interval(column, level) if visible else (0.0, 1.0)
        rows.append({"class": name, "tsites": sites, "split_identified": len(sites) == 1,
                     "seen": bool(visible), "fraction": float(np.median(column)) if visible else None,
                     "low": low, "high": high})  # fmt: skip
    low, high = shortest_interval(own[:, 0], level)
    rows.append({"class": FALSE_ALARMS, "tsites": [], "split_identified": True, "seen": True,
                 "fraction": float(np.median(own[:, 0])), "low": low, "high": high})  # fmt: skip
    return rows


def tsite_probabilities(probabilities: dict[str, float], classes: Classes) -> list[dict]:
    """Per T-site of the classes (framework order), the probability that the Al is there, marginalised
    over the acid O (every class that holds the T-site, one per acid O it has in the library): ``low``
    sums the classes whose only T-site it is, ``high`` every class that holds it. The split inside a
    class of several T-sites is not identified, so the data say no more than that range (``low`` =
    ``high`` where every class holding it is its own); empty without a call."""
    if not probabilities:
        return []
    sites = sorted({t for ts in classes.tsites for t in ts}, key=class_order)
    held = list(zip(classes.names, classes.tsites, strict=True))
    return [
        {"tsite": t, "low": float(sum(probabilities[n] for n, ts in held if ts == [t])),
         "high": float(sum(probabilities[n] for n, ts in held if t in ts))}
        for t in sites
    ]  # fmt: skip


def ranking(probabilities: dict[str, float]) -> list[dict]:
    """``[{class, probability}]``, most probable first."""
    return [
        {"class": c, "probability": float(p)} for c, p in sorted(probabilities.items(), key=lambda kv: -kv[1])
    ]


def topk_credit(probabilities: dict[str, float], truth: set[str], k: int) -> float:
    """1 if a class of ``truth`` is among the k most probable; a tie at the boundary shares the credit."""
    p = max((probabilities[t] for t in truth if t in probabilities), default=None)
    if p is None:
        return 0.0
    above = sum(q > p for q in probabilities.values())
    equal = sum(q == p for q in probabilities.values())
    return float(np.clip((k - above) / equal, 0.0, 1.0))


def al_distribution_table(reports: list[dict], calibration: Calibration) -> pd.DataFrame:
    """The Al distribution of every report (its own ``al_distribution``) and pooled over all of them
    (a fit of all their molecules' ``al_log_likelihood``, with the ``calibration``'s efficiencies at
    the doses their reports looked them up at (``noise.efficiency_dose_e_per_A2``) pooled by their
    shares of the molecules): columns images, molecules
    (detections), class, tsites, split_identified, seen (at the images' doses; empty fraction where
    not), fraction (of the molecules at the classes seen; of the detections for the false alarms), low,
    high. Every report must answer in the calibration's classes."""
    columns = [
        "images",
        "molecules",
        "class",
        "tsites",
        "split_identified",
        "seen",
        "fraction",
        "low",
        "high",
    ]
    answered = [r for r in reports if r["al_distribution"]]  # an image without molecules has none
    if not answered:
        return pd.DataFrame(columns=columns)
    entries = [e for e in answered[0]["al_distribution"] if e["class"] != FALSE_ALARMS]
    names, tsites = [e["class"] for e in entries], [e["tsites"] for e in entries]
    for r in answered:
        answers = [e["class"] for e in r["al_distribution"] if e["class"] != FALSE_ALARMS]
        if answers != calibration.class_names:
            raise InputError(
                "the report answers in other classes than the calibration (it comes from another one)",
                path=r["image"],
                fix="pool only reports made with one workflow run's calibration",
            )
    noise = [r["noise"] for r in answered]
    looked_up = [calibration.efficiency_at(n["efficiency_dose_e_per_A2"]) for n in noise]
    efficiency = Efficiency.of_detections(
        [(e, len(r["molecules"])) for e, r in zip(looked_up, answered, strict=True)]
    )
    pooled = np.array(
        [[m["al_log_likelihood"][n] for n in names] for r in reports for m in r["molecules"]]
    ).reshape(-1, len(names))
    rows = [
        {"images": "all images", "molecules": len(pooled), **e}
        for e in al_distribution(pooled, names, tsites, efficiency=efficiency)
    ]
    for r in answered:
        rows += [{"images": r["image"], "molecules": len(r["molecules"]), **e} for e in r["al_distribution"]]
    table = pd.DataFrame(rows, columns=columns)
    table["tsites"] = table["tsites"].map("|".join)
    return table
