# Analysis stage: molecule-free references, calibration, per-image Al-site reports, identifiability.


rule reports:
    input:
        expand("results/reports/{image}/report.json", image=IMAGES),


rule metrics:
    input:
        "results/metrics/clearstem.csv",
        "results/metrics/detection.csv",
        "results/metrics/alsite.csv",
        "results/metrics/al_distribution.csv",
        "results/metrics/mismatch.csv",
        plan_files("results")["table"],


rule experiment_image:
    input:
        segments="results/simulation/{conformation}/segments.tif",
        labels="results/simulation/{conformation}/labels.json",
    output:
        "results/experiments/{conformation}-dose{dose}.tif",
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
        replica=ANALYSIS["experiment_replica"],
        nuisances=ANALYSIS["experiment_nuisances"],
        seed=SIMULATION["seed"],
    script:
        "../scripts/experiment_image.py"


rule evaluation_images:
    input:
        "results/simulation/{conformation}/segments.tif",
    output:
        [
            f"results/evaluation/{{conformation}}/dose{d}-{r}.tif"
            for d, r in EVALUATION_JOBS
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
        jobs=EVALUATION_JOBS,
        seed=SIMULATION["seed"],
    script:
        "../scripts/evaluation_image.py"


rule empty_reference:
    input:
        "results/simulation/{conformation}/empty-segments.tif",
    output:
        "results/simulation/{conformation}/empty-clean.tif",
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
        **REFERENCE_FILES,
        images=[
            row["noisy"] for row in CALIBRATION_IMAGES + REALISTIC_VALIDATION_IMAGES
        ],
        truth=[
            row["labels"] for row in CALIBRATION_IMAGES + REALISTIC_VALIDATION_IMAGES
        ],
        model_error=MODEL_ERROR_FILE if MEASURED_MODEL_ERROR else [],
    output:
        "results/analysis/calibration.json",
    log:
        "logs/analysis/calibrate_analysis.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        images=CALIBRATION_IMAGES + REALISTIC_VALIDATION_IMAGES,
        class_dose=max(SIMULATION["doses"]),
        class_dprime=ANALYSIS["identifiable_dprime"],
    script:
        "../scripts/calibrate_analysis.py"


rule analyze_image:
    input:
        **REFERENCE_FILES,
        models=[f for m in ANALYSIS_MODELS.values() for f in (m["weights"], m["card"])],
        image=lambda wildcards: IMAGES[wildcards.image]["file"],
        calibration=calibration_file("results"),
    output:
        "results/reports/{image}/report.json",
        "results/reports/{image}/panel.png",
        "results/reports/{image}/denoised.tif",
        "results/reports/{image}/columns.csv",
    log:
        "logs/reports/{image}.log",
    wildcard_constraints:
        image=one_of(IMAGES),
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        models=ANALYSIS_MODELS,
        settings=analysis_settings(config),
        row=lambda wildcards: IMAGES[wildcards.image],
        out_dir=lambda wildcards, output: os.path.dirname(output[0]),
    script:
        "../scripts/analyze_image.py"


rule evaluate_alsite:
    input:
        **REFERENCE_FILES,
        images=[
            row["noisy"]
            for row in TEST_IMAGES + MISMATCHED_TEST_IMAGES + REALISTIC_TEST_IMAGES
        ],
        truth_clean=[
            row["clean"]
            for row in TEST_IMAGES + MISMATCHED_TEST_IMAGES + REALISTIC_TEST_IMAGES
        ],
        truth=[row["labels"] for row in TEST_IMAGES + REALISTIC_TEST_IMAGES],
        calibration=calibration_file("results"),
    output:
        molecules="results/metrics/alsite_molecules.csv",
        images="results/metrics/alsite_images.csv",
        summary="results/metrics/alsite.csv",
        occupancy="results/metrics/occupancy.csv",
        figure=report(
            "results/figures/alsite_identifiability.png",
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
        images=TEST_IMAGES + MISMATCHED_TEST_IMAGES + REALISTIC_TEST_IMAGES,
    script:
        "../scripts/evaluate_alsite.py"


rule al_distribution:
    input:
        expand("results/reports/{image}/report.json", image=IMAGES),
    output:
        table="results/metrics/al_distribution.csv",
        figure=report(
            "results/figures/al_distribution.png",
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
        molecules=plan_files("results")["molecules"],
        calibration=calibration_file("results"),
    output:
        table=plan_files("results")["table"],
        text=plan_files("results")["text"],
        figure=report(
            plan_files("results")["figure"],
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
        settings=vars(plan_settings(config)),
    script:
        "../scripts/plan_experiment.py"
