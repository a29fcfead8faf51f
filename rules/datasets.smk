# Datasets stage: (noisy, clean) pairs split by conformation and cut into tiles.


rule datasets:
    input:
        "results/datasets/denoise/split.json",


rule denoise_dataset:
    input:
        noisy=[f"results/simulation/{c}/dose{d}-{r}.tif" for c, d, r in PAIRS],
        clean=[f"results/simulation/{c}/clean.tif" for c, d, r in PAIRS],
    output:
        SPLIT_FILES,
        split="results/datasets/denoise/split.json",
    log:
        "logs/datasets/denoise_dataset.log",
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        pairs=PAIRS,
        split=SPLIT,
        datasets=DATASETS,
        scale=config["clearstem"]["scale"],
    script:
        "../scripts/build_denoise_dataset.py"
