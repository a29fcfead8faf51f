"""The package's layers, read from the source: what may import what, and where results/ paths live."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
PACKAGE = REPO / "src" / "zeostem"
# lowest first; a module may import its own package and any lower layer, never a higher one
LAYERS = [
    {"errors", "parallel", "runlog", "paths"},
    {"io"},
    {"structures"},
    {"simulation"},
    {"analysis", "datasets"},
    {"metrics"},
    {"models"},
    {"evaluation"},
    {"jobs", "app"},
    {"figures"},
    {"cli"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def part(module: str) -> str:
    """The top-level part of zeostem a module belongs to (``zeostem.analysis.likelihood`` → analysis)."""
    return module.split(".")[1]


def imports() -> list[tuple[str, str, int]]:
    """(importing part, imported part, line) of every zeostem import in the package, local ones too."""
    found = []
    for file in PACKAGE.rglob("*.py"):
        importer = part("zeostem." + file.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", "."))
        for node in ast.walk(ast.parse(file.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zeostem"):
                names = [
                    f"{node.module}.{a.name}" if node.module == "zeostem" else node.module for a in node.names
                ]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("zeostem.")]
            found += [(importer, part(n), node.lineno) for n in names if part(n) != "__init__"]
    return found


def test_every_part_of_the_package_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if not p.name.startswith("_")}
    parts -= {"schemas"}
    assert parts == set(RANK)


def test_no_part_imports_a_higher_layer_or_a_sibling_of_its_own_layer():
    wrong = [
        (importer, imported, line)
        for importer, imported, line in imports()
        if imported != importer and RANK[imported] >= RANK[importer]
    ]
    assert not wrong


def test_the_check_catches_an_upward_import(tmp_path, monkeypatch):
    """The test above reads real imports: an analysis module importing figures would be caught."""
    fake = tmp_path / "zeostem"
    (fake / "analysis").mkdir(parents=True)
    (fake / "analysis" / "bad.py").write_text("def f():\n    from zeostem.figures.alsite import x\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert imports() == [("analysis", "figures", 2)]


def test_the_analysis_of_one_image_does_not_import_torch():
    modules = [f"zeostem.analysis.{p.stem}" for p in (PACKAGE / "analysis").glob("*.py")]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("folder", ["src", "rules", "scripts"])
def test_results_paths_are_spelled_only_in_zeostem_paths(folder):
    """Code (not the config schema's descriptions, which tell users where outputs go)."""
    files = [p for p in (REPO / folder).rglob("*") if p.suffix in {".py", ".smk"}]
    files += [REPO / "Snakefile"] if folder == "rules" else []
    spelled = [
        f"{p.relative_to(REPO)}:{n}"
        for p in files
        if p != PACKAGE / "paths.py"
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"results/[\w{]", line)
    ]
    assert not spelled
