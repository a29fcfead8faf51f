# Simulation stage: one abTEM multislice per conformation, then a cheap Poisson dose series from it.
# The simulation rules claim one thread: jobs side by side, one per core, took 0.45x the time of one
# job at a time on every core (benchmarks/job_threads.py); a profile's set-threads changes it.


rule simulations:
    input:
        expand(
            "results/simulation/{conformation}/{name}",
            conformation=CONFORMATIONS,
            name=["clean.tif", "labels.json"]
            + [f"dose{d}-{r}.tif" for d, r in DOSE_JOBS]
            + list(MOSAIC_FILES.values()),
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
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        simulation=PLAN.multislice,
        cells_along_beam=1,
        framework=config["framework"],
        remove_molecule=False,
    script:
        "../scripts/simulate_conformation.py"


rule simulate_empty:
    input:
        "results/structures/{conformation}.extxyz",
    output:
        segments="results/simulation/{conformation}/empty-segments.tif",
    log:
        "logs/simulation/simulate_empty_{conformation}.log",
    benchmark:
        "results/benchmarks/simulation/simulate_empty_{conformation}.tsv"
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        simulation=PLAN.multislice,
        cells_along_beam=1,
        framework=config["framework"],
        remove_molecule=True,
    script:
        "../scripts/simulate_conformation.py"


rule mosaics:
    input:
        segments="results/simulation/{conformation}/segments.tif",
        empty="results/simulation/{conformation}/empty-segments.tif",
        labels="results/simulation/{conformation}/labels.json",
    output:
        **{
            key: f"results/simulation/{{conformation}}/{name}"
            for key, name in MOSAIC_FILES.items()
        },
    log:
        "logs/simulation/mosaics_{conformation}.log",
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        mosaics=SIMULATION["mosaics"],
        occupancy=SIMULATION["mosaic_occupancy"],
        doses=DOSE_JOBS,
        seed=SIMULATION["seed"],
    script:
        "../scripts/mosaics.py"


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
