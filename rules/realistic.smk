# Realistic sets: structures the references were not made from (perturbed pose, Al–O and cell; some
# several cells thick), simulated with the mismatch study's evaluation settings, analysed with the
# nominal references: validation and test sets, and the efficiency structures of every candidate; the
# test structures again under other optics (their multislice: rule simulate_variant, study optics).


rule realistic:
    input:
        [
            row["noisy"]
            for row in JOBS.realistic_images("validation")
            + JOBS.realistic_images("test")
            + JOBS.efficiency_images
            + JOBS.optics_images
        ],


rule perturb_structure:
    input:
        lambda wildcards: fill(
            paths.STRUCTURE,
            conformation=JOBS.realistic_structures[wildcards.conformation]["parent"],
        ),
    output:
        paths.REALISTIC_STRUCTURE,
    log:
        "logs/realistic/perturb_{conformation}.log",
    wildcard_constraints:
        conformation=one_of(JOBS.realistic_structures),
    conda:
        "../envs/structures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        parent=lambda wildcards: JOBS.realistic_structures[wildcards.conformation][
            "parent"
        ],
        index=lambda wildcards: JOBS.realistic_structures[wildcards.conformation][
            "index"
        ],
        seed=config["structures"]["seed"],
        realistic=JOBS.perturbation,
        framework=config["framework"],
    script:
        "../scripts/perturb_structure.py"


rule simulate_realistic:
    input:
        paths.REALISTIC_STRUCTURE,
    output:
        segments=field(paths.REALISTIC, "segments"),
        clean=field(paths.REALISTIC, "clean"),
        labels=field(paths.REALISTIC, "labels"),
    log:
        "logs/realistic/simulate_{conformation}.log",
    benchmark:
        paths.benchmark("realistic", "simulate_{conformation}")
    wildcard_constraints:
        conformation=one_of(JOBS.realistic_structures),
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        simulation=JOBS.mismatch_variants["evaluation"]["simulation"],
        cells_along_beam=JOBS.mismatch_variants["evaluation"]["cells_along_beam"],
        framework=config["framework"],
        remove_molecule=False,
    script:
        "../scripts/simulate_conformation.py"


rule realistic_images:
    input:
        field(paths.REALISTIC, "segments"),
    output:
        [
            field(paths.REALISTIC, "noisy", prefix="", dose=d, replica=r)
            for d, r in JOBS.realistic_jobs
        ],
    log:
        "logs/realistic/images_{conformation}.log",
    wildcard_constraints:
        conformation=one_of(JOBS.realistic_structures),
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=JOBS.realistic_jobs,
        seed=config["simulation"]["seed"],
    script:
        "../scripts/evaluation_image.py"


rule optics_images:
    input:
        field(paths.VARIANT, "segments", study=paths.OPTICS),
    output:
        [
            field(
                paths.VARIANT,
                "noisy",
                study=paths.OPTICS,
                prefix="",
                dose=d,
                replica=r,
            )
            for d, r in JOBS.realistic_jobs
        ],
    log:
        "logs/realistic/images_{variant}_{conformation}.log",
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=JOBS.realistic_jobs,
        seed=config["simulation"]["seed"],
    script:
        "../scripts/evaluation_image.py"
