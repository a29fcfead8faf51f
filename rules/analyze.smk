# Analysis stage: calibration, per-image Al-site reports, identifiability of the Al site.
ANALYSIS = config["analysis"]
IMAGES = {
    row["image"]: row
    for row in read_sheet(config["images"], "images", "image").to_dict("records")
}
DETECTOR_MODEL = f"detector_{DETECTOR['inputs'][0]}"
ANALYSIS_MODELS = [
    f"results/models/{name}.{suffix}"
    for name in (DENOISER, DETECTOR_MODEL)
    for suffix in ("pt", "json")
]
REFERENCES = [
    f"results/simulation/{c}/{name}"
    for c in CONFORMATIONS
    for name in ("clean.tif", "labels.json")
]


CALIBRATION_IMAGES = truth_images(SPLIT["validation"])[: ANALYSIS["calibration_images"]]
TEST_IMAGES = truth_images(SPLIT["test"])
ANALYSIS_PARAMS = dict(conformations=list(CONFORMATIONS), config=config)


rule reports:
    input:
        expand("results/reports/{image}/report.json", image=IMAGES),


rule metrics:
    input:
        "results/metrics/clearstem.csv",
        "results/metrics/detection.csv",
        "results/metrics/alsite.csv",


rule experiment_image:
    input:
        "results/simulation/{conformation}/segments.tif",
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
        seed=SIMULATION["seed"],
    script:
        "../scripts/experiment_image.py"


rule calibrate_matching:
    input:
        ANALYSIS_MODELS,
        REFERENCES,
        [row[3] for row in CALIBRATION_IMAGES],
    output:
        "results/analysis/calibration.json",
    log:
        "logs/analysis/calibrate_matching.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        **ANALYSIS_PARAMS,
        images=CALIBRATION_IMAGES,
    script:
        "../scripts/calibrate_matching.py"


rule analyze_image:
    input:
        ANALYSIS_MODELS,
        REFERENCES,
        image=lambda wildcards: IMAGES[wildcards.image]["file"],
        calibration="results/analysis/calibration.json",
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
        **ANALYSIS_PARAMS,
        row=lambda wildcards: IMAGES[wildcards.image],
        out_dir=lambda wildcards, output: os.path.dirname(output[0]),
    script:
        "../scripts/analyze_image.py"


rule evaluate_alsite:
    input:
        ANALYSIS_MODELS,
        REFERENCES,
        [row[3] for row in TEST_IMAGES],
        calibration="results/analysis/calibration.json",
    output:
        rows="results/metrics/alsite_images.csv",
        summary="results/metrics/alsite.csv",
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
        **ANALYSIS_PARAMS,
        images=TEST_IMAGES,
    script:
        "../scripts/evaluate_alsite.py"
