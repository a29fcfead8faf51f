"""Configuration and sample sheets: defaults, validation errors that name the key / line / file."""

import pytest
import yaml

from tests.conftest import REPO
from zeostem.errors import InputError
from zeostem.io.config import load_config, load_schema, read_sheet, validate_config
from zeostem.structures import conformation_specs


def test_default_config_is_valid_and_asks_for_pyridine_at_every_tsite():
    config = load_config(REPO / "config.yaml")
    assert set(config) >= {
        "framework", "molecules", "tsites", "conformations", "images",
        "structures", "simulation", "datasets", "clearstem", "detector", "analysis",
    }  # fmt: skip
    config = {**config, "framework": str(REPO / config["framework"])}
    config["molecules"] = {k: str(REPO / v) for k, v in config["molecules"].items()}
    config["conformations"] = str(REPO / config["conformations"])
    plans = conformation_specs(config)
    assert [p.tsite for p in plans] == [f"T{i}" for i in range(1, 13)]
    assert {p.molecule for p in plans} == {"pyridine"}


def test_every_acid_o_the_molecule_binds_is_a_conformation_and_none_it_cannot():
    """``acid_o: all``: every channel-facing bridging O (24 in MFI) where pyridine has a clash-free pose
    with the generation's own search and seed; the three where none fits are left out instead of
    failing the workflow when it builds them."""
    config = load_config(REPO / "config.yaml")
    config = {**config, "framework": str(REPO / config["framework"]), "conformations": ""}
    config["molecules"] = {k: str(REPO / v) for k, v in config["molecules"].items()}
    config["structures"] = {**config["structures"], "acid_o": "all"}
    plans = {(p.tsite, p.proton_o) for p in conformation_specs(config)}
    assert len(plans) == 21 and {("T6", "O15"), ("T7", "O18"), ("T9", "O15")}.isdisjoint(plans)
    assert {("T7", "O16"), ("T7", "O11"), ("T12", "O25"), ("T12", "O8")} <= plans


def test_every_schema_key_has_a_description_and_a_default():
    schema = load_schema("config")

    def walk(node, path):
        for key, sub in node.get("properties", {}).items():
            assert "description" in sub, f"{path}{key} has no description"
            assert "default" in sub, f"{path}{key} has no default"
            walk(sub, f"{path}{key}.")

    walk(schema, "")


def test_empty_config_gets_all_defaults():
    config = validate_config({})
    assert config["structures"]["relax"] == "none"
    assert config["structures"]["acid_o"] == "first"
    assert config["tsites"] == "all"


@pytest.mark.parametrize(
    ("config", "where"),
    [
        ({"structures": {"relax": "mace"}}, "structures/relax"),
        ({"structures": {"cells_along_beam": 3}}, "structures/cells_along_beam"),
        ({"tsites": ["Tx"]}, "tsites"),
        ({"unknown_key": 1}, "top level"),
    ],
)
def test_invalid_config_names_the_key(config, where):
    with pytest.raises(InputError, match=where) as err:
        validate_config(config, "my_config.yaml")
    assert "my_config.yaml" in str(err.value)


HEADER = "conformation\tmolecule\ttsite\tproton_o\tfile\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HEADER + "a\tpyridine\tT1\tO2\t\na\tpyridine\tT1\tO2\t\n", "duplicate conformation"),
        (HEADER + "a b\tpyridine\tT1\tO2\t\n", "line 2, column `conformation`"),
        (HEADER + "a\tpyridine\tX1\tO2\t\n", "line 2, column `tsite`"),
        ("conformation\tmolecule\n", "missing column"),
    ],
)
def test_bad_sheets_name_file_line_and_column(tmp_path, content, message):
    path = tmp_path / "sheet.tsv"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as err:
        read_sheet(path, "conformations", "conformation")
    assert "sheet.tsv" in str(err.value)


def test_the_images_sheet_takes_a_stated_dose_above_zero_or_none(tmp_path):
    """A dose (e/Å²) the image was taken at is optional; one that cannot be (0, negative, text) names
    the file, line and column."""
    path = tmp_path / "images.tsv"
    header = "image\tfile\tpixel_size_A\tdose_e_per_A2\n"
    path.write_text(header + "a\ta.tif\t\t1500\nb\tb.tif\t0.25\t0.5\nc\tc.tif\t\t\n")
    assert read_sheet(path, "images", "image")["dose_e_per_A2"].tolist() == ["1500", "0.5", ""]
    for bad in ("0", "-1500", "0.0", "high"):
        path.write_text(header + f"a\ta.tif\t\t{bad}\n")
        with pytest.raises(InputError, match="line 2, column `dose_e_per_A2`") as err:
            read_sheet(path, "images", "image")
        assert "images.tsv" in str(err.value)


def test_sheet_rows_are_checked_against_the_config(tmp_path):
    sheet = tmp_path / "conformations.tsv"
    config = validate_config(
        {
            "framework": str(REPO / "resources/frameworks/MFI.yaml"),
            "molecules": {"pyridine": str(REPO / "resources/molecules/pyridine.xyz")},
            "tsites": ["T1"],
            "conformations": str(sheet),
        }
    )
    sheet.write_text(HEADER + "x\tbenzene\tT1\tO2\t\n")
    with pytest.raises(InputError, match="molecule 'benzene' is not in the config"):
        conformation_specs(config)
    sheet.write_text(HEADER + "x\tpyridine\tT13\tO2\t\n")
    with pytest.raises(InputError, match="unknown T-site 'T13'"):
        conformation_specs(config)
    sheet.write_text(HEADER + "pyridine_T7_O16\tpyridine\tT7\tO16\t\ndft\tpyridine\tT3\tO1\tdft.cif\n")
    plans = {p.conformation: p for p in conformation_specs(config)}
    assert set(plans) == {"pyridine_T1_O2", "pyridine_T7_O16", "dft"}
    assert plans["dft"].imported and not plans["pyridine_T7_O16"].imported


def test_paper_configuration_is_valid_and_plans_both_molecules():
    config = load_config(REPO / "config.paper.yaml")
    config["framework"] = str(REPO / config["framework"])
    config["molecules"] = {k: str(REPO / v) for k, v in config["molecules"].items()}
    config["conformations"] = str(REPO / config["conformations"])
    plans = conformation_specs(config)
    assert {p.molecule for p in plans} == {"pyridine", "thiophene"}
    assert len(plans) > 2 * 12  # acid_o: all gives several acid O per T-site
    assert config["simulation"]["doses"] == [500, 1000, 1500, 3000, 4500, 6000, 1000000]


def test_every_dependency_appears_in_a_conda_environment():
    import re
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {re.split(r"[<>=\[ ]", d)[0].lower() for d in project["dependencies"]} - {"snakemake"}
    listed = set()
    for env in (REPO / "envs").glob("*.yaml"):
        data = yaml.safe_load(env.read_text())
        for item in data["dependencies"]:
            for name in item["pip"] if isinstance(item, dict) else [item]:
                listed.add(re.split(r"[<>= ]", name.strip())[0].lower())
    assert wanted <= listed, f"missing from envs/: {sorted(wanted - listed)}"
