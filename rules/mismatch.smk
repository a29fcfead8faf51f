# Model mismatch: variants of the validation conformations (the model-error variance) and mismatched
# test fields (simulated with other settings, analysed with the nominal references).


rule mismatch:
    input:
        paths.MISMATCH,
        paths.MODEL_ERROR,
        paths.figure("mismatch"),


rule simulate_variant:
    input:
        lambda wildcards: JOBS.variant_structure(
            wildcards.study, wildcards.conformation
        ),
    output:
        segments=field(paths.VARIANT, "segments"),
        clean=field(paths.VARIANT, "clean"),
    log:
        "logs/{study}/simulate_{variant}_{conformation}.log",
    benchmark:
        paths.benchmark("{study}", "simulate_{variant}_{conformation}")
    wildcard_constraints:
        study=one_of(JOBS.simulation_variants),
        variant=one_of(
            [v for study in JOBS.simulation_variants.values() for v in study]
        ),
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        simulation=lambda wildcards: JOBS.simulation_variants[wildcards.study][
            wildcards.variant
        ]["simulation"],
        cells_along_beam=lambda wildcards: JOBS.simulation_variants[wildcards.study][
            wildcards.variant
        ]["cells_along_beam"],
        framework=config["framework"],
        remove_molecule=False,
    script:
        "../scripts/simulate_conformation.py"


rule mismatched_images:
    input:
        field(paths.VARIANT, "segments", study="mismatch", variant="evaluation"),
    output:
        [
            field(
                paths.VARIANT,
                "noisy",
                study="mismatch",
                variant="evaluation",
                prefix="",
                dose=d,
                replica=r,
            )
            for d, r in JOBS.mismatch_jobs
        ],
    log:
        "logs/mismatch/images_{conformation}.log",
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=JOBS.mismatch_jobs,
        seed=config["simulation"]["seed"],
    script:
        "../scripts/evaluation_image.py"


rule measure_mismatch:
    input:
        **JOBS.reference_files,
        **truth_inputs(
            [row for row in JOBS.calibration_images if row["field"] == "full"]
        ),
        variants=[path for _, _, path in JOBS.mismatch_fits],
    output:
        table=paths.MISMATCH,
        model_error=paths.MODEL_ERROR,
        figure=report(
            paths.figure("mismatch"),
            caption="../resources/report/mismatch.rst",
            category="Al site",
        ),
    log:
        "logs/metrics/mismatch.log",
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        fits=[(v, c) for v, c, _ in JOBS.mismatch_fits],
        dose_images=[row for row in JOBS.calibration_images if row["field"] == "full"],
    script:
        "../scripts/measure_mismatch.py"
