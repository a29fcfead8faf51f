# Model mismatch: variants of the validation conformations (the model-error variance) and mismatched
# test fields (simulated with other settings, analysed with the nominal references).


rule mismatch:
    input:
        "results/metrics/mismatch.csv",
        MODEL_ERROR_FILE,
        "results/figures/mismatch.png",


rule simulate_variant:
    input:
        "results/structures/{conformation}.extxyz",
    output:
        segments="results/{study}/{variant}/{conformation}/segments.tif",
        clean="results/{study}/{variant}/{conformation}/clean.tif",
    log:
        "logs/{study}/simulate_{variant}_{conformation}.log",
    benchmark:
        "results/benchmarks/{study}/simulate_{variant}_{conformation}.tsv"
    wildcard_constraints:
        study=one_of(SIMULATION_VARIANTS),
        variant=one_of([v for study in SIMULATION_VARIANTS.values() for v in study]),
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        simulation=lambda wildcards: SIMULATION_VARIANTS[wildcards.study][
            wildcards.variant
        ]["simulation"],
        cells_along_beam=lambda wildcards: SIMULATION_VARIANTS[wildcards.study][
            wildcards.variant
        ]["cells_along_beam"],
        framework=config["framework"],
        remove_molecule=False,
    script:
        "../scripts/simulate_conformation.py"


rule mismatched_images:
    input:
        "results/mismatch/evaluation/{conformation}/segments.tif",
    output:
        [
            f"results/mismatch/evaluation/{{conformation}}/dose{d}-{r}.tif"
            for d, r in MISMATCH_JOBS
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
        jobs=MISMATCH_JOBS,
        seed=SIMULATION["seed"],
    script:
        "../scripts/evaluation_image.py"


rule measure_mismatch:
    input:
        **REFERENCE_FILES,
        variants=[path for _, _, path in MISMATCH_FITS],
        noisy=[row["noisy"] for row in CALIBRATION_IMAGES if row["field"] == "full"],
    output:
        table="results/metrics/mismatch.csv",
        model_error=MODEL_ERROR_FILE,
        figure=report(
            "results/figures/mismatch.png",
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
        fits=[(v, c) for v, c, _ in MISMATCH_FITS],
        dose_images=[row for row in CALIBRATION_IMAGES if row["field"] == "full"],
    script:
        "../scripts/measure_mismatch.py"
