# Simulation stage: one abTEM multislice per conformation, then a cheap Poisson dose series from it.
# The simulation rules claim one thread: jobs side by side, one per core, took 0.45x the time of one
# job at a time on every core (benchmarks/job_threads.py); a profile's set-threads changes it.
# The reference chain (simulations, dose series, mosaics) outranks the realistic and mismatch test
# sets: the models' training waits for it, and the test sets fill the cores beside the training.


rule simulations:
    input:
        [
            field(paths.SIMULATION, file, conformation=c)
            for c in JOBS.conformations
            for file in ("clean", "labels")
        ],
        [
            fill(path, conformation=c)
            for c in JOBS.conformations
            for path in [*JOBS.dose_series, *JOBS.mosaic_files.values()]
        ],


rule simulate_conformation:
    input:
        paths.STRUCTURE,
    output:
        segments=field(paths.SIMULATION, "segments"),
        clean=field(paths.SIMULATION, "clean"),
        labels=field(paths.SIMULATION, "labels"),
    log:
        "logs/simulation/simulate_{conformation}.log",
    benchmark:
        paths.benchmark("simulation", "simulate_{conformation}")
    priority: 20
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        simulation=JOBS.multislice,
        cells_along_beam=1,
        framework=config["framework"],
        remove_molecule=False,
    script:
        "../scripts/simulate_conformation.py"


rule simulate_empty:
    input:
        paths.STRUCTURE,
    output:
        segments=field(paths.SIMULATION, "empty_segments"),
    log:
        "logs/simulation/simulate_empty_{conformation}.log",
    benchmark:
        paths.benchmark("simulation", "simulate_empty_{conformation}")
    priority: 20
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        simulation=JOBS.multislice,
        cells_along_beam=1,
        framework=config["framework"],
        remove_molecule=True,
    script:
        "../scripts/simulate_conformation.py"


rule mosaics:
    input:
        segments=field(paths.SIMULATION, "segments"),
        empty=field(paths.SIMULATION, "empty_segments"),
        labels=field(paths.SIMULATION, "labels"),
    output:
        **JOBS.mosaic_files,
    log:
        "logs/simulation/mosaics_{conformation}.log",
    priority: 20
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        mosaics=config["simulation"]["mosaics"],
        occupancy=config["simulation"]["mosaic_occupancy"],
        doses=JOBS.dose_jobs,
        seed=config["simulation"]["seed"],
    script:
        "../scripts/mosaics.py"


rule dose_series:
    input:
        segments=field(paths.SIMULATION, "segments"),
    output:
        JOBS.dose_series,
    log:
        "logs/simulation/dose_series_{conformation}.log",
    benchmark:
        paths.benchmark("simulation", "dose_series_{conformation}")
    priority: 20
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=JOBS.dose_jobs,
        seed=config["simulation"]["seed"],
    script:
        "../scripts/dose_series.py"
