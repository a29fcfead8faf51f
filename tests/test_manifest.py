"""The run manifest: one file names what a run's reports use; a moved run still works, a changed file
is a clear error."""

import json
import shutil
from pathlib import Path

import pytest

from zeostem import paths
from zeostem.app.manifest import config_digest, read_manifest, write_manifest
from zeostem.errors import InputError


@pytest.fixture
def run(tmp_path, monkeypatch):
    """A small finished run's analysis inputs under tmp_path/results, and its manifest."""
    monkeypatch.chdir(tmp_path)
    references = {
        kind: [paths.field(paths.SIMULATION, file, conformation=c) for c in ("a", "b")]
        for kind, file in (("clean", "clean"), ("labels", "labels"), ("empty", "empty_clean"))
    }
    models = {"divaesr": {**paths.model_files("divaesr"), "kind": "denoiser"}}
    files = [p for ps in references.values() for p in ps] + list(paths.model_files("divaesr").values())
    for k, f in enumerate([*files, paths.CALIBRATION]):
        path = tmp_path / f
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content {k}")
    config = {"simulation": {"doses": [500, 4500]}, "structures": {"seed": 1}}
    settings = {"inference_tile": 128}
    write_manifest(paths.MANIFEST, references, models, paths.CALIBRATION, settings, {"seed": 1}, config)
    return tmp_path / paths.ROOT, config


def test_a_moved_run_is_read_from_another_working_directory(run, tmp_path, monkeypatch):
    results, config = run
    moved = tmp_path / "elsewhere" / "my-run"
    shutil.move(results, moved)
    monkeypatch.chdir(tmp_path / "elsewhere")
    manifest = read_manifest(moved)
    assert paths.results_folder(paths.located(paths.MANIFEST, moved)) == moved  # how the rule finds it
    assert manifest["references"]["clean"] == [str(moved / "simulation" / c / "clean.tif") for c in "ab"]
    assert manifest["models"]["divaesr"]["weights"] == str(moved / "models" / "divaesr.pt")
    assert Path(manifest["calibration"]).read_text() == f"content {3 * 2 + 2}"
    assert manifest["analysis_settings"] == {"inference_tile": 128}
    assert manifest["config_sha256"] == config_digest(json.loads(json.dumps(config)))
    assert config_digest({**config, "simulation": {"doses": [500, 1500]}}) != manifest["config_sha256"]


@pytest.mark.parametrize("damage", ["changed", "missing"])
def test_a_file_that_is_not_the_manifest_s_is_a_clear_error(run, damage):
    results, _ = run
    weights = results / "models" / "divaesr.pt"
    if damage == "changed":
        weights.write_text("retrained")
    else:
        weights.unlink()
    with pytest.raises(InputError) as err:
        read_manifest(results)
    message = str(err.value)
    assert "models/divaesr.pt" in message and "manifest.json" in message
    assert ("sha256 differs" if damage == "changed" else "is missing") in message
    assert "Fix: re-run the workflow" in message


def test_a_folder_without_a_run_or_with_a_broken_manifest_is_a_clear_error(run, tmp_path):
    with pytest.raises(InputError, match="holds no finished run"):
        read_manifest(tmp_path / "nothing")
    results, _ = run
    (results / "analysis" / "manifest.json").write_text("{}")
    with pytest.raises(InputError, match="malformed"):
        read_manifest(results)
