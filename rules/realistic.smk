# Realistic sets: structures the references were not made from (perturbed pose, Al–O and cell; some
# several cells thick), simulated
# with the mismatch study's evaluation settings, analysed with the nominal references.


rule realistic:
    input:
        [row["noisy"] for row in REALISTIC_VALIDATION_IMAGES + REALISTIC_TEST_IMAGES],


rule perturb_structure:
    input:
        lambda wildcards: f"results/structures/{REALISTIC_STRUCTURES[wildcards.name]['parent']}.extxyz",
    output:
        "results/realistic/structures/{name}.extxyz",
    log:
        "logs/realistic/perturb_{name}.log",
    wildcard_constraints:
        name=one_of(REALISTIC_STRUCTURES),
    conda:
        "../envs/structures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        parent=lambda wildcards: REALISTIC_STRUCTURES[wildcards.name]["parent"],
        index=lambda wildcards: REALISTIC_STRUCTURES[wildcards.name]["index"],
        seed=STRUCTURES["seed"],
        realistic=config["realistic"],
        framework=config["framework"],
    script:
        "../scripts/perturb_structure.py"


rule simulate_realistic:
    input:
        "results/realistic/structures/{conformation}.extxyz",
    output:
        segments="results/realistic/{conformation}/segments.tif",
        clean="results/realistic/{conformation}/clean.tif",
        labels="results/realistic/{conformation}/labels.json",
    log:
        "logs/realistic/simulate_{conformation}.log",
    benchmark:
        "results/benchmarks/realistic/simulate_{conformation}.tsv"
    wildcard_constraints:
        conformation=one_of(REALISTIC_STRUCTURES),
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        simulation=MISMATCH_VARIANTS["evaluation"]["simulation"],
        cells_along_beam=MISMATCH_VARIANTS["evaluation"]["cells_along_beam"],
        framework=config["framework"],
        remove_molecule=False,
    script:
        "../scripts/simulate_conformation.py"


rule realistic_images:
    input:
        "results/realistic/{conformation}/segments.tif",
    output:
        [
            f"results/realistic/{{conformation}}/dose{d}-{r}.tif"
            for d, r in REALISTIC_JOBS
        ],
    log:
        "logs/realistic/images_{conformation}.log",
    wildcard_constraints:
        conformation=one_of(REALISTIC_STRUCTURES),
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=REALISTIC_JOBS,
        seed=SIMULATION["seed"],
    script:
        "../scripts/evaluation_image.py"
