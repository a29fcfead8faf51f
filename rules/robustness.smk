# Robustness to real-micrograph nuisances: the test conformations' full fields scanned with one
# nuisance at a time (or re-simulated with other optics / thickness), analysed as a user's images.


rule robustness:
    input:
        "results/metrics/robustness.csv",
        "results/figures/robustness.png",


rule robustness_scans:
    input:
        segments="results/simulation/{conformation}/segments.tif",
        labels="results/simulation/{conformation}/labels.json",
    output:
        [
            f"results/robustness/scanned/{case}/{{conformation}}-{r}{suffix}"
            for case in ROBUSTNESS_CASES
            for _, r in ROBUSTNESS_JOBS
            for suffix in (".tif", "-clean.tif", "-labels.json")
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
        cases=ROBUSTNESS_CASES,
        jobs=ROBUSTNESS_JOBS,
        seed=SIMULATION["seed"],
    script:
        "../scripts/robustness_scans.py"


rule robustness_simulated_images:
    input:
        "results/robustness/simulated/{variant}/{conformation}/segments.tif",
    output:
        [
            f"results/robustness/simulated/{{variant}}/{{conformation}}/dose{d}-{r}.tif"
            for d, r in ROBUSTNESS_JOBS
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
        jobs=ROBUSTNESS_JOBS,
        seed=SIMULATION["seed"],
    script:
        "../scripts/evaluation_image.py"


rule measure_robustness:
    input:
        **REFERENCE_FILES,
        calibration=calibration_file("results"),
        images=[
            path
            for row in ROBUSTNESS_IMAGES
            for path in (row["noisy"], row["clean"], row["labels"])
        ],
    output:
        table="results/metrics/robustness.csv",
        figure=report(
            "results/figures/robustness.png",
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
        images=ROBUSTNESS_IMAGES,
        cases=ROBUSTNESS_CASES,
        simulated=list(config["robustness"]["simulated"]),
    script:
        "../scripts/measure_robustness.py"
