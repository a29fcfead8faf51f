# Datasets stage: (noisy, clean) pairs split by conformation and cut into tiles.


rule datasets:
    input:
        paths.DENOISE_SPLIT,


rule denoise_dataset:
    input:
        noisy=[
            field(
                paths.SIMULATION, "noisy", conformation=c, prefix="", dose=d, replica=r
            )
            for c, d, r in JOBS.denoise_pairs
        ],
        clean=[
            field(paths.SIMULATION, "clean", conformation=c)
            for c, d, r in JOBS.denoise_pairs
        ],
    output:
        JOBS.split_files,
        split=paths.DENOISE_SPLIT,
    log:
        "logs/datasets/denoise_dataset.log",
    priority: 20  # the denoiser's data: the reference chain (rules/simulate.smk)
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        pairs=JOBS.denoise_pairs,
        split=JOBS.split,
        datasets=config["datasets"],
        scale=config["clearstem"]["scale"],
    script:
        "../scripts/build_denoise_dataset.py"
