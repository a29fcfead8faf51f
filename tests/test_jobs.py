"""The workflow's jobs: config-derived lists decided once, and rule settings that re-run only what changed."""

import copy

import pytest

from tests.conftest import REPO
from zeostem.io.config import load_config
from zeostem.jobs import Jobs


@pytest.fixture(scope="module")
def demo():
    config = load_config(REPO / "config.yaml")
    for key in ("framework", "conformations", "images"):
        config[key] = str(REPO / config[key])
    config["molecules"] = {k: str(REPO / v) for k, v in config["molecules"].items()}
    return config


def test_the_demo_plan_lists_what_the_readme_says(demo):
    jobs = Jobs.from_config(demo)
    assert len(jobs.conformations) == 12 and jobs.generated == list(jobs.conformations)
    assert jobs.dose_jobs == [(d, r) for d in (500, 1500, 4500) for r in (0, 1)]
    assert sorted(sum(jobs.split.values(), [])) == sorted(jobs.conformations)  # each in one split
    assert len(jobs.noisy_images("x")) == 12  # full field + 1 mosaic, 3 doses × 2 replicas
    per_test = 3 * demo["analysis"]["evaluation_replicas"] + 6  # extra replicas + mosaic dose jobs
    assert len(jobs.test_images) == per_test * len(jobs.split["test"])
    assert {row["conformation"] for row in jobs.test_images} == set(jobs.split["test"])
    assert {row["conformation"] for row in jobs.calibration_images} == set(jobs.split["validation"])
    assert list(jobs.images) == ["demo_T7_1500", "demo_T5_1500", "demo_T12_4500"]


def test_every_list_is_computed_once_per_workflow(demo, monkeypatch):
    """The rules' input functions read the lists for every job: a list rebuilt on each read (the
    variants re-validate the config) made the demo's DAG 5× slower to build."""
    jobs = Jobs.from_config(demo)
    first = jobs.simulation_variants
    validations = []
    monkeypatch.setattr("zeostem.jobs.validate_config", lambda *a, **k: validations.append(a))
    assert jobs.simulation_variants is first and jobs.realistic_structures is jobs.realistic_structures
    assert not validations


def test_rule_settings_ignore_the_keys_a_rule_does_not_use(demo):
    jobs = Jobs.from_config(demo)
    more = copy.deepcopy(demo)
    more["clearstem"]["lambda_sweep"] = [0.1, 0.3]  # one more λ in Table 2
    more["clearstem"]["ablation"] = ["sr_only"]
    more["detector"]["inputs"] = ["denoised"]  # one detector fewer
    other = Jobs.from_config(more)
    assert other.denoiser_training == jobs.denoiser_training  # the trained models stay up to date
    assert other.detector_training == jobs.detector_training
    assert other.denoiser_inference == jobs.denoiser_inference
    assert "divaesr_lambda0.3" in other.model_specs and "divaesr_lambda0.3" not in jobs.model_specs
    longer = copy.deepcopy(demo)
    longer["clearstem"]["epochs"] += 1
    longer["detector"]["anchor_sizes_px"] = [8, 16, 32]
    changed = Jobs.from_config(longer)
    assert changed.denoiser_training != jobs.denoiser_training
    assert changed.detector_training != jobs.detector_training


def test_mismatch_variants_are_checked_and_planned_for_the_validation_conformations(demo):
    from zeostem.errors import InputError

    jobs = Jobs.from_config(demo)
    variants = jobs.mismatch_variants
    assert variants["two_cells"]["cells_along_beam"] == 2
    assert variants["source_0.9A"]["simulation"]["source_fwhm_A"] == 0.9
    assert variants["evaluation"]["simulation"]["frozen_phonons"] == 1  # config.yaml: one configuration
    assert "doses" not in variants["defocus_+2nm"]["simulation"]  # a dose change re-runs no multislice
    assert {c for _, c, _ in jobs.mismatch_fits} == set(jobs.split["validation"])
    assert {row["conformation"] for row in jobs.mismatched_test_images} == set(jobs.split["test"])
    assert {row["model"] for row in jobs.mismatched_test_images} == {"mismatched"}
    bad = copy.deepcopy(demo)
    bad["mismatch"]["variants"] = {"typo": {"source_fwhm": 0.9}}
    with pytest.raises(InputError, match="mismatch/variants/typo"):
        assert Jobs.from_config(bad).mismatch_variants is None  # raises first


