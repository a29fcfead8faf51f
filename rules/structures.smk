# Structure stage: candidate conformations (generated, optionally ML-relaxed) and imported DFT results.


rule structures:
    input:
        expand(paths.STRUCTURE, conformation=JOBS.conformations),


rule generate_candidate:
    output:
        JOBS.generated_structure,
    log:
        "logs/structures/generate_{conformation}.log",
    wildcard_constraints:
        conformation=one_of(JOBS.generated),
    priority: 20  # the reference chain starts here (rules/simulate.smk)
    conda:
        "../envs/structures.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        spec=conformation,
        framework=config["framework"],
        molecules=config["molecules"],
        cells_along_beam=config["structures"]["cells_along_beam"],
        seed=config["structures"]["seed"],
    script:
        "../scripts/generate_candidate.py"


if JOBS.relaxed:

    rule relax_conformation:
        input:
            paths.CANDIDATE,
        output:
            paths.STRUCTURE,
        log:
            "logs/structures/relax_{conformation}.log",
        benchmark:
            paths.benchmark("structures", "relax_{conformation}")
        wildcard_constraints:
            conformation=one_of(JOBS.generated),
        priority: 20  # the reference chain starts here (rules/simulate.smk)
        conda:
            "../envs/structures.yaml"
        threads: 2
        resources:
            mem_mb=6000,
            runtime=120,
        params:
            settings=config["structures"],
        script:
            "../scripts/relax_conformation.py"


rule import_conformation:
    input:
        lambda wildcards: conformation(wildcards).file,
    output:
        paths.STRUCTURE,
    log:
        "logs/structures/import_{conformation}.log",
    wildcard_constraints:
        conformation=one_of(JOBS.imported),
    priority: 20  # the reference chain starts here (rules/simulate.smk)
    conda:
        "../envs/structures.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        spec=conformation,
        framework=config["framework"],
        molecules=config["molecules"],
    script:
        "../scripts/import_conformation.py"
