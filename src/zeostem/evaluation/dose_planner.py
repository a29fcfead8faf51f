"""Experiment planner: the lowest dose, and the number of molecules, that answer "where is the Al?".

From the per-molecule identifiability of a finished run (``alsite_molecules.csv``: the pipeline and the ideal
observer, every test molecule at every simulated dose):

* per observer, per-molecule top-1 against dose is fitted by a logistic in log dose with a free ceiling,
  ``p(D) = ceiling · σ(intercept + slope · ln D)``, by binomial maximum likelihood; a bootstrap over the
  molecules of each dose gives its band. The lowest dose at which the curve reaches the target accuracy
  is answered only inside the simulated dose range: outside it the planner names the doses to simulate
  next instead of extrapolating. A target is "not reachable" when the curve has levelled off below it
  (the ceiling's band ends below the target), or when the simulated curve crosses it above ``max_dose``.
* per simulated dose and per class of the library, the number of imaged molecules for which the Al
  distribution (every class equally likely: any class may be the truth) is estimated with that class's
  90 % interval narrower than ``interval``: Monte Carlo from the confusion of every class that the
  calibration counted on its fields with known truth (``zeostem.evaluation.calibration.
  detection_efficiency``: misses, which a user never sees, and false alarms, which come with the
  molecules at their rate per molecule there) and its sampling error (each draw's molecules named by a
  confusion drawn from what the counts allow), each draw's fractions re-estimated (ML-EM) with the
  measured confusion. A class of several T-sites says at what dose its split would be identified.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, logit

from zeostem.analysis.efficiency import MIN_SEEN
from zeostem.errors import InputError
from zeostem.evaluation.stats import wilson
from zeostem.evaluation.truth import MISSED
from zeostem.io.atomic import atomic_write
from zeostem.paths import CALIBRATION


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
        """The curve's ``level`` band: the basic bootstrap interval (the fit's bootstrap deviations
        reflected about it, clipped to [0, 1]). On 200 dose series simulated from the demo's curves
        (``zeostem.evaluation.plan_coverage``) it held the truth 0.845–0.895 of the time at nominal 90 %,
        the percentile band 0.815–0.885 (it runs short where the ceiling sits at its bound of 1)."""
        fitted = self.curve(doses)
        samples = np.array([c(doses) for c in self.bootstrap])
        tail = 100 * (1 - level) / 2
        low, high = np.percentile(samples, [tail, 100 - tail], axis=0)
        return np.clip(2 * fitted - high, 0, 1), np.clip(2 * fitted - low, 0, 1)


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


@dataclass(frozen=True)
class Confusion:
    """What the analysis makes of each class's molecules at one dose, counted on fields with known truth
    (the calibration's ``detection_efficiency``): ``counts`` true class × named class, then missed;
    ``alarms`` the reported sites that held no molecule, by the class they were named, on the same
    fields (so they come at their rate per true molecule there)."""

    classes: list[str]
    counts: np.ndarray  # (classes, classes + 1)
    alarms: np.ndarray  # (classes,)

    @property
    def measured(self) -> np.ndarray:
        """True molecules each row was counted from."""
        return self.counts.sum(axis=1)

    @property
    def reported(self) -> np.ndarray:
        """True molecules of each class that were reported (named as any class)."""
        return self.counts[:, :-1].sum(axis=1)

    @property
    def named(self) -> np.ndarray:
        """(classes, classes) the share of each class's molecules named as each class."""
        return self.counts[:, :-1] / np.maximum(self.measured, 1)[:, None]

    @property
    def alarms_per_molecule(self) -> np.ndarray:
        """(classes,) false alarms per true molecule on the fields counted, by the class named."""
        return self.alarms / max(self.counts.sum(), 1)

    def draws(self, rng: np.random.Generator, draws: int) -> tuple[np.ndarray, np.ndarray]:
        """(draws, classes, classes + 1) confusion rows and (draws, classes) false alarms per molecule by
        the class named, from what the counts allow: Dirichlet rows, a Gamma rate, Jeffreys priors."""
        rows = np.stack([rng.dirichlet(row + 0.5, size=draws) for row in self.counts], axis=1)
        rate = rng.gamma(self.alarms.sum() + 0.5, 1 / max(self.counts.sum(), 1), size=draws)
        return rows, rate[:, None] * rng.dirichlet(self.alarms + 0.5, size=draws)


def measured_confusion(calibration, dose: float) -> Confusion:
    """The :class:`Confusion` of every class of the calibration at ``dose`` (one of its validation doses)."""
    names = calibration.class_names
    entries = [e for e in calibration.detection_efficiency or [] if e["dose"] == dose and "confusion" in e]
    if not entries:
        raise InputError(
            f"the calibration holds no confusion of every class at {dose:g} e/Å²",
            path=CALIBRATION,
            fix="re-run the workflow's calibrate_analysis rule with this version (it counts one)",
        )
    entry = entries[0]
    counts = np.array([[entry["confusion"][t][c] for c in [*names, MISSED]] for t in names], float)
    return Confusion(names, counts, np.array([entry["false_alarms"][c] for c in names], float))


def estimate_fractions(
    counts: np.ndarray, named: np.ndarray, background: np.ndarray, rng: np.random.Generator,
    iterations: int = 300,
) -> np.ndarray:  # fmt: skip
    """Maximum-likelihood class fractions (one row per draw) from the labels counted (draws × classes),
    each a Poisson mean ``Σ_t λ_t named[t] + background`` (ML-EM with a known background, the false
    alarms expected where the sites imaged are known): the missed molecules are not seen.

    Each draw starts at a random point: the likelihood is concave in λ, so where the counts identify
    the fractions every start reaches the same estimate, and where they do not (two classes the
    confusion cannot tell apart, a class never named) the estimate keeps its random start instead of
    a false precision.
    """
    counts = np.atleast_2d(counts).astype(float)
    sensitivity = named.sum(axis=1)
    seen = sensitivity > 0
    rate = rng.dirichlet(np.ones(len(named)), size=len(counts)) * counts.sum(axis=1, keepdims=True)
    for _ in range(iterations):
        expected = rate @ named + background
        ratio = np.divide(counts, expected, out=np.zeros_like(expected), where=expected > 0)
        update = np.divide(ratio @ named.T, sensitivity, out=np.ones_like(rate), where=seen)
        rate = rate * update
    return rate / np.maximum(rate.sum(axis=1, keepdims=True), 1e-300)


def interval_widths(confusion: Confusion, molecules: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Per class, the width of its fraction's 90 % interval when ``molecules`` molecules spread evenly
    over every class are imaged: each draw's molecules are named (or missed) by a confusion drawn from
    what the counts allow and come with their false alarms (as many per molecule as on the fields
    counted, at a rate drawn likewise); the fractions are estimated with the measured confusion and the
    false alarms the measured rate expects, as a user's would be (who knows the sites imaged). The
    confusion's own error does not shrink with the molecules imaged, so one counted from too few
    molecules can make a width unreachable. A class reported fewer than ``MIN_SEEN`` times on the fields
    counted is not seen (its interval [0, 1]), as in the Al distribution."""
    rows, alarms = confusion.draws(rng, draws)
    uniform = np.full(len(confusion.classes), 1 / len(confusion.classes))
    per_molecule = np.einsum("t,dto->do", uniform, rows)
    named = rng.multinomial(molecules, per_molecule / per_molecule.sum(axis=1, keepdims=True))[:, :-1]
    alarm_total = alarms.sum(axis=1)
    false = rng.multinomial(rng.poisson(molecules * alarm_total), alarms / alarm_total[:, None])
    background = molecules * confusion.alarms_per_molecule
    estimates = estimate_fractions(named + false, confusion.named, background, rng)
    widths = np.percentile(estimates, 95, axis=0) - np.percentile(estimates, 5, axis=0)
    # a class reported too seldom on the fields counted is not seen, as in the Al distribution: [0, 1]
    return np.where(confusion.reported >= MIN_SEEN, widths, 1.0)


def molecules_needed(
    confusion: Confusion, interval: float, draws: int = 400, seed: int = 0, most: int = 1_000_000
) -> list[int | None]:
    """Per class, the fewest imaged molecules for which its fraction's 90 % interval is narrower than
    ``interval`` (bisection on a common random stream, :func:`interval_widths`); None where even
    ``most`` molecules do not suffice."""
    widths: dict[int, np.ndarray] = {}

    def width(n: int) -> np.ndarray:
        if n not in widths:
            widths[n] = interval_widths(confusion, n, draws, np.random.default_rng(seed))
        return widths[n]

    needed: list[int | None] = []
    for c in range(len(confusion.classes)):
        if width(most)[c] > interval:
            needed.append(None)
            continue
        low, high = 1, 2
        while width(high)[c] > interval:
            low, high = high, high * 2
        while high - low > max(1, low // 100):
            mid = (low + high) // 2
            low, high = (low, mid) if width(mid)[c] <= interval else (mid, high)
        needed.append(high)
    return needed


def confusion_floor(confusion: Confusion, draws: int = 400, seed: int = 0) -> np.ndarray:
    """Per class, the 90 % interval the confusion's own error leaves however many molecules are imaged
    (:func:`interval_widths` at 10⁶ molecules): below it no count of molecules reaches."""
    return interval_widths(confusion, 1_000_000, draws, np.random.default_rng(seed))


def split_doses(classes_record: dict) -> dict[str, dict]:
    """Per class of several T-sites: the smallest per-molecule d′ between two of its T-sites at the dose
    the classes were derived at, and the dose at which it would reach the derivation's threshold
    (d′ grows as √dose; inf where the references are the same image)."""
    splits = {}
    for entry in classes_record["classes"]:
        if len(entry["tsites"]) < 2:
            continue
        dprime, names = np.array(classes_record["dprime"]), classes_record["conformations"]
        dose, threshold = classes_record["dose"], classes_record["dprime_threshold"]
        k = [names.index(c) for c in entry["conformations"]]
        apart = np.minimum(dprime, dprime.T)[np.ix_(k, k)][np.triu_indices(len(k), 1)]
        smallest = float(apart[apart >= 0].min())
        splits[entry["name"]] = {
            "split_dprime": smallest, "split_dprime_dose": dose, "split_dprime_threshold": threshold,
            "split_dose_needed": dose * (threshold / smallest) ** 2 if smallest > 0 else np.inf,
        }  # fmt: skip
    return splits


@dataclass
class DosePlan:
    table: pd.DataFrame  # per observer and dose: measured top-1, fitted curve and band, molecules needed
    classes_table: pd.DataFrame  # per dose and class: its confusion, interval floor, molecules needed
    answers: dict[str, DoseAnswer]
    settings: DosePlanSettings
    classes: list[str]


def plan_experiment(molecules: pd.DataFrame, calibration, settings: DosePlanSettings) -> DosePlan:
    """The planner's answers and its tables: top-1 per observer and dose from the identifiability's
    per-molecule rows, and the molecules the Al distribution needs from the calibration's confusion of
    every class (the pipeline's; the ideal observer has none)."""
    table = per_dose(molecules)
    answers = {o: lowest_dose(table, o, settings) for o in sorted(table["observer"].unique())}
    splits = split_doses(calibration.classes)
    class_rows = []
    for dose in sorted(table["dose"].unique()):
        confusion = measured_confusion(calibration, dose)
        needed = molecules_needed(confusion, settings.interval, seed=settings.seed)
        floor = confusion_floor(confusion, seed=settings.seed)
        for c, name in enumerate(confusion.classes):
            measured = confusion.measured[c]
            class_rows.append({
                "dose": int(dose), "class": name, "molecules_counted": int(measured),
                "seen": bool(confusion.reported[c] >= MIN_SEEN),
                "named_right": confusion.counts[c, c] / measured if measured else None,
                "missed": confusion.counts[c, -1] / measured if measured else None,
                "false_alarms_per_molecule": confusion.alarms_per_molecule.sum(),
                "interval_from_confusion": float(floor[c]), "molecules_needed": needed[c],
                "split_identified": name not in splits, **splits.get(name, {}),
            })  # fmt: skip
    classes_table = pd.DataFrame(class_rows).astype({"molecules_needed": "Int64"})
    pipeline = classes_table.groupby("dose").agg(
        molecules_needed=("molecules_needed", lambda n: pd.NA if n.isna().any() else n.max()),
        interval_from_confusion=("interval_from_confusion", "max"),
        fewest_molecules_counted_per_class=("molecules_counted", "min"),
        false_alarms_per_molecule=("false_alarms_per_molecule", "first"),
    )
    fitted, low, high = [], [], []
    for row in table.itertuples():
        answer = answers[row.observer]
        band = answer.band(np.array([row.dose]))
        fitted.append(float(answer.curve(row.dose)))
        low.append(float(band[0][0]))
        high.append(float(band[1][0]))
    table = table.assign(fitted_top1=fitted, fitted_low=low, fitted_high=high)
    table = table.merge(pipeline.reset_index(), on="dose", how="left")
    table.loc[table["observer"] != "pipeline", list(pipeline.columns)] = np.nan
    table = table.astype({"molecules_needed": "Int64", "fewest_molecules_counted_per_class": "Int64"})
    return DosePlan(table, classes_table, answers, settings, calibration.class_names)


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
    lines.append(
        f"Molecules to image for the Al distribution over all {len(plan.classes)} classes (every class's "
        f"90 % interval < {s.interval:g}; false alarms counted in at their rate on the calibration's fields):"
    )
    for row in pipeline.itertuples():
        per_class = plan.classes_table[plan.classes_table["dose"] == row.dose]
        if pd.isna(row.molecules_needed):
            n = "not reachable: " + "; ".join(_unreachable(per_class, s.interval))
        else:
            n = f"{row.molecules_needed}"
        lines.append(f"  {row.dose} e/Å²: {n} (top-1 {row.top1:.2f} of {row.molecules} test molecules, "
                     f"{row.false_alarms_per_molecule:.2f} false alarms per molecule)")  # fmt: skip
    splits = plan.classes_table.drop_duplicates("class")
    for _, row in splits[~splits["split_identified"]].iterrows():
        lines.append(
            f"  {row['class']}: the split between its T-sites is not identified (d′ {row.split_dprime:.2f} "
            f"per molecule at {row.split_dprime_dose:g} e/Å²; d′ {row.split_dprime_threshold:g} would "
            f"need ≈ {row.split_dose_needed:.2g} e/Å²)"
        )
    return "\n".join(lines)


def _unreachable(per_class: pd.DataFrame, interval: float) -> list[str]:
    """Why the classes of one dose that no count of molecules reaches are not reached."""
    short = per_class[per_class["molecules_needed"].isna()]
    unseen = short[~short["seen"]]
    blocked = short[short["seen"] & (short["interval_from_confusion"] > interval)]
    rest = short[short["seen"] & (short["interval_from_confusion"] <= interval)]
    reasons = []
    if len(unseen):
        reasons.append(f"{', '.join(unseen['class'])} not seen (reported < {MIN_SEEN} times on the "
                       "calibration's fields)")  # fmt: skip
    if len(blocked):
        fewest, widest = blocked["molecules_counted"].min(), blocked["interval_from_confusion"].max()
        reasons.append(
            f"{', '.join(blocked['class'])}: the confusion, counted from ≥ {fewest} molecules per class, "
            f"alone leaves intervals up to {widest:.2f} wide (count it on more fields)"
        )
    if len(rest):
        reasons.append(f"{', '.join(rest['class'])}: more than 10⁶ molecules")
    return reasons


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
    # the planner's doses: images as simulated; what the pipeline gives and the ideal observer's bound
    return molecules[(molecules["model"] == "matched") & molecules["observer"].isin(["pipeline", "ideal"])]


def write_plan(plan: DosePlan, table_path: str, classes_path: str, text_path: str) -> str:
    """Write the per-dose table, the per-class table and the answer text (each whole or not at all);
    returns the text."""
    text = answer_text(plan)
    with atomic_write(table_path) as tmp:
        plan.table.to_csv(tmp, index=False)
    with atomic_write(classes_path) as tmp:
        plan.classes_table.to_csv(tmp, index=False)
    with atomic_write(text_path) as tmp:
        tmp.write_text(text + "\n")
    return text
