"""The Snakemake workflow: plans from a fresh clone, is lint/format clean, and runs a tiny config."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ase.io import write

from tests.conftest import REPO
from tests.test_import import as_dft_export
from zeostem.io.structures import read_structure
from zeostem.structures import build_candidate

BIN = Path(sys.executable).parent


def snakemake(*args, cwd=REPO, check=True):
    result = subprocess.run([BIN / "snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(result.stdout + result.stderr)
    return result


def test_default_target_plans_from_the_repository():
    out = snakemake("--cores", "2", "--dry-run", "--forceall")
    assert "generate_candidate" in out.stdout
    assert "pyridine_T12_O25" in out.stdout


@pytest.mark.parametrize(
    "target",
    ["structures", "simulations", "datasets", "clearstem", "detector", "reports", "figures", "metrics"],
)
def test_aggregate_targets_exist(target):
    snakemake("--cores", "1", "--dry-run", target)


def test_lint_and_format_are_clean():
    lint = snakemake("--lint")
    assert "Congratulations" in lint.stdout + lint.stderr
    fmt = subprocess.run(
        [BIN / "snakefmt", "--check", "Snakefile", "rules"], cwd=REPO, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stderr


def tiny_workflow(tmp_path, sheet_rows):
    sheet = tmp_path / "conformations.tsv"
    sheet.write_text("conformation\tmolecule\ttsite\tproton_o\tfile\n" + "".join(sheet_rows))
    config = {
        "framework": str(REPO / "resources/frameworks/MFI.yaml"),
        "molecules": {"pyridine": str(REPO / "resources/molecules/pyridine.xyz")},
        "tsites": ["T1", "T7"],
        "conformations": str(sheet),
        "images": str(REPO / "resources/images.tsv"),
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    return ["-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--cores", "2", "structures"]


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


def test_python_is_ruff_clean():
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([BIN / "ruff", *args], cwd=REPO, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
