"""The workflow's jobs: every list derived from a validated config, decided once.

``rules/common.smk`` builds one :class:`Jobs` and the rules only declare rules around it; the tests
build the same lists from the same config. Each list is computed once per :class:`Jobs` (the rules'
input functions read them for every job). Every path comes from :mod:`zeostem.paths`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from zeostem.datasets.split import split_by_conformation
from zeostem.errors import InputError
from zeostem.evaluation.dose_planner import DosePlanSettings
from zeostem.io.config import read_sheet, validate_config
from zeostem.models.settings import DetectorConfig, DetectorTrainConfig, DivaesrConfig, TrainConfig
from zeostem.paths import (
    CANDIDATE,
    COVERAGE_FIELDS,
    DENOISE_SPLIT_FILE,
    DETECTOR_MODEL,
    EVALUATION,
    OPTICS,
    REALISTIC,
    REALISTIC_STRUCTURE,
    SCANNED,
    SCANNED_SUFFIXES,
    SIMULATION,
    STRUCTURE,
    VARIANT,
    field,
    fill,
    model_files,
)
from zeostem.structures.library import ConformationSpec, conformation_specs
from zeostem.structures.perturb import PERTURBATION_KEYS

# what one multislice depends on: changing doses, replicas or mosaics must not re-run it
NOT_MULTISLICE = ("doses", "replicas", "mosaics", "mosaic_occupancy")


def rule_params(section: dict, keys: Iterable[str]) -> dict:
    """Only the keys of a config section a rule depends on, so a change to any other key (another λ in
    the sweep, another detector input) re-runs nothing that does not use it."""
    return {k: section[k] for k in keys}


def truth_inputs(rows: list[dict]) -> dict[str, list[str]]:
    """Every file a known-truth rule reads of its images (``TruthImage`` rows): noisy, clean, labels
    (named ``truth_*``: the rules' reference files are ``clean``, ``labels`` and ``empty``)."""
    return {
        f"truth_{key}": list(dict.fromkeys(row[key] for row in rows)) for key in ("noisy", "clean", "labels")
    }


@dataclass(frozen=True)
class Jobs:
    config: dict
    conformations: dict[str, ConformationSpec]
    split: dict[str, list[str]]
    images: dict[str, dict]  # the images sheet, by image id

    @classmethod
    def from_config(cls, config: dict) -> Jobs:
        conformations = {p.conformation: p for p in conformation_specs(config)}
        d = config["datasets"]
        split = split_by_conformation(
            list(conformations), d["validation_fraction"], d["test_fraction"], d["seed"]
        )
        sheet = read_sheet(config["images"], "images", "image").to_dict("records")
        return cls(config, conformations, split, {row["image"]: row for row in sheet})

    # structures
    @cached_property
    def generated_structure(self) -> str:
        """Where a generated candidate is written: before relaxation when the workflow relaxes."""
        return CANDIDATE if self.relaxed else STRUCTURE

    @cached_property
    def generated(self) -> list[str]:
        return [c for c, p in self.conformations.items() if not p.imported]

    @cached_property
    def imported(self) -> list[str]:
        return [c for c, p in self.conformations.items() if p.imported]

    @cached_property
    def relaxed(self) -> bool:
        return self.config["structures"]["relax"] != "none"

    # simulation
    @cached_property
    def multislice(self) -> dict:
        s = self.config["simulation"]
        return {k: v for k, v in s.items() if k not in NOT_MULTISLICE}

    @cached_property
    def dose_jobs(self) -> list[tuple[int, int]]:
        """(dose, replica) of every noisy image of a field of view."""
        s = self.config["simulation"]
        return [(d, r) for d in s["doses"] for r in range(s["replicas"])]

    @cached_property
    def dose_series(self) -> list[str]:
        """A conformation's noisy full fields (``{conformation}`` left for Snakemake)."""
        return [field(SIMULATION, "noisy", prefix="", dose=d, replica=r) for d, r in self.dose_jobs]

    @cached_property
    def mosaic_files(self) -> dict[str, str]:
        """Output name → path of a conformation's mosaics (clean, labels, every dose job)."""
        mosaics = range(self.config["simulation"]["mosaics"])
        return {
            **{f"clean{k}": field(SIMULATION, "mosaic_clean", mosaic=k) for k in mosaics},
            **{f"labels{k}": field(SIMULATION, "prefix_labels", prefix=f"mosaic{k}-") for k in mosaics},
            **{
                f"dose{k}-{d}-{r}": field(SIMULATION, "noisy", prefix=f"mosaic{k}-", dose=d, replica=r)
                for k in mosaics
                for d, r in self.dose_jobs
            },
        }

    @cached_property
    def prefixes(self) -> list[str]:
        """File-name prefixes of the noisy images: full fields ("") and mosaics ("mosaic{k}-")."""
        return [""] + [f"mosaic{k}-" for k in range(self.config["simulation"]["mosaics"])]

    def noisy_images(self, folder: str) -> list[str]:
        """Every noisy image (full fields and mosaics) of a conformation's folder."""
        return [
            field(folder, "noisy", prefix=p, dose=d, replica=r)
            for p in self.prefixes
            for d, r in self.dose_jobs
        ]

    @cached_property
    def image_jobs(self) -> list[tuple[str, str, int, int]]:
        """(conformation, prefix, dose, replica) of every noisy image."""
        return [(c, p, d, r) for c in self.conformations for p in self.prefixes for d, r in self.dose_jobs]

    # datasets and ClearSTEM
    @cached_property
    def split_files(self) -> list[str]:
        """The denoising dataset's files of every split."""
        return [
            fill(DENOISE_SPLIT_FILE, split=split, name=name)
            for split in ("train", "validation", "test")
            for name in ("noisy.tif", "clean.tif", "tiles.csv", "images.csv")
        ]

    @cached_property
    def denoise_pairs(self) -> list[tuple[str, int, int]]:
        return [(c, d, r) for c in self.conformations for d, r in self.dose_jobs]

    @cached_property
    def model_specs(self) -> dict[str, tuple[str, float]]:
        """Every trainable denoiser: name → (variant, λ)."""
        c = self.config["clearstem"]
        specs = {v: (v, c["sr_weight"]) for v in c["models"] + c["ablation"]}
        specs.update({f"divaesr_lambda{lam:g}": ("divaesr", lam) for lam in c["lambda_sweep"]})
        return specs

    @cached_property
    def clearstem_tables(self) -> dict[str, list[str]]:
        c = self.config["clearstem"]
        return {
            "clearstem": c["models"],
            "clearstem_ablation": c["ablation"],
            "clearstem_lambda": [f"divaesr_lambda{lam:g}" for lam in c["lambda_sweep"]],
        }

    # what the rules of each kind depend on (rule_params)
    @cached_property
    def denoiser_training(self) -> dict:
        keys = DivaesrConfig.config_keys() + TrainConfig.config_keys() + ("device",)
        return rule_params(self.config["clearstem"], keys)

    @cached_property
    def denoiser_inference(self) -> dict:
        keys = ("device", "inference_tile", "inference_overlap", "gaussian_sigmas_px")
        return rule_params(self.config["clearstem"], keys)

    @cached_property
    def detector_training(self) -> dict:
        keys = DetectorConfig.config_keys() + DetectorTrainConfig.config_keys() + ("device", "tile")
        return rule_params(self.config["detector"], keys)

    @cached_property
    def perturbation(self) -> dict:
        return rule_params(self.config["realistic"], PERTURBATION_KEYS)

    @cached_property
    def detector_start(self) -> dict[str, str]:
        """The trained denoiser a ``divaesr_encoder`` detector starts from (weights, card); else none."""
        if self.config["detector"]["backbone"] != "divaesr_encoder":
            return {}
        files = model_files(self.denoiser_model)
        return {"denoiser_weights": files["weights"], "denoiser_card": files["card"]}

    @cached_property
    def detector_inference(self) -> dict:
        return rule_params(self.config["detector"], ("device", "tile", "overlap"))

    # analysis
    @cached_property
    def reference_files(self) -> dict[str, list[str]]:
        """Clean field of view, labels and molecule-free twin of every candidate conformation."""
        return {
            kind: [field(SIMULATION, file, conformation=c) for c in self.conformations]
            for kind, file in (("clean", "clean"), ("labels", "labels"), ("empty", "empty_clean"))
        }

    @cached_property
    def analysis_models(self) -> dict[str, dict]:
        """The report's denoiser (the first configured ClearSTEM model) and detector (of the first
        detector input): name → weights, model card and kind."""
        denoiser = self.config["clearstem"]["models"][0]
        detector = fill(DETECTOR_MODEL, input=self.config["detector"]["inputs"][0])
        return {
            denoiser: {**model_files(denoiser), "kind": "denoiser"},
            detector: {**model_files(detector), "kind": "detector"},
        }

    @cached_property
    def denoiser_model(self) -> str:
        """The denoiser a report uses (and the ClearSTEM figures show)."""
        return next(m for m, v in self.analysis_models.items() if v["kind"] == "denoiser")

    @cached_property
    def analysis_settings(self) -> dict:
        """Inference tiles of the denoiser and the detector."""
        c, d = self.config["clearstem"], self.config["detector"]
        return {
            "inference_tile": c["inference_tile"],
            "inference_overlap": c["inference_overlap"],
            "detector_tile": d["tile"],
            "detector_overlap": d["overlap"],
        }

    @cached_property
    def dose_plan(self) -> dict:
        """The planner's settings (``analysis.plan`` and the seed): the rule ``plan`` and the manifest
        that ``zeostem plan`` reads both take them from here."""
        return vars(
            DosePlanSettings(**self.config["analysis"]["plan"], seed=self.config["structures"]["seed"])
        )

    @cached_property
    def evaluation_jobs(self) -> list[tuple[int, int]]:
        """(dose, replica) of the extra noise replicas of the test conformations' full fields."""
        doses = self.config["simulation"]["doses"]
        return [(d, r) for d in doses for r in range(self.config["analysis"]["evaluation_replicas"])]

    def truth_images(self, conformations: list[str], full_fields) -> list[dict]:
        """Known-truth images (``TruthImage`` fields): ``full_fields(c)`` → [(dose, path)], and mosaics."""
        rows = []
        for c in conformations:
            fields = [
                ("full", d, path, field(SIMULATION, "clean", conformation=c),
                 field(SIMULATION, "labels", conformation=c))
                for d, path in full_fields(c)
            ]  # fmt: skip
            fields += [
                ("mosaic", d,
                 field(SIMULATION, "noisy", conformation=c, prefix=f"mosaic{k}-", dose=d, replica=r),
                 field(SIMULATION, "mosaic_clean", conformation=c, mosaic=k),
                 field(SIMULATION, "prefix_labels", conformation=c, prefix=f"mosaic{k}-"))
                for k in range(self.config["simulation"]["mosaics"])
                for d, r in self.dose_jobs
            ]  # fmt: skip
            rows += [
                {"conformation": c, "tsite": self.conformations[c].tsite, "dose": d, "noisy": noisy,
                 "clean": clean, "labels": labels, "field": field, "model": "matched"}
                for field, d, noisy, clean, labels in fields
            ]  # fmt: skip
        return rows

    @cached_property
    def calibration_images(self) -> list[dict]:
        """Validation conformations: their dose series and mosaics."""
        return self.truth_images(
            self.split["validation"],
            lambda c: [
                (d, field(SIMULATION, "noisy", conformation=c, prefix="", dose=d, replica=r))
                for d, r in self.dose_jobs
            ],  # fmt: skip
        )

    @cached_property
    def efficiency_images(self) -> list[dict]:
        """The efficiency structures' fields (``realistic_structures``, perturbed structures of every
        candidate, simulated with other settings), each named by its parent conformation (whose class it
        holds) and its own ``structure`` name: how often the calibrated analysis reports each class's
        molecules, structure by structure, and how their evidence differs from a false alarm's, on
        structures the references were not made from."""
        parent = {name: s["parent"] for name, s in self.realistic_structures.items()}
        return [
            {**row, "conformation": parent[row["conformation"]], "structure": row["conformation"]}
            for row in self.realistic_images("efficiency")
        ]

    @cached_property
    def test_images(self) -> list[dict]:
        """Test conformations: extra noise replicas (seeds no training image uses) and mosaics."""
        return self.truth_images(
            self.split["test"],
            lambda c: [
                (d, field(EVALUATION, "noisy", conformation=c, prefix="", dose=d, replica=r))
                for d, r in self.evaluation_jobs
            ],  # fmt: skip
        )

    def molecule_free_images(self, split: str) -> list[dict]:
        """Known-truth images (``TruthImage`` fields) of the ``split`` conformations' molecule-free twins
        with fresh shot noise (``evaluation_jobs``): the calibration's null fields (validation) and the
        evaluation's fields with nothing to find (test)."""
        return [
            {"conformation": c, "tsite": self.conformations[c].tsite, "dose": d,
             "noisy": field(EVALUATION, "noisy", conformation=c, prefix="empty-", dose=d, replica=r),
             "clean": field(SIMULATION, "empty_clean", conformation=c),
             "labels": field(EVALUATION, "prefix_labels", conformation=c, prefix="empty-"),
             "field": "molecule-free", "model": "matched"}
            for c in self.split[split]
            for d, r in self.evaluation_jobs
        ]  # fmt: skip

    # model mismatch
    @cached_property
    def mismatch_variants(self) -> dict[str, dict]:
        """Variant name (and ``evaluation``) → its multislice settings and cells along the beam."""
        m = self.config["mismatch"]
        return {
            name: self.variant_settings(f"mismatch/variants/{name}", changes)
            for name, changes in {**m["variants"], "evaluation": m["evaluation"]}.items()
        }

    def variant_settings(self, where: str, changes: dict) -> dict:
        """The nominal multislice settings with a variant's changes, checked by the config schema."""
        changes = dict(changes)
        cells = changes.pop("cells_along_beam", 1)
        if not (isinstance(cells, int) and cells >= 1):
            raise InputError(f"`{where}/cells_along_beam` must be a whole number ≥ 1", path="config")
        simulation = {**self.config["simulation"], **changes}
        try:
            validate_config({"simulation": simulation})
        except InputError as exc:
            raise InputError(
                f"`{where}` is not a valid change of the simulation settings ({exc.problem})",
                path="config",
                fix="give `simulation` keys (see the config schema) and optionally cells_along_beam",
            ) from exc
        multislice = {k: v for k, v in simulation.items() if k not in NOT_MULTISLICE}
        return {"simulation": multislice, "cells_along_beam": cells}

    @cached_property
    def simulation_variants(self) -> dict[str, dict]:
        """Multislice variants of a conformation by study (the folders ``paths.VARIANT``)."""
        return {"mismatch": self.mismatch_variants, "robustness/simulated": self.robustness_variants,
                OPTICS: self.realistic_optics}  # fmt: skip

    def variant_structure(self, study: str, conformation: str) -> str:
        """The structure a study's variant simulates: a realistic test structure under other optics,
        a conformation's own otherwise."""
        return fill(REALISTIC_STRUCTURE if study == OPTICS else STRUCTURE, conformation=conformation)

    @cached_property
    def mismatch_fits(self) -> list[tuple[str, str, str]]:
        """(variant, conformation, clean image) of every variant of every validation conformation: the
        simulation variants and the realistic validation structures."""
        fits = [
            (v, c, field(VARIANT, "clean", study="mismatch", variant=v, conformation=c))
            for v in self.config["mismatch"]["variants"]
            for c in self.split["validation"]
        ]
        return fits + [
            (f"realistic_p{s['index']}", s["parent"], field(REALISTIC, "clean", conformation=name))
            for name, s in self.realistic_structures.items()
            if s["split"] == "validation"
        ]

    @cached_property
    def mismatch_jobs(self) -> list[tuple[int, int]]:
        """(dose, replica) of the mismatched test fields."""
        replicas = range(self.config["mismatch"]["replicas"])
        return [(d, r) for d in self.config["simulation"]["doses"] for r in replicas]

    @cached_property
    def mismatched_test_images(self) -> list[dict]:
        """Test conformations simulated with the ``evaluation`` variant (full fields, nominal labels)."""
        folder = fill(VARIANT, study="mismatch", variant="evaluation")
        return [
            {"conformation": c, "tsite": self.conformations[c].tsite, "dose": d,
             "noisy": field(folder, "noisy", conformation=c, prefix="", dose=d, replica=r),
             "clean": field(folder, "clean", conformation=c),
             "labels": field(SIMULATION, "labels", conformation=c), "field": "full", "model": "mismatched"}
            for c in self.split["test"]
            for d, r in self.mismatch_jobs
        ]  # fmt: skip

    # realistic sets: perturbed structures, other simulation settings, never a reference
    @cached_property
    def realistic_structures(self) -> dict[str, dict]:
        """Realistic structure name → its parent conformation, split (``validation``, ``test`` or
        ``efficiency``: of every candidate) and index (the perturbation's seed: a parent's efficiency
        structures take the indices after its validation or test ones, so none repeats them)."""
        r = self.config["realistic"]
        counts = {"validation": r["validation_structures"], "test": r["test_structures"]}
        structures = {
            f"{c}-p{k}": {"parent": c, "split": split, "index": k}
            for split, n in counts.items()
            for c in self.split[split]
            for k in range(n)
        }
        for c in self.conformations:
            first = sum(s["parent"] == c for s in structures.values())
            structures |= {
                f"{c}-e{k}": {"parent": c, "split": "efficiency", "index": first + k}
                for k in range(r["efficiency_structures"])
            }
        return structures

    @cached_property
    def realistic_optics(self) -> dict[str, dict]:
        """Other optics (``realistic.optics``) → their multislice settings and cells along the beam: the
        realistic test structures simulated as another group's microscope (or abTEM settings) would."""
        optics = {}
        for name, changes in self.config["realistic"]["optics"].items():
            if {"output_sampling_A", "field_of_view_cells"} & set(changes):
                raise InputError(
                    f"`realistic/optics/{name}` changes the field of view or its sampling",
                    path="config",
                    fix="keep output_sampling_A and field_of_view_cells (the fields share the realistic "
                    "set's labels); a miscalibrated pixel size is the robustness study's case",
                )
            optics[name] = self.variant_settings(f"realistic/optics/{name}", changes)
        return optics

    @cached_property
    def optics_images(self) -> list[dict]:
        """``TruthImage`` rows (model ``realistic, <optics>``) of the realistic test structures simulated
        with each of ``realistic_optics``, with the realistic set's noise replicas and labels."""
        return [
            {"conformation": name, "tsite": self.conformations[s["parent"]].tsite, "dose": d,
             "noisy": field(VARIANT, "noisy", study=OPTICS, variant=o, conformation=name, prefix="", dose=d,
                            replica=r),
             "clean": field(VARIANT, "clean", study=OPTICS, variant=o, conformation=name),
             "labels": field(REALISTIC, "labels", conformation=name), "field": "full",
             "model": f"realistic, {o}"}
            for o in self.realistic_optics
            for name, s in self.realistic_structures.items()
            if s["split"] == "test"
            for d, r in self.realistic_jobs
        ]  # fmt: skip

    @cached_property
    def realistic_jobs(self) -> list[tuple[int, int]]:
        """(dose, replica) of every realistic field."""
        replicas = range(self.config["realistic"]["replicas"])
        return [(d, r) for d in self.config["simulation"]["doses"] for r in replicas]

    def realistic_images(self, split: str, study: str = REALISTIC) -> list[dict]:
        """``TruthImage`` rows (model ``realistic``) of one split's realistic fields: the realistic set's
        own, or (``study`` ``COVERAGE_FIELDS``) the coverage study's replicas."""
        jobs = self.coverage_jobs if study == COVERAGE_FIELDS else self.realistic_jobs
        rows = []
        for name, s in self.realistic_structures.items():
            if s["split"] != split:
                continue
            folder = fill(REALISTIC, conformation=name)
            noisy = fill(study, conformation=name)
            rows += [
                {"conformation": name, "tsite": self.conformations[s["parent"]].tsite, "dose": d,
                 "noisy": field(noisy, "noisy", prefix="", dose=d, replica=r),
                 "clean": field(folder, "clean"),
                 "labels": field(folder, "labels"), "field": "full", "model": "realistic"}
                for d, r in jobs
            ]  # fmt: skip
        return rows

    @cached_property
    def coverage_jobs(self) -> list[tuple[int, int]]:
        """(dose, replica) of the coverage study's fields: replicas after the realistic set's own (their
        seeds unused by it)."""
        first = self.config["realistic"]["replicas"]
        replicas = range(first, first + self.config["coverage"]["replicas"])
        return [(d, r) for d in self.config["simulation"]["doses"] for r in replicas]

    # robustness to real-micrograph nuisances
    @cached_property
    def robustness_cases(self) -> dict[str, dict]:
        """Case → its nuisances: ``none``, each nuisance at each strength, ``combined``."""
        r = self.config["robustness"]
        cases = {"none": {}}
        cases |= {f"{name}_{v:g}": {name: v} for name, values in r["nuisances"].items() for v in values}
        return cases | {"combined": r["combined"]}

    @cached_property
    def robustness_variants(self) -> dict[str, dict]:
        """Simulated case → its multislice settings and cells along the beam."""
        return {
            name: self.variant_settings(f"robustness/simulated/{name}", changes)
            for name, changes in self.config["robustness"]["simulated"].items()
        }

    @cached_property
    def robustness_jobs(self) -> list[tuple[int, int]]:
        """(dose, replica) of every robustness image."""
        r = self.config["robustness"]
        return [(int(r["dose"]), k) for k in range(r["replicas"])]

    @cached_property
    def robustness_images(self) -> list[dict]:
        """Every robustness image as a ``TruthImage`` row with its case; scanned cases' files are
        in ``paths.SCANNED``, simulated ones' in the ``robustness/simulated`` study's variant folders."""
        rows = []
        for c in self.split["test"]:
            truth = {"conformation": c, "tsite": self.conformations[c].tsite, "field": "full"}
            for d, r in self.robustness_jobs:
                for case in self.robustness_cases:
                    stem = fill(SCANNED, case=case, conformation=c, replica=r)
                    rows.append({"case": case, **truth, "dose": d,
                                 **{k: stem + suffix for k, suffix in SCANNED_SUFFIXES.items()}})  # fmt: skip
                for case in self.config["robustness"]["simulated"]:
                    folder = fill(VARIANT, study="robustness/simulated", variant=case, conformation=c)
                    rows.append({"case": case, **truth, "dose": d,
                                 "noisy": field(folder, "noisy", prefix="", dose=d, replica=r),
                                 "clean": field(folder, "clean"),
                                 "labels": field(SIMULATION, "labels", conformation=c)})  # fmt: skip
        return rows
