"""Rule plan: the lowest dose and the molecules needed for the config's targets (``analysis.plan``)."""

from zeostem.analysis.calibration import Calibration
from zeostem.evaluation.dose_planner import DosePlanSettings, plan_experiment, read_molecules, write_plan
from zeostem.figures.plan import plan_figure
from zeostem.runlog import logged

with logged(snakemake.log[0]):
    settings = DosePlanSettings(**snakemake.params.settings)
    calibration = Calibration.load(snakemake.input.calibration)
    result = plan_experiment(read_molecules(snakemake.input.molecules), calibration, settings)
    o = snakemake.output
    print(write_plan(result, o.table, o.classes, o.text))
    print(result.table.to_string())
    plan_figure(result, snakemake.output.figure)
