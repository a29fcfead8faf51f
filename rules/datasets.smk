# Datasets stage: (noisy, clean) pairs split by conformation and cut into tiles.
DATASETS = config["datasets"]
SPLIT = split_by_conformation(
    list(CONFORMATIONS),
    DATASETS["validation_fraction"],
    DATASETS["test_fraction"],
    DATASETS["seed"],
)
PAIRS = [(c, d, r) for c in CONFORMATIONS for d, r in DOSE_JOBS]
SPLIT_FILES = [
    f"results/datasets/denoise/{split}/{name}"
    for split in ("train", "validation", "test")
    for name in ("noisy.tif", "clean.tif", "tiles.csv", "images.csv")
]


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
