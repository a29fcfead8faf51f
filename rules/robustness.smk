# Robustness to real-micrograph nuisances: the test conformations' full fields scanned with one
# nuisance at a time (or re-simulated with other optics / thickness), analysed as a user's images.


rule robustness:
    input:
        paths.ROBUSTNESS,
        paths.figure("robustness"),


rule robustness_scans:
    input:
        segments=field(paths.SIMULATION, "segments"),
        labels=field(paths.SIMULATION, "labels"),
    output:
        [
            fill(paths.SCANNED, case=case, replica=r) + suffix
            for case in JOBS.robustness_cases
            for _, r in JOBS.robustness_jobs
            for suffix in paths.SCANNED_SUFFIXES.values()
        ],
    log:
        "logs/robustness/scans_{conformation}.log",
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        cases=JOBS.robustness_cases,
        jobs=JOBS.robustness_jobs,
        seed=config["simulation"]["seed"],
    script:
        "../scripts/robustness_scans.py"


rule robustness_simulated_images:
    input:
        field(paths.VARIANT, "segments", study="robustness/simulated"),
    output:
        [
            field(
                paths.VARIANT,
                "noisy",
                study="robustness/simulated",
                prefix="",
                dose=d,
                replica=r,
            )
            for d, r in JOBS.robustness_jobs
        ],
    log:
        "logs/robustness/images_{variant}_{conformation}.log",
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=JOBS.robustness_jobs,
        seed=config["simulation"]["seed"],
    script:
        "../scripts/evaluation_image.py"


rule measure_robustness:
    input:
        **JOBS.reference_files,
        **truth_inputs(JOBS.robustness_images),
        calibration=paths.CALIBRATION,
    output:
        table=paths.ROBUSTNESS,
        figure=report(
            paths.figure("robustness"),
            caption="../resources/report/robustness.rst",
            category="Al site",
        ),
    log:
        "logs/metrics/robustness.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        images=JOBS.robustness_images,
        cases=JOBS.robustness_cases,
        simulated=list(config["robustness"]["simulated"]),
    script:
        "../scripts/measure_robustness.py"
