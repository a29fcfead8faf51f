"""Molecule-free fields: what the workflow reports about images with nothing to find."""

import pytest

from zeostem.evaluation.molecule_free import molecule_free_table


def test_false_molecules_and_calls_on_molecule_free_fields_are_counted_per_dose():
    """Hand-made fields: at 500 e/Å² 3 of 200 sites taken (two fields), one of them reporting its two
    as molecules and naming a class at p 0.97, the other (one detection, no more than false alarms
    give) none and no call; at 4500 none taken, no call. The share per site is 0.015 with an interval
    that holds it, beside the stated rate."""
    records = [
        {
            "dose": 500,
            "conformation": "a",
            "sites": 100,
            "false_molecules": 2,
            "molecules_reported": 2,
            "call_probability": 0.97,
        },
        {
            "dose": 500,
            "conformation": "b",
            "sites": 100,
            "false_molecules": 1,
            "molecules_reported": 0,
            "call_probability": 0.0,
        },
        {
            "dose": 4500,
            "conformation": "a",
            "sites": 120,
            "false_molecules": 0,
            "molecules_reported": 0,
            "call_probability": 0.0,
        },
    ]
    table = molecule_free_table(records, 0.05).set_index("dose")
    low = table.loc[500]
    assert (low["fields"], low["sites"], low["false_molecules"]) == (2, 200, 3)
    assert low["per_site"] == pytest.approx(0.015) and low["per_site_low"] < 0.015 < low["per_site_high"]
    assert (low["fields_with_false_molecules"], low["fields_with_molecules_reported"]) == (2, 1)
    assert (low["calls"], low["sure_calls"]) == (1, 1)
    assert low["mean_call_probability"] == pytest.approx(0.485) and low["stated_rate"] == 0.05
    high = table.loc[4500]
    assert (high["false_molecules"], high["fields_with_false_molecules"], high["calls"]) == (0, 0, 0)
