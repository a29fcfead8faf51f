# Coverage study of the Al distribution: more noise replicas of the realistic test structures,
# analysed as the test set is; many stacks at chosen class fractions drawn from their molecules.
# And of the planner's bands: dose series simulated from its fitted curves.


rule coverage:
    input:
        paths.COVERAGE,
        paths.COVERAGE_CALIBRATION,
        paths.figure("coverage"),
        paths.PLAN_COVERAGE,


rule coverage_images:
    input:
        field(paths.REALISTIC, "segments"),
    output:
        [
            field(paths.COVERAGE_FIELDS, "noisy", prefix="", dose=d, replica=r)
            for d, r in JOBS.coverage_jobs
        ],
    log:
        "logs/coverage/images_{conformation}.log",
    wildcard_constraints:
        conformation=one_of(JOBS.realistic_structures),
    conda:
        "../envs/simulation.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        jobs=JOBS.coverage_jobs,
        seed=config["simulation"]["seed"],
    script:
        "../scripts/evaluation_image.py"


rule evaluate_coverage:
    input:
        **JOBS.reference_files,
        **truth_inputs(JOBS.realistic_images("test", paths.COVERAGE_FIELDS)),
        calibration=paths.CALIBRATION,
    output:
        table=paths.COVERAGE,
        calibration=paths.COVERAGE_CALIBRATION,
        figure=report(
            paths.figure("coverage"),
            caption="../resources/report/coverage.rst",
            category="Al site",
        ),
    log:
        "logs/metrics/evaluate_coverage.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        images=JOBS.realistic_images("test", paths.COVERAGE_FIELDS),
        study=config["coverage"],
    script:
        "../scripts/evaluate_coverage.py"


rule evaluate_plan_coverage:
    input:
        molecules=paths.ALSITE_MOLECULES,
    output:
        paths.PLAN_COVERAGE,
    log:
        "logs/metrics/evaluate_plan_coverage.log",
    conda:
        "../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=JOBS.dose_plan,
        experiments=config["coverage"]["plan_experiments"],
    script:
        "../scripts/evaluate_plan_coverage.py"
