# ClearSTEM stage: DIVAESR denoisers (configured models, Table 1 ablation, Table 2 λ sweep) and evaluation.


rule clearstem:
    input:
        "results/metrics/clearstem.csv",
        "results/figures/clearstem_metrics.png",


rule clearstem_ablation:
    input:
        "results/metrics/clearstem_ablation.csv",


rule clearstem_lambda_sweep:
    input:
        "results/metrics/clearstem_lambda.csv",


rule train_denoiser:
    input:
        train_noisy="results/datasets/denoise/train/noisy.tif",
        train_clean="results/datasets/denoise/train/clean.tif",
        val_noisy="results/datasets/denoise/validation/noisy.tif",
        val_clean="results/datasets/denoise/validation/clean.tif",
    output:
        weights="results/models/{model}.pt",
        card="results/models/{model}.json",
        history="results/models/{model}.history.csv",
    log:
        "logs/models/train_{model}.log",
    benchmark:
        "results/benchmarks/models/train_{model}.tsv"
    wildcard_constraints:
        model=one_of(MODEL_SPECS),
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=6000,
        runtime=240,
        gpu=1 if CLEARSTEM["device"] == "cuda" else 0,
    params:
        clearstem=DENOISER_TRAINING,
        variant=lambda wildcards: MODEL_SPECS[wildcards.model][0],
        sr_weight=lambda wildcards: MODEL_SPECS[wildcards.model][1],
    script:
        "../scripts/train_denoiser.py"


rule evaluate_clearstem:
    input:
        validation="results/datasets/denoise/validation/images.csv",
        test="results/datasets/denoise/test/images.csv",
        weights=lambda wildcards: expand(
            "results/models/{model}.pt", model=CLEARSTEM_TABLES[wildcards.table]
        ),
        cards=lambda wildcards: expand(
            "results/models/{model}.json", model=CLEARSTEM_TABLES[wildcards.table]
        ),
    output:
        table="results/metrics/{table}.csv",
        summary="results/metrics/{table}_summary.csv",
        markdown="results/metrics/{table}_table.md",
    log:
        "logs/metrics/evaluate_{table}.log",
    wildcard_constraints:
        table=one_of(CLEARSTEM_TABLES),
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        clearstem=DENOISER_INFERENCE,
        models=lambda wildcards: CLEARSTEM_TABLES[wildcards.table],
    script:
        "../scripts/evaluate_clearstem.py"
