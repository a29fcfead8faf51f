"""The experiment planner's figure: accuracy vs dose with bands and the chosen dose; molecules needed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from zeostem.evaluation.dose_planner import DosePlan  # noqa: E402

COLOURS = {"pipeline": "tab:blue", "ideal": "tab:orange"}


def plan_figure(plan: DosePlan, path: str) -> None:
    """Left: measured per-molecule top-1 (95 % Wilson), the fitted curve with its bootstrap band (dotted
    outside the simulated doses, where it answers nothing), the target and the answered dose. Right:
    per class and simulated dose, the interval the confusion's own error leaves however many molecules
    are imaged, against the one asked for, labelled with the molecules to image where a count reaches it."""
    s, table = plan.settings, plan.table
    fig, (accuracy, needed) = plt.subplots(1, 2, figsize=(10, 3.8))
    doses = np.geomspace(table["dose"].min() / 2, s.max_dose, 200)
    for observer, answer in plan.answers.items():
        colour = COLOURS.get(observer, "grey")
        rows = table[table["observer"] == observer]
        err = np.clip([rows["top1"] - rows["top1_low"], rows["top1_high"] - rows["top1"]], 0, None)
        accuracy.errorbar(rows["dose"], rows["top1"], yerr=err, fmt="o", color=colour, capsize=3,
                          label=f"{observer}: measured")  # fmt: skip
        low, high = answer.band(doses)
        accuracy.fill_between(doses, low, high, color=colour, alpha=0.2)
        inside = (doses >= rows["dose"].min()) & (doses <= rows["dose"].max())
        accuracy.plot(doses[inside], answer.curve(doses[inside]), color=colour,
                      label=f"{observer}: fit ({answer.verdict.replace('_', ' ')})")  # fmt: skip
        accuracy.plot(doses, answer.curve(doses), color=colour, ls=":", lw=1)  # outside: not an answer
        if answer.dose is not None:
            accuracy.axvline(answer.dose, color=colour, ls="--", lw=1)
            accuracy.axvspan(*answer.dose_band, color=colour, alpha=0.08)
    accuracy.axhline(s.target_accuracy, color="k", ls=":", lw=1, label=f"target {s.target_accuracy:g}")
    accuracy.axhline(1 / len(plan.classes), color="grey", ls=":", lw=1, label=f"chance 1/{len(plan.classes)}")
    ticks = sorted({*table["dose"].tolist(), s.max_dose})
    for ax in (accuracy, needed):
        ax.set_xscale("log")
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
    accuracy.set_ylim(0, 1.05)
    accuracy.set_xlabel("dose (e/Å²)")
    accuracy.set_ylabel("per-molecule top-1 (identifiable class)")
    accuracy.legend(fontsize=6)
    per_class = plan.classes_table
    colours = plt.get_cmap("tab10" if len(plan.classes) <= 10 else "tab20")
    for k, (name, rows) in enumerate(per_class.groupby("class", sort=False)):
        needed.plot(rows["dose"], rows["interval_from_confusion"], "o-", color=colours(k), lw=1, ms=3,
                    label=name)  # fmt: skip
        for row in rows[rows["molecules_needed"].notna()].itertuples():
            needed.annotate(f"{row.molecules_needed}", (row.dose, row.interval_from_confusion), fontsize=5,
                            color=colours(k), textcoords="offset points", xytext=(3, -6))  # fmt: skip
    needed.axhline(s.interval, color="k", ls=":", lw=1, label=f"asked: {s.interval:g}")
    needed.set_yscale("log")
    needed.set_xlabel("dose (e/Å²)")
    needed.set_ylabel("90 % interval the confusion's own error leaves")
    needed.set_title(
        f"Al distribution, per class: molecules for its 90 % interval < {s.interval:g}", fontsize=9
    )
    needed.legend(fontsize=5, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
