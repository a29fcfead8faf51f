"""Rule evaluate_plan_coverage: how often the planner's bands hold the truth on simulated dose series."""

from zeostem.evaluation.dose_planner import DosePlanSettings, read_molecules
from zeostem.evaluation.plan_coverage import plan_coverage
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    p = snakemake.params
    molecules = read_molecules(snakemake.input.molecules)
    study = plan_coverage(molecules, DosePlanSettings(**p.settings), p.experiments, snakemake.threads)
    study.to_csv(snakemake.output[0], index=False)
    print(study.to_string())