def test_robustness_cases_cover_each_nuisance_strength_and_the_simulated_ones_are_checked(demo):
    from zeostem.errors import InputError

    jobs = Jobs.from_config(demo)
    cases = jobs.robustness_cases
    strengths = demo["robustness"]["nuisances"]
    assert cases["none"] == {} and cases["combined"] == demo["robustness"]["combined"]
    assert len(cases) == 2 + sum(len(v) for v in strengths.values())
    assert cases["rotation_deg_105"] == {"rotation_deg": 105}
    rows = jobs.robustness_images
    per_case = len(jobs.split["test"]) * demo["robustness"]["replicas"]
    assert len(rows) == per_case * (len(cases) + len(demo["robustness"]["simulated"]))
    assert {r["dose"] for r in rows} == {1500} and {r["field"] for r in rows} == {"full"}
    astigmatic = jobs.robustness_variants["astigmatism_5nm"]["simulation"]
    assert astigmatic["aberrations"] == {"C12": 50, "phi12": 0.5} and astigmatic["defocus_A"] == 0
    bad = copy.deepcopy(demo)
    bad["robustness"]["simulated"] = {"thick": {"cells_along_beam": 0}}
    with pytest.raises(InputError, match="robustness/simulated/thick/cells_along_beam"):
        assert Jobs.from_config(bad).robustness_variants is None  # raises first


def test_realistic_images_are_never_analysed_with_their_own_structure_among_the_references(demo):
    jobs = Jobs.from_config(demo)
    validation, test = jobs.realistic_images("validation"), jobs.realistic_images("test")
    structures = jobs.realistic_structures
    assert not set(structures) & set(jobs.conformations)  # the references are the candidates only
    assert {structures[r["conformation"]]["parent"] for r in test} == set(jobs.split["test"])
    assert {structures[r["conformation"]]["parent"] for r in validation} == set(jobs.split["validation"])
    assert {r["model"] for r in validation + test} == {"realistic"}
    assert all(r["noisy"].startswith("results/realistic/") for r in validation + test)
    # the efficiency structures: perturbed structures of every candidate, none a test or validation
    # structure again (a parent's perturbations are seeded by their index), each field named by the
    # candidate whose class it holds
    efficiency = jobs.efficiency_images
    assert {r["conformation"] for r in efficiency} == set(jobs.conformations)
    assert {r["model"] for r in efficiency} == {"realistic"}
    seeds = [(s["parent"], s["index"]) for s in structures.values()]
    assert len(seeds) == len(set(seeds))
    noisy = {r["noisy"] for r in efficiency}
    assert not noisy & {r["noisy"] for r in validation + test} and len(noisy) == len(efficiency)
    # their own simulation settings: the mismatch study's evaluation settings, not the references'
    assert jobs.mismatch_variants["evaluation"]["simulation"] != jobs.multislice


def test_other_optics_simulate_the_realistic_test_structures_and_nothing_calibrates_on_them(demo):
    from zeostem.errors import InputError
    from zeostem.paths import OPTICS

    jobs = Jobs.from_config(demo)
    rows = jobs.optics_images
    test = {r["conformation"] for r in jobs.realistic_images("test")}
    assert {r["model"] for r in rows} == {f"realistic, {o}" for o in jobs.realistic_optics}
    for optics in jobs.realistic_optics:  # every realistic test structure, as the realistic set's fields
        mine = [r for r in rows if r["model"] == f"realistic, {optics}"]
        assert {r["conformation"] for r in mine} == test and len(mine) == len(jobs.realistic_images("test"))
    for name in test:  # the realistic structure (not its parent), under settings the analysis never saw
        assert jobs.variant_structure(OPTICS, name) == f"results/realistic/structures/{name}.extxyz"
    assert jobs.variant_structure("mismatch", "c") == "results/structures/c.extxyz"
    settings = [v["simulation"] for v in jobs.realistic_optics.values()]
    assert jobs.multislice not in settings
    assert jobs.mismatch_variants["evaluation"]["simulation"] not in settings
    assert {s["semiangle_mrad"] for s in settings} == {18, 12}  # the schema's two other probes
    calibrated = jobs.calibration_images + jobs.realistic_images("validation") + jobs.efficiency_images
    assert not {r["noisy"] for r in rows} & {r["noisy"] for r in calibrated}
    # a change of the optics (or of the replicas) leaves the realistic structures as they are
    more = copy.deepcopy(demo)
    more["realistic"]["optics"] = {"alpha20": {"semiangle_mrad": 20}}
    more["realistic"]["replicas"] = 3
    assert Jobs.from_config(more).perturbation == jobs.perturbation
    bad = copy.deepcopy(demo)
    bad["realistic"]["optics"] = {"fine": {"output_sampling_A": 0.2}}
    with pytest.raises(InputError, match="realistic/optics/fine"):
        assert Jobs.from_config(bad).realistic_optics is None  # raises first
