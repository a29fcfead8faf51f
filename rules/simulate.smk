# Simulation stage: one abTEM multislice per conformation, then a cheap Poisson dose series from it.
SIMULATION = config["simulation"]
DOSE_JOBS = [(d, r) for d in SIMULATION["doses"] for r in range(SIMULATION["replicas"])]


rule simulations:
    input:
        expand(
            "results/simulation/{conformation}/{name}",
            conformation=CONFORMATIONS,
            name=["clean.tif", "labels.json"]
            + [f"dose{d}-{r}.tif" for d, r in DOSE_JOBS],
        ),


rule simulate_conformation:
    input:
        "results/structures/{conformation}.extxyz",
    output:
        segments="results/simulation/{conformation}/segments.tif",
        clean="results/simulation/{conformation}/clean.tif",
        labels="results/simulation/{conformation}/labels.json",
    log:
        "logs/simulation/simulate_{conformation}.log",
    benchmark:
        "results/benchmarks/simulation/simulate_{conformation}.tsv"
    conda:
        "../envs/simulation.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        simulation=SIMULATION,
        framework=config["framework"],
    script:
        "../scripts/simulate_conformation.py"


rule dose_series:
    input:
        segments="results/simulation/{conformation}/segments.tif",
    output:
        [f"results/simulation/{{conformation}}/dose{d}-{r}.tif" for d, r in DOSE_JOBS],
    log:
        "logs/simulation/dose_series_{conformation}.log",
    benchmark:
        "results/benchmarks/simulation/dose_series_{conformation}.tsv"
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=DOSE_JOBS,
        seed=SIMULATION["seed"],
    script:
        "../scripts/dose_series.py"
