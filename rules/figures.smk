# Figures stage: the paper's figures regenerated from the workflow's tables and images.


rule figures:
    input:
        [
            paths.figure(name)
            for name in (
                "clearstem_metrics",
                "clearstem_panels",
                "clearstem_histograms",
                "detection_vs_dose",
                "alsite_identifiability",
                "alsite_matching",
                "al_distribution",
                "mismatch",
                "plan",
            )
        ],


rule clearstem_figures:
    input:
        **paths.model_files(JOBS.denoiser_model),
        table=fill(paths.CLEARSTEM_TABLE, table="clearstem"),
        test=fill(paths.DENOISE_SPLIT_FILE, split="test", name="images.csv"),
    output:
        metrics=report(
            paths.figure("clearstem_metrics"),
            caption="../resources/report/clearstem_metrics.rst",
            category="ClearSTEM",
        ),
        panels=report(
            paths.figure("clearstem_panels"),
            caption="../resources/report/clearstem_panels.rst",
            category="ClearSTEM",
        ),
        histograms=report(
            paths.figure("clearstem_histograms"),
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
        clearstem=JOBS.denoiser_inference,
    script:
        "../scripts/clearstem_figures.py"


rule detection_figure:
    input:
        table=paths.DETECTION,
        histories=expand(
            fill(paths.MODEL_HISTORY, model=paths.DETECTOR_MODEL),
            input=config["detector"]["inputs"],
        ),
    output:
        report(
            paths.figure("detection_vs_dose"),
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
        inputs=config["detector"]["inputs"],
    script:
        "../scripts/detection_figure.py"


rule alsite_matching_figure:
    input:
        **JOBS.reference_files,
        reports=expand(paths.report_file("report"), image=JOBS.images),
        denoised=expand(paths.report_file("denoised"), image=JOBS.images),
    output:
        report(
            paths.figure("alsite_matching"),
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
