# Detection stage: ClearSTEM outputs of the simulated images, COCO labels, Faster R-CNN, COCO metrics.


rule detector:
    input:
        paths.DETECTION,
        paths.figure("detection_vs_dose"),


rule denoise_images:
    input:
        **paths.model_files(JOBS.denoiser_model),
        images=JOBS.noisy_images(paths.SIMULATION),
    output:
        JOBS.noisy_images(paths.DENOISED),
    log:
        "logs/denoised/{conformation}.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        clearstem=JOBS.denoiser_inference,
    script:
        "../scripts/denoise_images.py"


rule detection_dataset:
    input:
        split=paths.DENOISE_SPLIT,
        images=lambda wildcards: [
            detector_image(wildcards.input, *job) for job in JOBS.image_jobs
        ],
        labels=[
            field(paths.SIMULATION, "prefix_labels", conformation=c, prefix=p)
            for c, p, d, r in JOBS.image_jobs
        ],
    output:
        **{
            s: fill(paths.DETECTION_COCO, split=s)
            for s in ("train", "validation", "test")
        },
    log:
        "logs/datasets/detection_{input}.log",
    wildcard_constraints:
        input="denoised|raw",
    priority: 20  # the detectors' data: the reference chain (rules/simulate.smk)
    conda:
        "../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        images=[(c, d, r) for c, p, d, r in JOBS.image_jobs],
    script:
        "../scripts/detection_dataset.py"


rule train_detector:
    input:
        **{s: fill(paths.DETECTION_COCO, split=s) for s in ("train", "validation")},
        **JOBS.detector_start,
    output:
        **paths.model_files(paths.DETECTOR_MODEL),
        history=fill(paths.MODEL_HISTORY, model=paths.DETECTOR_MODEL),
    log:
        "logs/models/train_detector_{input}.log",
    benchmark:
        paths.benchmark("models", "train_detector_{input}")
    wildcard_constraints:
        input="denoised|raw",
    priority: 10  # on the way to the reports: before the known-truth evaluations
    conda:
        "../envs/models.yaml"
    threads: 1  # 2 threads train 1.08× faster: two detectors side by side (benchmarks/train_threads.py)
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=1 if config["detector"]["device"] == "cuda" else 0,
    params:
        detector=JOBS.detector_training,
    script:
        "../scripts/train_detector.py"


rule evaluate_detection:
    input:
        coco=expand(
            fill(paths.DETECTION_COCO, split="test"),
            input=config["detector"]["inputs"],
        ),
        weights=expand(
            fill(paths.MODEL_WEIGHTS, model=paths.DETECTOR_MODEL),
            input=config["detector"]["inputs"],
        ),
        cards=expand(
            fill(paths.MODEL_CARD, model=paths.DETECTOR_MODEL),
            input=config["detector"]["inputs"],
        ),
        occupancy=paths.OCCUPANCY,
    output:
        paths.DETECTION,
    log:
        "logs/metrics/evaluate_detection.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        detector=JOBS.detector_inference,
        inputs=config["detector"]["inputs"],
    script:
        "../scripts/evaluate_detection.py"
