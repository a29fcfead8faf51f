# ClearSTEM stage: DIVAESR denoisers (configured models, Table 1 ablation, Table 2 λ sweep) and evaluation.


rule clearstem:
    input:
        fill(paths.CLEARSTEM_TABLE, table="clearstem"),
        paths.figure("clearstem_metrics"),


rule clearstem_ablation:
    input:
        fill(paths.CLEARSTEM_TABLE, table="clearstem_ablation"),


rule clearstem_lambda_sweep:
    input:
        fill(paths.CLEARSTEM_TABLE, table="clearstem_lambda"),


rule train_denoiser:
    input:
        train_noisy=fill(paths.DENOISE_SPLIT_FILE, split="train", name="noisy.tif"),
        train_clean=fill(paths.DENOISE_SPLIT_FILE, split="train", name="clean.tif"),
        val_noisy=fill(paths.DENOISE_SPLIT_FILE, split="validation", name="noisy.tif"),
        val_clean=fill(paths.DENOISE_SPLIT_FILE, split="validation", name="clean.tif"),
    output:
        **paths.model_files("{model}"),
        history=paths.MODEL_HISTORY,
    log:
        "logs/models/train_{model}.log",
    benchmark:
        paths.benchmark("models", "train_{model}")
    wildcard_constraints:
        model=one_of(JOBS.model_specs),
    priority: 10  # the denoised images and the denoised input's detector wait for it
    conda:
        "../envs/models.yaml"
    threads: 1  # beside the simulations, not after them (a two-thread job waits for both cores)
    resources:
        mem_mb=6000,
        runtime=240,
        gpu=1 if config["clearstem"]["device"] == "cuda" else 0,
    params:
        clearstem=JOBS.denoiser_training,
        variant=lambda wildcards: JOBS.model_specs[wildcards.model][0],
        sr_weight=lambda wildcards: JOBS.model_specs[wildcards.model][1],
    script:
        "../scripts/train_denoiser.py"


rule evaluate_clearstem:
    input:
        validation=fill(paths.DENOISE_SPLIT_FILE, split="validation", name="images.csv"),
        test=fill(paths.DENOISE_SPLIT_FILE, split="test", name="images.csv"),
        weights=lambda wildcards: expand(
            paths.MODEL_WEIGHTS, model=JOBS.clearstem_tables[wildcards.table]
        ),
        cards=lambda wildcards: expand(
            paths.MODEL_CARD, model=JOBS.clearstem_tables[wildcards.table]
        ),
    output:
        table=paths.CLEARSTEM_TABLE,
        summary=paths.CLEARSTEM_SUMMARY,
        markdown=paths.CLEARSTEM_MARKDOWN,
    log:
        "logs/metrics/evaluate_{table}.log",
    wildcard_constraints:
        table=one_of(JOBS.clearstem_tables),
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        clearstem=JOBS.denoiser_inference,
        models=lambda wildcards: JOBS.clearstem_tables[wildcards.table],
    script:
        "../scripts/evaluate_clearstem.py"
