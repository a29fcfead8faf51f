# Figures stage: the paper's figures regenerated from the workflow's tables and images.


rule figures:
    input:
        "results/figures/clearstem_metrics.png",
        "results/figures/clearstem_panels.png",
        "results/figures/clearstem_histograms.png",


rule clearstem_figures:
    input:
        table="results/metrics/clearstem.csv",
        test="results/datasets/denoise/test/images.csv",
        weights=f"results/models/{CLEARSTEM['models'][0]}.pt",
        card=f"results/models/{CLEARSTEM['models'][0]}.json",
    output:
        metrics="results/figures/clearstem_metrics.png",
        panels="results/figures/clearstem_panels.png",
        histograms="results/figures/clearstem_histograms.png",
    log:
        "logs/figures/clearstem_figures.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        clearstem=CLEARSTEM,
    script:
        "../scripts/clearstem_figures.py"
