"""The workflow's plan: config-derived lists decided once, and rule settings that re-run only what changed."""

import copy

import pytest

from tests.conftest import REPO
from zeostem.io.config import load_config
from zeostem.plan import WorkflowPlan


@pytest.fixture(scope="module")
def demo():
    config = load_config(REPO / "config.yaml")
    for key in ("framework", "conformations", "images"):
        config[key] = str(REPO / config[key])
    config["molecules"] = {k: str(REPO / v) for k, v in config["molecules"].items()}
    return config


def test_the_demo_plan_lists_what_the_readme_says(demo):
    plan = WorkflowPlan.from_config(demo)
    assert len(plan.conformations) == 12 and plan.generated == list(plan.conformations)
    assert plan.dose_jobs == [(d, r) for d in (500, 1500, 4500) for r in (0, 1)]
    assert sorted(sum(plan.split.values(), [])) == sorted(plan.conformations)  # each in one split
    assert len(plan.noisy_images) == 12  # full field + 1 mosaic, 3 doses × 2 replicas
    per_test = 3 * demo["analysis"]["evaluation_replicas"] + 6  # extra replicas + mosaic dose jobs
    assert len(plan.test_images) == per_test * len(plan.split["test"])
    assert {row["conformation"] for row in plan.test_images} == set(plan.split["test"])
    assert {row["conformation"] for row in plan.calibration_images} == set(plan.split["validation"])
    assert list(plan.images) == ["demo_T7_1500", "demo_T5_1500", "demo_T12_4500"]


def test_rule_settings_ignore_the_keys_a_rule_does_not_use(demo):
    plan = WorkflowPlan.from_config(demo)
    more = copy.deepcopy(demo)
    more["clearstem"]["lambda_sweep"] = [0.1, 0.3]  # one more λ in Table 2
    more["clearstem"]["ablation"] = ["sr_only"]
    more["detector"]["inputs"] = ["denoised"]  # one detector fewer
    other = WorkflowPlan.from_config(more)
    assert other.denoiser_training == plan.denoiser_training  # the trained models stay up to date
    assert other.detector_training == plan.detector_training
    assert other.denoiser_inference == plan.denoiser_inference
    assert "divaesr_lambda0.3" in other.model_specs and "divaesr_lambda0.3" not in plan.model_specs
    longer = copy.deepcopy(demo)
    longer["clearstem"]["epochs"] += 1
    longer["detector"]["anchor_sizes_px"] = [8, 16, 32]
    changed = WorkflowPlan.from_config(longer)
    assert changed.denoiser_training != plan.denoiser_training
    assert changed.detector_training != plan.detector_training


def test_mismatch_variants_are_checked_and_planned_for_the_validation_conformations(demo):
    from zeostem.errors import InputError

    plan = WorkflowPlan.from_config(demo)
    variants = plan.mismatch_variants
    assert variants["two_cells"]["cells_along_beam"] == 2
    assert variants["source_0.7A"]["simulation"]["source_fwhm_A"] == 0.7
    assert variants["evaluation"]["simulation"]["frozen_phonons"] == 4
    assert "doses" not in variants["slices_2A"]["simulation"]  # a dose change re-runs no multislice
    assert {c for _, c, _ in plan.mismatch_fits} == set(plan.split["validation"])
    assert {row["conformation"] for row in plan.mismatched_test_images} == set(plan.split["test"])
    assert {row["model"] for row in plan.mismatched_test_images} == {"mismatched"}
    bad = copy.deepcopy(demo)
    bad["mismatch"]["variants"] = {"typo": {"source_fwhm": 0.9}}
    with pytest.raises(InputError, match="mismatch/variants/typo"):
        assert WorkflowPlan.from_config(bad).mismatch_variants is None  # raises first


def test_robustness_cases_cover_each_nuisance_strength_and_the_simulated_ones_are_checked(demo):
    from zeostem.errors import InputError

    plan = WorkflowPlan.from_config(demo)
    cases = plan.robustness_cases
    strengths = demo["robustness"]["nuisances"]
    assert cases["none"] == {} and cases["combined"] == demo["robustness"]["combined"]
    assert len(cases) == 2 + sum(len(v) for v in strengths.values())
    assert cases["rotation_deg_105"] == {"rotation_deg": 105}
    rows = plan.robustness_images
    per_case = len(plan.split["test"]) * demo["robustness"]["replicas"]
    assert len(rows) == per_case * (len(cases) + len(demo["robustness"]["simulated"]))
    assert {r["dose"] for r in rows} == {1500} and {r["field"] for r in rows} == {"full"}
    astigmatic = plan.robustness_variants["astigmatism_5nm"]["simulation"]
    assert astigmatic["aberrations"] == {"C12": 50, "phi12": 0.5} and astigmatic["defocus_A"] == 0
    bad = copy.deepcopy(demo)
    bad["robustness"]["simulated"] = {"thick": {"cells_along_beam": 0}}
    with pytest.raises(InputError, match="robustness/simulated/thick/cells_along_beam"):
        assert WorkflowPlan.from_config(bad).robustness_variants is None  # raises first


def test_realistic_images_are_never_analysed_with_their_own_structure_among_the_references(demo):
    plan = WorkflowPlan.from_config(demo)
    validation, test = plan.realistic_images("validation"), plan.realistic_images("test")
    structures = plan.realistic_structures
    assert not set(structures) & set(plan.conformations)  # the references are the candidates only
    assert {structures[r["conformation"]]["parent"] for r in test} == set(plan.split["test"])
    assert {structures[r["conformation"]]["parent"] for r in validation} == set(plan.split["validation"])
    assert {r["model"] for r in validation + test} == {"realistic"}
    assert all(r["noisy"].startswith("results/realistic/") for r in validation + test)
    # their own simulation settings: the mismatch study's evaluation settings, not the references'
    assert plan.mismatch_variants["evaluation"]["simulation"] != plan.multislice
