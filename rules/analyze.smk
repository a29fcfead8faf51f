# Analysis stage: molecule-free references, calibration, the run manifest, per-image Al-site reports,
# identifiability and the dose planner.


rule reports:
    input:
        expand(paths.report_file("report"), image=JOBS.images),


rule metrics:
    input:
        fill(paths.CLEARSTEM_TABLE, table="clearstem"),
        paths.DETECTION,
        paths.ALSITE,
        paths.AL_DISTRIBUTION,
        paths.MISMATCH,
        paths.DOSE_PLAN,


rule experiment_image:
    input:
        segments=field(paths.SIMULATION, "segments"),
        labels=field(paths.SIMULATION, "labels"),
    output:
        paths.EXPERIMENT,
    log:
        "logs/experiments/{conformation}-dose{dose}.log",
    wildcard_constraints:
        dose=r"\d+",
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        replica=config["analysis"]["experiment_replica"],
        nuisances=config["analysis"]["experiment_nuisances"],
        seed=config["simulation"]["seed"],
    script:
        "../scripts/experiment_image.py"


rule evaluation_images:
    input:
        field(paths.SIMULATION, "segments"),
    output:
        [
            field(paths.EVALUATION, "noisy", prefix="", dose=d, replica=r)
            for d, r in JOBS.evaluation_jobs
        ],
    log:
        "logs/evaluation/{conformation}.log",
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=JOBS.evaluation_jobs,
        seed=config["simulation"]["seed"],
    script:
        "../scripts/evaluation_image.py"


rule molecule_free_images:
    input:
        segments=field(paths.SIMULATION, "empty_segments"),
        labels=field(paths.SIMULATION, "labels"),
    output:
        noisy=[
            field(paths.EVALUATION, "noisy", prefix="empty-", dose=d, replica=r)
            for d, r in JOBS.evaluation_jobs
        ],
        labels=field(paths.EVALUATION, "prefix_labels", prefix="empty-"),
    log:
        "logs/evaluation/{conformation}-molecule-free.log",
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=JOBS.evaluation_jobs,
        seed=config["simulation"]["seed"],
    script:
        "../scripts/molecule_free_images.py"


rule empty_reference:
    input:
        field(paths.SIMULATION, "empty_segments"),
    output:
        field(paths.SIMULATION, "empty_clean"),
    log:
        "logs/simulation/empty_reference_{conformation}.log",
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/empty_reference.py"


rule calibrate_analysis:
    input:
        **JOBS.reference_files,
        **truth_inputs(
            JOBS.calibration_images
            + JOBS.realistic_images("validation")
            + JOBS.molecule_free_images("validation")
            + JOBS.efficiency_images
        ),
        model_error=(
            paths.MODEL_ERROR
            if config["analysis"]["model_error"] == "measured"
            else []
        ),
    output:
        paths.CALIBRATION,
    log:
        "logs/analysis/calibrate_analysis.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        images=JOBS.calibration_images
        + JOBS.realistic_images("validation")
        + JOBS.molecule_free_images("validation"),
        efficiency_images=JOBS.efficiency_images,
        class_dose=max(config["simulation"]["doses"]),
        class_dprime=config["analysis"]["identifiable_dprime"],
        false_alarm_rate=config["analysis"]["false_alarm_rate"],
    script:
        "../scripts/calibrate_analysis.py"


rule manifest:
    input:
        **JOBS.reference_files,
        models=[
            f for m in JOBS.analysis_models.values() for f in (m["weights"], m["card"])
        ],
        calibration=paths.CALIBRATION,
    output:
        paths.MANIFEST,
    log:
        "logs/analysis/manifest.log",
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        models=JOBS.analysis_models,
        settings=JOBS.analysis_settings,
        dose_plan=JOBS.dose_plan,
    script:
        "../scripts/write_manifest.py"


rule analyze_image:
    input:
        manifest=paths.MANIFEST,
        image=lambda wildcards: JOBS.images[wildcards.image]["file"],
    output:
        **{file: paths.report_file(file) for file in paths.REPORT_FILES},
    log:
        "logs/reports/{image}.log",
    wildcard_constraints:
        image=one_of(JOBS.images),
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        row=lambda wildcards: JOBS.images[wildcards.image],
    script:
        "../scripts/analyze_image.py"


rule evaluate_alsite:
    input:
        **JOBS.reference_files,
        **truth_inputs(
            JOBS.test_images
            + JOBS.mismatched_test_images
            + JOBS.realistic_images("test")
            + JOBS.optics_images
        ),
        molecule_free=[row["noisy"] for row in JOBS.molecule_free_images("test")],
        calibration=paths.CALIBRATION,
        models=[
            f for m in JOBS.analysis_models.values() for f in (m["weights"], m["card"])
        ],
    output:
        molecules=paths.ALSITE_MOLECULES,
        images=paths.ALSITE_IMAGES,
        summary=paths.ALSITE,
        occupancy=paths.OCCUPANCY,
        coverage=paths.AL_COVERAGE,
        molecule_free=paths.MOLECULE_FREE,
        figure=report(
            paths.figure("alsite_identifiability"),
            caption="../resources/report/alsite_identifiability.rst",
            category="Al site",
        ),
    log:
        "logs/metrics/evaluate_alsite.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        images=JOBS.test_images
        + JOBS.mismatched_test_images
        + JOBS.realistic_images("test")
        + JOBS.optics_images,
        molecule_free=JOBS.molecule_free_images("test"),
        models=JOBS.analysis_models,
        settings=JOBS.analysis_settings,
    script:
        "../scripts/evaluate_alsite.py"


rule al_distribution:
    input:
        reports=expand(paths.report_file("report"), image=JOBS.images),
        calibration=paths.CALIBRATION,
    output:
        table=paths.AL_DISTRIBUTION,
        figure=report(
            paths.figure("al_distribution"),
            caption="../resources/report/al_distribution.rst",
            category="Al site",
        ),
    log:
        "logs/metrics/al_distribution.log",
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/al_distribution.py"


rule plan:
    input:
        molecules=paths.ALSITE_MOLECULES,
        calibration=paths.CALIBRATION,
    output:
        table=paths.DOSE_PLAN,
        classes=paths.DOSE_PLAN_CLASSES,
        text=paths.DOSE_PLAN_TEXT,
        figure=report(
            paths.figure("plan"),
            caption="../resources/report/plan.rst",
            category="Al site",
        ),
    log:
        "logs/metrics/plan.log",
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=JOBS.dose_plan,
    script:
        "../scripts/plan_experiment.py"
