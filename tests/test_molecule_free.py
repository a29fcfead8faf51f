"""Molecule-free fields: what the workflow reports about images with nothing to find."""

import numpy as np
import pytest

from zeostem.analysis.posterior import molecules_present
from zeostem.evaluation.molecule_free import molecule_free_table


def test_false_molecules_and_calls_on_molecule_free_fields_are_counted_per_dose():
    """Hand-made fields: at 500 e/Å² 3 of 200 sites taken (two fields), one of them named a class at
    p 0.97 and one at 0.6; at 4500 none taken, no call. The share per site is 0.015 with an interval
    that holds it, beside the stated rate."""
    records = [
        {
            "dose": 500,
            "conformation": "a",
            "sites": 100,
            "false_molecules": 2,
            "call_probability": 0.97,
            "no_molecules_probability": 0.01,
        },
        {
            "dose": 500,
            "conformation": "b",
            "sites": 100,
            "false_molecules": 1,
            "call_probability": 0.6,
            "no_molecules_probability": 0.2,
        },
        {
            "dose": 4500,
            "conformation": "a",
            "sites": 120,
            "false_molecules": 0,
            "call_probability": 0.0,
            "no_molecules_probability": 1.0,
        },
    ]
    table = molecule_free_table(records, 0.05).set_index("dose")
    low = table.loc[500]
    assert (low["fields"], low["sites"], low["false_molecules"]) == (2, 200, 3)
    assert low["per_site"] == pytest.approx(0.015) and low["per_site_low"] < 0.015 < low["per_site_high"]
    assert (low["fields_with_false_molecules"], low["calls"], low["sure_calls"]) == (2, 2, 1)
    assert low["mean_call_probability"] == pytest.approx(0.785) and low["stated_rate"] == 0.05
    assert low["mean_no_molecules_probability"] == pytest.approx(0.105)
    high = table.loc[4500]
    assert (high["false_molecules"], high["fields_with_false_molecules"], high["calls"]) == (0, 0, 0)


def test_an_image_holds_molecules_by_its_detections_strength_and_count():
    """The probability of molecules at all: nothing to go on (detections as strong as false alarms,
    sites detected as often as in molecule-free fields) leaves the prior ½; ten detections each 5 log
    units more molecule than false alarm make it ≈ 1, ten each 3 log units less ≈ 0 (exactly: 10 ·
    log(0.8 e⁻³ + 0.2) = −14.3); the count alone, 10 of 100 sites where fields with molecules detect
    10 % and molecule-free ones 5 %, gives log odds 10 log 2 + 90 log(0.9 / 0.95)."""
    fit = {"detections": 50, "false_alarms": 10}  # molecules among the validation detections: 0.8
    same = (0.05, 0.05)
    flat = {"detections": 50, "false_alarms": 50}  # no molecule among them: the marks say nothing
    assert molecules_present(np.zeros(10), flat, same, 100) == pytest.approx(0.5)
    assert molecules_present(np.full(10, 5.0), fit, same, 100) > 0.999
    weak = molecules_present(np.full(10, -3.0), fit, same, 100)
    assert np.log(weak / (1 - weak)) == pytest.approx(10 * np.log(0.8 * np.exp(-3) + 0.2))
    counted = molecules_present(np.zeros(10), flat, (0.05, 0.10), 100)
    assert np.log(counted / (1 - counted)) == pytest.approx(10 * np.log(2) + 90 * np.log(0.9 / 0.95))
