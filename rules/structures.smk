# Structure stage: candidate conformations (generated, optionally ML-relaxed) and imported DFT results.


rule structures:
    input:
        expand("results/structures/{conformation}.extxyz", conformation=CONFORMATIONS),


rule generate_candidate:
    output:
        f"{CANDIDATE_DIR}/{{conformation}}.extxyz",
    log:
        "logs/structures/generate_{conformation}.log",
    wildcard_constraints:
        conformation=one_of(GENERATED),
    conda:
        "../envs/structures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        plan=conformation,
        framework=config["framework"],
        molecules=config["molecules"],
        cells_along_beam=STRUCTURES["cells_along_beam"],
        seed=STRUCTURES["seed"],
    script:
        "../scripts/generate_candidate.py"


if RELAXED:

    rule relax_conformation:
        input:
            "results/structures/candidates/{conformation}.extxyz",
        output:
            "results/structures/{conformation}.extxyz",
        log:
            "logs/structures/relax_{conformation}.log",
        benchmark:
            "results/benchmarks/structures/relax_{conformation}.tsv"
        wildcard_constraints:
            conformation=one_of(GENERATED),
        conda:
            "../envs/structures.yaml"
        threads: 2
        resources:
            mem_mb=6000,
            runtime=120,
        params:
            settings=STRUCTURES,
        script:
            "../scripts/relax_conformation.py"


rule import_conformation:
    input:
        lambda wildcards: conformation(wildcards).file,
    output:
        "results/structures/{conformation}.extxyz",
    log:
        "logs/structures/import_{conformation}.log",
    wildcard_constraints:
        conformation=one_of(IMPORTED),
    conda:
        "../envs/structures.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        plan=conformation,
        framework=config["framework"],
        molecules=config["molecules"],
    script:
        "../scripts/import_conformation.py"
