"""The Al distribution's coverage on stacks of fields with known classes."""

import numpy as np
import pytest

from zeostem.evaluation.coverage import al_coverage, coverage_stacks

NAMES = ["T1", "T5", "T9"]


def field(tsite: str, called: str, molecules: int, dose: int = 1500) -> dict:
    """A field of ``molecules`` molecules of ``tsite``, each detected and called ``called`` beyond doubt."""
    log_lik = np.where(np.array(NAMES) == called, 30.0, -30.0) * np.ones((molecules, 1))
    return {"model": "realistic", "dose": dose, "conformation": f"pyridine_{tsite}", "true_tsite": tsite,
            "classes": [tsite], "molecules": molecules, "al_log_likelihood": log_lik}  # fmt: skip


def test_stacks_are_single_fields_and_pairs_of_different_tsites_at_one_dose():
    fields = [
        field("T1", "T1", 5),
        field("T1", "T1", 5),
        field("T5", "T5", 5),
        field("T5", "T5", 5, dose=500),
    ]
    kinds = [kind for kind, _ in coverage_stacks(fields)]
    assert kinds.count("one field") == 4 and kinds.count("two fields") == 2  # T1 × T5 at 1500 only


def test_coverage_counts_a_recovered_field_as_held_and_a_confidently_wrong_one_as_missed():
    """A T1 field read right, a T5 field read as T9 throughout: alone, T1's share (1) is held and T5's
    is not, T9's interval (absent in both) misses 0 in the T5 field; together (truth ½ / ½), T1's share
    is held and T5's is not."""
    table = al_coverage([field("T1", "T1", 12), field("T5", "T9", 12)], NAMES, [[n] for n in NAMES])
    one, two = (table.set_index("stack").loc[k] for k in ("one field", "two fields"))
    assert one["stacks"] == 2 and one["present_covered"] == 0.5 and one["absent_covered"] == 0.75
    assert one["present_low"] < 0.5 < one["present_high"]
    assert two["stacks"] == 1 and two["present_covered"] == 0.5 and np.isnan(two["present_low"])
    assert two["present_abs_error"] == pytest.approx(0.5 * (abs(0.5 - 0.5) + 0.5), abs=0.06)


def test_a_field_that_reports_no_molecule_is_counted_as_unanswered_not_covered():
    empty = {**field("T1", "T1", 0), "molecules": 10}
    row = al_coverage([empty], NAMES, [[n] for n in NAMES]).iloc[0]
    assert (row["stacks"], row["unanswered"]) == (0, 1) and np.isnan(row["present_covered"])
