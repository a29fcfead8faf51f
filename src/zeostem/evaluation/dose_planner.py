"""Experiment planner: the lowest dose, and the number of molecules, that answer "where is the Al?".

From the per-molecule identifiability of a finished run (``alsite_molecules.csv``: both observers, every
test molecule at every simulated dose):

* per observer, per-molecule top-1 against dose is fitted by a logistic in log dose with a free ceiling,
  ``p(D) = ceiling · σ(intercept + slope · ln D)``, by binomial maximum likelihood; a bootstrap over the
  molecules of each dose gives its band. The lowest dose at which the curve reaches the target accuracy
  is answered only inside the simulated dose range: outside it the planner names the doses to simulate
  next instead of extrapolating. A target is "not reachable" when the curve has levelled off below it
  (the ceiling's band ends below the target), or when the simulated curve crosses it above ``max_dose``.
* per simulated dose, the number of imaged molecules for which the Al distribution over the measured
  T-sites (uniform truth) is estimated with every fraction's 90 % interval narrower than ``interval``:
  Monte Carlo from the measured confusion matrix (misses included) and its sampling error (each draw's
  molecules classified by a confusion drawn from what the test molecules allow), each draw refitted by
  EM with the measured matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, logit

from zeostem.errors import InputError
from zeostem.evaluation.stats import wilson
from zeostem.io.atomic import atomic_write

MISSED = "missed"


@dataclass(frozen=True)
class DosePlanSettings:
    """What the user asks: the accuracy to reach, the highest dose the sample tolerates, the interval."""

    target_accuracy: float = 0.9
    max_dose: float = 6000.0
    interval: float = 0.05
    min_molecules: int = 50
    bootstrap: int = 200
    seed: int = 0


@dataclass(frozen=True)
class AccuracyCurve:
    """``p(D) = ceiling · σ(intercept + slope · ln D)``."""

    ceiling: float
    intercept: float
    slope: float

    def __call__(self, dose) -> np.ndarray:
        return self.ceiling * expit(self.intercept + self.slope * np.log(np.asarray(dose, float)))

    def dose_for(self, accuracy: float) -> float:
        """The dose at which the curve reaches ``accuracy`` (inf where its ceiling is below it)."""
        if accuracy >= self.ceiling:
            return float("inf")
        return float(np.exp((logit(accuracy / self.ceiling) - self.intercept) / self.slope))


def fit_accuracy_curve(
    doses: np.ndarray, hits: np.ndarray, trials: np.ndarray, start: AccuracyCurve | None = None
) -> AccuracyCurve:
    """Binomial maximum-likelihood fit of the curve to ``hits`` of ``trials`` per dose (hits may be
    fractional: a k-way tie earns 1/k). The slope is positive and the ceiling in (0, 1]. Without a
    ``start`` (a nearby fit, as in a bootstrap) several starting points are tried."""
    x = np.log(np.asarray(doses, float))
    hits, trials = np.asarray(hits, float), np.asarray(trials, float)
    centre = float(np.mean(x))

    def negative_log_likelihood(theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The binomial NLL and its gradient in (logit ceiling, intercept, log slope)."""
        ceiling, slope = expit(theta[0]), np.exp(theta[2])
        rise = expit(theta[1] + slope * (x - centre))
        p = np.clip(ceiling * rise, 1e-9, 1 - 1e-9)
        d_p = -(hits / p - (trials - hits) / (1 - p))
        d_theta = p * np.stack([np.full_like(x, 1 - ceiling), 1 - rise, (1 - rise) * slope * (x - centre)])
        return -float(np.sum(hits * np.log(p) + (trials - hits) * np.log1p(-p))), d_theta @ d_p

    if start is None:
        starts = [np.array([c, 0.0, s]) for c in (1.0, 4.0) for s in (0.0, 1.0)]
    else:
        ceiling = np.clip(start.ceiling, 1e-6, 1 - 1e-6)
        starts = [np.array([logit(ceiling), start.intercept + start.slope * centre, np.log(start.slope)])]
    best = min((minimize(negative_log_likelihood, s, jac=True, method="BFGS") for s in starts),
               key=lambda r: r.fun)  # fmt: skip
    ceiling, intercept, slope = expit(best.x[0]), best.x[1], np.exp(best.x[2])
    return AccuracyCurve(float(ceiling), float(intercept - slope * centre), float(slope))


