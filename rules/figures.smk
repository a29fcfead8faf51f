# Figures stage: the paper's figures regenerated from the workflow's tables and images.


rule figures:
    input:
        "results/figures/clearstem_metrics.png",
        "results/figures/clearstem_panels.png",
        "results/figures/clearstem_histograms.png",
        "results/figures/detection_vs_dose.png",
        "results/figures/alsite_identifiability.png",
        "results/figures/alsite_matching.png",
        "results/figures/al_distribution.png",
        "results/figures/mismatch.png",
        plan_files("results")["figure"],


rule clearstem_figures:
    input:
        **model_files("results", DENOISER_MODEL),
        table="results/metrics/clearstem.csv",
        test="results/datasets/denoise/test/images.csv",
    output:
        metrics=report(
            "results/figures/clearstem_metrics.png",
            caption="../resources/report/clearstem_metrics.rst",
            category="ClearSTEM",
        ),
        panels=report(
            "results/figures/clearstem_panels.png",
            caption="../resources/report/clearstem_panels.rst",
            category="ClearSTEM",
        ),
        histograms=report(
            "results/figures/clearstem_histograms.png",
            caption="../resources/report/clearstem_histograms.rst",
            category="ClearSTEM",
        ),
    log:
        "logs/figures/clearstem_figures.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        clearstem=DENOISER_INFERENCE,
    script:
        "../scripts/clearstem_figures.py"


rule detection_figure:
    input:
        table="results/metrics/detection.csv",
        histories=expand(
            "results/models/detector_{input}.history.csv", input=DETECTOR["inputs"]
        ),
    output:
        report(
            "results/figures/detection_vs_dose.png",
            caption="../resources/report/detection_vs_dose.rst",
            category="Detection",
        ),
    log:
        "logs/figures/detection_figure.log",
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        inputs=DETECTOR["inputs"],
    script:
        "../scripts/detection_figure.py"


rule alsite_matching_figure:
    input:
        **REFERENCE_FILES,
        reports=expand("results/reports/{image}/report.json", image=IMAGES),
        denoised=expand("results/reports/{image}/denoised.tif", image=IMAGES),
    output:
        report(
            "results/figures/alsite_matching.png",
            caption="../resources/report/alsite_matching.rst",
            category="Al site",
        ),
    log:
        "logs/figures/alsite_matching_figure.log",
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    script:
        "../scripts/alsite_matching_figure.py"
