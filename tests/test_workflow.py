"""The Snakemake workflow: plans from a fresh clone, is lint/format clean, and runs a tiny config."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from ase.io import write

from tests.conftest import REPO
from tests.test_import import as_dft_export
from tests.test_segments import write_velox
from zeostem import paths
from zeostem.analysis.calibration import Calibration
from zeostem.app.report import validate_report
from zeostem.datasets.split import split_by_conformation
from zeostem.figures.rulegraph import draw_rulegraph, parse_rulegraph
from zeostem.io.images import read_image
from zeostem.io.structures import read_structure
from zeostem.structures import build_candidate

BIN = Path(sys.executable).parent


def snakemake(*args, cwd=REPO, check=True, timeout=900):
    command = [BIN / "snakemake", *args]
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"`snakemake {' '.join(map(str, args))}` took over {timeout} s") from exc
    if check and result.returncode != 0:
        raise AssertionError(result.stdout + result.stderr)
    return result


def test_default_target_plans_from_the_repository():
    out = snakemake("--cores", "2", "--dry-run", "--forceall")
    assert "generate_candidate" in out.stdout
    assert "pyridine_T12_O25" in out.stdout


AGGREGATE_TARGETS = (
    "structures", "simulations", "datasets", "clearstem", "detector", "realistic", "mismatch",
    "robustness", "coverage", "reports", "metrics", "figures", "plan", "manifest",
)  # fmt: skip


def test_every_aggregate_target_plans():
    """One dry run of every aggregate target (a DAG per target would take 7 s each): each is planned."""
    out = snakemake("--cores", "1", "--dry-run", "--forceall", *AGGREGATE_TARGETS)
    stats = (out.stdout + out.stderr).split("Job stats:")[1].split("Reasons:")[0]
    planned = {line.split()[0] for line in stats.splitlines()[3:] if line.strip()}
    assert set(AGGREGATE_TARGETS) <= planned, set(AGGREGATE_TARGETS) - planned


def test_lint_and_format_are_clean():
    lint = snakemake("--lint")
    assert "Congratulations" in lint.stdout + lint.stderr
    fmt = subprocess.run(
        [BIN / "snakefmt", "--check", "Snakefile", "rules"], cwd=REPO, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stderr


def tiny_workflow(tmp_path, sheet_rows, target="structures", tsites=("T1", "T7"), image_rows=()):
    images = tmp_path / "images.tsv"
    images.write_text("image\tfile\tpixel_size_A\tdose_e_per_A2\tmolecule\n" + "".join(image_rows))
    sheet = tmp_path / "conformations.tsv"
    sheet.write_text("conformation\tmolecule\ttsite\tproton_o\tfile\n" + "".join(sheet_rows))
    config = {
        "framework": str(REPO / "resources/frameworks/MFI.yaml"),
        "molecules": {"pyridine": str(REPO / "resources/molecules/pyridine.xyz")},
        "tsites": list(tsites),
        "conformations": str(sheet),
        "images": str(images),
        "simulation": {  # coarse but real multislice: seconds per cell
            "potential_sampling_A": 0.2,
            "scan_step_A": 0.5,
            "slice_thickness_A": 2.0,
            "field_of_view_cells": [3, 3],  # the lattice fit needs a few cells
            "doses": [4500],  # a 3 × 3-cell coarse field shows its lattice from ~2000 e/Å² on
            "replicas": 1,
            "mosaics": 1,
        },
        "datasets": {"tile_size": 32, "tiles_per_image": 4},
        "clearstem": {
            "vae_features": 8,
            "latent_channels": 4,
            "vae_levels": 2,
            "edsr_blocks": 1,
            "edsr_features": 8,
            "epochs": 1,
            "inference_tile": 64,
            "inference_overlap": 16,
            "ablation": ["sr_only", "divaesr"],
            "lambda_sweep": [0.7],  # a dot in the model name: divaesr_lambda0.7
        },
        "detector": {"backbone": "divaesr_encoder", "epochs": 1, "tile": 128, "overlap": 32},
        "analysis": {
            "evaluation_replicas": 1,
            # the experiment-like image as a real micrograph: drifted, miscalibrated, unequal segments
            "experiment_nuisances": {"shear": 0.02, "calibration": 0.02, "gain_imbalance": 0.05},
        },
        "realistic": {
            "validation_structures": 1,
            "test_structures": 1,
            "optics": {"alpha12": {"semiangle_mrad": 12, "detector_outer_mrad": 16}},
        },
        "robustness": {
            "dose": 4500,
            "replicas": 1,
            "nuisances": {"background": [4]},
            "combined": {"rotation_deg": 90, "gain_imbalance": 0.1},
            "simulated": {"defocus_3nm": {"defocus_A": 30}},
        },
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    return ["-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--cores", "2", target]


@pytest.mark.slow
def test_tiny_structures_run_generates_and_imports(tmp_path, mfi, pyridine):
    dft = tmp_path / "dft_T3.cif"
    write(dft, as_dft_export(build_candidate(mfi, pyridine, "T3", "O8")), format="cif")
    snakemake(*tiny_workflow(tmp_path, [f"pyridine_T3_dft\tpyridine\tT3\tO8\t{dft}\n"]))
    results = tmp_path / "results" / "structures"
    assert sorted(p.name for p in results.glob("*.extxyz")) == [
        "pyridine_T1_O2.extxyz",
        "pyridine_T3_dft.extxyz",
        "pyridine_T7_O16.extxyz",
    ]
    generated = read_structure(results / "pyridine_T7_O16.extxyz")
    assert generated.info["tsite"] == "T7" and generated.info["source"] == "generated"
    imported = read_structure(results / "pyridine_T3_dft.extxyz")
    assert imported.info["source"] == "imported:dft_T3.cif" and imported.info["tsite"] == "T3"
    assert (tmp_path / "logs" / "structures" / "import_pyridine_T3_dft.log").is_file()


def outcome(root: Path) -> dict:
    """What a run produced, by content: structures (bytes), images (pixels), model weights (tensors)."""
    found = {p.name: p.read_bytes() for p in (root / "results" / "structures").glob("*.extxyz")}
    for p in sorted((root / "results" / "simulation").glob("*/*.tif")):
        found[f"{p.parent.name}/{p.name}"] = read_image(p)[0].tobytes()
    weights = torch.load(root / "results" / "models" / "divaesr.pt", weights_only=True)
    found["divaesr.pt"] = b"".join(t.numpy().tobytes() for t in weights.values())
    return found


def run_killed(command: list, cwd: Path, killed_when) -> None:
    """Start ``command``, kill -9 its whole process group once ``killed_when()`` holds (it must not end
    first)."""
    run = subprocess.Popen(command, cwd=cwd, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    while run.poll() is None and not killed_when():
        time.sleep(0.02)
    assert run.poll() is None, "the run ended before the moment to kill it"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_result_and_the_seed_decides_it(tmp_path):
    tsites = ["T1", "T7", "T12"]
    targets = ["results/models/divaesr.pt"]

    def workflow(root: Path, seed: int = 0) -> list:
        root.mkdir()
        args = tiny_workflow(root, [], target="structures", tsites=tsites)[:-1] + targets
        config = yaml.safe_load((root / "config.yaml").read_text())
        config["clearstem"]["epochs"] = 3
        config["simulation"]["seed"] = config["clearstem"]["seed"] = seed
        (root / "config.yaml").write_text(yaml.safe_dump(config))
        return args

    straight = tmp_path / "straight"
    snakemake(*workflow(straight))
    killed = tmp_path / "killed"
    args = workflow(killed)
    segments = killed / "results" / "simulation" / "pyridine_T1_O2" / "segments.tif"
    simulating = killed / "logs" / "simulation" / "simulate_pyridine_T1_O2.log"
    command = [BIN / "snakemake", *args]
    run_killed(command, REPO, lambda: simulating.exists() and not segments.exists())  # mid-multislice
    snakemake("--unlock", *args)
    models = killed / "results" / "models"
    run_killed(command, REPO, lambda: (models / "divaesr.ckpt").exists())  # after a training epoch
    snakemake("--unlock", *args)
    resumed = snakemake(*args)
    log = resumed.stdout + resumed.stderr
    assert "train_denoiser" in log and "simulate_conformation" not in log  # only the incomplete job ran
    assert "resuming divaesr.ckpt" in (killed / "logs" / "models" / "train_divaesr.log").read_text()
    assert outcome(killed) == outcome(straight)
    other = tmp_path / "other_seed"
    snakemake(*workflow(other, seed=1))
    a, b = outcome(straight), outcome(other)
    assert a["pyridine_T1_O2.extxyz"] == b["pyridine_T1_O2.extxyz"]  # structures are not seeded by these
    assert a["pyridine_T1_O2/dose4500-0.tif"] != b["pyridine_T1_O2/dose4500-0.tif"]
    assert a["pyridine_T1_O2/clean.tif"] == b["pyridine_T1_O2/clean.tif"]  # no phonons: no seed in it
    assert a["divaesr.pt"] != b["divaesr.pt"]


def test_bad_import_fails_with_a_clear_error_and_no_output(tmp_path, mfi, pyridine):
    dft = tmp_path / "mislabelled.cif"
    write(dft, as_dft_export(build_candidate(mfi, pyridine, "T3", "O8")), format="cif")
    args = tiny_workflow(tmp_path, [f"bad\tpyridine\tT9\tO8\t{dft}\n"])
    result = snakemake(*args, "--keep-going", check=False)
    assert result.returncode != 0
    assert "declared T-site T9 but the Al sits on T3" in result.stdout + result.stderr
    assert "mislabelled.cif" in result.stdout + result.stderr
    assert not (tmp_path / "results" / "structures" / "bad.extxyz").exists()
    assert (tmp_path / "results" / "structures" / "pyridine_T1_O2.extxyz").exists()


@pytest.mark.parametrize("script", sorted((REPO / "scripts").glob("*.py")), ids=lambda p: p.stem)
def test_every_name_a_script_imports_exists(script):
    """Scripts run only inside a workflow job: a renamed library function must fail here, not there."""
    import ast
    import importlib

    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{script.name}: {node.module}.{alias.name} is gone"


def test_python_is_ruff_clean():
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([BIN / "ruff", *args], cwd=REPO, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_tiny_end_to_end_run(tmp_path):
    """`snakemake all` on a tiny config: structures → simulation → denoiser → detector → reports, metrics."""
    split = split_by_conformation(["pyridine_T1_O2", "pyridine_T7_O16", "pyridine_T12_O25"], 0.2, 0.25, 0)
    test = split["test"][0]
    rows = [f"exp\tresults/experiments/{test}-dose4500.tif\t\t4500\tpyridine\n"]  # the dose stated
    args = tiny_workflow(tmp_path, [], target="all", tsites=["T1", "T7", "T12"], image_rows=rows)
    for stage in ("simulations", "clearstem", "detector"):  # a call each: a timeout names the stage that hung
        snakemake(*args[:-1], stage, timeout=600)
    snakemake(*args, "clearstem_ablation", "clearstem_lambda_sweep", "robustness")
    folder = tmp_path / "results" / "simulation" / "pyridine_T1_O2"
    clean, meta = read_image(folder / "clean.tif")
    noisy, noisy_meta = read_image(folder / "dose4500-0.tif")
    assert clean.dtype == np.float32 and clean.shape == noisy.shape == (158, 241)
    assert meta["pixel_size_A"] == pytest.approx(0.25, rel=0.01)
    assert meta["simulation"]["energy_keV"] == 300 and meta["structure"]["tsite"] == "T1"
    assert noisy_meta["dose_e_per_A2"] == 4500 and noisy_meta["noise_seed"] == [0, "pyridine_T1_O2", 4500, 0]
    segments, _ = read_image(folder / "segments.tif")
    assert segments.shape == (4, 158, 241)
    labels = json.loads((folder / "labels.json").read_text())
    assert len(labels["molecules"]) == 9
    mosaic = json.loads((folder / "mosaic0-labels.json").read_text())
    assert 1 <= len(mosaic["molecules"]) <= 8
    assert (folder / "mosaic0-dose4500-0.tif").is_file()
    assert "multislice:" in (tmp_path / "logs" / "simulation" / "simulate_pyridine_T1_O2.log").read_text()
    assert (tmp_path / "results" / "benchmarks" / "simulation" / "simulate_pyridine_T1_O2.tsv").is_file()

    split = json.loads((tmp_path / "results" / "datasets" / "denoise" / "split.json").read_text())
    assert sorted(sum(split.values(), [])) == ["pyridine_T12_O25", "pyridine_T1_O2", "pyridine_T7_O16"]
    card = json.loads((tmp_path / "results" / "models" / "divaesr.json").read_text())
    assert card["config"]["model"]["variant"] == "divaesr" and card["weights_sha256"]
    table = pd.read_csv(tmp_path / "results" / "metrics" / "clearstem.csv")
    assert set(table["method"]) >= {"raw", "gaussian", "divaesr"}
    assert set(table["conformation"]) == set(split["test"])
    metrics = tmp_path / "results" / "metrics"
    assert "| divaesr |" in (metrics / "clearstem_table.md").read_text()
    assert "| sr_only |" in (metrics / "clearstem_ablation_table.md").read_text()  # Table 1
    assert "| divaesr_lambda0.7 |" in (metrics / "clearstem_lambda_table.md").read_text()  # Table 2
    figures = ("clearstem_metrics", "clearstem_panels", "clearstem_histograms", "detection_vs_dose")
    figures += ("alsite_identifiability", "plan")
    for name in figures:
        assert (tmp_path / "results" / "figures" / f"{name}.png").stat().st_size > 10_000
    for name in ("alsite_matching", "al_distribution"):
        assert (tmp_path / "results" / "figures" / f"{name}.png").stat().st_size > 10_000
    detection = pd.read_csv(tmp_path / "results" / "metrics" / "detection.csv")
    assert set(detection["dose"]) == {4500}
    assert set(zip(detection["method"], detection["input"], strict=True)) == {
        ("faster_rcnn", "denoised"), ("faster_rcnn", "raw"), ("fixed_box", "none"), ("lattice", "raw"),
        ("ideal", "raw"), ("ideal_pose_known", "raw"),
    }  # fmt: skip
    crops = detection[detection["protocol"] == "paper crops"]  # the paper's 128² crops around a molecule
    assert set(crops["method"]) == {"faster_rcnn", "fixed_box"} and (crops["images"] > 0).all()
    report_dir = tmp_path / "results" / "reports" / "exp"
    report = json.loads((report_dir / "report.json").read_text())
    validate_report(report)
    assert report["pixel_size_A"] == pytest.approx(0.25, rel=0.01)  # read from the TIFF, not the sheet
    assert report["input"] == {"signal": "image", "calibration_source": "TIFF description"}
    _, experiment = read_image(tmp_path / "results" / "experiments" / f"{test}-dose4500.tif")
    drawn = experiment["nuisances"]
    assert 0 < abs(drawn["shear"]) <= 0.02 and 0 < abs(drawn["calibration"]) <= 0.02
    assert drawn["rotation_deg"] == 0 and len(set(experiment["segment_gains"])) == 4
    assert {"divaesr", "detector_denoised"} <= set(report["models"])
    for name in ("panel.png", "denoised.tif", "columns.csv"):
        assert (report_dir / name).is_file()
    true_x = experiment["true_pixel_size_xy_A"][0]  # the file's 0.25 Å was off by the drawn calibration
    assert report["lattice"]["pixel_size_x_A"] == pytest.approx(true_x, rel=0.005)
    assert report["sites_analysed"] > 0 and len(report["molecules"]) >= 1
    assert report["noise"]["dose_estimate_e_per_A2"] == pytest.approx(4500, rel=0.25)
    assert report["noise"]["dose_stated_e_per_A2"] == 4500  # the sheet's
    true_class = next(c["class"] for c in report["classes"] if test.split("_")[1] in c["tsites"])
    assert len(report["classes"]) == 3 and report["class_ranking"][0]["class"] == true_class
    # every class one T-site on one acid O: each T-site's probability is its class's, exactly
    bounds = {r["tsite"]: (r["low"], r["high"]) for r in report["tsite_probability"]}
    assert bounds == {r["class"]: pytest.approx((r["probability"],) * 2) for r in report["class_ranking"]}
    alsite = pd.read_csv(tmp_path / "results" / "metrics" / "alsite.csv")
    assert set(alsite["observer"]) == {"pipeline", "ideal", "ideal_detecting", "paper", "paper_matching"}
    assert set(alsite["level"]) == {"molecule", "image"} and (alsite["n"] > 0).all()
    # the ideal observer that must find the molecules names no more of the same molecules than the one told
    told, finding = (
        alsite[(alsite["observer"] == o) & (alsite["level"] == "molecule")].set_index(["model", "dose"])
        for o in ("ideal", "ideal_detecting")
    )
    assert finding["n"].to_dict() == told["n"].to_dict()
    assert (finding["detected"] <= told["detected"]).all() and (finding["top1"] <= told["top1"] + 1e-12).all()
    # the paper's path (and its SSIM step on the molecules' own boxes, which finds every one) answers per
    # molecule on the same molecules, and gives no probability
    pipeline = alsite[(alsite["observer"] == "pipeline") & (alsite["level"] == "molecule")]
    for observer in ("paper", "paper_matching"):
        paper = alsite[alsite["observer"] == observer].set_index(["model", "dose"])
        assert set(paper["level"]) == {"molecule"} and paper["ece"].isna().all()
        assert paper["n"].to_dict() == pipeline.set_index(["model", "dose"])["n"].to_dict()
    matching = alsite[alsite["observer"] == "paper_matching"]
    assert (matching["detected"] == matching["n"]).all()
    # mismatched and realistic (perturbed structures, never a reference; again under other optics) test
    # images beside the matched
    assert set(alsite["model"]) == {"matched", "mismatched", "realistic", "realistic, alpha12"}
    mismatch = pd.read_csv(tmp_path / "results" / "metrics" / "mismatch.csv")
    assert len(set(mismatch["variant"])) == 8 and mismatch["ncc"].between(0.9, 1.0).all()
    assert "realistic_p0" in set(mismatch["variant"])  # the realistic validation structure's spread
    model_error = json.loads((tmp_path / "results" / "analysis" / "model_error.json").read_text())
    assert model_error["variance"] > 0
    assert report["calibration"]["model_error_variance"] == model_error["variance"]
    assert report["calibration"]["model_error_source"].startswith("measured: 8 simulation variants")
    robustness = pd.read_csv(tmp_path / "results" / "metrics" / "robustness.csv").set_index(
        ["case", "observer"]
    )
    assert set(robustness.index) == {
        (c, o) for c in ("none", "background_4", "combined", "defocus_3nm") for o in ("pipeline", "ideal")
    }
    assert robustness.loc[("combined", "ideal"), "ideal_from"] == "none"  # geometry known = undone
    assert robustness.loc[("background_4", "ideal"), "ideal_from"] == "background_4"
    assert (robustness["molecules"] > 0).all() and robustness["top1"].between(0, 1).all()
    assert (tmp_path / "results" / "figures" / "robustness.png").stat().st_size > 10_000
    pooled = pd.read_csv(tmp_path / "results" / "metrics" / "al_distribution.csv")
    molecules = len(report["molecules"])  # the sheet's one image: its molecules are all the pool holds
    assert set(pooled["molecules"]) == {molecules}
    all_images = pooled[pooled["images"] == "all images"].set_index("class")["fraction"]
    own = {e["class"]: np.nan if e["fraction"] is None else e["fraction"] for e in report["al_distribution"]}
    # one image: the pool is its own distribution (a class not seen at its dose has no fraction in both)
    assert all_images.to_dict() == pytest.approx(own, nan_ok=True)
    # posterior medians of the seen classes' shares of the molecules (false alarms: of the detections);
    # a class is seen where ≥ 3 of its molecules on the calibration's fields at that dose are credited
    # to it, never where fewer than 3 were reported
    efficiency = report["calibration"]["detection_efficiency"]
    credited = Calibration.load(tmp_path / paths.CALIBRATION).efficiency_at(
        report["noise"]["dose_estimate_e_per_A2"]
    )
    seen = {e["class"]: e["seen"] for e in report["al_distribution"] if e["class"] != "false alarms"}
    assert seen == dict(zip(seen, credited.seen.tolist(), strict=True))
    assert not any(seen[c] and efficiency[c][0] < 3 for c in seen)
    # each seen class's share is its own chain's median, under the prior that asks about it, so the
    # medians need not sum to 1 (a few molecules leave several classes' medians high); the intervals
    # hold their medians and, together, a distribution
    shares = pooled[(pooled["images"] == "all images") & pooled["seen"] & (pooled["class"] != "false alarms")]
    assert shares["fraction"].between(shares["low"], shares["high"]).all()
    assert not len(shares) or shares["low"].sum() <= 1 <= shares["high"].sum()
    # the planner's confusion counts the same molecules: each class's row holds its molecules there,
    # the reported ones named, the rest missed
    calibration = json.loads((tmp_path / paths.CALIBRATION).read_text())
    for entry in calibration["detection_efficiency"]:
        for name, (reported, there) in entry["classes"].items():
            row = entry["confusion"][name]
            assert sum(row.values()) == there and there - row["missed"] == reported
            assert len(entry["molecules"][name]) == reported  # the rows the Al distribution credits

    # the CLI on a folder, from another working directory, given only the run's results folder (its
    # manifest names the rest): models loaded once, the bad file reported and skipped, the good one's
    # report equal to the workflow's; exit code 2 because one input failed
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(tmp_path / "results" / "experiments" / f"{test}-dose4500.tif", inbox / "exp.tif")
    (inbox / "broken.tif").write_bytes(b"not a tiff")
    # and what a Velox session writes: the four DF4 segments (counts at 4500 e/Å²), no iDPC image
    segments, seg_meta = read_image(tmp_path / "results" / "simulation" / test / "segments.tif")
    pixel = seg_meta["pixel_size_A"]
    counts = np.random.default_rng(7).poisson(segments * 4500 * pixel**2)
    write_velox(inbox / "df4.emd", dict(zip(("DF4-A", "DF4-B", "DF4-C", "DF4-D"), counts, strict=True)),
                pixel * 1e-10)  # fmt: skip
    cli = [BIN / "zeostem", "analyze", ".", "--workflow-results", str(tmp_path / "results"), "--dose", "4500",
           "--out", str(tmp_path / "batch")]  # fmt: skip
    batch_out = tmp_path / "batch"
    batch = subprocess.run(cli, cwd=inbox, capture_output=True, text=True, timeout=600)
    assert batch.returncode == 2 and "broken.tif" in batch.stderr, batch.stdout + batch.stderr
    summary = pd.read_csv(tmp_path / "batch" / "summary.csv", keep_default_na=False)
    statuses = dict(zip(summary["image"], summary["status"], strict=True))
    assert statuses == {"broken": "failed", "exp": "ok", "df4": "ok"}
    velox = json.loads((tmp_path / "batch" / "df4" / "report.json").read_text())
    assert velox["input"]["signal"] == "iDPC from 4 segments"
    assert velox["input"]["calibration_source"] == "Velox metadata (DF4-A)"
    assert abs((velox["input"]["segments"]["rotation_deg"] + 45 + 180) % 360 - 180) < 3  # simulated: −45°
    assert velox["lattice"]["pixel_size_x_A"] == pytest.approx(pixel, rel=0.005)
    assert velox["noise"]["dose_estimate_e_per_A2"] == pytest.approx(4500, rel=0.25)  # raw counts at 4500
    assert velox["noise"]["dose_stated_e_per_A2"] == 4500
    doses = ["dose_stated_e_per_A2", "efficiency_dose_e_per_A2"]  # the efficiency is taken at the stated
    stated = summary.set_index("image").loc[["exp", "df4"], doses]
    assert stated.astype(float).to_numpy().tolist() == [[4500.0, 4500.0]] * 2
    again = json.loads((tmp_path / "batch" / "exp" / "report.json").read_text())
    # the same answer; the last bits may differ (the rule runs with 2 threads, the CLI with the default)
    assert [r["class"] for r in again["class_ranking"]] == [r["class"] for r in report["class_ranking"]]
    assert [r["probability"] for r in again["class_ranking"]] == pytest.approx(
        [r["probability"] for r in report["class_ranking"]], rel=1e-6, abs=1e-12
    )
    numbers = ("rotation_deg", "pixel_size_x_A", "pixel_size_y_A", "shear_deg", "peak_misfit_bins")
    assert [again["lattice"][k] for k in numbers] == pytest.approx([report["lattice"][k] for k in numbers])
    assert again["lattice"]["mirrored"] == report["lattice"]["mirrored"]
    assert not (tmp_path / "batch" / "broken").exists()

    # killed the moment its first report lands: every report folder there is complete, no summary; a
    # second call over the same --out gives the uninterrupted call's answers
    killed = tmp_path / "killed"
    reports = lambda: [p for p in killed.glob("*") if p.is_dir() and not p.name.startswith(".")]  # noqa: E731
    run_killed([*cli[:-1], str(killed)], inbox, lambda: bool(reports()))
    for folder in reports():
        assert set(paths.REPORT_FILES.values()) <= {f.name for f in folder.iterdir()}
    assert not (killed / "summary.csv").exists()
    rerun = subprocess.run([*cli[:-1], str(killed)], cwd=inbox, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 2, rerun.stdout + rerun.stderr
    for image in ("exp", "df4"):
        first, second = (json.loads((d / image / "report.json").read_text()) for d in (batch_out, killed))
        assert second["class_ranking"] == first["class_ranking"]

    plan = pd.read_csv(tmp_path / "results" / "metrics" / "plan.csv")
    assert set(plan["observer"]) == {"pipeline", "ideal"}  # one dose: the planner says it is too sparse
    assert "too few doses" in (tmp_path / "results" / "metrics" / "plan.txt").read_text()

    snakemake(*args[:-1], "--report", str(tmp_path / "report.html"))
    html = (tmp_path / "report.html").read_text(errors="ignore")
    assert "Fig. 4B" in html and "Fig. 3 A" in html and "Fig. 5" in html


def test_the_rule_graph_picture_shows_the_workflow_s_dependencies(tmp_path):
    graph = parse_rulegraph(snakemake("--rulegraph", "--nolock").stdout)
    assert ("generate_candidate", "simulate_conformation") in graph.edges
    assert ("evaluate_alsite", "plan") in graph.edges and ("analyze_image", "all") in graph.edges
    draw_rulegraph(graph, str(tmp_path / "rulegraph.png"))
    assert (tmp_path / "rulegraph.png").stat().st_size > 20_000


@pytest.mark.slow
def test_paper_configuration_plans_the_full_reproduction():
    out = snakemake("--cores", "2", "--dry-run", "--forceall", "--configfile", "config.paper.yaml")
    for rule in ("relax_conformation", "simulate_empty", "train_detector", "evaluate_alsite"):
        assert rule in out.stdout
    assert "thiophene_T1_O2" in out.stdout


@pytest.mark.slow
def test_slurm_profile_requests_gpus_for_training_and_simulation():
    out = snakemake(
        "--profile", "profiles/slurm", "--dry-run", "--forceall", "--configfile", "config.paper.yaml"
    ).stdout
    blocks = {}
    for block in out.split("\n\n"):
        for line in block.splitlines():
            if line.startswith(("rule ", "localrule ")):
                blocks.setdefault(line.split()[1].rstrip(":"), block)
    for rule in ("simulate_conformation", "train_denoiser", "train_detector"):
        assert "gpu=1" in blocks[rule] and "slurm_partition=<GPU_PARTITION>" in blocks[rule]
    assert "gpu=1" not in blocks["generate_candidate"]