@dataclass
class DoseAnswer:
    """The planner's answer for one observer."""

    observer: str
    curve: AccuracyCurve
    bootstrap: list[AccuracyCurve]
    dose: float | None  # the lowest dose reaching the target, when the measurements support one
    dose_band: tuple[float, float]
    verdict: str  # reached | not_reachable | beyond_measured | below_measured | too_sparse
    next_doses: list[float] = field(default_factory=list)
    detail: str = ""  # why a target is not reachable

    def band(self, doses: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        samples = np.array([c(doses) for c in self.bootstrap])
        tail = 100 * (1 - level) / 2
        return np.percentile(samples, tail, axis=0), np.percentile(samples, 100 - tail, axis=0)


def per_dose(molecules: pd.DataFrame) -> pd.DataFrame:
    """Molecules, top-1 credit and its Wilson interval per observer and dose."""
    rows = []
    for (observer, dose), group in molecules.groupby(["observer", "dose"]):
        n, hits = len(group), float(group["top1"].sum())
        low, high = wilson(hits, n)
        rows.append({"observer": observer, "dose": int(dose), "molecules": n, "hits": hits,
                     "top1": hits / n, "top1_low": low, "top1_high": high})  # fmt: skip
    return pd.DataFrame(rows)


def lowest_dose(table: pd.DataFrame, observer: str, settings: DosePlanSettings) -> DoseAnswer:
    """Fit one observer's curve and answer the lowest dose reaching the target, without extrapolating."""
    rows = table[table["observer"] == observer].sort_values("dose")
    doses, hits, n = rows["dose"].to_numpy(float), rows["hits"].to_numpy(), rows["molecules"].to_numpy()
    curve = fit_accuracy_curve(doses, hits, n)
    rng = np.random.default_rng(settings.seed)
    boot = [fit_accuracy_curve(doses, rng.binomial(n, hits / n), n, curve) for _ in range(settings.bootstrap)]
    crossings = np.sort([c.dose_for(settings.target_accuracy) for c in boot])
    band = (_quantile(crossings, 0.025), _quantile(crossings, 0.975))
    best = curve.dose_for(settings.target_accuracy)
    low_dose, high_dose = doses.min(), doses.max()
    answer = DoseAnswer(observer, curve, boot, None, band, "reached")
    target, cap = settings.target_accuracy, settings.max_dose
    ceiling_high = float(np.percentile([c.ceiling for c in boot], 97.5))
    if len(doses) < 3 or n.min() < settings.min_molecules:
        answer.verdict = "too_sparse"
        answer.next_doses = _between(low_dose, max(high_dose, low_dose * 9), cap)
    elif ceiling_high < target:  # the curve has levelled off below the target: no dose reaches it
        answer.verdict, answer.detail = "not_reachable", f"its ceiling's band ends at {ceiling_high:.2f}"
    elif best < low_dose:
        answer.verdict = "below_measured"
        answer.next_doses = [float(low_dose / 3), float(low_dose / 9)]
    elif best <= high_dose and band[1] <= high_dose:  # crossed inside the simulated doses
        if best <= cap:
            answer.dose = best
        else:
            answer.verdict, answer.detail = "not_reachable", f"the simulated curve crosses at {best:.0f} e/Å²"
    elif cap <= high_dose and np.percentile([c(cap) for c in boot], 97.5) < target:
        answer.verdict, answer.detail = "not_reachable", f"even the band stays below at {cap:g} e/Å²"
    else:  # not crossed (or not surely) inside the simulated doses: measure before answering
        answer.verdict = "beyond_measured"
        answer.next_doses = [float(d) for d in np.geomspace(high_dose, cap, 3)[1:]] if cap > high_dose else []
    return answer


def _quantile(sorted_values: np.ndarray, q: float) -> float:
    """Order-statistic quantile (inf stays inf: a bootstrap curve that never reaches the target)."""
    return float(sorted_values[min(int(q * len(sorted_values)), len(sorted_values) - 1)])


def _between(low: float, high: float, cap: float) -> list[float]:
    return [float(d) for d in np.geomspace(low, min(high, cap), 4)]


def confusion(molecules: pd.DataFrame, classes: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Row-stochastic confusion (true class × predicted class, then "missed") of one observer, one dose,
    and how many test molecules each row was measured from."""
    truths = sorted(molecules["true_class"].unique(), key=lambda t: classes.index(t))
    columns = [*classes, MISSED]
    predicted = molecules["predicted_class"].fillna("").replace("", MISSED)
    counts = pd.crosstab(molecules["true_class"], predicted).reindex(
        index=truths, columns=columns, fill_value=0
    )
    matrix = counts.to_numpy(float)
    measured = matrix.sum(axis=1)
    return truths, matrix / measured[:, None], measured


def estimate_proportions(
    counts: np.ndarray, matrix: np.ndarray, rng: np.random.Generator, iterations: int = 300
) -> np.ndarray:
    """EM estimate of the true-site proportions from observed label counts (one row per draw).

    Each draw starts at a random point: the likelihood is concave in the proportions, so where the
    counts identify them every start reaches the same estimate, and where they do not (two sites the
    confusion cannot tell apart) the estimate keeps its random start instead of a false precision.
    """
    counts = np.atleast_2d(counts).astype(float)
    pi = rng.dirichlet(np.ones(matrix.shape[0]), size=len(counts))
    for _ in range(iterations):  # π_t ← π_t Σ_o M_to n_o / Σ_t' π_t' M_t'o (draw × true)
        marginal = pi @ matrix  # draw × observed
        ratio = np.divide(counts, marginal, out=np.zeros_like(marginal), where=marginal > 0)
        pi = pi * (ratio @ matrix.T)
        pi /= np.maximum(pi.sum(axis=1, keepdims=True), 1e-300)
    return pi


def interval_width(
    matrix: np.ndarray,
    molecules: int,
    draws: int,
    rng: np.random.Generator,
    measured: np.ndarray | None = None,
) -> float:
    """Widest 90 % interval of the estimated proportions when ``molecules`` molecules of a uniform
    distribution over the true sites are imaged, classified and estimated with ``matrix``.

    With ``measured`` (test molecules per row of ``matrix``) the confusion the molecules are really
    classified by is uncertain: each draw takes its own from the rows' posterior (Dirichlet, Jeffreys
    prior), while the estimate uses the measured one, as a user's would. Its error does not shrink with
    the molecules imaged, so a matrix measured from too few molecules can make a width unreachable.
    """
    uniform = np.full(matrix.shape[0], 1.0 / matrix.shape[0])
    if measured is None:
        observed = np.broadcast_to(uniform @ matrix, (draws, matrix.shape[1]))
    else:
        rows = [rng.dirichlet(row * n + 0.5, size=draws) for row, n in zip(matrix, measured, strict=True)]
        observed = np.einsum("t,dto->do", uniform, np.stack(rows, axis=1))
    counts = rng.multinomial(molecules, observed / observed.sum(axis=1, keepdims=True))
    estimates = estimate_proportions(counts, matrix, rng)
    return float(np.max(np.percentile(estimates, 95, axis=0) - np.percentile(estimates, 5, axis=0)))


def molecules_needed(
    matrix: np.ndarray,
    interval: float,
    draws: int = 400,
    seed: int = 0,
    most: int = 1_000_000,
    measured: np.ndarray | None = None,
) -> int | None:
    """Fewest imaged molecules for which every proportion's 90 % interval is narrower than ``interval``
    (bisection on a common random stream; ``measured``: see :func:`interval_width`); None when even
    ``most`` molecules do not suffice."""

    def narrow(n: int) -> bool:
        return interval_width(matrix, n, draws, np.random.default_rng(seed), measured) <= interval

    if not narrow(most):
        return None
    low, high = 1, 2
    while not narrow(high):
        low, high = high, high * 2
    while high - low > max(1, low // 100):
        mid = (low + high) // 2
        low, high = (low, mid) if narrow(mid) else (mid, high)
    return high


def confusion_floor(matrix: np.ndarray, measured: np.ndarray, draws: int = 400, seed: int = 0) -> float:
    """The widest 90 % interval the confusion's own sampling error leaves however many molecules are
    imaged (:func:`interval_width` at 10⁶ molecules): below it no count of molecules reaches."""
    return interval_width(matrix, 1_000_000, draws, np.random.default_rng(seed), measured)


@dataclass
class DosePlan:
    table: pd.DataFrame  # per observer and dose: measured top-1, fitted curve and band, molecules needed
    answers: dict[str, DoseAnswer]
    settings: DosePlanSettings
    classes: list[str]


def plan_experiment(molecules: pd.DataFrame, classes: list[str], settings: DosePlanSettings) -> DosePlan:
    """The planner's answers and its per-dose table from the identifiability's per-molecule rows."""
    table = per_dose(molecules)
    answers = {o: lowest_dose(table, o, settings) for o in sorted(table["observer"].unique())}
    fitted, low, high, needed, floor, measured_classes, per_class = [], [], [], [], [], [], []
    for row in table.itertuples():
        answer = answers[row.observer]
        band = answer.band(np.array([row.dose]))
        fitted.append(float(answer.curve(row.dose)))
        low.append(float(band[0][0]))
        high.append(float(band[1][0]))
        group = molecules[(molecules["observer"] == row.observer) & (molecules["dose"] == row.dose)]
        truths, matrix, test_molecules = confusion(group, classes)
        needed.append(
            molecules_needed(matrix, settings.interval, seed=settings.seed, measured=test_molecules)
        )
        floor.append(confusion_floor(matrix, test_molecules, seed=settings.seed))
        measured_classes.append(" ".join(truths))
        per_class.append(int(test_molecules.min()))
    table = table.assign(fitted_top1=fitted, fitted_low=low, fitted_high=high)
    table = table.assign(
        molecules_needed=pd.array(needed, dtype="Int64"),
        interval_from_confusion=floor,
        classes_measured=measured_classes,
        fewest_test_molecules_per_class=per_class,
    )
    return DosePlan(table, answers, settings, classes)


def answer_text(plan: DosePlan) -> str:
    """The planner's answer in a few lines, for the terminal and ``plan.txt``."""
    s = plan.settings
    lines = [
        f"Target: per-molecule top-1 (identifiable class) ≥ {s.target_accuracy:g}, "
        f"dose ≤ {s.max_dose:g} e/Å²."
    ]
    for observer, a in plan.answers.items():
        name = "pipeline (what you get)" if observer == "pipeline" else f"{observer} observer (upper bound)"
        fitted = f"ceiling {a.curve.ceiling:.2f}"
        if a.verdict == "reached":
            text = f"lowest dose {a.dose:.0f} e/Å² (95 % band {a.dose_band[0]:.0f}–{a.dose_band[1]:.0f})"
        elif a.verdict == "not_reachable":
            text = f"not reachable within {s.max_dose:g} e/Å² ({a.detail})"
        elif a.verdict == "too_sparse":
            text = f"too few doses or molecules to say; simulate doses {_doses(a.next_doses)}"
        elif a.verdict == "below_measured":
            text = f"reached at the lowest simulated dose already; simulate {_doses(a.next_doses)} to find it"
        elif a.next_doses:
            text = f"not reached within the simulated doses; simulate {_doses(a.next_doses)} before deciding"
        else:
            text = "the band straddles the target at the simulated doses: simulate more replicas there"
        lines.append(f"  {name}: {text} [{fitted}]")
    pipeline = plan.table[plan.table["observer"] == "pipeline"]
    if len(pipeline):
        lines.append(f"Molecules to image for the Al distribution (90 % intervals < {s.interval:g}, "
                     f"classes {pipeline['classes_measured'].iloc[0]}):")  # fmt: skip
        for row in pipeline.itertuples():
            n = (
                f"not reachable with the confusion measured from ≥ {row.fewest_test_molecules_per_class} "
                "test molecules per class (its error alone leaves intervals "
                f"{row.interval_from_confusion:.2f} wide: simulate more test conformations)"
                if row.interval_from_confusion > s.interval
                else "more than 10⁶"
                if pd.isna(row.molecules_needed)
                else f"{row.molecules_needed}"
            )
            lines.append(f"  {row.dose} e/Å²: {n} (top-1 {row.top1:.2f} of {row.molecules} molecules)")
    return "\n".join(lines)


def _doses(doses: list[float]) -> str:
    return ", ".join(f"{d:.0f}" for d in doses) + " e/Å²"


def read_molecules(path: str) -> pd.DataFrame:
    """The identifiability's per-molecule rows (``alsite_molecules.csv``), with a clear error when absent."""
    try:
        molecules = pd.read_csv(path, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(
            "no per-molecule identifiability table",
            path=path,
            fix="run the workflow's metrics first (snakemake --cores N metrics), or pass --workflow-results",
        ) from None
    needed = {"model", "observer", "dose", "true_class", "predicted_class", "top1"}
    if len(molecules) == 0 or not needed <= set(molecules.columns):
        raise InputError(
            f"not a per-molecule identifiability table (needs columns {sorted(needed)} and rows)",
            path=path,
            fix="point --workflow-results at a finished run's results/ folder",
        )
    return molecules[molecules["model"] == "matched"]  # the planner's doses: images as simulated


def write_plan(plan: DosePlan, table_path: str, text_path: str) -> str:
    """Write the per-dose table and the answer text (each whole or not at all); returns the text."""
    text = answer_text(plan)
    with atomic_write(table_path) as tmp:
        plan.table.to_csv(tmp, index=False)
    with atomic_write(text_path) as tmp:
        tmp.write_text(text + "\n")
    return text
