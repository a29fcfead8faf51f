# Detection stage: ClearSTEM outputs of the simulated images, COCO labels, Faster R-CNN, COCO metrics.


rule detector:
    input:
        "results/metrics/detection.csv",
        "results/figures/detection_vs_dose.png",


rule denoise_images:
    input:
        **model_files("results", DENOISER_MODEL),
        images=[f"results/simulation/{{conformation}}/{name}" for name in NOISY_IMAGES],
    output:
        [f"results/denoised/{{conformation}}/{name}" for name in NOISY_IMAGES],
    log:
        "logs/denoised/{conformation}.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        clearstem=DENOISER_INFERENCE,
    script:
        "../scripts/denoise_images.py"


rule detection_dataset:
    input:
        split="results/datasets/denoise/split.json",
        images=lambda wildcards: [
            detector_image(wildcards.input, *job) for job in IMAGE_JOBS
        ],
        labels=[f"results/simulation/{c}/{p}labels.json" for c, p, d, r in IMAGE_JOBS],
    output:
        train="results/datasets/detection_{input}/coco_train.json",
        validation="results/datasets/detection_{input}/coco_validation.json",
        test="results/datasets/detection_{input}/coco_test.json",
    log:
        "logs/datasets/detection_{input}.log",
    wildcard_constraints:
        input="denoised|raw",
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        images=[(c, d, r) for c, p, d, r in IMAGE_JOBS],
    script:
        "../scripts/detection_dataset.py"


rule train_detector:
    input:
        train="results/datasets/detection_{input}/coco_train.json",
        validation="results/datasets/detection_{input}/coco_validation.json",
    output:
        weights="results/models/detector_{input}.pt",
        card="results/models/detector_{input}.json",
        history="results/models/detector_{input}.history.csv",
    log:
        "logs/models/train_detector_{input}.log",
    benchmark:
        "results/benchmarks/models/train_detector_{input}.tsv"
    wildcard_constraints:
        input="denoised|raw",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=1 if DETECTOR["device"] == "cuda" else 0,
    params:
        detector=DETECTOR_TRAINING,
    script:
        "../scripts/train_detector.py"


rule evaluate_detection:
    input:
        coco=expand(
            "results/datasets/detection_{input}/coco_test.json",
            input=DETECTOR["inputs"],
        ),
        weights=expand("results/models/detector_{input}.pt", input=DETECTOR["inputs"]),
        cards=expand("results/models/detector_{input}.json", input=DETECTOR["inputs"]),
        occupancy="results/metrics/occupancy.csv",
    output:
        "results/metrics/detection.csv",
    log:
        "logs/metrics/evaluate_detection.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        detector=DETECTOR_INFERENCE,
        inputs=DETECTOR["inputs"],
    script:
        "../scripts/evaluate_detection.py"
