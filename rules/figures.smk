# Figures stage: the paper's figures regenerated from the workflow's tables and images.


rule figures:
    input:
        "results/figures/clearstem_metrics.png",
        "results/figures/clearstem_panels.png",
        "results/figures/clearstem_histograms.png",
        "results/figures/detection_vs_dose.png",
        "results/figures/alsite_identifiability.png",


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


rule detection_figure:
    input:
        "results/metrics/detection.csv",
    output:
        "results/figures/detection_vs_dose.png",
    log:
        "logs/figures/detection_figure.log",
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/detection_figure.py"
