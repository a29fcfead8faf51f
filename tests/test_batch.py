"""Batch analysis bookkeeping: folders expand to their images, a bad file is skipped, models load once.

The analysis itself runs for real in the end-to-end test (`zeostem analyze` on a folder); here it is a
function that records its calls, so the bookkeeping is checked on its own.
"""

import json

import numpy as np
import pytest

from zeostem.app.batch import analyze_many, expand_inputs
from zeostem.errors import InputError
from zeostem.io.images import write_image


def write_tif(path, value=None):
    data = np.random.default_rng(0).normal(size=(16, 16)).astype(np.float32) if value is None else value
    write_image(path, data, {"pixel_size_xy_A": [0.25, 0.25]})


def test_folders_expand_to_their_images_and_report_ids_must_be_unique(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_tif(tmp_path / "a" / "x.tif")
    write_tif(tmp_path / "a" / "y.tif")
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    write_tif(tmp_path / "b" / "x.tif")
    assert [p.name for p in expand_inputs([tmp_path / "a"])] == ["x.tif", "y.tif"]
    with pytest.raises(InputError, match="same report folder 'x'"):
        expand_inputs([tmp_path / "a", tmp_path / "b"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no image file") as err:
        expand_inputs([tmp_path / "empty"])
    assert "empty" in str(err.value)


def test_a_bad_file_is_skipped_and_the_models_load_once(tmp_path):
    good = [tmp_path / "g1.tif", tmp_path / "g2.tif"]
    for p in good:
        write_tif(p)
    bad = tmp_path / "flat.tif"
    write_tif(bad, np.full((16, 16), np.nan, np.float32))
    corrupt = tmp_path / "cut.tif"  # a TIFF whose transfer broke off after its header
    corrupt.write_bytes(b"II*\x00\x08\x00\x00\x00\x05\x00garbage")
    calls, loads = [], []

    def analyze_one(micrograph, path):
        pixel = micrograph.pixel_size_A
        calls.append(path.name)
        if path.name == "g2.tif":
            raise InputError("no lattice of MFI", path=path)
        report = {"image": path.stem, "input_file": str(path), "class_ranking": [], "molecules": []}
        report |= {
            "sites_analysed": 0,
            "molecule_evidence": {"detections": 0, "false_alarms_expected": None},
            "noise": {
                "dose_estimate_e_per_A2": None,
                "dose_stated_e_per_A2": None,
                "efficiency_dose_e_per_A2": None,
            },
            "calibration": {"warning": None},
            "goodness_of_fit": {"flagged": False, "note": None},
        }
        return report | {
            "lattice": {"rotation_deg": 0, "pixel_size_x_A": pixel, "pixel_size_y_A": pixel, "shear_deg": 0}
        }

    result = analyze_many([good[0], bad, corrupt, good[1]], None, analyze_one, lambda: loads.append(1))
    assert loads == [1] and calls == ["g1.tif", "g2.tif"]  # unreadable files never reach the models
    assert [r["status"] for r in result.rows] == ["ok", "failed", "failed", "failed"]
    assert "NaN" in result.failures[str(bad)] and "no lattice" in result.failures[str(good[1])]
    assert (
        "cannot read the image" in result.failures[str(corrupt)]
        and "export it again" in result.failures[str(corrupt)]
    )
    assert result.rows[0]["pixel_size_x_A"] == pytest.approx(0.25)
    nothing = analyze_many([bad], None, analyze_one, lambda: loads.append(2))
    assert loads == [1] and not nothing.reports  # nothing readable: the models are not even loaded


def test_analyze_without_a_finished_run_is_a_clear_error_and_writes_nothing(tmp_path, capsys):
    from zeostem.cli import main

    write_tif(tmp_path / "good.tif")
    out = tmp_path / "reports"
    rc = main(["analyze", str(tmp_path / "good.tif"), "--workflow-results", str(tmp_path / "none"),
               "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "holds no finished run" in err and "manifest.json" in err and "Fix:" in err
    assert not out.exists()
    with pytest.raises(SystemExit) as refused:  # a dose that cannot be is refused before anything is read
        main(["analyze", str(tmp_path / "good.tif"), "--dose", "0", "--out", str(out)])
    assert refused.value.code == 2 and "--dose: must be above 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("weights", "trained weights missing"),
        ("card", "model card is missing"),
        ("json", "not valid JSON"),
        ("old", "from another version"),
    ],
)
def test_a_missing_or_broken_model_is_named_with_the_fix(tmp_path, damage, message):
    from zeostem.models.loading import load_trained

    weights, card = tmp_path / "divaesr.pt", tmp_path / "divaesr.json"
    if damage != "weights":
        weights.write_bytes(b"")
    if damage == "json":
        card.write_text("{not json")
    if damage == "old":  # a card of an earlier version: a field renamed since
        card.write_text(json.dumps({"config": {"model": {"channels": 8, "renamed_field": 1}}}))
    with pytest.raises(InputError, match=message) as err:
        load_trained(weights, card, "denoiser")
    assert ("divaesr.pt" if damage == "weights" else "divaesr.json") in str(err.value)
    assert "Fix:" in str(err.value)
